"""People — 党员 and 群众: members, their status steps, branch-committee roles and transfers."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from pbqms.orgs.models import Unit


class PartyStatus(models.TextChoices):
    """Party status — 政治面貌 / 发展阶段, in the order of the development procedure."""

    APPLICANT = "applicant", _("Applicant")  # 申请人
    ACTIVIST = "activist", _("Activist")  # 入党积极分子
    CANDIDATE = "candidate", _("Development target")  # 发展对象
    PROBATIONARY = "probationary", _("Probationary member")  # 预备党员
    FULL = "full", _("Full member")  # 正式党员
    MASSES = "masses", _("The masses")  # 群众


# The development ladder (《中国共产党发展党员工作细则》): each status may only advance to the next.
STATUS_LADDER = [
    PartyStatus.APPLICANT,
    PartyStatus.ACTIVIST,
    PartyStatus.CANDIDATE,
    PartyStatus.PROBATIONARY,
    PartyStatus.FULL,
]
PARTY_MEMBER_STATUSES = {PartyStatus.PROBATIONARY, PartyStatus.FULL}


def next_status(current: str) -> PartyStatus | None:
    """The one step the ladder allows after `current`: the masses may apply; a full member has none."""
    if current == PartyStatus.MASSES:
        return PartyStatus.APPLICANT
    if current in STATUS_LADDER and current != PartyStatus.FULL:
        return STATUS_LADDER[STATUS_LADDER.index(PartyStatus(current)) + 1]
    return None


class Gender(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class Education(models.TextChoices):
    """Highest education — 学历."""

    PRIMARY = "primary", _("Primary school")
    JUNIOR = "junior", _("Junior middle school")
    SENIOR = "senior", _("Senior middle school / technical school")
    COLLEGE = "college", _("Junior college")
    BACHELOR = "bachelor", _("Bachelor")
    MASTER = "master", _("Master")
    DOCTOR = "doctor", _("Doctorate")


class MemberState(models.TextChoices):
    """Whether the person's organisational relation is here — 组织关系状态."""

    ACTIVE = "active", _("In this organisation")
    TRANSFERRED_OUT = "transferred_out", _("Transferred out")
    DECEASED = "deceased", _("Deceased")
    REMOVED = "removed", _("Left the party / removed")


class Member(models.Model):
    """A person in the organisation — 党员 / 发展对象 / 群众.

    `org_path` copies the unit's tree path so that a subtree's people are one indexed
    prefix query on this table. The ID number is stored three ways: encrypted (for the few roles
    that may read it), as a keyed hash (to match imports without decrypting), and masked.
    """

    name = models.CharField(_("name"), max_length=60)
    name_pinyin = models.CharField(_("name in pinyin"), max_length=240, db_index=True, editable=False)
    name_initials = models.CharField(_("pinyin initials"), max_length=60, db_index=True, editable=False)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices)
    ethnicity = models.CharField(_("ethnicity"), max_length=20, default="汉族")
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    education = models.CharField(_("education"), max_length=20, choices=Education.choices, blank=True)
    id_number_encrypted = models.TextField(_("ID number (encrypted)"), blank=True, editable=False)
    id_number_hash = models.CharField(
        _("ID number hash"), max_length=64, unique=True, null=True, blank=True, editable=False
    )
    id_number_masked = models.CharField(_("ID number"), max_length=18, blank=True, editable=False)
    phone_encrypted = models.TextField(_("phone (encrypted)"), blank=True, editable=False)
    phone_masked = models.CharField(_("phone"), max_length=20, blank=True, editable=False)
    post = models.CharField(_("post in the enterprise"), max_length=120, blank=True)
    status = models.CharField(_("party status"), max_length=20, choices=PartyStatus.choices)
    state = models.CharField(
        _("organisational relation"), max_length=20, choices=MemberState.choices, default=MemberState.ACTIVE
    )
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="members", verbose_name=_("unit"))
    group = models.ForeignKey(
        Unit, on_delete=models.SET_NULL, null=True, blank=True, related_name="group_members",
        verbose_name=_("party group"),
    )
    org_path = models.CharField(_("tree path"), max_length=255, editable=False)
    joined_on = models.DateField(_("joined the party on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("member (党员)")
        verbose_name_plural = _("members (党员)")
        ordering = ["name_pinyin", "id"]
        indexes = [
            models.Index(fields=["org_path", "name_pinyin"], name="member_path_pinyin",
                         opclasses=["varchar_pattern_ops", "varchar_pattern_ops"]),
            models.Index(fields=["unit", "name_pinyin"], name="member_unit_pinyin"),
            models.Index(fields=["status", "org_path"], name="member_status_path"),
            # sorting a large subtree by birth date walks this index and stops after one page
            models.Index(fields=["birth_date", "id"], name="member_birth"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("members:detail", args=[self.pk])

    @property
    def is_party_member(self) -> bool:
        return self.status in PARTY_MEMBER_STATUSES


class StatusStep(models.Model):
    """One step on the development ladder with its date — 发展阶段记录."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="status_steps")
    status = models.CharField(_("party status"), max_length=20, choices=PartyStatus.choices)
    date = models.DateField(_("date"))
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("status step (发展阶段)")
        verbose_name_plural = _("status steps (发展阶段)")
        ordering = ["date", "id"]
        constraints = [models.UniqueConstraint(fields=["member", "status"], name="one_step_per_status")]

    def __str__(self) -> str:
        return f"{self.member} {self.status} {self.date}"


class CommitteeRoleKind(models.TextChoices):
    """Branch-committee posts — 支委职务."""

    SECRETARY = "secretary", _("Secretary")  # 书记
    DEPUTY_SECRETARY = "deputy_secretary", _("Deputy secretary")  # 副书记
    ORGANISATION = "organisation", _("Organisation member")  # 组织委员
    PUBLICITY = "publicity", _("Publicity member")  # 宣传委员
    DISCIPLINE = "discipline", _("Discipline member")  # 纪检委员
    YOUTH = "youth", _("Youth member")  # 青年委员
    WELFARE = "welfare", _("Welfare member")  # 生活委员
    GROUP_LEADER = "group_leader", _("Party group leader")  # 党小组长
    MEMBER = "member", _("Committee member")  # 委员


class CommitteeRole(models.Model):
    """A post on a unit's committee with its term — 支委任职."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="committee_roles")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="committee_roles",
                             verbose_name=_("unit"))
    role = models.CharField(_("post"), max_length=30, choices=CommitteeRoleKind.choices)
    started_on = models.DateField(_("start"))
    ended_on = models.DateField(_("end"), null=True, blank=True)

    class Meta:
        verbose_name = _("committee post (支委任职)")
        verbose_name_plural = _("committee posts (支委任职)")
        ordering = ["unit", "role", "-started_on"]

    def __str__(self) -> str:
        return f"{self.unit} {self.role} {self.member}"


class TransferDirection(models.TextChoices):
    IN = "in", _("Transfer in")  # 转入
    OUT = "out", _("Transfer out")  # 转出
    INTERNAL = "internal", _("Internal transfer")  # 内部转接


class Transfer(models.Model):
    """A transfer of the organisational relation — 组织关系转接."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="transfers")
    direction = models.CharField(_("direction"), max_length=10, choices=TransferDirection.choices)
    from_unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("from unit"))
    to_unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("to unit"))
    external_org = models.CharField(_("outside organisation"), max_length=200, blank=True)
    date = models.DateField(_("date"))
    letter_number = models.CharField(_("introduction letter number"), max_length=60, blank=True)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                    related_name="+")
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("transfer (组织关系转接)")
        verbose_name_plural = _("transfers (组织关系转接)")
        ordering = ["-date", "-id"]

    def __str__(self) -> str:
        return f"{self.member} {self.direction} {self.date}"
