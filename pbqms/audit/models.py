"""Audit trail — 操作日志: an append-only record of every change to a domain record."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F
from django.db.models.functions import Substr
from django.utils.translation import gettext_lazy as _

SCOPE_SEGMENT = 11  # orgs.models.SEGMENT digits + "/"
INDEXED_DEPTHS = 4


class AuditAction(models.TextChoices):
    CREATE = "create", _("Created")
    UPDATE = "update", _("Updated")
    DELETE = "delete", _("Deleted")
    MOVE = "move", _("Moved")
    DISSOLVE = "dissolve", _("Dissolved")
    STATUS = "status", _("Status changed")
    TRANSFER = "transfer", _("Transferred")
    REVEAL = "reveal", _("Sensitive data viewed")
    IMPORT = "import", _("Imported")
    EXPORT = "export", _("Exported")
    # Steps of controlled records (notices, documents, letters): the step name is the action.
    SUBMIT = "submit", _("Submitted")
    ISSUE = "issue", _("Issued")
    RECEIVE = "receive", _("Received")
    RETURN = "return", _("Returned")
    APPROVE = "approve", _("Approved")
    PUBLISH = "publish", _("Published")
    VERIFY = "verify", _("Verified")
    CLOSE = "close", _("Closed")
    REOPEN = "reopen", _("Reopened")
    SIGN = "sign", _("Signed")
    ACKNOWLEDGE = "ack", _("Acknowledged")
    ABOLISH = "abolish", _("Abolished")


class AuditEntry(models.Model):
    """One change — 操作记录: who, when, from where, which record, each field before → after.

    Rows are never updated or deleted: save() refuses an existing row and delete() refuses always.
    """

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name=_("who"))
    actor_name = models.CharField(_("who"), max_length=150, blank=True)
    ip = models.GenericIPAddressField(_("address"), null=True, blank=True)
    action = models.CharField(_("action"), max_length=10, choices=AuditAction.choices)
    model = models.CharField(_("record type"), max_length=60)
    object_id = models.CharField(_("record"), max_length=40)
    object_repr = models.CharField(_("record"), max_length=200)
    changes = models.JSONField(_("changes"), default=dict)
    note = models.CharField(_("note"), max_length=255, blank=True)
    # The tree path of the unit the record belongs to, so the log is searched within scope.
    org_path = models.CharField(_("tree path"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("audit entry (操作日志)")
        verbose_name_plural = _("audit entries (操作日志)")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["model", "object_id", "-at"], name="audit_record")] + [
            # "latest changes under this unit" for units at tree depth 0-3: an index per depth on
            # the path prefix of that length, newest first (audit.selectors.recent)
            models.Index(Substr("org_path", 1, SCOPE_SEGMENT * (d + 1)), F("id").desc(), name=f"audit_scope_d{d}")
            for d in range(INDEXED_DEPTHS)
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.model}#{self.object_id}"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.pk is not None:
            raise PermissionError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise PermissionError("audit entries are append-only")
