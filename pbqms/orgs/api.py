"""Units API — 组织 API: HTTP around orgs.selectors and orgs.services, scoped by pbqms.scope.

A unit outside the caller's scope answers 404 wherever it is named (path, query or body);
a unit inside it that the caller may not change answers 403 (raised by the services).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from ninja import Query, Router, Status

from pbqms import scope
from pbqms.accounts.api import DEFAULT_LIMIT, actor, page
from pbqms.accounts.schemas import ErrorOut, InvalidOut

from . import selectors, services
from .models import Unit, UnitKind
from .schemas import UnitCreate, UnitDetail, UnitDissolveIn, UnitList, UnitMoveIn, UnitUpdate

router = Router(tags=["units"])

READ_ERRORS: dict[int, Any] = {401: ErrorOut, 404: ErrorOut, 422: InvalidOut}
WRITE_ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: InvalidOut}


def _detail(request: HttpRequest, unit: Unit) -> Unit:
    """The unit with what UnitDetail adds: readable ancestors and subtree counts (three queries)."""
    user = actor(request)
    unit.ancestors = list(scope.units(user).filter(pk__in=unit.ancestor_ids()).order_by("path"))
    unit.counts = {"units": selectors.unit_counts(unit.path, user),
                   "members": selectors.member_counts(unit.path, user)}
    return unit


def _reload(unit: Unit) -> Unit:
    return Unit.objects.select_related("parent").get(pk=unit.pk)


@router.get("", response={200: UnitList, **READ_ERRORS}, operation_id="units_list", summary="List units")
def unit_list(request: HttpRequest, kind: UnitKind | None = None,
              parent: str | None = Query(None, description="Only the direct sub-units of this unit."),
              q: str = Query("", description="Part of the name or code."),
              active: bool | None = Query(None, description="true: active units only; false: dissolved."),
              limit: int = Query(DEFAULT_LIMIT, description="At most 500."), offset: int = 0) -> Any:
    """Units in the caller's scope, in tree order (siblings by their order when `parent` is given)."""
    user = actor(request)
    qs = scope.units(user).select_related("parent")
    if parent:
        qs = qs.filter(parent=scope.unit_or_404(user, parent)).order_by("order", "code")
    else:
        qs = qs.order_by("path")
    if kind:
        qs = qs.filter(kind=kind)
    if q := q.strip():
        qs = qs.filter(Q(name__icontains=q) | Q(code__icontains=q))
    if active is not None:
        qs = qs.filter(dissolved_on__isnull=active)
    items, count = page(qs, limit, offset)
    return {"items": items, "count": count}


@router.get("/{code}", response={200: UnitDetail, **READ_ERRORS}, operation_id="units_get",
            summary="Get a unit")
def unit_get(request: HttpRequest, code: str) -> Any:
    """One unit with its ancestors (those the caller may read) and the counts of its subtree."""
    return _detail(request, scope.unit_or_404(actor(request), code))


@router.post("", response={201: UnitDetail, **WRITE_ERRORS}, operation_id="units_create",
             summary="Create a unit")
def unit_create(request: HttpRequest, payload: UnitCreate) -> Any:
    user = actor(request)
    parent = scope.unit_or_404(user, payload.parent) if payload.parent else None
    data = payload.dict(exclude={"parent"})
    unit = services.create_unit(user, parent=parent, **{**data, "kind": payload.kind.value,
                                                        "variant": payload.variant.value})
    return Status(201, _detail(request, _reload(unit)))


@router.patch("/{code}", response={200: UnitDetail, **WRITE_ERRORS}, operation_id="units_update",
              summary="Change a unit")
def unit_update(request: HttpRequest, code: str, payload: UnitUpdate) -> Any:
    user = actor(request)
    unit = scope.unit_or_404(user, code)
    changes = payload.dict(exclude_unset=True)
    if "variant" in changes:
        changes["variant"] = payload.variant.value
    unit = services.update_unit(user, unit, **changes)
    return _detail(request, _reload(unit))


@router.post("/{code}/move", response={200: UnitDetail, **WRITE_ERRORS}, operation_id="units_move",
             summary="Move a unit under another parent")
def unit_move(request: HttpRequest, code: str, payload: UnitMoveIn) -> Any:
    """Re-attach the unit, its sub-units and its people under a new parent; kept as history."""
    user = actor(request)
    unit = scope.unit_or_404(user, code)
    new_parent = scope.unit_or_404(user, payload.parent)
    unit = services.move_unit(user, unit, new_parent, moved_on=payload.moved_on, reason=payload.reason)
    return _detail(request, _reload(unit))


@router.post("/{code}/dissolve", response={200: UnitDetail, **WRITE_ERRORS}, operation_id="units_dissolve",
             summary="Dissolve a unit")
def unit_dissolve(request: HttpRequest, code: str, payload: UnitDissolveIn) -> Any:
    """Dissolve (撤销) a unit that has no active sub-units or people; its records stay readable."""
    user = actor(request)
    unit = scope.unit_or_404(user, code)
    unit = services.dissolve_unit(user, unit, dissolved_on=payload.dissolved_on, reason=payload.reason)
    return _detail(request, _reload(unit))
