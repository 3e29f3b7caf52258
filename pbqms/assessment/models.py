"""Assessment — 考核评价: 100-point schemes, the yearly cadence, score sheets, results and stars.

A scheme (考核细则) is versioned per owner, year and target kind; a published scheme is locked and
next year's starts as a copy. A plan (考核计划) runs the scheme's periods (monthly self-check,
quarterly assessment, half-year analysis, annual summary). Units (or members, for 党员量化积分)
are scored on sheets: one self sheet and one sheet per assessor. Results are computed set-wise
from the submitted sheets (results.py) and locked when the period is published.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from pbqms.core import clock
from pbqms.orgs.models import Unit


class TargetKind(models.TextChoices):
    BRANCH = "branch", _("Party organisations")  # 基层党组织
    MEMBER = "member", _("Party members (quantified points)")  # 党员量化积分


class SchemeStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class ItemKind(models.TextChoices):
    WORK = "work", _("Work indicator")  # 工作指标
    VETO = "veto", _("Veto indicator")  # 否决指标 / 一票否决
    INTERACTIVE = "interactive", _("Interactive indicator")  # 互动评价指标
    BONUS = "bonus", _("Bonus")  # 加分
    PENALTY = "penalty", _("Penalty")  # 扣分


# Kinds whose maximum points make up the full mark; bonus, penalty and veto sit outside it.
SCORED_KINDS = (ItemKind.WORK, ItemKind.INTERACTIVE)


class Method(models.TextChoices):
    DEDUCT = "deduct", _("Per occurrence, capped")  # 按次扣分，扣完为止
    GRADED = "graded", _("Graded levels")  # 分档计分
    RATIO = "ratio", _("Ratio formula")  # 按比例折算
    YESNO = "yesno", _("Yes / no")  # 是否


class VetoEffect(models.TextChoices):
    """What a triggered veto does besides what every veto does: the unit is not eligible for stars
    or awards (评先评优) in the period, whatever its points (seed 001: 否决指标)."""

    BLOCK_STARS = "block_stars", _("Not eligible for stars or awards")
    ZERO = "zero", _("Not eligible, and the total becomes 0")
    # Kept so schemes stored before decision 0012 still read; no longer offered: a fixed deduction
    # is a penalty item (奖惩办法), and a vetoed unit gets no stars at all.
    CAP_STARS = "cap_stars", _("Star rating capped (no longer offered)")
    DEDUCT = "deduct", _("Fixed deduction (no longer offered)")


# Effects a scheme may still choose; the others only read in schemes stored earlier (decision 0012).
OFFERED_VETO_EFFECTS = (VetoEffect.BLOCK_STARS, VetoEffect.ZERO)


class QuarterMark(models.TextChoices):
    """How a period that scores only part of the items (the quarters leave out the year-end items)
    is put on the full mark (decision 0012)."""

    RESCALE = "rescale", _("Rescale to the full mark")  # 折算为百分制
    REQUIRE = "require", _("The quarterly items must make the full mark")


class YearRule(models.TextChoices):
    """How the annual total is made of the quarters and the year-end items (decision 0012)."""

    SUM = "sum", _("Quarterly items' mean + year-end items at their own points")
    WEIGHTED = "weighted", _("Weighted: quarters and year-end items each on the full mark")


class Scheme(models.Model):
    """Scheme — 考核细则: categories and items adding up to the full mark, versioned per year."""

    owner = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="assessment_schemes",
                              verbose_name=_("issuing committee"))
    org_path = models.CharField(_("tree path"), max_length=255)
    year = models.PositiveSmallIntegerField(_("year"))
    target_kind = models.CharField(_("assesses"), max_length=10, choices=TargetKind.choices,
                                   default=TargetKind.BRANCH)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    name = models.CharField(_("name"), max_length=150)
    description = models.TextField(_("description"), blank=True)
    full_mark = models.DecimalField(_("full mark"), max_digits=6, decimal_places=2, default=Decimal("100"))
    bonus_cap = models.DecimalField(_("bonus cap per period"), max_digits=6, decimal_places=2, default=Decimal("0"))
    penalty_cap = models.DecimalField(_("penalty cap per period"), max_digits=6, decimal_places=2,
                                      default=Decimal("0"), help_text=_("0 means no cap."))
    quarter_mark = models.CharField(
        _("periods scoring part of the items"), max_length=8, choices=QuarterMark.choices,
        default=QuarterMark.RESCALE,
        help_text=_("The quarters leave out the year-end items: rescale their results to the full mark, or "
                    "refuse to publish unless the quarterly items make the full mark on their own."))
    public_member_ranking = models.BooleanField(
        _("show members' ranking"), default=False,
        help_text=_("Off by default: no public ranking of individual members (减负)."))
    status = models.CharField(_("status"), max_length=10, choices=SchemeStatus.choices, default=SchemeStatus.DRAFT)
    copied_from = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                    verbose_name=_("copied from"))
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+", verbose_name=_("published by"))
    created_at = models.DateTimeField(_("created at"), default=clock.now)

    class Meta:
        verbose_name = _("assessment scheme (考核细则)")
        verbose_name_plural = _("assessment schemes (考核细则)")
        ordering = ["-year", "owner__path", "target_kind", "-version"]
        constraints = [models.UniqueConstraint(fields=["owner", "year", "target_kind", "version"],
                                               name="assess_scheme_version")]
        indexes = [models.Index(fields=["org_path"], name="assess_scheme_path", opclasses=["varchar_pattern_ops"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.year} v{self.version})"

    @property
    def locked(self) -> bool:
        return self.status == SchemeStatus.PUBLISHED


class SchemeCategory(models.Model):
    """Category — 考核类别 (e.g. 党建, 宣传, 党风廉政)."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="categories")
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=100)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("scheme category (考核类别)")
        verbose_name_plural = _("scheme categories (考核类别)")
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["scheme", "code"], name="assess_category_code")]

    def __str__(self) -> str:
        return self.name


class SchemeItem(models.Model):
    """Item — 考核项目 (款): content and standard, maximum points and how they are scored."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="items")
    category = models.ForeignKey(SchemeCategory, on_delete=models.CASCADE, related_name="items",
                                 verbose_name=_("category"))
    code = models.CharField(_("code"), max_length=20)
    title = models.CharField(_("title"), max_length=200)
    standard = models.TextField(_("content and standard"))  # 考核内容与标准
    max_points = models.DecimalField(_("maximum points"), max_digits=6, decimal_places=2)
    kind = models.CharField(pgettext_lazy("assessment", "kind"), max_length=12, choices=ItemKind.choices,
                            default=ItemKind.WORK)
    method = models.CharField(_("scoring method"), max_length=10, choices=Method.choices, default=Method.DEDUCT)
    deduct_per = models.DecimalField(_("points per occurrence"), max_digits=6, decimal_places=2, null=True, blank=True)
    levels = models.JSONField(_("levels"), default=list, blank=True)  # [[label, points], ...] highest first
    ratio_floor = models.DecimalField(_("rate giving 0 points (%)"), max_digits=6, decimal_places=2,
                                      null=True, blank=True)
    ratio_full = models.DecimalField(_("rate giving full points (%)"), max_digits=6, decimal_places=2,
                                     null=True, blank=True)
    evidence_required = models.BooleanField(_("evidence required"), default=False)
    annual_only = models.BooleanField(_("annual summary only"), default=False)
    metric = models.CharField(_("computed from"), max_length=60, blank=True,
                              help_text=_("A figure the system computes from its own records pre-fills the score."))
    # The responsibility letters' targets the item measures (五不放过: "考核评价没有对照责任目标不放过"):
    # objectives of the issuing committee, whose branch targets make up each branch's letter (22.4).
    objectives = models.ManyToManyField("objectives.Objective", blank=True, related_name="+",
                                        verbose_name=_("letter targets measured"))
    veto_effect = models.CharField(_("veto effect"), max_length=12, choices=VetoEffect.choices, blank=True)
    veto_deduction = models.DecimalField(_("veto deduction"), max_digits=6, decimal_places=2, null=True, blank=True)
    veto_star_cap = models.PositiveSmallIntegerField(_("stars at most"), null=True, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("scheme item (考核项目)")
        verbose_name_plural = _("scheme items (考核项目)")
        ordering = ["category__order", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["scheme", "code"], name="assess_item_code")]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class StarLevel(models.Model):
    """Star level — 星级标准: the threshold, mandatory conditions and quota for a number of stars."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="star_levels")
    stars = models.PositiveSmallIntegerField(_("stars"))
    min_total = models.DecimalField(_("minimum total"), max_digits=6, decimal_places=2)
    # xgettext:no-python-format
    quota_pct = models.DecimalField(_("quota (% of units)"), max_digits=5, decimal_places=2, null=True, blank=True)
    no_veto = models.BooleanField(_("no veto item triggered"), default=False)
    # xgettext:no-python-format
    min_category_pct = models.DecimalField(_("every category at least (% of its points)"), max_digits=5,
                                           decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name = _("star level (星级标准)")
        verbose_name_plural = _("star levels (星级标准)")
        ordering = ["-stars"]
        constraints = [models.UniqueConstraint(fields=["scheme", "stars"], name="assess_star_level")]

    def __str__(self) -> str:
        return "★" * self.stars


class PanelRule(models.TextChoices):
    MEAN = "mean", _("Mean of the panel's scores")
    LEAD = "lead", _("The lead assessor decides")


class Plan(models.Model):
    """Assessment plan — 考核计划: one year of a scheme's periods and how they combine."""

    scheme = models.OneToOneField(Scheme, on_delete=models.PROTECT, related_name="plan", verbose_name=_("scheme"))
    owner = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="assessment_plans",
                              verbose_name=_("issuing committee"))
    org_path = models.CharField(_("tree path"), max_length=255)
    year = models.PositiveSmallIntegerField(_("year"))
    quarter_weight = models.DecimalField(_("weight of the quarters (%)"), max_digits=5, decimal_places=2,
                                         default=Decimal("70"))
    annual_weight = models.DecimalField(_("weight of the annual-only items (%)"), max_digits=5, decimal_places=2,
                                        default=Decimal("30"))
    panel_rule = models.CharField(_("panel scores combine by"), max_length=6, choices=PanelRule.choices,
                                  default=PanelRule.MEAN)
    year_rule = models.CharField(_("annual total"), max_length=8, choices=YearRule.choices, default=YearRule.SUM)
    created_at = models.DateTimeField(_("created at"), default=clock.now)

    class Meta:
        verbose_name = _("assessment plan (考核计划)")
        verbose_name_plural = _("assessment plans (考核计划)")
        ordering = ["-year", "org_path"]

    def __str__(self) -> str:
        return str(self.scheme)


class PeerGroup(models.Model):
    """Peer group — 同类单位: units ranked among themselves (default: the same parent committee)."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="peer_groups")
    name = models.CharField(_("name"), max_length=60)
    units: models.ManyToManyField[Unit, PeerGroupMember] = models.ManyToManyField(
        Unit, through="PeerGroupMember", related_name="+", verbose_name=_("units"))

    class Meta:
        verbose_name = _("peer group (同类单位)")
        verbose_name_plural = _("peer groups (同类单位)")
        constraints = [models.UniqueConstraint(fields=["plan", "name"], name="assess_peer_group_name")]

    def __str__(self) -> str:
        return self.name


class PeerGroupMember(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="+")
    group = models.ForeignKey(PeerGroup, on_delete=models.CASCADE, related_name="memberships")
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["plan", "unit"], name="assess_peer_one_group")]

    def __str__(self) -> str:
        return f"{self.group} · {self.unit}"


class ModelBranch(models.Model):
    """Model branch — 标杆支部: a branch of a plan that every branch benchmarks against (对标, 22.9)."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="model_branches")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("unit"))
    org_path = models.CharField(_("tree path"), max_length=255)  # the plan's: filed under the committee
    reason = models.TextField(_("reason"))
    designated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                      related_name="+")
    designated_at = models.DateTimeField(_("designated at"), default=clock.now)

    class Meta:
        verbose_name = _("model branch (标杆支部)")
        verbose_name_plural = _("model branches (标杆支部)")
        constraints = [models.UniqueConstraint(fields=["plan", "unit"], name="assess_model_branch_once")]

    def __str__(self) -> str:
        return str(self.unit)


class PeriodKind(models.TextChoices):
    MONTH = "month", _("Monthly self-check")  # 一月一自查
    QUARTER = "quarter", _("Quarterly assessment")  # 一季一考核
    HALF = "half", _("Half-year analysis")  # 半年一分析
    YEAR = "year", _("Annual summary")  # 年底一总结


class PeriodStatus(models.TextChoices):
    OPEN = "open", _("Open for self-check")
    SCORING = "scoring", _("Assessors scoring")
    REVIEW = "review", _("Under review")
    PUBLISHED = "published", _("Published")


class Period(models.Model):
    """Period — 考核期 (2026-07, 2026Q3, 2026H1, 2026): open → scoring → review → published."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="periods")
    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="periods")
    org_path = models.CharField(_("tree path"), max_length=255)
    kind = models.CharField(pgettext_lazy("assessment", "kind"), max_length=8, choices=PeriodKind.choices)
    key = models.CharField(_("period"), max_length=10)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    status = models.CharField(_("status"), max_length=10, choices=PeriodStatus.choices, default=PeriodStatus.OPEN)
    analysis = models.TextField(_("analysis"), blank=True)  # 半年分析 / 年度总结 text
    computed_at = models.DateTimeField(_("results computed at"), null=True, blank=True)
    result_count = models.PositiveIntegerField(_("results"), default=0)  # kept by results.compute for paging
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    class Meta:
        verbose_name = _("assessment period (考核期)")
        verbose_name_plural = _("assessment periods (考核期)")
        ordering = ["plan", "starts_on", "kind"]
        constraints = [models.UniqueConstraint(fields=["plan", "key"], name="assess_period_key")]

    def __str__(self) -> str:
        return f"{self.key} {self.get_kind_display()}"

    @property
    def locked(self) -> bool:
        return self.status == PeriodStatus.PUBLISHED


class PeriodStep(models.Model):
    """A period's move — 考核期流转: who moved it, from what to what, and why (reopening needs a reason)."""

    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="steps")
    from_status = models.CharField(pgettext_lazy("assessment", "from"), max_length=10)
    to_status = models.CharField(pgettext_lazy("assessment", "to"), max_length=10)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+")
    actor_name = models.CharField(_("who"), max_length=150)
    reason = models.TextField(_("reason"), blank=True)
    at = models.DateTimeField(_("when"), default=clock.now)

    class Meta:
        verbose_name = _("period step (考核期流转)")
        verbose_name_plural = _("period steps (考核期流转)")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"


class PanelMember(models.Model):
    """Assessment panel member — 考核评价小组成员 of one period."""

    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="panel")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("assessor"))
    is_lead = models.BooleanField(_("lead assessor"), default=False)

    class Meta:
        verbose_name = _("panel member (考核评价小组成员)")
        verbose_name_plural = _("panel members (考核评价小组成员)")
        constraints = [models.UniqueConstraint(fields=["period", "user"], name="assess_panel_once")]

    def __str__(self) -> str:
        return str(self.user)


class SheetKind(models.TextChoices):
    SELF = "self", _("Self-check")  # 自查自评
    ASSESSOR = "assessor", _("Assessor")  # 考核评分


class SheetStatus(models.TextChoices):
    DRAFT = "draft", _("Being scored")
    SUBMITTED = "submitted", _("Submitted")


class Sheet(models.Model):
    """Score sheet — 评分表: one unit's (or member's) scores in one period by itself or by one assessor."""

    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="sheets")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("unit"))
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="+", verbose_name=_("member"))
    org_path = models.CharField(_("tree path"), max_length=255)
    kind = models.CharField(pgettext_lazy("assessment", "kind"), max_length=8, choices=SheetKind.choices)
    # A panel member's own sheet; empty on a self sheet and on the department's shared sheet.
    assessor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name=_("assessor"))
    status = models.CharField(_("status"), max_length=10, choices=SheetStatus.choices, default=SheetStatus.DRAFT)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    summary = models.TextField(pgettext_lazy("assessment", "summary"), blank=True)  # 自查总结: 做法、亮点、问题、思路
    # What the submitted sheet departs from full points (tallies.py, decision 0007); empty while a draft.
    tally = models.JSONField(_("subtotals"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("score sheet (评分表)")
        verbose_name_plural = _("score sheets (评分表)")
        constraints = [
            models.UniqueConstraint(fields=["period", "unit"], condition=Q(kind="self", member__isnull=True),
                                    name="assess_one_self_sheet"),
            models.UniqueConstraint(fields=["period", "member"], condition=Q(kind="self", member__isnull=False),
                                    name="assess_one_member_self_sheet"),
            models.UniqueConstraint(fields=["period", "unit", "assessor"],
                                    condition=Q(kind="assessor", member__isnull=True),
                                    name="assess_one_sheet_per_assessor"),
            models.UniqueConstraint(fields=["period", "member", "assessor"],
                                    condition=Q(kind="assessor", member__isnull=False),
                                    name="assess_one_member_sheet_per_assessor"),
            # Without a panel the department scores on one shared sheet (assessor left empty).
            models.UniqueConstraint(fields=["period", "unit"],
                                    condition=Q(kind="assessor", member__isnull=True, assessor__isnull=True),
                                    name="assess_one_shared_sheet"),
            models.UniqueConstraint(fields=["period", "member"],
                                    condition=Q(kind="assessor", member__isnull=False, assessor__isnull=True),
                                    name="assess_one_shared_member_sheet"),
        ]
        indexes = [
            models.Index(fields=["period", "org_path"], name="assess_sheet_path",
                         opclasses=["", "varchar_pattern_ops"]),
            models.Index(fields=["period", "status", "kind"], name="assess_sheet_status"),
        ]

    def __str__(self) -> str:
        return f"{self.period.key} {self.unit} {self.get_kind_display()}"


class Score(models.Model):
    """Score — 评分: points for one item on one sheet, with the five facts a deduction needs (五不放过)."""

    sheet = models.ForeignKey(Sheet, on_delete=models.CASCADE, related_name="scores")
    item = models.ForeignKey(SchemeItem, on_delete=models.PROTECT, related_name="+", verbose_name=_("item"))
    # Contribution to the total: awarded points for work/interactive items, +points for a bonus,
    # -points for a penalty, 0 for a veto item (whose effect is `vetoed`).
    points = models.DecimalField(_("points"), max_digits=6, decimal_places=2)
    occurrences = models.PositiveSmallIntegerField(_("number"), null=True, blank=True)
    level = models.CharField(_("level"), max_length=40, blank=True)
    measured = models.DecimalField(_("measured rate (%)"), max_digits=6, decimal_places=2, null=True, blank=True)
    vetoed = models.BooleanField(_("veto triggered"), default=False)
    # Whether the score takes points away (findings and the most-deducted items read these only).
    deducted = models.BooleanField(_("deduction"), default=False)
    # Whether the score departs from the default (full points, no bonus, no penalty, no veto). A
    # submitted sheet scores every item, so results need read only these rows (decision 0006).
    departs = models.BooleanField(_("departs from full points"), default=False)
    reason = models.TextField(_("reason"), blank=True)
    standard_applied = models.TextField(_("standard applied"), blank=True)
    evidence_ref = models.CharField(_("evidence"), max_length=300, blank=True)
    note = models.TextField(_("note"), blank=True)
    auto = models.BooleanField(_("pre-filled from records"), default=False)
    metric_value = models.DecimalField(_("computed figure"), max_digits=6, decimal_places=2, null=True, blank=True)
    override_reason = models.TextField(_("reason for overriding the computed score"), blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    updated_at = models.DateTimeField(_("updated at"), default=clock.now)

    class Meta:
        verbose_name = _("score (评分)")
        verbose_name_plural = _("scores (评分)")
        constraints = [models.UniqueConstraint(fields=["sheet", "item"], name="assess_one_score_per_item")]
        indexes = [models.Index(fields=["sheet"], condition=Q(vetoed=True), name="assess_score_vetoed"),
                   models.Index(fields=["sheet", "item"], condition=Q(deducted=True), name="assess_score_deducted"),
                   models.Index(fields=["sheet"], condition=Q(departs=True), name="assess_score_departs")]

    def __str__(self) -> str:
        return f"{self.item.code} {self.points}"


class Result(models.Model):
    """Result — 考核结果: a unit's (or member's) total, veto, ranks and change in one period."""

    # Derived rows, rebuilt in bulk by results.compute: no database-level foreign keys, whose
    # per-row checks at commit would cost more than the computation (decision 0006).
    # The composite indexes below serve every lookup, so no single-column index per key either;
    # a unit's or member's history goes through its plan's periods and the unique (period, unit)
    # or (period, member) index, so there is no (unit, period) index to keep up (decision 0009).
    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="results", db_constraint=False,
                               db_index=False)
    unit = models.ForeignKey(Unit, on_delete=models.DO_NOTHING, related_name="+", verbose_name=_("unit"),
                             db_constraint=False, db_index=False)
    member = models.ForeignKey("members.Member", on_delete=models.DO_NOTHING, null=True, blank=True,
                               related_name="+", verbose_name=_("member"), db_constraint=False, db_index=False)
    org_path = models.CharField(_("tree path"), max_length=255)
    total = models.DecimalField(_("total"), max_digits=7, decimal_places=2)
    base = models.DecimalField(_("indicator points"), max_digits=7, decimal_places=2)
    bonus = models.DecimalField(_("bonus"), max_digits=7, decimal_places=2, default=Decimal("0"))
    penalty = models.DecimalField(_("penalty"), max_digits=7, decimal_places=2, default=Decimal("0"))
    vetoed = models.BooleanField(_("veto"), default=False)
    veto_items = models.CharField(_("veto items"), max_length=200, blank=True)
    star_cap = models.SmallIntegerField(_("stars at most"), null=True, blank=True)  # 0 = blocked
    rank = models.PositiveIntegerField(_("rank"), null=True)
    peer_rank = models.PositiveIntegerField(_("rank among peers"), null=True)
    peer_size = models.PositiveIntegerField(_("peers"), null=True)
    peer_key = models.CharField(_("peer group"), max_length=80, blank=True)
    previous_total = models.DecimalField(_("previous total"), max_digits=7, decimal_places=2, null=True)
    assessors = models.PositiveSmallIntegerField(_("assessors"), default=0)
    # The category subtotals as "category id:cents" pairs in ascending id order ("3:3800;4:1450"):
    # written by the results engine as plain text (a jsonb per result cost more to build than the
    # rest of the row; decision 0009), read through `categories` or `parse_subtotals`.
    subtotals = models.TextField(_("category subtotals"), blank=True, default="")
    # The year's two parts before any weighting (decision 0012): the quarterly items' mean over the
    # quarters and the year-end items' points; empty for other periods.
    quarter_part = models.DecimalField(_("quarterly items"), max_digits=7, decimal_places=2, null=True, blank=True)
    annual_part = models.DecimalField(_("year-end items"), max_digits=7, decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name = _("assessment result (考核结果)")
        verbose_name_plural = _("assessment results (考核结果)")
        ordering = ["rank", "id"]
        constraints = [
            models.UniqueConstraint(fields=["period", "unit"], condition=Q(member__isnull=True),
                                    name="assess_one_unit_result"),
            models.UniqueConstraint(fields=["period", "member"], condition=Q(member__isnull=False),
                                    name="assess_one_member_result"),
        ]
        indexes = [
            models.Index(fields=["period", "org_path"], name="assess_result_path",
                         opclasses=["", "varchar_pattern_ops"]),
            models.Index(fields=["period", "rank", "id"], name="assess_result_rank"),
        ]

    def __str__(self) -> str:
        return f"{self.period.key} {self.unit} {self.total}"

    @property
    def change(self) -> Decimal | None:
        return None if self.previous_total is None else self.total - self.previous_total

    @property
    def categories(self) -> dict[str, str]:
        """{category id: points}, as the API and the pages show them ("38.00")."""
        return {str(c): f"{v:.2f}" for c, v in parse_subtotals(self.subtotals).items()}


def parse_subtotals(text: str) -> dict[int, Decimal]:
    """'3:3800;4:1450' → {3: Decimal('38.00'), 4: Decimal('14.50')}."""
    out: dict[int, Decimal] = {}
    for pair in text.split(";") if text else ():
        cat, _sep, cents = pair.partition(":")
        out[int(cat)] = Decimal(int(cents)) / 100
    return out


def format_subtotals(points: dict[int, Decimal]) -> str:
    """{3: Decimal('38.00')} → '3:3800': whole cents, rounded half away from zero."""
    return ";".join(f"{c}:{int((Decimal(v) * 100).quantize(Decimal(1), ROUND_HALF_UP))}"
                    for c, v in sorted(points.items()))


class ItemResult(models.Model):
    """Item figure — 单项得分 per period and item over all units: how many lost points, how many in all.

    Kept per period (70 rows, not 3.5 million) so the bulletin's "most-deducted items" and the heat
    map's columns read a small table."""

    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(SchemeItem, on_delete=models.CASCADE, related_name="+")
    units_deducted = models.PositiveIntegerField(_("units that lost points"), default=0)
    points_deducted = models.DecimalField(_("points lost in all"), max_digits=12, decimal_places=2,
                                          default=Decimal("0"))
    average = models.DecimalField(_("average points"), max_digits=7, decimal_places=2, null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["period", "item"], name="assess_item_result_once")]

    def __str__(self) -> str:
        return f"{self.item} {self.points_deducted}"


class StarStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    PUBLICISED = "publicised", _("On public notice")  # 公示
    CONFIRMED = "confirmed", _("Confirmed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class StarRating(models.Model):
    """Star rating — 星级评定 of a unit for a year, with the change from last year (晋位升级)."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="star_ratings")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="star_ratings", verbose_name=_("unit"))
    org_path = models.CharField(_("tree path"), max_length=255)
    year = models.PositiveSmallIntegerField(_("year"))
    stars = models.PositiveSmallIntegerField(_("stars"))
    previous_stars = models.PositiveSmallIntegerField(_("stars last year"), null=True, blank=True)
    total = models.DecimalField(_("annual total"), max_digits=7, decimal_places=2, null=True)
    status = models.CharField(_("status"), max_length=10, choices=StarStatus.choices, default=StarStatus.PROPOSED)
    notice_until = models.DateField(_("public notice until"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    # The rule that decided the proposal, kept as data for the 公示 page: {"rule": threshold | quota
    # | condition | veto | below, "level": stars, ...} (stars.py).
    basis = models.JSONField(_("basis"), default=dict, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    decided_at = models.DateTimeField(_("decided at"), default=clock.now)

    class Meta:
        verbose_name = _("star rating (星级评定)")
        verbose_name_plural = _("star ratings (星级评定)")
        ordering = ["-year", "-stars", "unit__path"]
        constraints = [models.UniqueConstraint(fields=["plan", "unit"], name="assess_star_once_per_plan")]
        indexes = [models.Index(fields=["unit", "year"], name="assess_star_unit_year")]

    def __str__(self) -> str:
        return f"{self.unit} {self.year} {'★' * self.stars}"

    @property
    def movement(self) -> int:
        return 0 if self.previous_stars is None else self.stars - self.previous_stars


class StarChange(models.Model):
    """A change to a star rating — 星级动态管理: promotion, demotion, withdrawal, each with its reason."""

    rating = models.ForeignKey(StarRating, on_delete=models.CASCADE, related_name="changes")
    from_stars = models.PositiveSmallIntegerField(pgettext_lazy("assessment", "from"), null=True)
    to_stars = models.PositiveSmallIntegerField(pgettext_lazy("assessment", "to"))
    status = models.CharField(_("status"), max_length=10, choices=StarStatus.choices)
    reason = models.TextField(_("reason"), blank=True)
    actor_name = models.CharField(_("who"), max_length=150)
    at = models.DateTimeField(_("when"), default=clock.now)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_stars} → {self.to_stars}"


class LinkageRow(models.Model):
    """Performance linkage — 与绩效奖挂钩: a total or star band and the coefficients it earns."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="linkage")
    min_total = models.DecimalField(_("total at least"), max_digits=6, decimal_places=2, null=True, blank=True)
    stars = models.PositiveSmallIntegerField(_("stars"), null=True, blank=True)
    secretary_coefficient = models.DecimalField(_("secretary's coefficient"), max_digits=4, decimal_places=2)
    committee_coefficient = models.DecimalField(_("committee members' coefficient"), max_digits=4, decimal_places=2)
    # Seed 001: the unit's administrative head (行政负责人) is rewarded with its party branch, and
    # members' risk funds (党员风险金) are returned by their points (issue 22.6).
    head_coefficient = models.DecimalField(_("administrative head's coefficient"), max_digits=4, decimal_places=2,
                                           null=True, blank=True)
    risk_fund_pct = models.DecimalField(_("risk fund returned (%)"), max_digits=5, decimal_places=2,
                                        null=True, blank=True)

    class Meta:
        verbose_name = _("linkage row (绩效挂钩)")
        verbose_name_plural = _("linkage rows (绩效挂钩)")
        ordering = ["-stars", "-min_total"]

    def __str__(self) -> str:
        return f"{self.stars or self.min_total}: {self.secretary_coefficient}/{self.committee_coefficient}"