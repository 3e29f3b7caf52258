"""Policy, objectives and responsibility — 质量方针、质量目标、目标分解与责任书 (seed 001).

A committee (党委) writes its quality policy and measurable objectives for a year; each objective
is decomposed into targets on sub-units ("纵向到底、横向到边") that fix task, person, indicator,
quality and deadline (定任务、定人员、定指标、定质量、定时限); every member holds a common part
set by the committee and an individual part they propose and their branch approves; owners
report progress with evidence; each branch signs a yearly responsibility letter with the
committee. Every row that belongs to a unit carries `org_path` (a copy of `Unit.path`), so scope
checks and roll-ups are prefix tests on one column.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from pbqms.members.models import Member
from pbqms.orgs.models import Unit


class ValueKind(models.TextChoices):
    """What a target value is — 指标值类型."""

    NUMBER = "number", pgettext_lazy("objectives", "Number")
    PERCENT = "percent", _("Percentage")
    YESNO = "yesno", _("Yes / no")
    DATE = "date", _("Date")
    TEXT = "text", pgettext_lazy("objectives", "Text")


class TargetStatus(models.TextChoices):
    """Where a target stands — 目标状态."""

    ON_TRACK = "on_track", _("On track")  # 正常推进
    AT_RISK = "at_risk", _("At risk")  # 存在风险
    MISSED = "missed", _("Missed")  # 未完成
    ACHIEVED = "achieved", _("Achieved")  # 已完成


class QualityPolicy(models.Model):
    """Quality policy — 质量方针: a committee's policy statement for a year, with the date by
    which every member must hold approved individual targets."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="quality_policies",
                             verbose_name=_("committee"))
    org_path = models.CharField(_("tree path"), max_length=255, editable=False)
    year = models.PositiveSmallIntegerField(_("year"))
    text = models.TextField(_("policy statement"))
    effective_on = models.DateField(_("effective from"))
    member_targets_due = models.DateField(_("member targets due"), null=True, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("updated by"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("quality policy (质量方针)")
        verbose_name_plural = _("quality policies (质量方针)")
        ordering = ["-year", "org_path"]
        constraints = [models.UniqueConstraint(fields=["unit", "year"], name="obj_one_policy_per_year")]

    def __str__(self) -> str:
        return f"{self.unit} {self.year}"


class Objective(models.Model):
    """Quality objective — 质量目标: one measurable objective of a committee for a year."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="objectives",
                             verbose_name=_("committee"))
    org_path = models.CharField(_("tree path"), max_length=255, editable=False, db_index=True)
    year = models.PositiveSmallIntegerField(_("year"))
    number = models.PositiveSmallIntegerField(_("number"), default=1)
    title = models.CharField(_("title"), max_length=200)
    indicator = models.CharField(_("indicator"), max_length=200)
    value_kind = models.CharField(_("value kind"), max_length=10, choices=ValueKind.choices)
    target_value = models.CharField(_("target value"), max_length=200)
    measure_unit = models.CharField(_("unit of measure"), max_length=30, blank=True)
    deadline = models.DateField(pgettext_lazy("objectives", "deadline"))
    responsible = models.CharField(_("responsible person"), max_length=120)
    check_method = models.TextField(_("how it is checked"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("quality objective (质量目标)")
        verbose_name_plural = _("quality objectives (质量目标)")
        ordering = ["-year", "org_path", "number", "id"]
        indexes = [models.Index(fields=["year", "org_path"], name="obj_year_path")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("objectives:objective", args=[self.pk])


class Target(models.Model):
    """Decomposed target — 分解目标: an objective's share on one unit (or one member), with the
    five fixes 定任务、定人员、定指标、定质量、定时限. `version` counts changes to what a
    responsibility letter records, so a signed letter knows when it needs an amendment."""

    objective = models.ForeignKey(Objective, on_delete=models.PROTECT, related_name="targets",
                                  verbose_name=_("objective"))
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
                               verbose_name=_("parent target"))
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="objective_targets",
                             verbose_name=_("unit"))
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="objective_targets", verbose_name=_("member"))
    org_path = models.CharField(_("tree path"), max_length=255, editable=False)
    year = models.PositiveSmallIntegerField(_("year"))
    task = models.TextField(_("task"))  # 定任务
    person = models.CharField(_("responsible person"), max_length=120)  # 定人员
    indicator = models.CharField(_("indicator"), max_length=200)  # 定指标
    value_kind = models.CharField(_("value kind"), max_length=10, choices=ValueKind.choices)
    target_value = models.CharField(_("target value"), max_length=200)
    measure_unit = models.CharField(_("unit of measure"), max_length=30, blank=True)
    quality = models.TextField(_("quality standard"), blank=True)  # 定质量
    deadline = models.DateField(pgettext_lazy("objectives", "deadline"))  # 定时限
    status = models.CharField(_("status"), max_length=10, choices=TargetStatus.choices,
                              default=TargetStatus.ON_TRACK)
    actual_value = models.CharField(_("latest reported value"), max_length=200, blank=True)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("target (分解目标)")
        verbose_name_plural = _("targets (分解目标)")
        ordering = ["org_path", "objective_id", "id"]
        indexes = [
            models.Index(fields=["org_path", "year"], name="target_path_year",
                         opclasses=["varchar_pattern_ops", "int2_ops"]),
            models.Index(fields=["objective", "unit"], name="target_objective_unit"),
        ]

    def __str__(self) -> str:
        return f"{self.unit} · {self.indicator}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("objectives:target", args=[self.pk])


class TargetPart(models.TextChoices):
    COMMON = "common", _("Common part")  # 共性目标
    INDIVIDUAL = "individual", _("Individual part")  # 个性目标


class Category(models.TextChoices):
    """Member target categories — 党员目标类别: four common (set by the committee from the Party
    Constitution's standards) and three individual (proposed by the member)."""

    PARTY_SPIRIT = "party_spirit", _("Party spirit")  # 党性观念
    MORALITY = "morality", _("Ideology and morality")  # 思想道德
    DISCIPLINE = "discipline", _("Law and discipline")  # 遵纪守法
    MASSES = "masses", _("Ties with the masses")  # 联系群众
    WORK_TASK = "work_task", _("Work task")  # 工作任务目标
    POST_SKILL = "post_skill", _("Post skill")  # 岗位技能目标
    RESPONSIBILITY_AREA = "responsibility_area", _("Responsibility area")  # 责任区目标


COMMON_CATEGORIES = [Category.PARTY_SPIRIT, Category.MORALITY, Category.DISCIPLINE, Category.MASSES]
INDIVIDUAL_CATEGORIES = [Category.WORK_TASK, Category.POST_SKILL, Category.RESPONSIBILITY_AREA]


class ReviewState(models.TextChoices):
    """Where a member target stands in approval — 审定状态."""

    PROPOSED = "proposed", pgettext_lazy("objectives", "Proposed")  # 已提出，待支部审定
    APPROVED = "approved", pgettext_lazy("objectives", "Approved")  # 已审定
    RETURNED = "returned", pgettext_lazy("objectives", "Returned")  # 退回修改


class Grade(models.TextChoices):
    """Year-end grade — 年终评定."""

    EXCELLENT = "excellent", _("Excellent")  # 优秀
    GOOD = "good", _("Good")  # 良好
    PASS = "pass", _("Pass")  # 合格
    FAIL = "fail", _("Fail")  # 不合格


class CommonStandard(models.Model):
    """Common target standard — 共性目标: what the committee asks of every member in one of the
    four categories for a year; applied to each member as a MemberTarget."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="common_standards",
                             verbose_name=_("committee"))
    org_path = models.CharField(_("tree path"), max_length=255, editable=False)
    year = models.PositiveSmallIntegerField(_("year"))
    category = models.CharField(_("category"), max_length=24, choices=Category.choices)
    standard = models.TextField(_("standard"))

    class Meta:
        verbose_name = _("common target standard (共性目标)")
        verbose_name_plural = _("common target standards (共性目标)")
        ordering = ["-year", "org_path", "category"]
        constraints = [models.UniqueConstraint(fields=["unit", "year", "category"], name="obj_one_common_per_cat")]

    def __str__(self) -> str:
        return f"{self.get_category_display()} {self.year}"


class MemberTarget(models.Model):
    """Member target — 党员目标: a common target applied to the member, or an individual one the
    member proposes and the branch approves or returns with a comment; scored at year end."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="member_targets",
                               verbose_name=_("member"))
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="member_targets",
                             verbose_name=_("branch"))
    org_path = models.CharField(_("tree path"), max_length=255, editable=False)
    year = models.PositiveSmallIntegerField(_("year"))
    part = models.CharField(_("part"), max_length=10, choices=TargetPart.choices)
    category = models.CharField(_("category"), max_length=24, choices=Category.choices)
    standard = models.ForeignKey(CommonStandard, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="member_targets", verbose_name=_("common standard"))
    title = models.CharField(_("target"), max_length=200)
    measure = models.TextField(_("measure and standard"), blank=True)
    deadline = models.DateField(pgettext_lazy("objectives", "deadline"), null=True, blank=True)
    state = models.CharField(_("review state"), max_length=10, choices=ReviewState.choices,
                             default=ReviewState.PROPOSED)
    review_comment = models.TextField(_("review comment"), blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name=pgettext_lazy("objectives", "reviewed by"))
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=TargetStatus.choices,
                              default=TargetStatus.ON_TRACK)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=1, null=True, blank=True)
    grade = models.CharField(_("grade"), max_length=10, choices=Grade.choices, blank=True)
    evaluated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", verbose_name=_("evaluated by"))
    evaluated_at = models.DateTimeField(pgettext_lazy("objectives", "evaluated at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("member target (党员目标)")
        verbose_name_plural = _("member targets (党员目标)")
        ordering = ["org_path", "member_id", "part", "category", "id"]
        indexes = [
            models.Index(fields=["org_path", "year"], name="mtarget_path_year",
                         opclasses=["varchar_pattern_ops", "int2_ops"]),
            models.Index(fields=["member", "year"], name="mtarget_member_year"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("objectives:member_target", args=[self.pk])


class ProgressReport(models.Model):
    """Progress report — 目标进展: an owner's report on a target or a member target, with the
    value reached, a status and evidence files (kept by pbqms.files, owner "objectives.progress:<id>")."""

    target = models.ForeignKey(Target, null=True, blank=True, on_delete=models.PROTECT, related_name="reports",
                               verbose_name=_("target"))
    member_target = models.ForeignKey(MemberTarget, null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="reports", verbose_name=_("member target"))
    org_path = models.CharField(_("tree path"), max_length=255, editable=False)
    reported_on = models.DateField(_("reported on"))
    value = models.CharField(_("value reached"), max_length=200, blank=True)
    progress = models.PositiveSmallIntegerField(_("progress (%)"))
    status = models.CharField(_("status"), max_length=10, choices=TargetStatus.choices)
    note = models.TextField(_("what was done"))
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name=_("reported by"))
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("progress report (目标进展)")
        verbose_name_plural = _("progress reports (目标进展)")
        ordering = ["-reported_on", "-id"]

    def __str__(self) -> str:
        return f"{self.reported_on} {self.progress}%"


class LetterState(models.TextChoices):
    DRAFT = "draft", _("Awaiting signatures")  # 待签署
    SIGNED = "signed", pgettext_lazy("objectives", "Signed")  # 已签署
    SUPERSEDED = "superseded", _("Superseded by an amendment")  # 已由补充责任书替代


class ResponsibilityLetter(models.Model):
    """Responsibility letter — 党建目标质量管理责任书: one branch's targets for a year, signed in
    the system by the committee secretary and the branch secretary (name and time). Once both have
    signed, the letter never changes; a changed target needs an amendment (a new version, signed again)."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="responsibility_letters",
                             verbose_name=_("branch"))
    committee = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("committee"))
    org_path = models.CharField(_("tree path"), max_length=255, editable=False)
    year = models.PositiveSmallIntegerField(_("year"))
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    amends = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="amendments",
                               verbose_name=_("amends"))
    state = models.CharField(_("state"), max_length=12, choices=LetterState.choices, default=LetterState.DRAFT)
    title = models.CharField(_("title"), max_length=200)
    preamble = models.TextField(_("preamble"), blank=True)
    rows = models.JSONField(_("targets"), default=list)
    digest = models.CharField(_("targets fingerprint"), max_length=64)
    committee_signer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                         on_delete=models.SET_NULL, related_name="+",
                                         verbose_name=_("signed for the committee by"))
    committee_signer_name = models.CharField(_("committee secretary"), max_length=60, blank=True)
    committee_signed_at = models.DateTimeField(_("committee signed at"), null=True, blank=True)
    branch_signer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+", verbose_name=_("signed for the branch by"))
    branch_signer_name = models.CharField(_("branch secretary"), max_length=60, blank=True)
    branch_signed_at = models.DateTimeField(_("branch signed at"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("drawn up by"))
    created_at = models.DateTimeField(_("drawn up at"), auto_now_add=True)

    class Meta:
        verbose_name = _("responsibility letter (责任书)")
        verbose_name_plural = _("responsibility letters (责任书)")
        ordering = ["-year", "org_path", "-version"]
        constraints = [models.UniqueConstraint(fields=["unit", "year", "version"], name="obj_one_letter_version")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("objectives:letter", args=[self.pk])

    @property
    def is_signed(self) -> bool:
        return bool(self.committee_signed_at and self.branch_signed_at)

    @property
    def has_signature(self) -> bool:
        return bool(self.committee_signed_at or self.branch_signed_at)


class ObjectiveTally(models.Model):
    """Stored roll-up — 目标统计: counts for a unit's whole subtree in one year.

    Keys: "target:<status>" (unit targets by status), "mt:<state>" (individual member targets by
    review state) and "members_ok" (members holding at least one approved individual target).
    Kept current by objectives.rollup from the services; `rollup.recount()` rebuilds it.
    """

    # a derived table rebuilt from the records: no FK constraint to check on each of its many rows
    unit = models.ForeignKey(Unit, on_delete=models.DO_NOTHING, related_name="objective_tallies",
                             verbose_name=_("unit"), db_constraint=False)
    year = models.PositiveSmallIntegerField(_("year"))
    key = models.CharField(_("what is counted"), max_length=30)
    n = models.IntegerField(_("count"), default=0)

    class Meta:
        verbose_name = _("objective tally (目标统计)")
        verbose_name_plural = _("objective tallies (目标统计)")
        constraints = [models.UniqueConstraint(fields=["unit", "year", "key"], name="obj_one_tally_per_key")]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.year} {self.key}={self.n}"
