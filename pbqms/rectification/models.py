"""Closed-loop rectification — 纠错整改闭环: findings, numbered notices, feedback, re-check, preventive action.

"过程控制、闭合管理、持续改进": a problem found (a Finding) goes out on a numbered Notice with a
deadline; the unit answers each finding with Feedback (cause, measures, evidence); the issuing
side verifies each fix (Verification, 效果验证) and only then closes the notice. Recurring
problems raise a PreventiveAction. Every state change is a service call (services.py) that
writes a NoticeStep and an audit entry.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from pbqms.core import clock
from pbqms.orgs.models import Unit


class FindingSource(models.TextChoices):
    INSPECTION = "inspection", _("Inspection (督查)")
    ASSESSMENT = "assessment", _("Assessment deduction")
    AUDIT = "audit", _("Internal audit")
    COMPLIANCE = "compliance", _("Compliance rule")
    MASSES = "masses", _("Feedback from the masses")
    MANUAL = "manual", _("Entered by hand")


class Severity(models.TextChoices):
    MINOR = "minor", _("Minor")
    GENERAL = "general", _("General")
    MAJOR = "major", _("Major")


class FindingStatus(models.TextChoices):
    OPEN = "open", _("Found, not yet on a notice")
    NOTIFIED = "notified", _("On a notice")
    ANSWERED = "answered", _("Feedback submitted")
    REOPENED = "reopened", _("Reopened: fix not effective")
    CLOSED = "closed", _("Closed: fix verified")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# Findings still waiting for the unit or for the issuer.
LIVE_FINDING = (FindingStatus.OPEN, FindingStatus.NOTIFIED, FindingStatus.ANSWERED, FindingStatus.REOPENED)
# Findings whose deadline binds the unit (the unit owes an answer).
OWED_FINDING = (FindingStatus.NOTIFIED, FindingStatus.REOPENED)


class NoticeStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ISSUED = "issued", _("Issued")
    RECEIVED = "received", _("Received")
    ANSWERED = "answered", _("Feedback submitted")
    RETURNED = "returned", _("Returned for more work")
    CLOSED = "closed", _("Closed")


# Notices on which the unit owes an answer by the deadline.
OWED_NOTICE = (NoticeStatus.ISSUED, NoticeStatus.RECEIVED, NoticeStatus.RETURNED)


class CauseCategory(models.Model):
    """Cause category — 原因类别: configurable, so causes can be counted."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=60)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("cause category (原因类别)")
        verbose_name_plural = _("cause categories (原因类别)")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name


class RectificationSettings(models.Model):
    """Rectification settings of an issuing unit — 整改设置. A unit without its own row uses the
    nearest ancestor's, then the defaults below."""

    unit = models.OneToOneField(Unit, on_delete=models.CASCADE, related_name="rectification_settings",
                                verbose_name=_("issuing unit"))
    number_pattern = models.CharField(
        _("notice number pattern"), max_length=60, default="党纠〔{year}〕{seq:03d}号",
        help_text=_("Use {year} and {seq}; {seq:03d} pads the sequence to three digits."))
    reminder_days = models.CharField(_("remind days before the deadline"), max_length=30, default="3,1")
    escalate_after_days = models.PositiveSmallIntegerField(_("escalate after days overdue"), default=3)
    recurrence_periods = models.PositiveSmallIntegerField(
        _("recurrence: same item in the same unit in this many periods"), default=2)
    recurrence_units = models.PositiveSmallIntegerField(
        _("recurrence: same item in this many units in one period"), default=3)
    preventive_days = models.PositiveSmallIntegerField(_("days to complete a preventive action"), default=30)

    class Meta:
        verbose_name = _("rectification settings (整改设置)")
        verbose_name_plural = _("rectification settings (整改设置)")

    def __str__(self) -> str:
        return str(self.unit)


class Notice(models.Model):
    """Rectification notice — 纠错通知单 / 整改通知书: one unit's findings, a requirement and a deadline."""

    issuing_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="issued_notices",
                                     verbose_name=_("issuing unit"))
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="notices", verbose_name=_("unit"))
    org_path = models.CharField(_("tree path"), max_length=255)  # indexed as rect_notice_path
    number = models.CharField(_("number"), max_length=60, null=True, blank=True)
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    seq = models.PositiveIntegerField(_("sequence"), null=True, blank=True)
    title = models.CharField(_("title"), max_length=200)
    requirement = models.TextField(_("requirement"))
    deadline = models.DateField(_("deadline"))
    status = models.CharField(_("status"), max_length=10, choices=NoticeStatus.choices, default=NoticeStatus.DRAFT)
    rounds = models.PositiveSmallIntegerField(_("returns"), default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("drafted by"))
    created_at = models.DateTimeField(_("drafted at"), default=clock.now)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    overdue_since = models.DateField(_("overdue since"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("rectification notice (整改通知书)")
        verbose_name_plural = _("rectification notices (整改通知书)")
        ordering = ["-created_at", "-id"]
        # Numbers run per issuing unit: two committees may both issue their 001号.
        constraints = [models.UniqueConstraint(fields=["issuing_unit", "number"], name="one_number_per_issuer")]
        # Lists filter by a subtree (a LIKE 'path%' prefix: pattern ops, as the database's collation
        # is not C) and show the newest first.
        indexes = [models.Index(fields=["status", "deadline"], name="rect_notice_status_deadline"),
                   models.Index(fields=["org_path"], name="rect_notice_path", opclasses=["varchar_pattern_ops"]),
                   models.Index(fields=["-created_at", "-id"], name="rect_notice_newest")]

    def __str__(self) -> str:
        return self.number or self.title

    @property
    def is_owed(self) -> bool:
        return self.status in OWED_NOTICE

    def days_left(self, today: dt.date) -> int:
        return (self.deadline - today).days


class NoticeSequence(models.Model):
    """Last notice number used per issuing unit and year — 通知书编号."""

    issuing_unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("notice sequence (通知书编号)")
        verbose_name_plural = _("notice sequences (通知书编号)")
        constraints = [models.UniqueConstraint(fields=["issuing_unit", "year"], name="one_sequence_per_year")]

    def __str__(self) -> str:
        return f"{self.issuing_unit_id}/{self.year}: {self.last}"


class Finding(models.Model):
    """Finding — 问题: a problem found in a unit, with the standard it breaks and a link to its source."""

    # indexed by rect_finding_unit_item (unit first); a second index would only slow the writes
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="findings", verbose_name=_("unit"),
                             db_index=False)
    org_path = models.CharField(_("tree path"), max_length=255)
    source = models.CharField(_("source"), max_length=12, choices=FindingSource.choices,
                              default=FindingSource.INSPECTION)
    source_ref = models.CharField(_("source reference"), max_length=200, blank=True)
    source_link = models.CharField(_("link to the source"), max_length=300, blank=True)
    # Other capabilities raise findings through services.raise_finding with a key of their own,
    # so a missed requirement becomes a finding exactly once.
    source_key = models.CharField(_("source key"), max_length=120, null=True, blank=True, unique=True)
    item_code = models.CharField(_("item or clause"), max_length=40, blank=True)  # rect_finding_item
    standard = models.TextField(_("standard applied"), blank=True)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, default=Severity.GENERAL)
    description = models.TextField(_("description"))
    period = models.CharField(_("period"), max_length=10, blank=True,
                              help_text=_("For example 2026Q3 or 2026-07: counts recurrence."))
    found_on = models.DateField(_("found on"))
    found_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+", verbose_name=_("found by"))
    status = models.CharField(_("status"), max_length=10, choices=FindingStatus.choices, default=FindingStatus.OPEN)
    notice = models.ForeignKey(Notice, on_delete=models.SET_NULL, null=True, blank=True, related_name="findings",
                               verbose_name=_("notice"))
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    overdue = models.BooleanField(_("overdue"), default=False)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    # the day its latest feedback arrived: on time (按期整改) = that day ≤ deadline, once it is accepted
    answered_on = models.DateField(_("feedback received on"), null=True, blank=True)
    evidence = models.ManyToManyField("files.StoredFile", blank=True, related_name="+", verbose_name=_("evidence"))
    created_at = models.DateTimeField(_("recorded at"), default=clock.now)

    class Meta:
        verbose_name = _("finding (问题)")
        verbose_name_plural = _("findings (问题)")
        ordering = ["-found_on", "-id"]
        indexes = [
            models.Index(fields=["org_path"], name="rect_finding_path", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["-found_on", "-id"], name="rect_finding_newest"),
            models.Index(fields=["status", "deadline"], name="rect_finding_status_deadline"),
            models.Index(fields=["unit", "item_code"], name="rect_finding_unit_item"),
            models.Index(fields=["period", "item_code"], name="rect_finding_period_item"),
            models.Index(fields=["item_code"], name="rect_finding_item"),
            # the ledger's overdue filter: only the findings still owed and flagged overdue, newest
            # first, the subtree tested inside the index (the ledger's own order, so a page stops early)
            models.Index(fields=["-found_on", "-id", "org_path"], name="rect_finding_overdue",
                         opclasses=["date_ops", "int8_ops", "varchar_pattern_ops"],
                         condition=models.Q(overdue=True, status__in=OWED_FINDING)),
        ]

    def __str__(self) -> str:
        return f"{self.item_code} {self.description[:40]}".strip()

    @property
    def year(self) -> int:
        return self.found_on.year


class NoticeStep(models.Model):
    """One step of a notice's life — 流转记录: who took it, when, and why."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="steps")
    action = models.CharField(_("step"), max_length=12)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+")
    actor_name = models.CharField(_("who"), max_length=150)
    at = models.DateTimeField(_("when"), default=clock.now)
    note = models.TextField(_("note"), blank=True)
    deadline = models.DateField(_("deadline"), null=True, blank=True)

    class Meta:
        verbose_name = _("notice step (流转记录)")
        verbose_name_plural = _("notice steps (流转记录)")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.action} {self.actor_name}"


class Feedback(models.Model):
    """Feedback on one finding — 整改反馈单: cause, measures, evidence, completion date. One per round."""

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="feedback")
    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="feedback")
    round = models.PositiveSmallIntegerField(_("round"), default=1)
    cause_category = models.ForeignKey(CauseCategory, on_delete=models.PROTECT, verbose_name=_("cause category"))
    cause = models.TextField(_("cause"))
    measures = models.TextField(_("measures"))
    completed_on = models.DateField(_("completed on"))
    evidence = models.ManyToManyField("files.StoredFile", blank=True, related_name="+", verbose_name=_("evidence"))
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                     related_name="+", verbose_name=_("submitted by"))
    submitted_at = models.DateTimeField(_("submitted at"), default=clock.now)

    class Meta:
        verbose_name = _("rectification feedback (整改反馈单)")
        verbose_name_plural = _("rectification feedback (整改反馈单)")
        ordering = ["finding_id", "round"]
        constraints = [models.UniqueConstraint(fields=["finding", "round"], name="one_feedback_per_round")]

    def __str__(self) -> str:
        return f"{self.finding_id}#{self.round}"


class Verification(models.Model):
    """Re-check of one fix — 复查验收 / 效果验证: was the fix effective?"""

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="verifications")
    feedback = models.ForeignKey(Feedback, on_delete=models.CASCADE, related_name="verifications")
    effective = models.BooleanField(_("fix effective"))
    note = models.TextField(_("verification note"))
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                    related_name="+", verbose_name=_("verified by"))
    verified_at = models.DateTimeField(_("verified at"), default=clock.now)

    class Meta:
        verbose_name = _("verification (效果验证)")
        verbose_name_plural = _("verifications (效果验证)")
        ordering = ["verified_at", "id"]

    def __str__(self) -> str:
        return f"{self.finding_id}: {'+' if self.effective else '-'}"


class PreventiveStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    OPEN = "open", _("In progress")
    DONE = "done", _("Done, awaiting verification")
    CLOSED = "closed", _("Closed")
    DISMISSED = "dismissed", _("Dismissed")


class PreventiveTrigger(models.TextChoices):
    SAME_UNIT = "same_unit", _("Same item in the same unit in several periods")
    MANY_UNITS = "many_units", _("Same item in many units in one period")
    MANUAL = "manual", _("Entered by hand")


class PreventiveAction(models.Model):
    """Preventive action — 预防措施: the system proposes it when a problem recurs; tracked like a notice."""

    key = models.CharField(_("detection key"), max_length=120, unique=True)
    trigger = models.CharField(_("trigger"), max_length=12, choices=PreventiveTrigger.choices)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="preventive_actions",
                             verbose_name=_("unit"))
    org_path = models.CharField(_("tree path"), max_length=255, db_index=True)
    item_code = models.CharField(_("item or clause"), max_length=40, blank=True)
    title = models.CharField(_("title"), max_length=200)
    analysis = models.TextField(_("what recurs"), blank=True)
    measures = models.TextField(_("preventive measures"), blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+", verbose_name=_("owner"))
    due_on = models.DateField(_("due on"))
    status = models.CharField(_("status"), max_length=10, choices=PreventiveStatus.choices,
                              default=PreventiveStatus.PROPOSED)
    result = models.TextField(_("result"), blank=True)
    findings = models.ManyToManyField(Finding, blank=True, related_name="preventive_actions",
                                      verbose_name=_("findings"))
    created_at = models.DateTimeField(_("proposed at"), default=clock.now)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("preventive action (预防措施)")
        verbose_name_plural = _("preventive actions (预防措施)")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title
