"""Member targets — 党员目标 (seed 001: "共性目标由党委统一制定，个性目标由党员提出、党支部审定").

The committee sets the common part (党性观念、思想道德、遵纪守法、联系群众) and applies it to
every party member below it; each member proposes an individual part in three kinds (工作任务、
岗位技能、责任区); a branch secretary or committee member approves it or returns it with a
comment — never their own. A member with no approved individual target after the committee's
due date shows on the branch secretary's to-do list and is reminded through pbqms.notify. At year
end each approved target gets a score and grade; `member_evaluation(year)` hands them on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Avg, Count, Exists, OuterRef, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from pbqms import scope
from pbqms.accounts.models import Role, User
from pbqms.audit import services as audit
from pbqms.audit.models import AuditAction
from pbqms.members.models import PARTY_MEMBER_STATUSES, Member, MemberState
from pbqms.orgs.models import Unit, UnitKind

from . import rollup
from .models import (
    COMMON_CATEGORIES,
    INDIVIDUAL_CATEGORIES,
    Category,
    CommonStandard,
    Grade,
    MemberTarget,
    QualityPolicy,
    ReviewState,
    TargetPart,
)
from .services import _committee, _required, _year, policy_for

MT_FIELDS = ("category", "title", "measure", "deadline", "state", "review_comment")
# Weight of the common and the individual part in a member's year-end score (configurable).
COMMON_WEIGHT = Decimal("0.4")
INDIVIDUAL_WEIGHT = Decimal("0.6")
GRADE_FLOORS = [(Decimal(90), Grade.EXCELLENT), (Decimal(80), Grade.GOOD), (Decimal(60), Grade.PASS)]


def grade_for(score: Decimal) -> str:
    for floor, grade in GRADE_FLOORS:
        if score >= floor:
            return grade
    return Grade.FAIL


def _notify(**kwargs: Any) -> None:
    from pbqms.notify import services as notify

    notify.notify(**kwargs)


def branch_secretaries(unit: Unit) -> QuerySet[User]:
    """Accounts holding the branch-secretary role on the unit (the to-do list's owners)."""
    return User.objects.filter(role_assignments__role=Role.BRANCH_SECRETARY, role_assignments__unit=unit,
                               is_active=True).distinct()


def party_members_of(unit: Unit) -> QuerySet[Member]:
    """Active party members (full and probationary) of the unit itself."""
    return Member.objects.filter(unit=unit, state=MemberState.ACTIVE, status__in=list(PARTY_MEMBER_STATUSES))


# ---- the common part ---------------------------------------------------------------------------

@transaction.atomic
def set_common_standards(actor: Any, unit: Unit, year: int, standards: dict[str, str]) -> list[CommonStandard]:
    """The committee's common targets for a year, one per category (党性观念、思想道德、遵纪守法、联系群众)."""
    if actor is not None and not scope.can_manage_objectives(actor, unit):
        raise PermissionDenied
    _committee(unit)
    year = _year(year)
    unknown = set(standards) - set(COMMON_CATEGORIES)
    if unknown:
        raise ValidationError(_("Common targets are in the four categories only."))
    out = []
    for category in COMMON_CATEGORIES:
        text = (standards.get(category) or "").strip()
        if not text:
            raise ValidationError(_("Write the common target for “%(c)s”.") % {"c": Category(category).label})
        row = CommonStandard.objects.filter(unit=unit, year=year, category=category).first()
        if row is None:
            row = CommonStandard.objects.create(unit=unit, org_path=unit.path, year=year, category=category,
                                                standard=text)
            audit.record(actor, AuditAction.CREATE, row, {"standard": [None, text]})
        elif row.standard != text:
            audit.record(actor, AuditAction.UPDATE, row, {"standard": [row.standard, text]})
            row.standard = text
            row.save(update_fields=["standard"])
            MemberTarget.objects.filter(standard=row).update(measure=text)
        out.append(row)
    return out


@transaction.atomic
def apply_common_targets(actor: Any, unit: Unit, year: int) -> int:
    """Give every active party member below the committee its common targets for the year (those
    they lack); returns how many were added."""
    if actor is not None and not scope.can_manage_objectives(actor, unit):
        raise PermissionDenied
    standards = list(CommonStandard.objects.filter(unit=unit, year=year))
    if not standards:
        raise ValidationError(_("Set the common targets first."))
    policy = policy_for(unit, year)
    added = 0
    people = Member.objects.filter(org_path__startswith=unit.path, state=MemberState.ACTIVE,
                                   status__in=list(PARTY_MEMBER_STATUSES)).values_list("pk", "unit_id", "org_path")
    for standard in standards:
        have = set(MemberTarget.objects.filter(standard=standard).values_list("member_id", flat=True))
        rows = [MemberTarget(member_id=pk, unit_id=unit_id, org_path=path, year=year, part=TargetPart.COMMON,
                             category=standard.category, standard=standard,
                             title=str(Category(standard.category).label), measure=standard.standard,
                             deadline=dt.date(year, 12, 31), state=ReviewState.APPROVED)
                for pk, unit_id, path in people if pk not in have]
        MemberTarget.objects.bulk_create(rows, batch_size=2000)
        added += len(rows)
    if added:
        audit.record(actor, AuditAction.CREATE, policy or standards[0], {"common_targets": [None, added]},
                     note="apply common targets")
    return added


# ---- the individual part -----------------------------------------------------------------------

def _individual(category: str, title: str, measure: str, deadline: dt.date | None, year: int) -> dict[str, Any]:
    if category not in INDIVIDUAL_CATEGORIES:
        raise ValidationError(_("An individual target is a work task, a post skill or a responsibility area."))
    title = _required(title, _("Write the target."))
    measure = _required(measure, _("Say how the target is measured."))
    if deadline is not None and deadline.year != year:
        raise ValidationError(_("The deadline must fall in %(year)s.") % {"year": year})
    return {"category": category, "title": title, "measure": measure, "deadline": deadline}


@transaction.atomic
def propose_member_target(actor: Any, member: Member, *, year: int, category: str, title: str, measure: str,
                          deadline: dt.date | None = None) -> MemberTarget:
    """A member proposes one of their own individual targets; the branch reviews it."""
    if actor is not None and not scope.is_self_member(actor, member.pk):
        raise PermissionDenied
    if member.state != MemberState.ACTIVE:
        raise ValidationError(_("Only people whose organisational relation is here hold targets."))
    year = _year(year)
    data = _individual(category, title, measure, deadline, year)
    mt = MemberTarget.objects.create(member=member, unit=member.unit, org_path=member.org_path, year=year,
                                     part=TargetPart.INDIVIDUAL, state=ReviewState.PROPOSED, **data)
    rollup.member_target_changed(mt, None, mt.state)
    audit.record(actor, AuditAction.SUBMIT, mt, audit.created(audit.snapshot(mt, MT_FIELDS)))
    _tell_reviewers(member.unit, year, member.name, mt.title, member.pk)
    return mt


def _reviewers_done(unit: Any, year: int) -> None:
    """Every proposed target of the branch and year reviewed: the standing message has done its work."""
    if not MemberTarget.objects.filter(unit=unit, year=year, part=TargetPart.INDIVIDUAL,
                                       state=ReviewState.PROPOSED).exists():
        from pbqms.notify import services as notify

        notify.retire([f"objectives:proposed:{unit.pk}:{year}"])


def _tell_reviewers(unit: Any, year: int, name: str, latest: str, proposer: int | None = None) -> None:
    """One standing message per branch and year for its secretaries, not one per target: its count
    is refreshed (and shown unread again) when another target comes in."""
    waiting = MemberTarget.objects.filter(unit=unit, year=year, part=TargetPart.INDIVIDUAL,
                                          state=ReviewState.PROPOSED).count()
    reviewers = [u for u in branch_secretaries(unit) if u.member_id is None or u.member_id != proposer]
    _notify(key=f"objectives:proposed:{unit.pk}:{year}", recipients=reviewers,
            title=_("%(n)d individual targets of %(year)d wait for review") % {"n": waiting, "year": year},
            body=_("Latest: %(name)s — %(title)s") % {"name": name, "title": latest},
            link=f"{reverse('objectives:member_targets', args=[unit.code])}?year={year}", unit=unit, replace=True)


@transaction.atomic
def revise_member_target(actor: Any, mt: MemberTarget, *, category: str, title: str, measure: str,
                         deadline: dt.date | None = None) -> MemberTarget:
    """The member revises a proposed or returned target; it goes back to the branch for review."""
    if actor is not None and not scope.is_self_member(actor, mt.member_id):
        raise PermissionDenied
    if mt.part != TargetPart.INDIVIDUAL or mt.state == ReviewState.APPROVED:
        raise ValidationError(_("An approved target cannot be changed."))
    before = audit.snapshot(mt, MT_FIELDS)
    state_before = mt.state
    for k, v in _individual(category, title, measure, deadline, mt.year).items():
        setattr(mt, k, v)
    mt.state = ReviewState.PROPOSED
    mt.save()
    rollup.member_target_changed(mt, state_before, mt.state)
    audit.record(actor, AuditAction.SUBMIT, mt, audit.diff(before, audit.snapshot(mt, MT_FIELDS)))
    return mt


def _reviewer_check(actor: Any, mt: MemberTarget) -> None:
    if actor is None:
        return
    if not scope.can_review_member_targets_in(actor, mt.org_path):
        raise PermissionDenied
    if scope.is_self_member(actor, mt.member_id):
        raise ValidationError(_("You cannot approve, return or score your own targets; another member of the "
                                "branch committee does that."), code="own_target")


@transaction.atomic
def review_member_target(actor: Any, mt: MemberTarget, *, approve: bool, comment: str = "") -> MemberTarget:
    """The branch approves a proposed individual target, or returns it with a comment — 审定."""
    _reviewer_check(actor, mt)
    if mt.part != TargetPart.INDIVIDUAL or mt.state != ReviewState.PROPOSED:
        raise ValidationError(_("Only a proposed target can be approved or returned."))
    comment = (comment or "").strip()
    if not approve and not comment:
        raise ValidationError(_("Say why the target is returned."))
    before = audit.snapshot(mt, MT_FIELDS)
    mt.state = ReviewState.APPROVED if approve else ReviewState.RETURNED
    mt.review_comment = comment
    mt.reviewed_by = actor if getattr(actor, "pk", None) else None
    mt.reviewed_at = timezone.now()
    mt.save()
    rollup.member_target_changed(mt, ReviewState.PROPOSED, mt.state)
    audit.record(actor, AuditAction.APPROVE if approve else AuditAction.RETURN, mt,
                 audit.diff(before, audit.snapshot(mt, MT_FIELDS)), note=comment)
    owners = list(User.objects.filter(member_id=mt.member_id, is_active=True))
    title = (_("Your target was approved: %(t)s") if approve else _("Your target was returned: %(t)s")) % {
        "t": mt.title}
    _reviewers_done(mt.unit, mt.year)
    _notify(key=f"objectives:reviewed:{mt.pk}:{mt.state}:{mt.reviewed_at:%Y%m%d%H%M%S}", recipients=owners,
            title=title, body=comment, link=mt.get_absolute_url(), unit=mt.unit, chat=False)
    return mt


@transaction.atomic
def evaluate_member_target(actor: Any, mt: MemberTarget, *, score: Any, grade: str = "") -> MemberTarget:
    """Year-end evaluation of one approved member target: a score out of 100 and a grade (derived
    from the score when not given) — 年终考评."""
    _reviewer_check(actor, mt)
    if mt.state != ReviewState.APPROVED:
        raise ValidationError(_("Only an approved target is evaluated."))
    try:
        value = Decimal(str(score).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(_("A score is a number from 0 to 100."))
    if not value.is_finite() or not 0 <= value <= 100:
        raise ValidationError(_("A score is a number from 0 to 100."))
    if grade and grade not in Grade.values:
        raise ValidationError(_("Unknown grade “%(g)s”.") % {"g": grade})
    before = audit.snapshot(mt, ("score", "grade"))
    mt.score = value.quantize(Decimal("0.1"))
    mt.grade = grade or grade_for(value)
    mt.evaluated_by = actor if getattr(actor, "pk", None) else None
    mt.evaluated_at = timezone.now()
    mt.save(update_fields=["score", "grade", "evaluated_by", "evaluated_at", "updated_at"])
    if delta := audit.diff(before, audit.snapshot(mt, ("score", "grade"))):
        audit.record(actor, AuditAction.UPDATE, mt, delta, note="evaluation")
    return mt


# ---- the to-do list and reminders --------------------------------------------------------------

def members_without_approved_targets(unit: Unit, year: int) -> QuerySet[Member]:
    """Party members of the unit holding no approved individual target for the year."""
    approved = MemberTarget.objects.filter(member=OuterRef("pk"), year=year, part=TargetPart.INDIVIDUAL,
                                           state=ReviewState.APPROVED)
    return party_members_of(unit).filter(~Exists(approved)).order_by("name_pinyin", "pk")


def remind_missing_member_targets(year: int, today: dt.date | None = None) -> int:
    """For every committee whose due date for member targets has passed, remind each branch
    secretary of the members still without an approved individual target (idempotent: one
    message per branch and year). Returns how many branches were reminded."""
    today = today or dt.date.today()
    reminded = 0
    for policy in QualityPolicy.objects.filter(year=year, member_targets_due__lt=today).select_related("unit"):
        branches = Unit.objects.filter(path__startswith=policy.org_path, kind=UnitKind.BRANCH,
                                       dissolved_on__isnull=True)
        for branch in branches:
            if policy_for(branch, year) != policy:
                continue  # a committee below sets its own due date
            missing = list(members_without_approved_targets(branch, year).values_list("name", flat=True)[:50])
            if not missing:
                continue
            from django.urls import reverse

            _notify(key=f"objectives:missing:{branch.pk}:{year}", recipients=list(branch_secretaries(branch)),
                    title=_("Members without approved targets for %(year)s") % {"year": year},
                    body="、".join(missing), link=reverse("objectives:member_targets", args=[branch.code]),
                    unit=branch)
            reminded += 1
    return reminded


# ---- year-end evaluation for the assessment engine ---------------------------------------------

@dataclass(frozen=True)
class MemberEvaluationRow:
    """One member's year-end result from their targets.

    `common_score` / `individual_score` average the scored targets of each part; `score` weighs
    them COMMON_WEIGHT / INDIVIDUAL_WEIGHT (or takes the one part that was scored); `grade` follows
    GRADE_FLOORS. `complete` is False while some approved target of the member is unscored.
    """

    member_id: int
    unit_id: int
    org_path: str
    year: int
    targets: int
    scored: int
    common_score: Decimal | None
    individual_score: Decimal | None
    score: Decimal | None
    grade: str
    complete: bool


def member_evaluation(year: int, *, under: str = "") -> Iterator[MemberEvaluationRow]:
    """The year-end evaluation of member targets, one row per member holding approved targets,
    in tree order — the seam the assessment engine's member-points scheme (党员量化积分) reads:

        for row in member_evaluation(2026, under=unit.path):
            points[row.member_id] = row.score

    One aggregate query streamed in chunks, so it serves 1.5 million members; no scope check
    here: callers decide whose rows they may use (e.g. scope.member_targets paths)."""
    qs = MemberTarget.objects.filter(year=year, state=ReviewState.APPROVED)
    if under:
        qs = qs.filter(org_path__startswith=under)
    rows = (qs.values("member_id", "unit_id", "org_path", "part")
            .annotate(n=Count("id"), scored=Count("score"), avg=Avg("score"))
            .order_by("org_path", "member_id", "part"))
    current: dict[str, Any] | None = None
    for r in rows.iterator(chunk_size=5000):
        if current is not None and current["member_id"] != r["member_id"]:
            yield _evaluation_row(current, year)
            current = None
        if current is None:
            current = {"member_id": r["member_id"], "unit_id": r["unit_id"], "org_path": r["org_path"],
                       "targets": 0, "scored": 0, "parts": {}}
        current["targets"] += r["n"]
        current["scored"] += r["scored"]
        if r["avg"] is not None:
            current["parts"][r["part"]] = Decimal(str(r["avg"])).quantize(Decimal("0.1"))
    if current is not None:
        yield _evaluation_row(current, year)


def _evaluation_row(c: dict[str, Any], year: int) -> MemberEvaluationRow:
    common = c["parts"].get(TargetPart.COMMON)
    individual = c["parts"].get(TargetPart.INDIVIDUAL)
    if common is not None and individual is not None:
        score: Decimal | None = (common * COMMON_WEIGHT + individual * INDIVIDUAL_WEIGHT).quantize(Decimal("0.1"))
    else:
        score = common if common is not None else individual
    return MemberEvaluationRow(
        member_id=c["member_id"], unit_id=c["unit_id"], org_path=c["org_path"], year=year, targets=c["targets"],
        scored=c["scored"], common_score=common, individual_score=individual, score=score,
        grade=grade_for(score) if score is not None else "", complete=c["scored"] == c["targets"])
