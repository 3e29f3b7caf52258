"""Rules for policy, objectives, targets and progress — 目标管理 (seed 001).

Every write goes through here: scope first (outside → the caller has already got 404; inside
without the role → PermissionDenied), then the rules (ValidationError with a translated message),
then the rows, the stored roll-up (objectives.rollup) and an audit entry. Member targets live in
objectives.member_services, responsibility letters in objectives.letters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from pbqms import scope
from pbqms.audit import services as audit
from pbqms.audit.models import AuditAction
from pbqms.core import text as core_text
from pbqms.members.models import Member
from pbqms.orgs.models import Unit, UnitKind

from . import rollup
from .models import (
    MemberTarget,
    Objective,
    ProgressReport,
    QualityPolicy,
    ReviewState,
    Target,
    TargetStatus,
    ValueKind,
)

OBJECTIVE_FIELDS = ("title", "indicator", "value_kind", "target_value", "measure_unit", "deadline", "responsible",
                    "check_method")
TARGET_FIELDS = ("task", "person", "indicator", "value_kind", "target_value", "measure_unit", "quality", "deadline")
YES = {"yes", "y", "true", "1", "是", "有", "达到"}
NO = {"no", "n", "false", "0", "否", "无", "未达到"}


# ---- values ------------------------------------------------------------------------------------

def clean_value(kind: str, raw: Any) -> str:
    """A target value written in its kind's normal form (number, percentage 0–100, yes/no,
    ISO date, text); a value of the wrong kind is refused with a message naming the kind."""
    if kind not in ValueKind.values:
        raise ValidationError(_("Unknown value kind “%(k)s”.") % {"k": kind})
    text = str(raw if raw is not None else "").strip()
    if not text:
        raise ValidationError(_("A target needs a target value."))
    label = ValueKind(kind).label
    wrong = ValidationError(_("“%(v)s” is not a valid value of the kind “%(kind)s”.") % {"v": text, "kind": label},
                            code="wrong_kind")
    if kind in (ValueKind.NUMBER, ValueKind.PERCENT):
        try:
            number = Decimal(text.rstrip("%％").replace(",", "").strip())
        except InvalidOperation:
            raise wrong
        if not number.is_finite() or (kind == ValueKind.PERCENT and not 0 <= number <= 100):
            raise wrong
        return format(number.normalize(), "f")
    if kind == ValueKind.YESNO:
        low = text.lower()
        if low in YES:
            return "yes"
        if low in NO:
            return "no"
        raise wrong
    if kind == ValueKind.DATE:
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            raise wrong
    return text


def show_value(kind: str, value: str, measure_unit: str = "") -> str:
    """A stored value as people read it: 95%, 是/否, 12 次."""
    if not value:
        return ""
    if kind == ValueKind.PERCENT:
        return f"{value}%"
    if kind == ValueKind.YESNO:
        return str(_("Yes")) if value == "yes" else str(_("No"))
    return f"{value} {measure_unit}".strip() if kind == ValueKind.NUMBER else value


def _required(value: Any, message: str) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationError(message)
    return value.strip() if isinstance(value, str) else value


def _year(year: Any) -> int:
    try:
        y = int(year)
    except (TypeError, ValueError):
        raise ValidationError(_("Give the year as four digits."))
    if not 2000 <= y <= 2100:
        raise ValidationError(_("Give the year as four digits."))
    return y


def _committee(unit: Unit) -> None:
    if unit.kind != UnitKind.COMMITTEE:
        raise ValidationError(_("Policies and objectives belong to a party committee."))
    if not unit.is_active:
        raise ValidationError(_("The unit “%(name)s” is dissolved.") % {"name": unit.name})


# ---- policy ------------------------------------------------------------------------------------

@transaction.atomic
def save_policy(actor: Any, unit: Unit, *, year: int, text: str, effective_on: dt.date,
                member_targets_due: dt.date | None = None) -> QualityPolicy:
    """Write (or rewrite) a committee's quality policy for a year — 质量方针."""
    if actor is not None and not scope.can_manage_objectives(actor, unit):
        raise PermissionDenied
    _committee(unit)
    year = _year(year)
    text = _required(text, _("Write the policy statement."))
    _required(effective_on, _("Give the date the policy takes effect."))
    policy = QualityPolicy.objects.filter(unit=unit, year=year).first()
    fields = ("text", "effective_on", "member_targets_due")
    before = audit.snapshot(policy, fields) if policy else None
    if policy is None:
        policy = QualityPolicy(unit=unit, org_path=unit.path, year=year)
    policy.text, policy.effective_on, policy.member_targets_due = text, effective_on, member_targets_due
    policy.updated_by = actor if getattr(actor, "pk", None) else None
    policy.save()
    after = audit.snapshot(policy, fields)
    if before is None:
        audit.record(actor, AuditAction.CREATE, policy, audit.created(after))
    elif delta := audit.diff(before, after):
        audit.record(actor, AuditAction.UPDATE, policy, delta)
    return policy


def policy_for(unit: Unit, year: int) -> QualityPolicy | None:
    """The policy that governs `unit` in `year`: its own committee's, or the nearest ancestor's."""
    ids = unit.ancestor_ids() + [unit.pk]
    policies = {p.unit_id: p for p in QualityPolicy.objects.filter(unit_id__in=ids, year=year)}
    for uid in reversed(ids):
        if uid in policies:
            return policies[uid]
    return None


# ---- objectives --------------------------------------------------------------------------------

def _objective_values(data: dict[str, Any]) -> dict[str, Any]:
    data["title"] = _required(data.get("title"), _("An objective needs a title."))
    data["indicator"] = _required(data.get("indicator"), _("An objective needs an indicator."))
    data["responsible"] = _required(data.get("responsible"), _("Name the person responsible for the objective."))
    _required(data.get("deadline"), _("An objective needs a deadline."))
    data["target_value"] = clean_value(data.get("value_kind", ""), data.get("target_value"))
    data["measure_unit"] = (data.get("measure_unit") or "").strip()
    data["check_method"] = (data.get("check_method") or "").strip()
    core_text.check_values(Objective, data, "title", "indicator", "responsible", "measure_unit", "check_method")
    return data


@transaction.atomic
def create_objective(actor: Any, unit: Unit, *, year: int, title: str, indicator: str, value_kind: str,
                     target_value: Any, deadline: dt.date | None, responsible: str, measure_unit: str = "",
                     check_method: str = "") -> Objective:
    """A measurable objective of a committee for a year — 质量目标."""
    if actor is not None and not scope.can_manage_objectives(actor, unit):
        raise PermissionDenied
    _committee(unit)
    data = _objective_values({"title": title, "indicator": indicator, "value_kind": value_kind,
                              "target_value": target_value, "deadline": deadline, "responsible": responsible,
                              "measure_unit": measure_unit, "check_method": check_method})
    year = _year(year)
    if deadline is not None and deadline.year != year:
        raise ValidationError(_("The deadline must fall in %(year)s.") % {"year": year})
    number = (Objective.objects.filter(unit=unit, year=year).aggregate(n=Max("number"))["n"] or 0) + 1
    objective = Objective.objects.create(unit=unit, org_path=unit.path, year=year, number=number,
                                         created_by=actor if getattr(actor, "pk", None) else None, **data)
    audit.record(actor, AuditAction.CREATE, objective, audit.created(audit.snapshot(objective, OBJECTIVE_FIELDS)))
    return objective


@transaction.atomic
def update_objective(actor: Any, objective: Objective, **changes: Any) -> Objective:
    if actor is not None and not scope.can_manage_objectives(actor, objective.unit):
        raise PermissionDenied
    unknown = set(changes) - set(OBJECTIVE_FIELDS)
    if unknown:
        raise ValidationError(_("These fields cannot be changed here: %(f)s") % {"f": ", ".join(sorted(unknown))})
    before = audit.snapshot(objective, OBJECTIVE_FIELDS)
    data = _objective_values({**{f: getattr(objective, f) for f in OBJECTIVE_FIELDS}, **changes})
    if data["deadline"].year != objective.year:
        raise ValidationError(_("The deadline must fall in %(year)s.") % {"year": objective.year})
    for k, v in data.items():
        setattr(objective, k, v)
    objective.save()
    if delta := audit.diff(before, audit.snapshot(objective, OBJECTIVE_FIELDS)):
        audit.record(actor, AuditAction.UPDATE, objective, delta)
    return objective


# ---- targets (the five fixes) ------------------------------------------------------------------

def _target_values(data: dict[str, Any], objective: Objective, parent: Target | None) -> dict[str, Any]:
    data["indicator"] = _required(data.get("indicator"), _("A target needs an indicator (定指标)."))
    deadline = _required(data.get("deadline"), _("A target needs a deadline (定时限)."))
    data["task"] = _required(data.get("task"), _("A target needs a task (定任务)."))
    data["person"] = _required(data.get("person"), _("A target needs a responsible person (定人员)."))
    data["target_value"] = clean_value(data.get("value_kind", ""), data.get("target_value"))
    data["quality"] = (data.get("quality") or "").strip()
    data["measure_unit"] = (data.get("measure_unit") or "").strip()
    core_text.check_values(Target, data, "indicator", "task", "person", "quality", "measure_unit")
    limit = parent.deadline if parent is not None else objective.deadline
    if deadline > limit:
        raise ValidationError(_("A target cannot fall due after what it decomposes (%(date)s).")
                              % {"date": limit.isoformat()})
    return data


def _check_place(objective: Objective, unit: Unit, parent: Target | None, member: Member | None) -> None:
    if not unit.is_active:
        raise ValidationError(_("The unit “%(name)s” is dissolved.") % {"name": unit.name})
    if unit.kind == UnitKind.GROUP:
        raise ValidationError(_("Targets are set on branches and committees; a party group's work counts "
                                "in its branch."))
    if not unit.path.startswith(objective.org_path):
        raise ValidationError(_("The unit lies outside the committee that set this objective."))
    if parent is not None:
        if parent.objective_id != objective.pk:
            raise ValidationError(_("The parent target belongs to another objective."))
        if not unit.path.startswith(parent.org_path) or (unit.pk == parent.unit_id and member is None):
            raise ValidationError(_("A target decomposes its parent onto a unit below the parent's unit."))
    elif unit.pk == objective.unit_id and member is None:
        raise ValidationError(_("The objective itself stands for the committee; decompose it onto a unit "
                                "below, or onto a member."))
    if member is not None and member.unit_id != unit.pk:
        raise ValidationError(_("The member does not belong to this unit."))


@transaction.atomic
def create_target(actor: Any, *, objective: Objective, unit: Unit, parent: Target | None = None,
                  member: Member | None = None, task: str, person: str, indicator: str, value_kind: str,
                  target_value: Any, deadline: dt.date | None, quality: str = "", measure_unit: str = "") -> Target:
    """Decompose an objective (or a parent target) onto a unit or one of its members."""
    if actor is not None and not scope.can_manage_targets_in(actor, unit):
        raise PermissionDenied
    _check_place(objective, unit, parent, member)
    data = _target_values({"task": task, "person": person, "indicator": indicator, "value_kind": value_kind,
                           "target_value": target_value, "deadline": deadline, "quality": quality,
                           "measure_unit": measure_unit}, objective, parent)
    target = Target.objects.create(objective=objective, parent=parent, unit=unit, member=member,
                                   org_path=unit.path, year=objective.year, **data)
    rollup.target_changed(target, None, target.status)
    audit.record(actor, AuditAction.CREATE, target, audit.created(audit.snapshot(target, TARGET_FIELDS)))
    return target


@transaction.atomic
def update_target(actor: Any, target: Target, **changes: Any) -> Target:
    """Change the five fixes; each real change raises `version`, so a signed letter shows it needs
    an amendment."""
    if actor is not None and not scope.can_manage_targets_in(actor, target.unit):
        raise PermissionDenied
    unknown = set(changes) - set(TARGET_FIELDS)
    if unknown:
        raise ValidationError(_("These fields cannot be changed here: %(f)s") % {"f": ", ".join(sorted(unknown))})
    before = audit.snapshot(target, TARGET_FIELDS)
    data = _target_values({**{f: getattr(target, f) for f in TARGET_FIELDS}, **changes}, target.objective,
                          target.parent)
    for k, v in data.items():
        setattr(target, k, v)
    delta = audit.diff(before, audit.snapshot(target, TARGET_FIELDS))
    if not delta:
        return target
    target.version += 1
    target.save()
    audit.record(actor, AuditAction.UPDATE, target, delta)
    return target


# ---- progress ----------------------------------------------------------------------------------

def can_report_on_target(user: Any, target: Target) -> bool:
    return scope.can_manage_targets_in(user, target.unit) or (
        target.member_id is not None and scope.is_self_member(user, target.member_id))


def can_report_on_member_target(user: Any, mt: MemberTarget) -> bool:
    return scope.is_self_member(user, mt.member_id) or scope.can_review_member_targets_in(user, mt.org_path)


def _progress_values(progress: Any, status: str, note: str, reported_on: dt.date | None
                     ) -> tuple[int, str, dt.date]:
    try:
        pct = int(progress)
    except (TypeError, ValueError):
        raise ValidationError(_("Progress is a whole percentage from 0 to 100."))
    if not 0 <= pct <= 100:
        raise ValidationError(_("Progress is a whole percentage from 0 to 100."))
    if status not in TargetStatus.values:
        raise ValidationError(_("Unknown status “%(s)s”.") % {"s": status})
    if status == TargetStatus.ACHIEVED and pct < 100:
        pct = 100
    _required(note, _("Say what was done."))
    core_text.check_values(ProgressReport, {"note": note}, "note")
    if reported_on is None:
        raise ValidationError(_("Give the date of the report."))
    if reported_on > dt.date.today():
        raise ValidationError(_("A report cannot be dated in the future."))
    return pct, note.strip(), reported_on


@transaction.atomic
def report_progress(actor: Any, *, target: Target | None = None, member_target: MemberTarget | None = None,
                    reported_on: dt.date | None, progress: Any, status: str, note: str, value: str = "",
                    uploads: Iterable[Any] = (), evidence: Iterable[Any] = ()) -> ProgressReport:
    """The owner reports progress with evidence; the target takes the reported status and value.

    `uploads` are uploaded files kept through pbqms.files; `evidence` are files already uploaded
    ahead of the report (StoredFile rows from scope.pending_files)."""
    if (target is None) == (member_target is None):
        raise ValueError("report on one target or one member target")
    if target is not None:
        if actor is not None and not can_report_on_target(actor, target):
            raise PermissionDenied
        unit, path = target.unit, target.org_path
    else:
        assert member_target is not None
        if actor is not None and not can_report_on_member_target(actor, member_target):
            raise PermissionDenied
        if member_target.state != ReviewState.APPROVED:
            raise ValidationError(_("Report progress once the target is approved."))
        unit, path = member_target.unit, member_target.org_path
    pct, note, day = _progress_values(progress, status, note, reported_on)
    value = (value or "").strip()
    if value and target is not None:
        value = clean_value(target.value_kind, value)
    report = ProgressReport.objects.create(target=target, member_target=member_target, org_path=path,
                                           reported_on=day, value=value, progress=pct, status=status,
                                           note=note, reported_by=actor if getattr(actor, "pk", None) else None)
    if target is not None:
        before = target.status
        target.status, target.progress = status, pct
        if value:
            target.actual_value = value
        target.save(update_fields=["status", "progress", "actual_value", "updated_at"])
        rollup.target_changed(target, before, status)
    else:
        assert member_target is not None
        member_target.status, member_target.progress = status, pct
        member_target.save(update_fields=["status", "progress", "updated_at"])
    audit.record(actor, AuditAction.CREATE, report,
                 audit.created(audit.snapshot(report, ("reported_on", "value", "progress", "status", "note"))))
    owner = f"objectives.progress:{report.pk}"
    uploads, evidence = list(uploads), list(evidence)
    if uploads or evidence:
        from pbqms.files import services as files

        if evidence:
            files.attach(evidence, owner=owner, unit=unit)
        if uploads:
            files.store_many(actor, uploads, unit=unit, owner=owner)
    return report


def evidence_of(reports: Iterable[ProgressReport]) -> dict[int, list[Any]]:
    """Each report's evidence files (one query): {report pk: [StoredFile]}."""
    from pbqms.files.models import StoredFile

    by_owner = {f"objectives.progress:{r.pk}": r.pk for r in reports}
    out: dict[int, list[Any]] = {pk: [] for pk in by_owner.values()}
    if by_owner:
        for f in StoredFile.objects.filter(owner__in=list(by_owner)):
            out[by_owner[f.owner]].append(f)
    return out
