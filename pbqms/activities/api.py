"""Organisational-life API — 组织生活 API: plans (报备), records (全程纪实) and compliance states,
scoped like the web UI: outside the caller's scope 404, inside without the right 403, a rule
refusing 422 with its message in the caller's language."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from pbqms import scope
from pbqms.accounts.api import DEFAULT_LIMIT, YEAR_MAX, YEAR_MIN, actor, page
from pbqms.accounts.schemas import ErrorOut, InvalidOut
from pbqms.files import idempotency
from pbqms.files import services as files

from . import selectors, services
from .models import ActivityKind, ActivityPlan, ActivityRecord, ComplianceStatus, PlanStatus
from .schemas import (
    AttendanceCorrectionIn,
    PlanIn,
    PlanList,
    PlanOut,
    RecordDetail,
    RecordIn,
    RecordList,
    ReviewIn,
    StateList,
)

router = Router(tags=["activities"])

READ_ERRORS: dict[int, Any] = {401: ErrorOut, 404: ErrorOut, 422: InvalidOut}
WRITE_ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: InvalidOut}


def _record(r: ActivityRecord) -> ActivityRecord:
    r.kind_label = r.get_kind_display()  # type: ignore[attr-defined]
    return r


def _record_detail(user: Any, pk: int) -> ActivityRecord:
    r = _record(selectors.record_or_404(user, pk))
    r.attendance_rows = selectors.attendance_of(r)  # type: ignore[attr-defined]
    r.file_rows = [{"name": f.original_name, "url": files.file_url(f)}  # type: ignore[attr-defined]
                   for f in selectors.record_files(r)]
    return r


def _plan(plan: ActivityPlan) -> ActivityPlan:
    plan.item_rows = list(plan.items.all())  # type: ignore[attr-defined]
    return plan


def _unit(user: Any, code: str | None) -> Any:
    return scope.unit_or_404(user, code) if code else None


# ---- plans -------------------------------------------------------------------------------------

@router.get("/plans", response={200: PlanList, **READ_ERRORS}, operation_id="activities_plans_list",
            summary="List activity plans")
def plans_list(request: HttpRequest, unit: str | None = Query(None, description="A unit's code: its subtree."),
               period: str = "", status: PlanStatus | None = None, limit: int = DEFAULT_LIMIT, offset: int = 0) -> Any:
    """Plans filed in advance (报备) in the caller's scope, newest period first."""
    user = actor(request)
    qs = selectors.plan_list(user, unit=_unit(user, unit), period=period, status=status.value if status else "")
    items, count = page(qs, limit, offset)
    return {"items": [_plan(p) for p in items], "count": count}


@router.post("/plans", response={201: PlanOut, **WRITE_ERRORS}, operation_id="activities_plans_file",
             summary="File a plan for a month or a quarter")
def plans_file(request: HttpRequest, payload: PlanIn) -> Any:
    """Files the plan, or replaces it while its period is open (a closed period: 422)."""
    user = actor(request)
    unit = scope.unit_or_404(user, payload.unit)
    plan = services.file_plan(user, unit=unit, period=payload.period, items=[
        services.PlanItem(i.kind.value, i.planned_on, i.topic) for i in payload.items])
    return Status(201, _plan(selectors.plan_or_404(user, plan.pk)))


@router.post("/plans/{id}/review", response={200: PlanOut, **WRITE_ERRORS}, operation_id="activities_plans_review",
             summary="Review a plan (审核意见)")
def plans_review(request: HttpRequest, id: int, payload: ReviewIn) -> Any:
    user = actor(request)
    plan = services.review_plan(user, selectors.plan_or_404(user, id), payload.comment)
    return _plan(selectors.plan_or_404(user, plan.pk))


# ---- records -----------------------------------------------------------------------------------

@router.get("/records", response={200: RecordList, **READ_ERRORS}, operation_id="activities_records_list",
            summary="List activity records")
def records_list(request: HttpRequest, unit: str | None = Query(None, description="A unit's code: its subtree."),
                 year: int | None = Query(None, ge=YEAR_MIN, le=YEAR_MAX),
                 kind: ActivityKind | None = None, limit: int = DEFAULT_LIMIT,
                 offset: int = 0) -> Any:
    user = actor(request)
    unit_obj = _unit(user, unit)
    if unit_obj is not None:
        qs = selectors.record_list(user, unit_obj, year=year, kind=kind.value if kind else "")
    else:
        qs = selectors.records(user).select_related("unit", "host").order_by("-held_on", "-id")
        if year:
            start, end = selectors.year_bounds(year)
            qs = qs.filter(held_on__gte=start, held_on__lte=end)
        if kind:
            qs = qs.filter(kind=kind.value)
    items, count = page(qs.select_related("recorder"), limit, offset)
    return {"items": [_record(r) for r in items], "count": count}


@router.get("/records/{id}", response={200: RecordDetail, **READ_ERRORS}, operation_id="activities_records_get",
            summary="Get a record with its attendance and files")
def records_get(request: HttpRequest, id: int) -> Any:
    return _record_detail(actor(request), id)


@router.post("/records", response={201: RecordDetail, **WRITE_ERRORS}, operation_id="activities_records_create",
             summary="Record an activity held")
def records_create(request: HttpRequest, payload: RecordIn) -> Any:
    """One entry per person expected: present, or absent with the reason. A date in the future, people
    outside the unit, an absence without a reason or the same meeting twice answer 422."""
    user = actor(request)
    unit = scope.unit_or_404(user, payload.unit)
    wanted = {a.member for a in payload.attendance} | {p for p in (payload.host, payload.recorder) if p}
    people = {m.pk: m for m in scope.members(user).filter(pk__in=wanted)}
    if set(wanted) - set(people):
        raise Http404  # a person outside the caller's scope does not exist for them
    data = services.RecordInput(
        unit=unit, kind=payload.kind.value, held_on=payload.held_on, topic=payload.topic, place=payload.place,
        start_time=payload.start_time, host=people.get(payload.host) if payload.host else None,
        recorder=people.get(payload.recorder) if payload.recorder else None, minutes=payload.minutes,
        resolutions=payload.resolutions,
        attendance={a.member: services.Presence(a.present, a.reason) for a in payload.attendance})
    outcome = idempotency.once(user, idempotency.header_key(request), "activities.record",
                               lambda: services.record_activity(user, data))
    return Status(201, _record_detail(user, outcome.pk))


@router.put("/records/{id}/attendance", response={200: RecordDetail, **WRITE_ERRORS},
            operation_id="activities_records_attendance", summary="Correct a record's attendance")
def records_attendance(request: HttpRequest, id: int, payload: AttendanceCorrectionIn) -> Any:
    """Replaces the record's attendance with the one given, checked by the roster of its kind on its
    day; each person's change (before → after) and the reason go to the audit trail."""
    user = actor(request)
    record = selectors.record_or_404(user, id)
    wanted = {a.member for a in payload.attendance}
    if wanted - set(scope.members(user).filter(pk__in=wanted).values_list("pk", flat=True)):
        raise Http404  # a person outside the caller's scope does not exist for them
    services.correct_attendance(user, record, {a.member: services.Presence(a.present, a.reason)
                                               for a in payload.attendance}, payload.reason)
    return _record_detail(user, id)


# ---- compliance --------------------------------------------------------------------------------

def _period(text: str) -> tuple[dt.date | None, dt.date | None]:
    text = text.strip()
    if not text:
        return None, None
    if text.isdigit() and len(text) == 4:
        return selectors.year_bounds(int(text))
    return services.parse_period(text)


@router.get("/compliance", response={200: StateList, **READ_ERRORS}, operation_id="activities_compliance_list",
            summary="List compliance states")
def compliance_list(request: HttpRequest, unit: str | None = Query(None, description="A unit's code."),
                    period: str = Query("", description="2026, 2026Q2 or 2026-05: states of the periods "
                                                        "overlapping it."),
                    status: ComplianceStatus | None = None,
                    subtree: bool = Query(False, description="Include the units below `unit`."),
                    limit: int = DEFAULT_LIMIT, offset: int = 0) -> Any:
    """The state of each rule for each unit and period: met, in time, at risk or missed."""
    user = actor(request)
    try:
        start, end = _period(period)
    except ValidationError:
        raise ValidationError(_("Write the period as 2026, 2026Q2 or 2026-05."))
    qs = selectors.state_list(user, unit=_unit(user, unit), start=start, end=end,
                              status=status.value if status else "", subtree=subtree)
    items, count = page(qs, limit, offset)
    for s in items:
        s.period_label = selectors.period_label(s)
    return {"items": items, "count": count}

