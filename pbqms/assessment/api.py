"""Assessment API — 考核评价 API: schemes, plans, periods, score sheets, results and star ratings,
scoped like the web pages (every read starts from pbqms.scope; every write is a service call).

Refusals as everywhere in /api/v1: 404 outside the caller's scope, 403 without the right, 422 when
a rule refuses (in the caller's language); a score saved over someone else's newer score answers
409 with the conflict, and nothing of that save is stored.
"""

from __future__ import annotations

import time
from typing import Any, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _
from ninja import File, Query, Router, Status
from ninja.files import UploadedFile

from pbqms import scope
from pbqms.accounts.api import DEFAULT_LIMIT, YEAR_MAX, YEAR_MIN, actor, page
from pbqms.accounts.schemas import ErrorOut, InvalidOut
from pbqms.core import xlsx as core_xlsx

from . import bulletin, findings, linkage, results, schemes, selectors, services, stars, stats, tasks, xlsx
from .fixtures import SCHEMES
from .models import (
    LinkageRow,
    Period,
    Plan,
    Result,
    Scheme,
    SchemeItem,
    SchemeStatus,
    Score,
    Sheet,
    StarRating,
    StarStatus,
    TargetKind,
)
from .schemas import (
    AnalysisIn,
    ComputeOut,
    CopyIn,
    DiffOut,
    FindingsIn,
    FindingsOut,
    ImportErrorOut,
    ItemIn,
    LinkageIn,
    LinkageOut,
    MoveIn,
    PanelIn,
    PeriodDetail,
    PlanDetail,
    PlanIn,
    PlanList,
    PubliciseIn,
    QueuedOut,
    ResultList,
    SchemeDetail,
    SchemeIn,
    SchemeList,
    ScorecardOut,
    ScoresIn,
    SheetOpenIn,
    SheetOut,
    StarChangeIn,
    StarCountOut,
    StarRatingList,
    StarRatingOut,
    StoredFileList,
    SubmitIn,
    WithdrawIn,
)

router = Router(tags=["assessment"])

READ_ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: InvalidOut}
WRITE_ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: InvalidOut}
MAX_UPLOAD = 5 * 1024 * 1024  # a scheme workbook is tens of kilobytes
XLSX_FILE = File(None, description="The .xlsx workbook (sheets 细则, 星级, 说明).")


# ---- shaping records -------------------------------------------------------------------------------

def _schemes_qs(user: Any) -> QuerySet[Scheme]:
    return scope.schemes_readable(user).select_related("owner").annotate(plan_pk=F("plan__id"))


def _scheme(user: Any, pk: int) -> Scheme:
    scheme: Scheme = scope.scheme_or_404(user, pk)
    return _schemes_qs(user).get(pk=scheme.pk)


def _scheme_out(scheme: Scheme) -> dict[str, Any]:
    return {
        "id": scheme.pk, "owner": scheme.owner, "year": scheme.year, "target_kind": scheme.target_kind,
        "version": scheme.version, "name": scheme.name, "status": scheme.status, "full_mark": scheme.full_mark,
        "bonus_cap": scheme.bonus_cap, "penalty_cap": scheme.penalty_cap,
        "public_member_ranking": scheme.public_member_ranking, "copied_from_id": scheme.copied_from_id,
        "published_at": scheme.published_at, "created_at": scheme.created_at,
        "plan_id": getattr(scheme, "plan_pk", None),
    }


def _scheme_detail(user: Any, scheme: Scheme) -> dict[str, Any]:
    scheme = _scheme(user, scheme.pk)
    blocks, total = selectors.scheme_blocks(scheme)
    return {
        **_scheme_out(scheme), "description": scheme.description, "indicator_total": total,
        "category_rows": [{"code": b.category.code, "name": b.category.name, "items": b.items} for b in blocks],
        "star_rows": list(scheme.star_levels.all()),
    }


def _plan_detail(plan: Plan) -> Plan:
    plan = Plan.objects.select_related("owner", "scheme").get(pk=plan.pk)
    plan.period_rows = list(plan.periods.order_by("starts_on", "kind"))  # type: ignore[attr-defined]
    return plan


def _period_detail(period: Period) -> Period:
    period = Period.objects.select_related("scheme").get(pk=period.pk)
    period.step_rows = selectors.steps(period)  # type: ignore[attr-defined]
    period.panel_rows = [  # type: ignore[attr-defined]
        {"id": m.user_id, "username": m.user.username, "name": _user_name(m.user), "is_lead": m.is_lead}
        for m in selectors.panel(period)]
    return period


def _user_name(user: Any) -> str:
    return getattr(user, "display_name", "") or user.username


def _score_out(score: Score | None) -> dict[str, Any] | None:
    if score is None:
        return None
    who = score.updated_by
    return {
        "version": score.version, "points": score.points, "occurrences": score.occurrences, "level": score.level,
        "measured": score.measured, "vetoed": score.vetoed, "deducted": score.deducted, "reason": score.reason,
        "standard_applied": score.standard_applied, "evidence_ref": score.evidence_ref, "note": score.note,
        "auto": score.auto, "metric_value": score.metric_value, "override_reason": score.override_reason,
        "updated_by": (getattr(who, "display_name", "") or getattr(who, "username", "")) if who else "",
        "updated_at": score.updated_at,
    }


def _sheet_out(sheet: Sheet) -> dict[str, Any]:
    sheet = (Sheet.objects.select_related("period__scheme", "unit", "member", "assessor").get(pk=sheet.pk))
    items = services.sheet_items(sheet.period)
    beside = selectors.self_sheet_for(sheet)
    rows = []
    for block in selectors.sheet_blocks(sheet, beside, items):
        for row in block.rows:
            rows.append({
                "item": row.item.code, "title": row.item.title, "category": block.category.name,
                "kind": row.item.kind, "method": row.item.method, "max_points": row.item.max_points,
                "levels": row.item.levels, "score": _score_out(row.score),
                "self_score": _score_out(row.other), "differs": row.differs,
            })
    totals = selectors.sheet_totals(sheet, items)
    assessor = sheet.assessor
    return {
        "id": sheet.pk, "period": sheet.period, "unit": sheet.unit,
        "member": {"id": sheet.member.pk, "name": sheet.member.name} if sheet.member else None,
        "kind": sheet.kind, "status": sheet.status, "submitted_at": sheet.submitted_at, "summary": sheet.summary,
        "assessor": (getattr(assessor, "display_name", "") or assessor.username) if assessor else "",
        "total": totals["total"], "scored": totals["done"], "needed": totals["needed"], "rows": rows,
    }


def _result_out(result: Result, *, ranked: bool) -> dict[str, Any]:
    return {
        "unit": result.unit, "member": {"id": result.member.pk, "name": result.member.name} if result.member else None,
        "total": result.total, "base": result.base, "bonus": result.bonus, "penalty": result.penalty,
        "vetoed": result.vetoed, "veto_items": result.veto_items, "star_cap": result.star_cap,
        "rank": result.rank if ranked else None, "peer_rank": result.peer_rank if ranked else None,
        "peer_size": result.peer_size if ranked else None, "previous_total": result.previous_total,
        "change": result.change,
    }


def _rating(rating: StarRating) -> StarRating:
    rating.change_rows = list(rating.changes.all())  # type: ignore[attr-defined]
    return rating


# ---- schemes -----------------------------------------------------------------------------------------

@router.get("/schemes", response={200: SchemeList, **READ_ERRORS}, operation_id="assess_schemes_list",
            summary="List schemes (考核细则)")
def schemes_list(request: HttpRequest, year: int | None = Query(None, ge=YEAR_MIN, le=YEAR_MAX),
                 status: SchemeStatus | None = None,
                 target_kind: TargetKind | None = None,
                 owner: str | None = Query(None, description="The issuing committee's code."),
                 limit: int = DEFAULT_LIMIT, offset: int = 0) -> Any:
    """Published schemes the caller is judged by or reads, and the drafts they manage."""
    user = actor(request)
    qs = _schemes_qs(user).order_by("-year", "owner__path", "target_kind", "-version")
    if owner:
        qs = qs.filter(owner=scope.unit_or_404(user, owner))
    if year:
        qs = qs.filter(year=year)
    if status:
        qs = qs.filter(status=status.value)
    if target_kind:
        qs = qs.filter(target_kind=target_kind.value)
    items, count = page(qs, limit, offset)
    return {"items": [_scheme_out(s) for s in items], "count": count}


@router.post("/schemes", response={201: SchemeDetail, **WRITE_ERRORS}, operation_id="assess_schemes_create",
             summary="Create a draft scheme from data or from a shipped fixture")
def schemes_create(request: HttpRequest, payload: SchemeIn) -> Any:
    """A new draft version for (owner, year, target kind). Give `fixture` (liukao, dongli,
    member_points) or `data` (the fixtures' shape); every problem is listed in the 422."""
    user = actor(request)
    owner = scope.unit_or_404(user, payload.owner)
    if payload.fixture:
        if payload.fixture not in SCHEMES:
            raise ValidationError(_("No shipped scheme is called “%(name)s”; choose one of %(names)s.")
                                  % {"name": payload.fixture, "names": ", ".join(SCHEMES)})
        data: dict[str, Any] = cast("dict[str, Any]", SCHEMES[payload.fixture])
    elif payload.data:
        data = payload.data
    else:
        raise ValidationError(_("Give the scheme's data or the name of a shipped scheme."))
    if not schemes.can_manage(user, owner):
        raise PermissionDenied
    try:
        scheme = schemes.load_scheme(user, owner, payload.year, data)
    except (TypeError, AttributeError, KeyError, ValueError) as exc:
        raise ValidationError(_("The scheme data does not have the shape of a scheme (%(error)s).")
                              % {"error": exc.__class__.__name__})
    return Status(201, _scheme_detail(user, scheme))


@router.post("/schemes/import", response={201: SchemeDetail, 422: ImportErrorOut, 401: ErrorOut, 403: ErrorOut,
                                          404: ErrorOut},
             operation_id="assess_schemes_import", summary="Import a scheme from .xlsx (new draft version)")
def schemes_import(request: HttpRequest, owner: str = Query(..., description="The issuing committee's code."),
                   year: int = Query(..., ge=2000, le=2100),
                   file: UploadedFile | None = XLSX_FILE) -> Any:
    """All or nothing: a workbook with problems answers 422 listing each with its row; nothing is stored."""
    user = actor(request)
    unit = scope.unit_or_404(user, owner)
    if not schemes.can_manage(user, unit):
        raise PermissionDenied
    if file is None:
        message = _("Attach the .xlsx workbook as the form field “file”.")
        return Status(422, {"detail": message, "errors": [{"where": _("file"), "message": message}]})
    if file.size and file.size > MAX_UPLOAD:
        message = _("The file is larger than %(mb)s MB: it is not a scheme workbook.") % {"mb": MAX_UPLOAD // 2**20}
        return Status(422, {"detail": message, "errors": [{"where": _("file"), "message": message}]})
    try:
        scheme = xlsx.import_scheme(user, unit, year, file.read())
    except xlsx.SchemeFileError as exc:
        detail = _("%(n)s problems found; nothing was imported.") % {"n": len(exc.errors)}
        return Status(422, {"detail": detail, "errors": [{"where": e.where, "message": e.message}
                                                         for e in exc.errors]})
    return Status(201, _scheme_detail(user, scheme))


@router.get("/schemes/{id}", response={200: SchemeDetail, **READ_ERRORS}, operation_id="assess_schemes_get",
            summary="Get a scheme with its categories, items and star levels")
def schemes_get(request: HttpRequest, id: int) -> Any:
    user = actor(request)
    return _scheme_detail(user, scope.scheme_or_404(user, id))


@router.post("/schemes/{id}/publish", response={200: SchemeDetail, **WRITE_ERRORS},
             operation_id="assess_schemes_publish", summary="Publish (and lock) a draft scheme")
def schemes_publish(request: HttpRequest, id: int) -> Any:
    """Refused (422) unless the indicators' maximum points add up to the full mark."""
    user = actor(request)
    return _scheme_detail(user, schemes.publish_scheme(user, scope.scheme_or_404(user, id)))


@router.post("/schemes/{id}/copy", response={201: SchemeDetail, **WRITE_ERRORS},
             operation_id="assess_schemes_copy", summary="Copy a scheme to another year (new draft)")
def schemes_copy(request: HttpRequest, id: int, payload: CopyIn) -> Any:
    user = actor(request)
    copy = schemes.copy_for_year(user, scope.scheme_or_404(user, id), payload.year)
    return Status(201, _scheme_detail(user, copy))


@router.get("/schemes/{id}/diff", response={200: DiffOut, **READ_ERRORS}, operation_id="assess_schemes_diff",
            summary="Item-by-item differences from another version")
def schemes_diff(request: HttpRequest, id: int,
                 base: int | None = Query(None, description="The version to compare with; default: the one this "
                                                            "was copied from, else the version before.")) -> Any:
    user = actor(request)
    scheme = _scheme(user, id)
    old = _scheme(user, base) if base is not None else selectors.default_base(user, scheme)
    if old is None:
        raise ValidationError(_("There is no earlier version to compare this scheme with."))
    old = _scheme(user, old.pk)
    changes = [{"code": c.code, "title": c.title, "change": c.change,
                "fields": [{"field": f, "before": a, "after": b} for f, a, b in c.fields]}
               for c in schemes.diff_schemes(old, scheme)]
    return {"base": _scheme_out(old), "scheme": _scheme_out(scheme), "changes": changes}


@router.get("/schemes/{id}/xlsx", response=READ_ERRORS, operation_id="assess_schemes_export",
            summary="Export a scheme as .xlsx",
            openapi_extra={"responses": {200: {"description": "The workbook (sheets 细则, 星级, 说明).",
                                               "content": {xlsx.XLSX_TYPE: {"schema": {"type": "string",
                                                                                       "format": "binary"}}}}}})
def schemes_export(request: HttpRequest, id: int) -> HttpResponse:
    user = actor(request)
    scheme = scope.scheme_or_404(user, id)
    return core_xlsx.xlsx_response(xlsx.export_scheme(scheme),  # type: ignore[return-value]
                                   f"{scheme.name}-{scheme.year}-v{scheme.version}.xlsx",
                                   fallback=f"scheme-{scheme.year}-v{scheme.version}.xlsx")


def _draft_item(user: Any, scheme_id: int, code: str) -> tuple[Scheme, SchemeItem]:
    scheme = scope.scheme_or_404(user, scheme_id)
    item = scheme.items.select_related("category").filter(code=code).first()
    if item is None:
        raise Http404
    return scheme, item


def _item_data(payload: ItemIn) -> dict[str, Any]:
    return payload.model_dump(exclude_none=True, exclude={"category"})


def _category(scheme: Scheme, code: str) -> Any:
    if not code:
        return None
    category = scheme.categories.filter(code=code).first()
    if category is None:
        raise ValidationError(_("No category with the code %(code)s in this scheme.") % {"code": code})
    return category


@router.post("/schemes/{id}/items", response={201: SchemeDetail, **WRITE_ERRORS},
             operation_id="assess_items_create", summary="Add an item to a draft scheme")
def items_create(request: HttpRequest, id: int, payload: ItemIn) -> Any:
    """Checked as the web form's item is (schemes.save_item); every problem answers 422 at once."""
    user = actor(request)
    scheme = scope.scheme_or_404(user, id)
    schemes.require_draft(user, scheme)
    schemes.save_item(user, scheme, _item_data(payload), category=_category(scheme, payload.category))
    return Status(201, _scheme_detail(user, scheme))


@router.patch("/schemes/{id}/items/{item}", response={200: SchemeDetail, **WRITE_ERRORS},
              operation_id="assess_items_update", summary="Change an item of a draft scheme")
def items_update(request: HttpRequest, id: int, item: str, payload: ItemIn) -> Any:
    """`item` is the item's code; only the fields given change."""
    user = actor(request)
    scheme, found = _draft_item(user, id, item)
    schemes.require_draft(user, scheme)
    schemes.save_item(user, scheme, _item_data(payload), item=found, category=_category(scheme, payload.category))
    return _scheme_detail(user, scheme)


@router.delete("/schemes/{id}/items/{item}", response={200: SchemeDetail, **WRITE_ERRORS},
               operation_id="assess_items_delete", summary="Delete an item of a draft scheme")
def items_delete(request: HttpRequest, id: int, item: str) -> Any:
    user = actor(request)
    scheme, found = _draft_item(user, id, item)
    schemes.delete_item(user, found)
    return _scheme_detail(user, scheme)


# ---- plans and periods ---------------------------------------------------------------------------------

@router.get("/plans", response={200: PlanList, **READ_ERRORS}, operation_id="assess_plans_list",
            summary="List assessment plans (考核计划)")
def plans_list(request: HttpRequest, year: int | None = Query(None, ge=YEAR_MIN, le=YEAR_MAX),
                 limit: int = DEFAULT_LIMIT, offset: int = 0) -> Any:
    qs = selectors.plans(actor(request))
    if year:
        qs = qs.filter(year=year)
    items, count = page(qs, limit, offset)
    return {"items": items, "count": count}


@router.post("/plans", response={201: PlanDetail, **WRITE_ERRORS}, operation_id="assess_plans_create",
             summary="Plan a published scheme's year (creates its periods)")
def plans_create(request: HttpRequest, payload: PlanIn) -> Any:
    user = actor(request)
    plan = services.create_plan(user, scope.scheme_or_404(user, payload.scheme),
                                quarter_weight=payload.quarter_weight, annual_weight=payload.annual_weight,
                                panel_rule=payload.panel_rule.value, year_rule=payload.year_rule.value)
    return Status(201, _plan_detail(plan))


@router.get("/plans/{id}", response={200: PlanDetail, **READ_ERRORS}, operation_id="assess_plans_get",
            summary="Get a plan with its periods")
def plans_get(request: HttpRequest, id: int) -> Any:
    return _plan_detail(scope.assessment_run_or_404(actor(request), Plan, id))


@router.get("/periods/{id}", response={200: PeriodDetail, **READ_ERRORS}, operation_id="assess_periods_get",
            summary="Get a period with its moves")
def periods_get(request: HttpRequest, id: int) -> Any:
    return _period_detail(scope.assessment_run_or_404(actor(request), Period, id))


@router.post("/periods/{id}/move", response={200: PeriodDetail, **WRITE_ERRORS},
             operation_id="assess_periods_move", summary="Move a period (open → scoring → review → published)")
def periods_move(request: HttpRequest, id: int, payload: MoveIn) -> Any:
    """Forward one step at a time; any step back reopens the period and needs a reason. Publishing
    computes the results (and, for the year, proposes star ratings)."""
    user = actor(request)
    period = services.move_period(user, scope.assessment_run_or_404(user, Period, id), payload.to.value,
                                  payload.reason)
    return _period_detail(period)


@router.post("/periods/{id}/compute", response={200: ComputeOut, **WRITE_ERRORS},
             operation_id="assess_periods_compute", summary="Recompute a period's results")
def periods_compute(request: HttpRequest, id: int) -> Any:
    """Refused (422) for a published period: its results are locked until it is reopened."""
    user = actor(request)
    period = scope.assessment_run_or_404(user, Period, id)
    started = time.monotonic()
    count = results.compute(period, actor=user, allow_published=False)
    period.refresh_from_db(fields=["computed_at"])
    return {"period": period.key, "results": count, "computed_at": period.computed_at,
            "seconds": round(time.monotonic() - started, 3)}


@router.put("/periods/{id}/panel", response={200: PeriodDetail, **WRITE_ERRORS},
            operation_id="assess_periods_panel", summary="Set a period's assessment panel (考核评价小组)")
def periods_panel(request: HttpRequest, id: int, payload: PanelIn) -> Any:
    """The assessors (by id or username: users with an assessor's role on the committee or above)
    and the lead. An empty list clears the panel: the department scores one shared sheet. Refused
    once an assessor has started scoring."""
    user = actor(request)
    period = scope.assessment_run_or_404(user, Period, id)
    period = Period.objects.select_related("plan__owner").get(pk=period.pk)
    if not scope.can_manage_assessment(user, period.plan.owner):
        raise PermissionDenied
    wanted = [str(v).strip() for v in payload.members]
    lead_key = str(payload.lead).strip() if payload.lead not in (None, "") else ""
    keys = set(wanted) | ({lead_key} if lead_key else set())
    ids = [int(k) for k in keys if k.isdigit()]
    candidates = list(scope.assessment_panel_candidates(period.plan.owner)
                      .filter(Q(username__in=keys) | Q(pk__in=ids)))

    def find(key: str) -> Any:
        return next((u for u in candidates if u.username == key), None) or next(
            (u for u in candidates if str(u.pk) == key), None)

    unknown = [k for k in dict.fromkeys(wanted) if find(k) is None]
    if lead_key and find(lead_key) is None:
        unknown.append(lead_key)
    if unknown:
        raise ValidationError(_("%(users)s cannot sit on this panel: choose users with an assessor's role on "
                                "%(unit)s or above.") % {"users": "、".join(unknown), "unit": period.plan.owner.name})
    chosen = list({u.pk: u for u in (find(k) for k in wanted)}.values())
    services.set_panel(user, period, chosen, lead=find(lead_key) if lead_key else None)
    return _period_detail(period)


@router.post("/periods/{id}/analysis", response={200: PeriodDetail, **WRITE_ERRORS},
             operation_id="assess_periods_analysis", summary="Save the half-year analysis or annual summary text")
def periods_analysis(request: HttpRequest, id: int, payload: AnalysisIn) -> Any:
    """半年一分析 / 年底一总结: the text of a half-year or year period; refused once it is published."""
    user = actor(request)
    period = scope.assessment_run_or_404(user, Period, id)
    return _period_detail(services.save_analysis(user, period, payload.analysis))


# ---- sheets --------------------------------------------------------------------------------------------

@router.post("/sheets", response={200: SheetOut, **WRITE_ERRORS}, operation_id="assess_sheets_open",
             summary="Open (or find) the caller's score sheet of a unit or member")
def sheets_open(request: HttpRequest, payload: SheetOpenIn) -> Any:
    """kind self: the unit's (member's) self-check; kind assessor: the caller's assessment (the
    department's shared sheet, or the caller's own when the period has a panel). Items bound to a
    figure the system computes are pre-filled."""
    user = actor(request)
    period = scope.assessment_run_or_404(user, Period, payload.period)
    member = None
    if payload.member is not None:
        member = scope.member_or_404(user, payload.member)
        unit = member.unit
    elif payload.unit:
        unit = scope.unit_or_404(user, payload.unit)
    else:
        raise ValidationError(_("Give the unit's code or the member's id."))
    sheet = services.open_sheet(user, period, unit, payload.kind.value, member=member)
    return _sheet_out(sheet)


@router.get("/sheets/{id}", response={200: SheetOut, **READ_ERRORS}, operation_id="assess_sheets_get",
            summary="Get a score sheet with its scores (and the self-check beside an assessor's)")
def sheets_get(request: HttpRequest, id: int) -> Any:
    return _sheet_out(selectors.sheet_or_404(actor(request), id))


@router.put("/sheets/{id}/scores", response={200: SheetOut, 409: ErrorOut, **WRITE_ERRORS},
            operation_id="assess_sheets_save", summary="Save scores (all or nothing)")
def sheets_save(request: HttpRequest, id: int, payload: ScoresIn) -> Any:
    """Each entry names the item by code and the version of its score the caller read. A deduction
    needs the number, the reason, the standard applied and the evidence (五不放过). Every problem
    answers 422 at once; a score someone saved after the caller read it answers 409; either way
    nothing of the save is stored."""
    user = actor(request)
    sheet = selectors.sheet_or_404(user, id)
    by_code = schemes.items_by_code(sheet.period.scheme)
    unknown = [e.item for e in payload.entries if e.item not in by_code]
    if unknown:
        raise ValidationError(_("No item with the code %(codes)s in this scheme.") % {"codes": "、".join(unknown)})
    entries = [services.ScoreInput(
        item=by_code[e.item], version=e.version, points=e.points, occurrences=e.occurrences, level=e.level,
        measured=e.measured, yes=e.yes, reason=e.reason, standard_applied=e.standard_applied,
        evidence_ref=e.evidence_ref, note=e.note, override_reason=e.override_reason) for e in payload.entries]
    try:
        services.save_scores(user, sheet, entries)
    except services.ScoreConflict as exc:
        return Status(409, {"detail": " ".join(exc.messages)})
    return _sheet_out(sheet)


@router.post("/sheets/{id}/submit", response={200: SheetOut, **WRITE_ERRORS}, operation_id="assess_sheets_submit",
             summary="Submit a sheet (every indicator scored)")
def sheets_submit(request: HttpRequest, id: int, payload: SubmitIn) -> Any:
    user = actor(request)
    return _sheet_out(services.submit_sheet(user, selectors.sheet_or_404(user, id), payload.summary))


@router.post("/sheets/{id}/withdraw", response={200: SheetOut, **WRITE_ERRORS},
             operation_id="assess_sheets_withdraw", summary="Withdraw a submission (with a reason)")
def sheets_withdraw(request: HttpRequest, id: int, payload: WithdrawIn) -> Any:
    """The sheet becomes a draft again while its period is still open for it; the reason is kept
    in the audit trail."""
    user = actor(request)
    return _sheet_out(services.withdraw_submission(user, selectors.sheet_or_404(user, id), payload.reason))


# ---- results ---------------------------------------------------------------------------------------------

@router.get("/periods/{id}/results", response={200: ResultList, **READ_ERRORS},
            operation_id="assess_results_list", summary="A period's ranking")
def results_list(request: HttpRequest, id: int,
                 peer: str = Query("", description="Only this peer group (its key), ranked within it."),
                 limit: int = DEFAULT_LIMIT, offset: int = 0) -> Any:
    """The results the caller may read, best first. Before publication only those who check the
    whole period read them (403 otherwise). Members' ranks show only where ranking members is on."""
    user = actor(request)
    period = stats.open_period(user, id)
    member_scheme = stats.is_member_scheme(period)
    ranked = not member_scheme or stats.may_rank_members(user, period)
    qs = stats.ranking(user, period, peer=peer, ranked=ranked)
    rows, count = page(qs, limit, offset)
    return {"period": period, "count": count,
            "items": [_result_out(r, ranked=not member_scheme or stats.may_rank_members(user, period, r.org_path))
                      for r in rows]}


def _scorecard_out(user: Any, period: Period, result: Result) -> dict[str, Any]:
    card = stats.scorecard(user, period, result)
    return {
        "period": period,
        "result": _result_out(card.result, ranked=card.may_rank),
        "categories": [{"code": c.category.code, "name": c.category.name, "max_points": c.category.max_points,
                        "points": c.points, "share": c.share} for c in card.categories],
        "deductions": [{"score": d.score.pk, "finding": d.finding.pk if d.finding is not None else None,
                        "period": d.period_key, "item": d.item.code, "title": d.item.title, "lost": d.lost,
                        "vetoed": d.score.vetoed, "occurrences": d.score.occurrences, "reason": d.score.reason,
                        "standard_applied": d.score.standard_applied, "evidence_ref": d.score.evidence_ref,
                        "assessor": d.assessor} for d in card.deductions],
        "stars": card.rating.stars if card.rating else None,
    }


@router.get("/periods/{id}/units/{code}/scorecard", response={200: ScorecardOut, **READ_ERRORS},
            operation_id="assess_results_scorecard", summary="One unit's scorecard")
def results_scorecard(request: HttpRequest, id: int, code: str) -> Any:
    """Total, category subtotals, change since the last period, and every deduction with its facts."""
    user = actor(request)
    period = stats.open_period(user, id)
    return _scorecard_out(user, period, stats.scorecard_result(user, period, code=code))


@router.get("/periods/{id}/members/{member}/scorecard", response={200: ScorecardOut, **READ_ERRORS},
            operation_id="assess_results_member_scorecard", summary="One member's points scorecard (党员量化积分)")
def results_member_scorecard(request: HttpRequest, id: int, member: int) -> Any:
    """A member's points in a members' scheme: the member, their branch and those above read it;
    the rank shows only where ranking members is on."""
    user = actor(request)
    result = stats.open_result(user, id, member_pk=member)
    return _scorecard_out(user, result.period, result)


def _finding_ref(f: Any) -> dict[str, Any]:
    return {"id": f.pk, "item_code": f.item_code, "period": f.period, "severity": f.severity, "status": f.status,
            "description": f.description}


@router.post("/periods/{id}/findings", response={200: FindingsOut, **WRITE_ERRORS},
             operation_id="assess_results_findings", summary="Raise a unit's deductions as rectification findings")
def results_findings(request: HttpRequest, id: int, payload: FindingsIn) -> Any:
    """All of the unit's deductions behind the period's result, or those named by score id (see its
    scorecard). Each deduction becomes a finding exactly once: asked again, its finding comes back
    under `existing`, untouched."""
    user = actor(request)
    result = stats.open_result(user, id, code=payload.unit)
    if payload.scores is not None and not payload.scores:
        raise ValidationError(_("Choose the deduction to raise as a finding."))
    raised = findings.raise_findings(user, result.period, result.unit, payload.scores)
    return {"count": raised.count, "created": [_finding_ref(f) for f in raised.created],
            "existing": [_finding_ref(f) for f in raised.existing]}


# ---- bulletins -----------------------------------------------------------------------------------------

def _binary(kind: str, what: str) -> dict[str, Any]:
    return {"responses": {200: {"description": what, "content": {kind: {"schema": {"type": "string",
                                                                                   "format": "binary"}}}}}}


def _bulletin(request: HttpRequest, id: int) -> bulletin.Bulletin:
    user = actor(request)
    return bulletin.bulletin_data(user, stats.open_period(user, id))


@router.get("/periods/{id}/bulletin.docx", response=READ_ERRORS, operation_id="assess_bulletin_docx",
            summary="The period's results bulletin (考核结果通报) as .docx",
            openapi_extra=_binary(bulletin.DOCX, "The bulletin in the layout of an official document."))
def bulletin_docx(request: HttpRequest, id: int) -> HttpResponse:
    """For those who read the whole period (403 otherwise). A period of thousands of units is
    better built in the background: POST …/bulletin/build."""
    b = _bulletin(request, id)
    return bulletin.attachment(bulletin.bulletin_docx(b), bulletin.filename(b, "docx"), bulletin.DOCX)


@router.get("/periods/{id}/bulletin.pdf", response=READ_ERRORS, operation_id="assess_bulletin_pdf",
            summary="The period's results bulletin as PDF",
            openapi_extra=_binary("application/pdf", "The bulletin as PDF."))
def bulletin_pdf(request: HttpRequest, id: int) -> HttpResponse:
    b = _bulletin(request, id)
    return bulletin.attachment(bulletin.bulletin_pdf(b), bulletin.filename(b, "pdf"), "application/pdf")


def _whole_period(user: Any, id: int) -> Period:
    period = stats.open_period(user, id)
    if not scope.assessment_reads_whole(user, period.org_path):
        raise PermissionDenied
    return period


@router.post("/periods/{id}/bulletin/build", response={202: QueuedOut, **WRITE_ERRORS},
             operation_id="assess_bulletin_build", summary="Build the bulletin (.docx and PDF) in the background")
def bulletin_build(request: HttpRequest, id: int) -> Any:
    """The worker keeps both files (GET …/bulletin/files) and tells the caller in the inbox."""
    user = actor(request)
    period = _whole_period(user, id)
    if not scope.can_issue_bulletin(user, period):
        raise PermissionDenied
    tasks.request_bulletin(user, period, translation.get_language() or "zh-hans")
    return Status(202, {"detail": _("The bulletin is being built; you will find it in your messages and below.")})


@router.get("/periods/{id}/bulletin/files", response={200: StoredFileList, **READ_ERRORS},
            operation_id="assess_bulletin_files", summary="The bulletins built in the background, newest first")
def bulletin_files(request: HttpRequest, id: int) -> Any:
    from pbqms.files import services as files
    from pbqms.files.models import StoredFile

    user = actor(request)
    period = _whole_period(user, id)
    kept = StoredFile.objects.filter(owner=tasks.OWNER.format(pk=period.pk)).order_by("-uploaded_at", "-id")[:10]
    return {"items": [{"name": f.original_name, "url": files.file_url(f), "size": f.size,
                       "uploaded_at": f.uploaded_at} for f in kept if scope.can_read_file(user, f)]}


# ---- star ratings ------------------------------------------------------------------------------------------

@router.get("/plans/{id}/stars", response={200: StarRatingList, **READ_ERRORS}, operation_id="assess_stars_list",
            summary="A plan's star ratings (星级评定)")
def stars_list(request: HttpRequest, id: int, limit: int = DEFAULT_LIMIT, offset: int = 0) -> Any:
    """Proposals are seen by those who manage the plan; everyone reads ratings on notice or confirmed."""
    user = actor(request)
    plan = scope.assessment_run_or_404(user, Plan, id)
    qs = (scope.assessment_readable(user, StarRating).filter(plan=plan).select_related("unit")
          .prefetch_related("changes").order_by("-stars", "unit__path"))
    if not scope.can_manage_assessment(user, plan.owner):
        qs = qs.exclude(status=StarStatus.PROPOSED)
    items, count = page(qs, limit, offset)
    return {"items": [_rating(r) for r in items], "count": count}


@router.post("/plans/{id}/stars/publicise", response={200: StarCountOut, **WRITE_ERRORS},
             operation_id="assess_stars_publicise", summary="Put the proposed ratings on public notice (公示)")
def stars_publicise(request: HttpRequest, id: int, payload: PubliciseIn) -> Any:
    user = actor(request)
    return {"count": stars.publicise_stars(user, scope.assessment_run_or_404(user, Plan, id), payload.days)}


@router.post("/plans/{id}/stars/confirm", response={200: StarCountOut, **WRITE_ERRORS},
             operation_id="assess_stars_confirm", summary="Confirm the ratings whose public notice has ended")
def stars_confirm(request: HttpRequest, id: int) -> Any:
    user = actor(request)
    return {"count": stars.confirm_stars(user, scope.assessment_run_or_404(user, Plan, id))}


@router.post("/stars/{id}/change", response={200: StarRatingOut, **WRITE_ERRORS},
             operation_id="assess_stars_change", summary="Change a rating with a reason (动态管理)")
def stars_change(request: HttpRequest, id: int, payload: StarChangeIn) -> Any:
    user = actor(request)
    rating = stars.change_stars(user, scope.assessment_record_or_404(user, StarRating, id), payload.stars,
                                payload.reason)
    return _rating(StarRating.objects.select_related("unit").get(pk=rating.pk))




# ---- performance linkage (与绩效奖挂钩) ----------------------------------------------------------------------

def _managed_plan(user: Any, id: int) -> Plan:
    plan: Plan = stats.open_plan(user, id)
    if not scope.can_manage_assessment(user, plan.owner):
        raise PermissionDenied
    return plan


def _linkage_out(plan: Plan) -> dict[str, Any]:
    rows = list(LinkageRow.objects.filter(plan=plan))
    return {"plan_id": plan.pk, "by_stars": linkage.by_stars(rows), "rows": rows}


@router.get("/plans/{id}/linkage", response={200: LinkageOut, **READ_ERRORS}, operation_id="assess_linkage_get",
            summary="A plan's performance linkage table")
def linkage_get(request: HttpRequest, id: int) -> Any:
    """For those who manage the plan (403 otherwise)."""
    return _linkage_out(_managed_plan(actor(request), id))


@router.put("/plans/{id}/linkage", response={200: LinkageOut, **WRITE_ERRORS}, operation_id="assess_linkage_save",
            summary="Replace a plan's performance linkage table")
def linkage_save(request: HttpRequest, id: int, payload: LinkageIn) -> Any:
    """All or nothing: every bad row answers 422 at once."""
    user = actor(request)
    plan = _managed_plan(user, id)
    linkage.save_linkage(user, plan, [linkage.LinkageInput(stars=r.stars, min_total=r.min_total,
                                                           secretary=r.secretary, committee=r.committee,
                                                           head=r.head, risk_fund=r.risk_fund)
                                      for r in payload.rows])
    return _linkage_out(plan)


@router.get("/plans/{id}/linkage.xlsx", response=READ_ERRORS, operation_id="assess_linkage_export",
            summary="The coefficient of each unit's secretary and committee members (.xlsx)",
            openapi_extra=_binary(bulletin.XLSX, "One row per committee post, in rank order."))
def linkage_export(request: HttpRequest, id: int,
                   period: int | None = Query(None, description="A period of the plan with results; default: "
                                                                 "the year if computed, else the latest.")) -> Any:
    from pbqms.audit.models import AuditAction
    from pbqms.audit.services import record

    user = actor(request)
    plan = _managed_plan(user, id)
    if period is not None:
        chosen = Period.objects.filter(plan=plan, pk=period, computed_at__isnull=False).first()
        if chosen is None:
            raise Http404
    else:
        chosen = linkage.default_period(plan)
        if chosen is None:
            raise ValidationError(_("No period of this plan has results yet."))
    content = bulletin.xlsx(_("Linkage"), linkage.export_headers(), linkage.export_rows(user, plan, chosen))
    record(user, AuditAction.EXPORT, plan, {"linkage": [None, chosen.key]}, note=_("performance linkage export"))
    return core_xlsx.xlsx_response(content, core_xlsx.linkage_name(chosen.key), fallback=f"{chosen.key}-linkage.xlsx")
