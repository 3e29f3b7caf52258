"""Organisational life and process control — 组织生活与过程控制: 三会一课 and other activities,
plans filed in advance (报备), records after (全程纪实), and the rules the compliance engine
checks continuously ("由事后检查变为事前监督").

A record feeds everything else (一次录入、多处复用): the compliance state of its unit, the
record books, each member's participation, and the metrics the assessment engine scores.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from pbqms.core import clock
from pbqms.members.models import Member
from pbqms.orgs.models import Unit


class ActivityKind(models.TextChoices):
    BRANCH_ASSEMBLY = "assembly", _("Branch general meeting (支部党员大会)")
    COMMITTEE_MEETING = "committee", _("Branch committee meeting (支委会)")
    GROUP_MEETING = "group", _("Party group meeting (党小组会)")
    PARTY_LECTURE = "lecture", _("Party lecture (党课)")
    THEME_DAY = "theme_day", _("Theme party day (主题党日)")
    LIFE_MEETING = "life_meeting", _("Organisational life meeting (组织生活会)")
    DEMOCRATIC_REVIEW = "review", _("Democratic appraisal of members (民主评议党员)")
    HEART_TALK = "talk", _("Heart-to-heart talks (谈心谈话)")
    OTHER = "other", _("Other activity")


# Kinds held several times a day: talks are one-to-one (a secretary holds several in a day), a
# lecture may be given to two groups on one day, "other" is anything. Any other meeting is held
# once a day per unit (a database constraint); for these the services refuse only the same
# record entered twice (same kind, day, topic and people).
SEVERAL_A_DAY = ("talk", "lecture", "other")


class Frequency(models.TextChoices):
    MONTH = "month", _("Every month")
    QUARTER = "quarter", _("Every quarter")
    YEAR = "year", _("Every year")


class RuleTarget(models.TextChoices):
    BRANCH = "branch", _("Branches")
    GROUP = "group", _("Party groups")


class HostRequirement(models.TextChoices):
    ANY = "", _("Anyone")
    SECRETARY = "secretary", _("The branch secretary")


class ComplianceRule(models.Model):
    """Rule of organisational life — 组织生活规则: how often an activity must happen, where, with whom.

    The defaults follow 《中国共产党支部工作条例（试行）》 (2018); each row cites its article.
    A rule owned by a unit applies to that unit's subtree; a rule without a unit applies everywhere.
    """

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("activity"), max_length=12, choices=ActivityKind.choices)
    frequency = models.CharField(_("frequency"), max_length=8, choices=Frequency.choices)
    min_count = models.PositiveSmallIntegerField(_("at least, per period"), default=1)
    target = models.CharField(_("applies to"), max_length=8, choices=RuleTarget.choices, default=RuleTarget.BRANCH)
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
                             verbose_name=_("only under unit"))
    host = models.CharField(_("who must host"), max_length=10, choices=HostRequirement.choices, blank=True,
                            default=HostRequirement.ANY)
    min_attendance = models.PositiveSmallIntegerField(
        _("minimum attendance (%)"), default=0, help_text=_("A record below this rate does not count."))
    remind_days = models.PositiveSmallIntegerField(_("warn this many days before the period ends"), default=5)
    citation = models.CharField(_("source"), max_length=200, blank=True)
    active = models.BooleanField(_("in force"), default=True)

    class Meta:
        verbose_name = _("organisational life rule (组织生活规则)")
        verbose_name_plural = _("organisational life rules (组织生活规则)")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class ActivityRecord(models.Model):
    """Activity record — 活动记录 (全程纪实): what was held, when, where, by whom, with whom."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="activity_records",
                             verbose_name=_("unit"))
    org_path = models.CharField(_("tree path"), max_length=255)
    kind = models.CharField(_("activity"), max_length=12, choices=ActivityKind.choices)
    held_on = models.DateField(_("date"))
    start_time = models.TimeField(_("time"), null=True, blank=True)
    place = models.CharField(_("place"), max_length=100, blank=True)
    topic = models.CharField(_("topic"), max_length=200)
    host = models.ForeignKey(Member, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name=_("host"))
    host_is_secretary = models.BooleanField(_("hosted by the secretary"), default=False)
    recorder = models.ForeignKey(Member, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                 verbose_name=_("recorder"))
    minutes = models.TextField(_("minutes"), blank=True)
    resolutions = models.TextField(_("resolutions"), blank=True)
    expected = models.PositiveIntegerField(_("expected"), default=0)
    present = models.PositiveIntegerField(_("present"), default=0)
    attendance_rate = models.DecimalField(_("attendance rate (%)"), max_digits=5, decimal_places=1, default=0)
    files = models.ManyToManyField("files.StoredFile", blank=True, related_name="+",
                                   verbose_name=_("photos and attachments"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   related_name="+", verbose_name=_("recorded by"))
    created_at = models.DateTimeField(_("recorded at"), default=clock.now)

    class Meta:
        verbose_name = _("activity record (活动记录)")
        verbose_name_plural = _("activity records (活动记录)")
        ordering = ["-held_on", "-id"]
        constraints = [models.UniqueConstraint(fields=["unit", "kind", "held_on"], name="one_meeting_per_day",
                                               condition=~models.Q(kind__in=SEVERAL_A_DAY))]
        indexes = [models.Index(fields=["unit", "held_on"], name="act_unit_day"),
                   models.Index(fields=["held_on", "kind"], name="act_day_kind")]

    def __str__(self) -> str:
        return f"{self.held_on} {self.get_kind_display()}"


class Attendance(models.Model):
    """One person at (or away from) one activity — 出席情况; an absence states its reason."""

    record = models.ForeignKey(ActivityRecord, on_delete=models.CASCADE, related_name="attendance")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="attendance")
    present = models.BooleanField(_("present"))
    absence_reason = models.CharField(_("reason for absence"), max_length=100, blank=True)
    counted = models.BooleanField(
        _("expected"), default=True,
        help_text=_("On the meeting's roster: counts toward its attendance. A person attending without being "
                    "expected (列席, e.g. a member at a committee meeting) is recorded present and not counted."))

    class Meta:
        verbose_name = _("attendance (出席情况)")
        verbose_name_plural = _("attendance (出席情况)")
        constraints = [models.UniqueConstraint(fields=["record", "member"], name="one_attendance_per_person")]
        indexes = [models.Index(fields=["member", "record"], name="att_member_record")]

    def __str__(self) -> str:
        return f"{self.member_id}@{self.record_id}"


class PlanStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Filed")
    REVIEWED = "reviewed", _("Reviewed")


class ActivityPlan(models.Model):
    """Activity plan — 活动计划报备: what a branch plans for a month or quarter, filed in advance."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="activity_plans", verbose_name=_("unit"))
    org_path = models.CharField(_("tree path"), max_length=255)
    period = models.CharField(_("period"), max_length=7, help_text=_("2026-05 for a month, 2026Q2 for a quarter."))
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    status = models.CharField(_("status"), max_length=10, choices=PlanStatus.choices, default=PlanStatus.SUBMITTED)
    comment = models.TextField(_("department's comment"), blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("reviewed by"))
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                     related_name="+", verbose_name=_("filed by"))
    submitted_at = models.DateTimeField(_("filed at"), default=clock.now)
    version = models.PositiveSmallIntegerField(_("filing"), default=1,
                                               help_text=_("How many times the plan was filed (报备次数)."))

    class Meta:
        verbose_name = _("activity plan (活动计划)")
        verbose_name_plural = _("activity plans (活动计划)")
        ordering = ["-period_start", "unit_id"]
        constraints = [models.UniqueConstraint(fields=["unit", "period"], name="one_plan_per_period")]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.period}"


class CurrentLines(models.Manager["PlannedActivity"]):
    """The lines of the plans as they stand: a line a later filing dropped is kept, not shown."""

    def get_queryset(self) -> models.QuerySet[PlannedActivity]:
        return super().get_queryset().filter(superseded_at__isnull=True)


class PlannedActivity(models.Model):
    """One line of a plan — 计划事项, with when it was filed. Filing again never deletes a line: a line
    dropped is marked superseded (the filing history stays), a line kept keeps its filing time, and
    a line dated before the day it was filed is late (补报: filed after the event, not in advance)."""

    plan = models.ForeignKey(ActivityPlan, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(_("activity"), max_length=12, choices=ActivityKind.choices)
    planned_on = models.DateField(_("planned date"))
    topic = models.CharField(_("topic"), max_length=200)
    filed_at = models.DateTimeField(_("filed at"), default=clock.now)
    version = models.PositiveSmallIntegerField(_("filing"), default=1)
    late = models.BooleanField(_("filed late (补报)"), default=False,
                               help_text=_("Dated before the day it was filed: reported after the event."))
    superseded_at = models.DateTimeField(_("dropped at"), null=True, blank=True,
                                         help_text=_("When a later filing of the plan dropped the line."))

    every_version = models.Manager()  # every line ever filed (the default manager is `objects`)
    objects = CurrentLines()

    class Meta:
        default_manager_name = "objects"
        verbose_name = _("planned activity (计划事项)")
        verbose_name_plural = _("planned activities (计划事项)")
        ordering = ["planned_on", "id"]

    def __str__(self) -> str:
        return self.topic


class ComplianceStatus(models.TextChoices):
    MET = "met", _("Met")
    OPEN = "open", _("In time")
    AT_RISK = "at_risk", _("At risk")
    MISSED = "missed", _("Missed")


class ComplianceState(models.Model):
    """State of one rule for one unit in one period — 合规状态. Written by the engine only."""

    # Derived data, rebuilt by the engine (decision 0005): the keys keep Django's relations (and
    # its cascades) but no database constraint or single-column index — the unique key below
    # serves the lookups, and millions of states are written without a check per row.
    rule = models.ForeignKey(ComplianceRule, on_delete=models.CASCADE, related_name="states",
                             db_constraint=False, db_index=False)
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="compliance_states",
                             db_constraint=False, db_index=False)
    org_path = models.CharField(_("tree path"), max_length=255)
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    month = models.DateField(_("month"),
                             help_text=_("First day of the month the period ends in: the heat map's column."))
    required = models.PositiveSmallIntegerField(_("required"))
    done = models.PositiveSmallIntegerField(_("held"))
    status = models.CharField(_("state"), max_length=8, choices=ComplianceStatus.choices)
    finding_raised = models.BooleanField(_("finding raised"), default=False)
    evaluated_at = models.DateTimeField(_("evaluated at"))

    class Meta:
        verbose_name = _("compliance state (合规状态)")
        verbose_name_plural = _("compliance states (合规状态)")
        # The unique key leads with the unit: it serves the calendar's per-unit reads too. The only
        # other index is partial and small (what the nightly run looks for), keeping the engine's
        # bulk writes cheap.
        constraints = [models.UniqueConstraint(fields=["unit", "rule", "period_start"], name="one_state_per_period")]
        indexes = [models.Index(fields=["status", "period_end"], name="cs_actionable",
                                condition=models.Q(status__in=["at_risk", "missed"]))]

    def __str__(self) -> str:
        return f"{self.rule_id}/{self.unit_id}/{self.period_start}: {self.status}"


class ComplianceTally(models.Model):
    """States per subtree and month — 合规统计: what the heat map reads, rebuilt by the engine for the
    months it evaluates (one row per ancestor unit and month), so the page costs the same for 15
    branches or 50,000."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+", db_constraint=False,
                             db_index=False)  # derived, like the states; the unique key serves lookups
    month = models.DateField(_("month"))
    met = models.PositiveIntegerField(default=0)
    open = models.PositiveIntegerField(default=0)
    at_risk = models.PositiveIntegerField(default=0)
    missed = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("compliance tally (合规统计)")
        verbose_name_plural = _("compliance tallies (合规统计)")
        constraints = [models.UniqueConstraint(fields=["unit", "month"], name="one_compliance_tally")]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.month}"

    @property
    def closed(self) -> int:
        return self.met + self.missed

    @property
    def rate(self) -> float | None:
        """Share of requirements met, of those decided (met or missed)."""
        total = self.met + self.missed
        return round(100 * self.met / total, 1) if total else None
