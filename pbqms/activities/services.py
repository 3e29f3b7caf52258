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
    SEVERAL_A_DAY,
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
    """The unit's active party members (a group: its own): who is expected at a meeting of the
    whole unit (支部党员大会, 党课, 主题党日, 组织生活会; a group's 党小组会)."""
    qs = Member.objects.filter(state=MemberState.ACTIVE, status__in=PARTY)
    qs = qs.filter(group=unit) if unit.kind == UnitKind.GROUP else qs.filter(unit=unit)
    return list(qs.order_by("name_pinyin", "pk"))


def committee_on(unit: Unit, on: dt.date) -> list[Member]:
    """The members of the unit's committee serving on `on` (支委, by their posts' terms)."""
    ids = (CommitteeRole.objects.filter(unit=unit, started_on__lte=on).exclude(ended_on__lt=on)
           .exclude(role=CommitteeRoleKind.GROUP_LEADER).values("member_id"))
    return list(Member.objects.filter(pk__in=ids, state=MemberState.ACTIVE)
                .order_by("name_pinyin", "pk"))


def is_secretary(member: Member | None, unit: Unit, on: dt.date) -> bool:
    """Whether `member` was the unit's (or, for a group, its branch's) secretary on `on`."""
    if member is None:
        return False
    branch = unit.parent if unit.kind == UnitKind.GROUP and unit.parent_id else unit
    return CommitteeRole.objects.filter(member=member, unit=branch, role=CommitteeRoleKind.SECRETARY,
                                        started_on__lte=on).exclude(ended_on__lt=on).exists()


# How each kind of activity finds who is expected (《中国共产党支部工作条例（试行）》):
ROSTER_COMMITTEE = "committee"  # 支委会: the committee serving on the day; others may attend (列席), never absent
ROSTER_CHOSEN = "chosen"  # 谈心谈话: the people talked with, chosen; nobody is absent
ROSTER_ALL = "all"  # every other meeting: all the unit's party members


def roster_mode(kind: str) -> str:
    if kind == ActivityKind.COMMITTEE_MEETING:
        return ROSTER_COMMITTEE
    if kind == ActivityKind.HEART_TALK:
        return ROSTER_CHOSEN
    return ROSTER_ALL


@dataclass
class Roster:
    """Who a meeting expects (ticked present by default; an absence states its reason) and who
    else may be marked (unticked by default): a committee meeting's attendees without a vote,
    a talk's possible participants."""

    mode: str
    expected: list[Member]
    others: list[Member]


def roster_for(unit: Unit, kind: str, on: dt.date) -> Roster:
    """The roster of an activity of `kind` held by `unit` on `on`."""
    mode = roster_mode(kind)
    if mode == ROSTER_ALL or unit.kind == UnitKind.GROUP:
        return Roster(ROSTER_ALL, roster_of(unit), [])
    everyone = roster_of(unit)
    if mode == ROSTER_CHOSEN:
        return Roster(mode, [], everyone)
    committee = committee_on(unit, on)
    ids = {m.pk for m in committee}
    return Roster(mode, committee, [m for m in everyone if m.pk not in ids])


@dataclass
class Row:
    """One attendance row as it will be stored."""

    member: Member
    present: bool
    reason: str
    counted: bool


def _validate(data: RecordInput, today: dt.date) -> list[Row]:
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
    for role in ("host", "recorder"):
        m = getattr(data, role)
        if m is not None and not m.org_path.startswith(data.unit.path if data.unit.kind != UnitKind.GROUP
                                                       else (data.unit.parent.path if data.unit.parent else "")):
            errors[role] = _("The host and the recorder must belong to the unit.")
    rows = _attendance_rows(data, errors)
    if errors:
        raise ValidationError(errors)
    return rows


def _attendance_rows(data: RecordInput, errors: dict[str, Any]) -> list[Row]:
    """The rows to store for the attendance given, by the roster of the record's kind and day.
    Somebody expected is present, or absent with the reason; anybody else of the unit marked
    present attends without being counted (列席) — in a talk, as a participant; anybody else
    not present is not recorded (nobody outside the roster is ever absent)."""
    roster = roster_for(data.unit, data.kind, data.held_on)
    expected = {m.pk: m for m in roster.expected}
    people = {**expected, **{m.pk: m for m in roster.others}}
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
    if roster.mode == ROSTER_COMMITTEE and not expected and "kind" not in errors:
        errors["attendance"] = _("Nobody served on the committee of %(unit)s on %(day)s: register the committee's "
                                 "posts (members, committee) before recording its meeting.") % {
            "unit": data.unit.name, "day": data.held_on.isoformat()}
    rows: list[Row] = []
    for pk, p in data.attendance.items():
        m = people.get(pk)
        if m is None:
            continue
        if pk in expected:
            rows.append(Row(m, p.present, "" if p.present else p.reason.strip(), True))
        elif p.present:
            rows.append(Row(m, True, "", roster.mode == ROSTER_CHOSEN))
    if roster.mode == ROSTER_CHOSEN:
        if not rows:
            errors.setdefault("attendance", _("Choose the people talked with."))
    elif not any(r.counted for r in rows):
        errors.setdefault("attendance", _("Mark who attended and who was absent."))
    missing_reason = [r.member.name for r in rows if not r.present and not r.reason]
    if missing_reason:
        errors["absence"] = _("Give the reason for each absence: %(names)s.") % {"names": ", ".join(missing_reason)}
    return rows


def _figures(rows: Sequence[Row]) -> tuple[int, int, Decimal]:
    """Expected, present and the attendance rate of the rows: only the expected count."""
    expected = sum(1 for r in rows if r.counted)
    present = sum(1 for r in rows if r.counted and r.present)
    rate = Decimal(str(round(100 * present / expected, 1))) if expected else Decimal(0)
    return expected, present, rate


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


def _refuse_twice(data: RecordInput, rows: Sequence[Row]) -> None:
    """A kind held several times a day (talks, lectures) is refused only when the same record is
    entered twice: same unit, kind, day, topic and people present (the whole branch is on every
    lecture's sheet; who sat in the room tells one group's lecture from the other's). The unit's
    row is locked meanwhile, so two saves of the same form cannot both pass."""
    Unit.objects.select_for_update().filter(pk=data.unit.pk).first()
    people = {r.member.pk for r in rows if r.present}
    same = (ActivityRecord.objects.filter(unit=data.unit, kind=data.kind, held_on=data.held_on,
                                          topic=data.topic.strip()).prefetch_related("attendance"))
    for other in same:
        if {a.member_id for a in other.attendance.all() if a.present} == people:
            raise ValidationError(_("This %(activity)s is already recorded for %(unit)s on %(day)s with the same "
                                    "topic and people (record no. %(pk)d).") % {
                "activity": ActivityKind(data.kind).label, "unit": data.unit.name, "day": data.held_on.isoformat(),
                "pk": other.pk})


def _create_record(actor: Any, data: RecordInput, files: Sequence[Any]) -> ActivityRecord:
    if not scope.can_record_activity(actor, data.unit):
        raise PermissionDenied
    today = clock.today()
    rows = _validate(data, today)
    if data.kind in SEVERAL_A_DAY:
        _refuse_twice(data, rows)
    expected, present, rate = _figures(rows)
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
    Attendance.objects.bulk_create([Attendance(record=record, member=r.member, present=r.present,
                                               absence_reason=r.reason, counted=r.counted) for r in rows])
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


def _presence_label(a: Any) -> str | None:
    """How one person's attendance reads in the audit trail."""
    if a is None:
        return None
    if not a.counted:
        return _("attended (not expected)")
    return _("was present") if a.present else _("absent: %(reason)s") % {"reason": a.absence_reason}


@transaction.atomic
def correct_attendance(actor: Any, record: ActivityRecord, attendance: dict[int, Presence],
                       reason: str) -> ActivityRecord:
    """Correct a record's attendance afterwards (an absence entered by mistake, a late arrival, a
    person forgotten): the rows are checked as when recording, by the roster of the record's kind
    on its day; the figures and the unit's compliance follow, and the audit trail keeps each
    person's change (before → after) with the reason."""
    record = ActivityRecord.objects.select_for_update(of=("self",)).select_related("unit").get(pk=record.pk)
    if not scope.can_record_activity(actor, record.unit):
        raise PermissionDenied
    errors: dict[str, Any] = {}
    if not reason.strip():
        errors["reason"] = _("Give the reason for the correction.")
    data = RecordInput(unit=record.unit, kind=record.kind, held_on=record.held_on, topic=record.topic,
                       attendance=attendance)
    rows = _attendance_rows(data, errors)
    if errors:
        raise ValidationError(errors)
    old = {a.member_id: a for a in record.attendance.select_related("member")}
    new = {r.member.pk: Attendance(record=record, member=r.member, present=r.present, absence_reason=r.reason,
                                   counted=r.counted) for r in rows}
    names = {pk: a.member.name for pk, a in old.items()} | {pk: a.member.name for pk, a in new.items()}
    changes: dict[str, list[Any]] = {}
    for pk in sorted(set(old) | set(new), key=lambda k: names[k]):
        before, after = _presence_label(old.get(pk)), _presence_label(new.get(pk))
        if before != after:
            changes[f"{names[pk]} ({pk})"] = [before, after]
    if not changes:
        raise ValidationError({"attendance": _("Nothing was changed.")})
    expected, present, rate = _figures(rows)
    for name, value in (("expected", expected), ("present", present), ("attendance_rate", rate)):
        was = getattr(record, name)
        if was != value:
            changes[name] = [f"{was:.1f}", f"{value:.1f}"] if name == "attendance_rate" else [was, value]
        setattr(record, name, value)
    record.save(update_fields=["expected", "present", "attendance_rate"])
    record.attendance.all().delete()
    Attendance.objects.bulk_create(list(new.values()))
    audit.record(actor, AuditAction.UPDATE, record, changes, note=reason.strip())
    engine.evaluate_record_change(record.unit, record.held_on)
    return record


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
        found: dict[str, Any] = {}
        text.check_into(found, item, text.limits_of(PlannedActivity, "topic"))
        errors.extend(f"{i}: {m}" for m in found.values())
        if item.kind not in ActivityKind.values:
            errors.append(_("Line %(n)d: choose the kind of activity.") % {"n": i})
    if errors:
        raise ValidationError(errors)
    label = period.strip().upper()
    now = clock.now()
    plan, created = ActivityPlan.objects.select_for_update().get_or_create(
        unit=unit, period=label, defaults={"org_path": unit.path, "period_start": start, "period_end": end,
                                           "submitted_by": actor, "submitted_at": now})
    kept: dict[tuple[str, dt.date, str], PlannedActivity] = {}
    if not created:
        # Filing again keeps every line with its filing time: a line still planned stays as filed,
        # a line dropped is marked superseded (never deleted), a new line is filed now.
        wanted = {(it.kind, it.planned_on, it.topic.strip()) for it in items}
        for line in plan.items.all():
            key = (line.kind, line.planned_on, line.topic)
            if key in wanted and key not in kept:
                kept[key] = line
        dropped = plan.items.exclude(pk__in=[line.pk for line in kept.values()])
        dropped.update(superseded_at=now)
        plan.status, plan.submitted_by, plan.submitted_at = PlanStatus.SUBMITTED, actor, now
        plan.version += 1
        plan.save(update_fields=["status", "submitted_by", "submitted_at", "version"])
    new = []
    for line_in in items:
        key = (line_in.kind, line_in.planned_on, line_in.topic.strip())
        if key in kept:
            kept.pop(key)  # one stored line per line filed
            continue
        new.append(PlannedActivity(plan=plan, kind=line_in.kind, planned_on=line_in.planned_on, topic=key[2],
                                   filed_at=now, version=plan.version, late=line_in.planned_on < today))
    PlannedActivity.objects.bulk_create(new)
    late = sum(1 for line in new if line.late)
    changes: dict[str, list[Any]] = {"items": [None, len(items)], "version": [None if created else plan.version - 1,
                                                                              plan.version]}
    if late:
        changes["late"] = [None, late]
    audit.record(actor, AuditAction.SUBMIT, plan, changes,
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
