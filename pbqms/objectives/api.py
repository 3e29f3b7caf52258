"""Objectives API — 目标管理 API (/api/v1/objectives): objectives, targets, progress, member targets,
responsibility letters and the rolled-up dashboard. HTTP around the selectors and services,
scoped by pbqms.scope: outside the caller's scope answers 404, inside without the role 403."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from pbqms import scope
from pbqms.accounts.api import DEFAULT_LIMIT, YEAR_MAX, YEAR_MIN, actor, page
from pbqms.accounts.schemas import ErrorOut, InvalidOut
from pbqms.files import idempotency
from pbqms.members.models import Member

from . import letters, member_services, selectors, services
from .models import ReviewState, TargetStatus
from .schemas import (
    DashboardOut,
    LetterIn,
    LetterList,
    LetterOut,
    MemberTargetIn,
    MemberTargetList,
    MemberTargetOut,
    ObjectiveIn,
    ObjectiveList,
    ObjectiveOut,
    ObjectivePatch,
    ProgressIn,
    ReviewIn,
    SignIn,
    TargetDetail,
    TargetIn,
    TargetList,
    TargetPatch,
)

router = Router(tags=["objectives"])

READ_ERRORS: dict[int, Any] = {401: ErrorOut, 404: ErrorOut, 422: InvalidOut}
WRITE_ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: InvalidOut}


def _unit(request: HttpRequest, code: str | None) -> Any:
    return scope.unit_or_404(actor(request), code) if code else None


def _target_detail(request: HttpRequest, target: Any) -> Any:
    from pbqms.files import services as files

    target = scope.objective_target_or_404(actor(request), target.pk)
    reports = list(target.reports.all()[:100])
    evidence = services.evidence_of(reports)
    target.reports_list = [{"id": r.pk, "reported_on": r.reported_on, "value": r.value, "progress": r.progress,
                            "status": r.status, "note": r.note,
                            "evidence": [files.file_url(f) for f in evidence.get(r.pk, [])]} for r in reports]
    return target


# ---- targets (static paths first, so /targets never reads as an objective id) -----------------

@router.get("/targets", response={200: TargetList, **READ_ERRORS}, operation_id="objectives_targets_list",
            summary="List targets")
def target_list(request: HttpRequest, year: int | None = Query(None, ge=YEAR_MIN, le=YEAR_MAX),
                unit: str | None = Query(None, description="A unit's code: its own targets."),
                objective: int | None = None, status: TargetStatus | None = None,
                limit: int = DEFAULT_LIMIT, offset: int = 0) -> Any:
    """Targets the caller reads (their subtree's, and their own and ancestor units' as context)."""
    user = actor(request)
    qs = scope.objective_targets(user).select_related("unit")
    if u := _unit(request, unit):
        qs = qs.filter(unit=u)
    if year:
        qs = qs.filter(year=year)
    if objective:
        qs = qs.filter(objective_id=objective)
    if status:
        qs = qs.filter(status=status.value)
    items, count = page(qs.order_by("org_path", "id"), limit, offset)
    return {"items": items, "count": count}


@router.post("/targets", response={201: TargetDetail, **WRITE_ERRORS}, operation_id="objectives_targets_create",
             summary="Set a target (the five fixes)")
def target_create(request: HttpRequest, payload: TargetIn) -> Any:
    user = actor(request)
    unit = scope.unit_or_404(user, payload.unit)
    objective = scope.objective_or_404(user, payload.objective)
    parent = scope.objective_target_or_404(user, payload.parent) if payload.parent else None
    member = scope.member_or_404(user, payload.member) if payload.member else None
    data = payload.dict(exclude={"objective", "unit", "parent", "member"})
    data["value_kind"] = payload.value_kind.value
    outcome = idempotency.once(user, idempotency.header_key(request), "objectives.target", lambda: (
        services.create_target(user, objective=objective, unit=unit, parent=parent, member=member, **data)))
    return Status(201, _target_detail(request, outcome.obj or scope.objective_target_or_404(user, outcome.pk)))


@router.get("/targets/{target_id}", response={200: TargetDetail, **READ_ERRORS},
            operation_id="objectives_targets_get", summary="Get a target with its progress reports")
def target_get(request: HttpRequest, target_id: int) -> Any:
    return _target_detail(request, scope.objective_target_or_404(actor(request), target_id))


@router.patch("/targets/{target_id}", response={200: TargetDetail, **WRITE_ERRORS},
              operation_id="objectives_targets_update", summary="Change a target's five fixes")
def target_update(request: HttpRequest, target_id: int, payload: TargetPatch) -> Any:
    """A change after the branch's responsibility letter was signed makes the letter need an amendment."""
    user = actor(request)
    target = scope.objective_target_or_404(user, target_id)
    changes = payload.dict(exclude_unset=True)
    if changes.get("value_kind") is not None:
        changes["value_kind"] = changes["value_kind"].value if hasattr(changes["value_kind"], "value") \
            else changes["value_kind"]
    services.update_target(user, target, **changes)
    return _target_detail(request, target)


@router.post("/targets/{target_id}/progress", response={201: TargetDetail, **WRITE_ERRORS},
             operation_id="objectives_targets_progress", summary="Report a target's progress")
def target_progress(request: HttpRequest, target_id: int, payload: ProgressIn) -> Any:
    """Evidence files go up through the web page (multipart); here the report itself."""
    user = actor(request)
    target = scope.objective_target_or_404(user, target_id)
    data = payload.dict()
    data["status"] = payload.status.value
    services.report_progress(user, target=target, **data)
    return Status(201, _target_detail(request, target))


# ---- member targets ------------------------------------------------------------------------------

@router.get("/member-targets", response={200: MemberTargetList, **READ_ERRORS},
            operation_id="objectives_member_targets_list", summary="List member targets")
def member_target_list(request: HttpRequest, year: int | None = Query(None, ge=YEAR_MIN, le=YEAR_MAX),
                       unit: str | None = Query(None, description="A unit's code: its whole subtree."),
                       member: int | None = None, state: ReviewState | None = None,
                       limit: int = DEFAULT_LIMIT, offset: int = 0) -> Any:
    """Member targets of the people the caller reads (a member: their own)."""
    user = actor(request)
    qs = scope.member_targets(user).select_related("member", "unit")
    if u := _unit(request, unit):
        qs = qs.filter(org_path__startswith=u.path)
    if member:
        qs = qs.filter(member_id=scope.member_or_404(user, member).pk)
    if year:
        qs = qs.filter(year=year)
    if state:
        qs = qs.filter(state=state.value)
    items, count = page(qs.order_by("org_path", "member_id", "part", "id"), limit, offset)
    return {"items": items, "count": count}


@router.post("/member-targets", response={201: MemberTargetOut, **WRITE_ERRORS},
             operation_id="objectives_member_targets_propose", summary="Propose one's own individual target")
def member_target_propose(request: HttpRequest, payload: MemberTargetIn) -> Any:
    user = actor(request)
    member: Member = scope.member_or_404(user, payload.member)
    mt = member_services.propose_member_target(user, member, year=payload.year, category=payload.category,
                                               title=payload.title, measure=payload.measure,
                                               deadline=payload.deadline)
    return Status(201, scope.member_target_or_404(user, mt.pk))


@router.post("/member-targets/{mt_id}/review", response={200: MemberTargetOut, **WRITE_ERRORS},
             operation_id="objectives_member_targets_review", summary="Approve or return a member's target")
def member_target_review(request: HttpRequest, mt_id: int, payload: ReviewIn) -> Any:
    """The branch secretary or committee; never on one's own target."""
    user = actor(request)
    mt = scope.member_target_or_404(user, mt_id)
    member_services.review_member_target(user, mt, approve=payload.decision == "approve", comment=payload.comment)
    return scope.member_target_or_404(user, mt_id)


@router.post("/member-targets/{mt_id}/progress", response={200: MemberTargetOut, **WRITE_ERRORS},
             operation_id="objectives_member_targets_progress", summary="Report a member target's progress")
def member_target_progress(request: HttpRequest, mt_id: int, payload: ProgressIn) -> Any:
    user = actor(request)
    mt = scope.member_target_or_404(user, mt_id)
    data = payload.dict()
    data["status"] = payload.status.value
    services.report_progress(user, member_target=mt, **data)
    return scope.member_target_or_404(user, mt_id)


# ---- letters -------------------------------------------------------------------------------------

@router.get("/letters", response={200: LetterList, **READ_ERRORS}, operation_id="objectives_letters_list",
            summary="List responsibility letters")
def letter_list(request: HttpRequest, year: int | None = Query(None, ge=YEAR_MIN, le=YEAR_MAX),
                unit: str | None = Query(None, description="A unit's code: its whole subtree."),
                limit: int = DEFAULT_LIMIT, offset: int = 0) -> Any:
    user = actor(request)
    qs = selectors.letter_list(user, year=year, unit=_unit(request, unit)).select_related("committee")
    items, count = page(qs, limit, offset)
    return {"items": items, "count": count}


@router.post("/letters", response={201: LetterOut, **WRITE_ERRORS}, operation_id="objectives_letters_draw_up",
             summary="Draw up a branch's letter (or an amendment)")
def letter_draw_up(request: HttpRequest, payload: LetterIn) -> Any:
    """From the branch's targets of the year. While nobody has signed, this refreshes the letter; after
    both signed and the targets changed, it draws up an amendment (a new version)."""
    user = actor(request)
    letter = letters.draw_up_letter(user, scope.unit_or_404(user, payload.unit), payload.year)
    return Status(201, scope.letter_or_404(user, letter.pk))


@router.get("/letters/{letter_id}", response={200: LetterOut, **READ_ERRORS}, operation_id="objectives_letters_get",
            summary="Get a responsibility letter")
def letter_get(request: HttpRequest, letter_id: int) -> Any:
    return scope.letter_or_404(actor(request), letter_id)


@router.post("/letters/{letter_id}/sign", response={200: LetterOut, **WRITE_ERRORS},
             operation_id="objectives_letters_sign", summary="Sign a letter for the committee or the branch")
def letter_sign(request: HttpRequest, letter_id: int, payload: SignIn) -> Any:
    user = actor(request)
    letter = scope.letter_or_404(user, letter_id)
    letters.sign_letter(user, letter, payload.side)
    return scope.letter_or_404(user, letter_id)


# ---- the dashboard -------------------------------------------------------------------------------

def _rollup_row(row: selectors.Row) -> dict[str, Any]:
    n = {s: c for s, _label, c in row.statuses}
    return {"unit": row.unit.code, "unit_name": row.unit.name, "targets": row.targets, **n,
            "proposed": row.proposed, "approved": row.approved, "returned": row.returned,
            "party_members": row.party_members, "members_without_approved_targets": row.members_missing}


@router.get("/dashboard/{code}", response={200: DashboardOut, **READ_ERRORS}, operation_id="objectives_dashboard",
            summary="Rolled-up target status of a unit and its children")
def dashboard(request: HttpRequest, code: str, year: int | None = Query(None, ge=YEAR_MIN, le=YEAR_MAX)) -> Any:
    user = actor(request)
    unit = scope.unit_or_404(user, code)
    y = year or selectors.current_year()
    top, rows, _more = selectors.dashboard(user, unit, y)
    return {"year": y, "unit": _rollup_row(top), "children": [_rollup_row(r) for r in rows]}


# ---- objectives ----------------------------------------------------------------------------------

@router.get("", response={200: ObjectiveList, **READ_ERRORS}, operation_id="objectives_list",
            summary="List quality objectives")
def objective_list(request: HttpRequest, year: int | None = Query(None, ge=YEAR_MIN, le=YEAR_MAX),
                   unit: str | None = Query(None, description="A unit's code: its committees' and those above."),
                   q: str = "", limit: int = DEFAULT_LIMIT, offset: int = 0) -> Any:
    user = actor(request)
    qs = selectors.objective_list(user, year=year, unit=_unit(request, unit), q=q)
    items, count = page(qs, limit, offset)
    return {"items": items, "count": count}


@router.post("", response={201: ObjectiveOut, **WRITE_ERRORS}, operation_id="objectives_create",
             summary="Set a quality objective")
def objective_create(request: HttpRequest, payload: ObjectiveIn) -> Any:
    user = actor(request)
    unit = scope.unit_or_404(user, payload.committee)
    data = payload.dict(exclude={"committee"})
    data["value_kind"] = payload.value_kind.value
    objective = services.create_objective(user, unit, **data)
    return Status(201, scope.objective_or_404(user, objective.pk))


@router.get("/{objective_id}", response={200: ObjectiveOut, **READ_ERRORS}, operation_id="objectives_get",
            summary="Get a quality objective")
def objective_get(request: HttpRequest, objective_id: int) -> Any:
    return scope.objective_or_404(actor(request), objective_id)


@router.patch("/{objective_id}", response={200: ObjectiveOut, **WRITE_ERRORS}, operation_id="objectives_update",
              summary="Change a quality objective")
def objective_update(request: HttpRequest, objective_id: int, payload: ObjectivePatch) -> Any:
    user = actor(request)
    objective = scope.objective_or_404(user, objective_id)
    changes = {k: (v.value if hasattr(v, "value") else v) for k, v in payload.dict(exclude_unset=True).items()
               if v is not None}
    services.update_objective(user, objective, **changes)
    return scope.objective_or_404(user, objective_id)

