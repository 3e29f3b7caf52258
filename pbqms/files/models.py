"""Attachments — 附件: evidence files of notices, documents, meeting records and objectives.

A file is stored once, outside the web root, under a name made from its token alone; the row
keeps what the user called it, what its content really is, its size and checksum, and which
record (and so which unit) it belongs to. Who may download it is decided by pbqms.scope.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from pbqms.orgs.models import Unit


class FileKind(models.TextChoices):
    """What kind of file an attachment is, detected from its content."""

    IMAGE = "image", _("Image")
    PDF = "pdf", _("PDF")
    WORD = "word", _("Word document")
    EXCEL = "excel", _("Spreadsheet")
    PRESENTATION = "presentation", _("Presentation")


class StoredFile(models.Model):
    """Attachment — 附件.

    `token` names the file in URLs and on disk; the primary key never leaves the server.
    `owner` ("<app>.<model>:<pk>", e.g. "rectification.finding:12") is set by the owning app
    and stays blank while the file waits for its record; `unit`/`org_path` copy the unit of that
    record, so scope checks are a prefix test like every other record.
    """

    token = models.UUIDField(_("token"), unique=True, default=uuid.uuid4, editable=False)
    original_name = models.CharField(_("file name"), max_length=255)
    kind = models.CharField(_("file kind"), max_length=20, choices=FileKind.choices)
    content_type = models.CharField(_("content type"), max_length=120)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    path = models.CharField(_("storage path"), max_length=255, editable=False)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("unit"))
    org_path = models.CharField(_("tree path"), max_length=255, db_index=True)
    owner = models.CharField(_("belongs to"), max_length=80, blank=True, db_index=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name=_("uploaded by"))
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment (附件)")
        verbose_name_plural = _("attachments (附件)")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("files:download", args=[self.token])

    @property
    def can_show_inline(self) -> bool:
        """Images and PDF may open in the browser; everything else always downloads."""
        return self.kind in (FileKind.IMAGE, FileKind.PDF)


class SubmissionKey(models.Model):
    """SubmissionKey — 提交凭据: a one-time key a create form or an API POST (`Idempotency-Key`)
    carried, and what its first submission made. A second submission with the same key makes
    nothing and answers with that first result (pbqms.files.idempotency)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("user"))
    key = models.CharField(_("key"), max_length=64)
    kind = models.CharField(_("kind of record"), max_length=80)
    object_id = models.BigIntegerField(_("record"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("submission key (提交凭据)")
        verbose_name_plural = _("submission keys (提交凭据)")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="files_submission_once")]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"
