"""Roster import jobs — 花名册导入任务: an uploaded workbook, its progress and its error report."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportJob(models.Model):
    """One roster import (.xlsx of units and members) — 花名册导入."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        FAILED = "failed", _("Rejected: errors found")
        DONE = "done", _("Imported")
        CHECKED = "checked", _("Checked (dry run), no errors")
        CRASHED = "crashed", _("Stopped by an internal error")

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("uploaded by"))
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    dry_run = models.BooleanField(_("check only"), default=False)
    language = models.CharField(_("language of the report"), max_length=10, blank=True)
    # The uploader's subtree, so the import's audit entry shows in their organisation's log.
    org_path = models.CharField(_("tree path"), max_length=255, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    phase = models.CharField(_("phase"), max_length=60, blank=True)
    done_rows = models.PositiveIntegerField(_("rows processed"), default=0)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    errors = models.JSONField(_("errors"), default=list)
    summary = models.JSONField(_("summary"), default=dict)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("roster import (花名册导入)")
        verbose_name_plural = _("roster imports (花名册导入)")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.original_name or f"#{self.pk}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("roster:job", args=[self.pk])

    @property
    def percent(self) -> int:
        return min(100, int(100 * self.done_rows / self.total_rows)) if self.total_rows else 0

    @property
    def finished(self) -> bool:
        return self.state in {self.State.FAILED, self.State.DONE, self.State.CHECKED, self.State.CRASHED}
