"""Rules of organisational life — 组织生活: recording activities, filing plans, and the nightly
compliance run (evaluate, warn before a period closes, turn a miss into a finding exactly once).

A record is entered once and reused: the engine re-evaluates its unit's period on every change,
the record books and each member's participation read it, and the assessment engine scores it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from pbqms import scope
from pbqms.accounts.models import Role
from pbqms.audit import services as audit
from pbqms.audit.models import AuditAction
from pbqms.core import clock, text
from pbqms.members.models import CommitteeRole, CommitteeRoleKind, Member, MemberState, PartyStatus
from pbqms.orgs.models import Unit, UnitKind

from . import engine
from .models import (
    ActivityKind,
    ActivityPlan,
    ActivityRecord,
    Attendance,
    ComplianceState,
    ComplianceStatus,
    PlannedActivity,
    PlanStatus,
    RuleTarget,
)

RECORD_FIELDS = ("unit", "kind", "held_on", "place", "topic", "host", "recorder", "expected", "present")
PARTY = (PartyStatus.FULL, PartyStatus.PROBATIONARY)


@dataclass
class Presence:
    present: bool
    reason: str = ""


@dataclass
class RecordInput:
    unit: Unit
    kind: str
    held_on: dt.date
    topic: str
    place: str = ""
    start_time: dt.time | None = None
    host: Member | None = None
    recorder: Member | None = None
    minutes: str = ""
    resolutions: str = ""
    attendance: dict[int, Presence] = field(default_factory=dict)  # member pk → presence


def roster_of(unit: Unit) -> list[Member]:
    """Who is expected at the unit's activities: its active party members (a group: its own)."""
    qs = Member.objects.filter(state=MemberState.ACTIVE, status__in=PARTY)
    qs = qs.filter(group=unit) if unit.kind == UnitKind.GROUP else qs.filter(unit=unit)
    return list(qs.order_by("name_pinyin", "pk"))


def is_secretary(member: Member | None, unit: Unit, on: dt.date) -> bool:
    """Whether `member` was the unit's (or, for a group, its branch's) secretary on `on`."""
    if member is None:
        return False
    branch = unit.parent if unit.kind == UnitKind.GROUP and unit.parent_id else unit
    return CommitteeRole.objects.filter(member=member, unit=branch, role=CommitteeRoleKind.SECRETARY,
                                        started_on__lte=on).exclude(ended_on__lt=on).exists()


def _validate(data: RecordInput, today: dt.date) -> list[Member]:
    errors: dict[str, Any] = {}
    if data.kind not in ActivityKind.values:
        errors["kind"] = _("Choose the kind of activity.")
    if data.held_on > today:
        errors["held_on"] = _("An activity cannot be recorded before it is held: the date is in the future.")
    if text.is_blank(data.topic):
        errors["topic"] = _("State the topic.")
    text.check_into(errors, data, text.limits_of(ActivityRecord, "topic", "place", "minutes", "resolutions"))
    for p in data.attendance.values():  # the one validator of user text (pbqms.core.text)
        text.check_into(errors, {"absence": p.reason}, {"absence": (_("Reason for absence"), 100, False)})
    if data.kind == ActivityKind.GROUP_MEETING and data.unit.kind != UnitKind.GROUP:
        errors["kind"] = _("A party group meeting is recorded on its party group.")
    roster = {m.pk: m for m in roster_of(data.unit)}
    people = dict(roster)
    outside = [pk for pk in data.attendance if pk not in people]
    if outside:
        extra = {m.pk: m for m in Member.objects.filter(pk__in=outside, org_path__startswith=data.unit.path,
                                                        state=MemberState.ACTIVE)}
        people.update(extra)  # a person of a group under the branch may attend the branch's meeting
        strangers = [pk for pk in outside if pk not in extra]
        if strangers:
            names = ", ".join(Member.objects.filter(pk__in=strangers).values_list("name", flat=True)) or \
                ", ".join(map(str, strangers))
            errors["attendance"] = _("Not people of this unit: %(names)s.") % {"names": names}
    if not data.attendance:
        errors.setdefault("attendance", _("Mark who attended and who was absent."))
    missing_reason = [people[pk].name for pk, p in data.attendance.items()
                      if pk in people and not p.present and not p.reason.strip()]
    if missing_reason:
        errors["absence"] = _("Give the reason for each absence: %(names)s.") % {"names": ", ".join(missing_reason)}
    for role in ("host", "recorder"):
        m = getattr(data, role)
        if m is not None and not m.org_path.startswith(data.unit.path if data.unit.kind != UnitKind.GROUP
                                                       else (data.unit.parent.path if data.unit.parent else "")):
            errors[role] = _("The host and the recorder must belong to the unit.")
    if errors:
        raise ValidationError(errors)
    return [people[pk] for pk in data.attendance]


@transaction.atomic
def record_activity(actor: Any, data: RecordInput, *, files: Sequence[Any] = ()) -> ActivityRecord:
    """Record an activity held (全程纪实) and re-evaluate the unit's compliance for its period."""
    record = _create_record(actor, data, files)
    engine.evaluate_record_change(data.unit, data.held_on)
    return record


@transaction.atomic
def record_many(actor: Any, items: Sequence[RecordInput]) -> list[ActivityRecord]:
    """Record several activities at once (a year's records taken over from paper, the demo): each
    is checked as record_activity checks it, then the engine evaluates the whole span once."""
    records = [_create_record(actor, data, ()) for data in items]
    if records:
        engine.evaluate(start=min(r.held_on for r in records), end=max(r.held_on for r in records))
    return records


def _create_record(actor: Any, data: RecordInput, files: Sequence[Any]) -> ActivityRecord:
    if not scope.can_record_activity(actor, data.unit):
        raise PermissionDenied
    today = clock.today()
    people = _validate(data, today)
    present = sum(1 for p in data.attendance.values() if p.present)
    expected = len(data.attendance)
    rate = Decimal(round(100 * present / expected, 1)) if expected else Decimal(0)
    try:
        with transaction.atomic():
            record = ActivityRecord.objects.create(
                unit=data.unit, org_path=data.unit.path, kind=data.kind, held_on=data.held_on,
                start_time=data.start_time, place=data.place.strip(), topic=data.topic.strip(), host=data.host,
                host_is_secretary=is_secretary(data.host, data.unit, data.held_on), recorder=data.recorder,
                minutes=data.minutes.strip(), resolutions=data.resolutions.strip(), expected=expected,
                present=present, attendance_rate=rate, created_by=actor if getattr(actor, "pk", None) else None)
    except IntegrityError:
        raise ValidationError(_("This activity is already recorded for %(unit)s on %(day)s.") % {
            "unit": data.unit.name, "day": data.held_on.isoformat()})
    Attendance.objects.bulk_create([
        Attendance(record=record, member=m, present=data.attendance[m.pk].present,
                   absence_reason="" if data.attendance[m.pk].present else data.attendance[m.pk].reason.strip())
        for m in people])
    if files:
        from pbqms.files import services as file_services

        file_services.attach(files, owner=f"activities.record:{record.pk}", unit=data.unit)
        record.files.set(files)
    audit.record(actor, AuditAction.CREATE, record, audit.created(audit.snapshot(record, RECORD_FIELDS)))
    return record


@transaction.atomic
def delete_record(actor: Any, record: ActivityRecord, reason: str) -> None:
    """Withdraw a record entered by mistake (the reason is kept in the audit trail)."""
    if not scope.can_record_activity(actor, record.unit):
        raise PermissionDenied
    if text.is_blank(reason):
        raise ValidationError({"reason": _("Give the reason for deleting the record.")})
    text.check(reason, _("Reason for deleting"), max_length=text.SHORT, multiline=True)
    unit, day = record.unit, record.held_on
    audit.record(actor, AuditAction.DELETE, record, {"topic": [record.topic, None]}, note=reason.strip())
    record.delete()
    engine.evaluate_record_change(unit, day)


# ---- plans (报备) -----------------------------------------------------------------------------

@dataclass
class PlanItem:
    kind: str
    planned_on: dt.date
    topic: str


def parse_period(period: str) -> tuple[dt.date, dt.date]:
    """'2026-05' (a month) or '2026Q2' (a quarter) → its first and last day."""
    period = period.strip().upper()
    try:
        if "Q" in period:
            year, q = period.split("Q")
            quarter = int(q)
            if not 1 <= quarter <= 4:
                raise ValueError
            p = engine.period_of("quarter", dt.date(int(year), 3 * quarter - 2, 1))
        else:
            year, month = period.split("-")
            p = engine.period_of("month", dt.date(int(year), int(month), 1))
    except ValueError:
        raise ValidationError({"period": _("Write the period as 2026-05 (a month) or 2026Q2 (a quarter).")})
    return p.start, p.end


@transaction.atomic
def file_plan(actor: Any, *, unit: Unit, period: str, items: Sequence[PlanItem]) -> ActivityPlan:
    """File (or, while its period is open, re-file) a branch's plan for a month or quarter."""
    if not scope.can_record_activity(actor, unit):
        raise PermissionDenied
    start, end = parse_period(period)
    today = clock.today()
    if end < today:
        raise ValidationError(_("The period %(period)s has closed: its plan can no longer be changed.")
                              % {"period": period})
    errors = []
    if not items:
        errors.append(_("A plan lists at least one activity."))
    for i, item in enumerate(items, 1):
        if not start <= item.planned_on <= end:
            errors.append(_("Line %(n)d: the date lies outside the period.") % {"n": i})
        if text.is_blank(item.topic):
            errors.append(_("Line %(n)d: state the topic.") % {"n": i})
        line: dict[str, Any] = {}
        text.check_into(line, item, text.limits_of(PlannedActivity, "topic"))
        errors.extend(f"{i}: {m}" for m in line.values())
        if item.kind not in ActivityKind.values:
            errors.append(_("Line %(n)d: choose the kind of activity.") % {"n": i})
    if errors:
        raise ValidationError(errors)
    label = period.strip().upper()
    plan, created = ActivityPlan.objects.select_for_update().get_or_create(
        unit=unit, period=label, defaults={"org_path": unit.path, "period_start": start, "period_end": end,
                                           "submitted_by": actor})
    if not created:
        plan.items.all().delete()
        plan.status, plan.submitted_by, plan.submitted_at = PlanStatus.SUBMITTED, actor, clock.now()
        plan.save(update_fields=["status", "submitted_by", "submitted_at"])
    PlannedActivity.objects.bulk_create([PlannedActivity(plan=plan, kind=i.kind, planned_on=i.planned_on,
                                                         topic=i.topic.strip()) for i in items])
    audit.record(actor, AuditAction.SUBMIT, plan, {"items": [None, len(items)]},
                 note=_("Plan filed") if created else _("Plan filed again"))
    return plan


@transaction.atomic
def review_plan(actor: Any, plan: ActivityPlan, comment: str) -> ActivityPlan:
    """The department reads a plan and comments (审核意见)."""
    plan = ActivityPlan.objects.select_for_update(of=("self",)).select_related("unit").get(pk=plan.pk)
    if not scope.can_review_activity_plans(actor, plan.unit):
        raise PermissionDenied
    if text.is_blank(comment):
        raise ValidationError({"comment": _("Write the comment.")})
    text.check(comment, _("Department's comment"), max_length=text.TEXT, multiline=True)
    plan.status, plan.comment, plan.reviewed_by = PlanStatus.REVIEWED, comment.strip(), actor
    plan.save(update_fields=["status", "comment", "reviewed_by"])
    audit.record(actor, AuditAction.APPROVE, plan, {"comment": [None, plan.comment]})
    return plan


# ---- the nightly run ------------------------------------------------------------------------

def raise_missed_findings(limit: int = 5000) -> int:
    """Each missed requirement becomes one finding of the rectification loop (source: compliance)."""
    from pbqms.rectification import services as rect
    from pbqms.rectification.models import FindingSource

    raised = 0
    missed = (ComplianceState.objects.filter(status=ComplianceStatus.MISSED, finding_raised=False)
              .select_related("rule", "unit").order_by("period_start", "pk")[:limit])
    for state in missed:
        rule = state.rule
        label = engine.Period(state.period_start, state.period_end).label(rule.frequency)
        with translation.override("zh-hans"):
            description = _("%(period)s: %(rule)s — required %(required)d, held %(done)d.") % {
                "period": label, "rule": rule.name, "required": state.required, "done": state.done}
        with transaction.atomic():
            rect.raise_finding(rect.FindingInput(
                unit=state.unit, description=description, found_on=min(state.period_end + dt.timedelta(days=1),
                                                                          clock.today()),
                source=FindingSource.COMPLIANCE, item_code=rule.code[:40], standard=f"{rule.name}（{rule.citation}）",
                period=label, source_ref=rule.citation[:200]),
                source_key=f"activities:{rule.pk}:{state.unit_id}:{state.period_start}")
            ComplianceState.objects.filter(pk=state.pk).update(finding_raised=True)
        raised += 1
    return raised


def remind_at_risk(today: dt.date | None = None) -> int:
    """Warn each unit's committee (a group's leader) once per rule and period before it closes:
    "本月支委会尚未召开，距月底还有 5 天"."""
    from pbqms.notify import selectors as recipients
    from pbqms.notify import services as notify

    today = today or clock.today()
    sent = 0
    risky = (ComplianceState.objects.filter(status=ComplianceStatus.AT_RISK, period_end__gte=today)
             .select_related("rule", "unit"))
    for state in risky.iterator(chunk_size=2000):
        rule = state.rule
        roles = ({Role.GROUP_LEADER} if rule.target == RuleTarget.GROUP else scope.RECT_RESPOND_ROLES)
        users = list(recipients.role_holders(state.unit, roles))
        if not users:
            continue
        days = (state.period_end - today).days
        by_lang: dict[str, list[Any]] = {}
        for u in users:
            by_lang.setdefault(u.language or "zh-hans", []).append(u)
        for lang, group in by_lang.items():
            with translation.override(lang):
                title = _("%(rule)s: not yet met") % {"rule": rule.name}
                body = _("%(unit)s: %(activity)s held %(done)d of %(required)d times this period; "
                         "%(days)d days left.") % {
                    "unit": state.unit.name, "activity": rule.get_kind_display(), "done": state.done,
                    "required": state.required, "days": days}
                sent += notify.notify(key=f"life:{rule.pk}:{state.unit_id}:{state.period_start}:risk",
                                      recipients=group, title=title, body=body, unit=state.unit,
                                      link=f"/activities/units/{state.unit.code}/calendar/")
    return sent


def nightly(today: dt.date | None = None) -> dict[str, int]:
    """Evaluate the year so far (and last year in January), warn, and raise findings for misses."""
    today = today or clock.today()
    written = engine.evaluate_year(today.year)
    if today.month == 1:
        written += engine.evaluate_year(today.year - 1)
    return {"states": written, "reminders": remind_at_risk(today), "findings": raise_missed_findings()}
