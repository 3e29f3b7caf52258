"""Members API — 党员 API: HTTP around members.selectors and members.services, scoped by pbqms.scope.

Lists are always masked. The detail endpoint shows the ID number and phone in clear only to
the roles scope.can_see_id_number allows, and each such reveal is logged.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from pbqms import scope
from pbqms.accounts.api import DEFAULT_LIMIT, actor, page
from pbqms.accounts.schemas import ErrorOut, InvalidOut

from . import selectors, services
from .models import Member, MemberState, PartyStatus
from .schemas import MemberCreate, MemberDetail, MemberList, MemberUpdate, StatusIn, TransferIn

router = Router(tags=["members"])

READ_ERRORS: dict[int, Any] = {401: ErrorOut, 404: ErrorOut, 422: InvalidOut}
WRITE_ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: InvalidOut}


def _detail(request: HttpRequest, member: Member, *, reveal: bool = False) -> Member:
    """The person with their steps, posts and transfers (three queries); in clear only if `reveal`."""
    user = actor(request)
    member = Member.objects.select_related("unit", "group").get(pk=member.pk)
    member.status_steps_list = list(member.status_steps.all())
    member.committee_roles_list = list(member.committee_roles.select_related("unit"))
    member.transfers_list = list(member.transfers.select_related("from_unit", "to_unit"))
    if reveal and scope.can_see_id_number(user, member):
        if member.id_number_encrypted:
            member.id_number_clear = services.reveal_id_number(user, member)
        if member.phone_encrypted:
            try:
                member.phone_clear = services.reveal_phone(user, member)
            except PermissionDenied:  # settings may grant ID numbers without write rights
                pass
    return member


def _group(request: HttpRequest, code: str | None) -> Any:
    return scope.unit_or_404(actor(request), code) if code else None


@router.get("", response={200: MemberList, **READ_ERRORS}, operation_id="members_list", summary="List people")
def member_list(request: HttpRequest,
                unit: str | None = Query(None, description="A unit's code: its whole subtree."),
                status: PartyStatus | None = None,
                q: str = Query("", description="Name, full pinyin or pinyin initials (zs finds 张三)."),
                state: str = Query(MemberState.ACTIVE.value,
                                   description="active (default), transferred_out, deceased, removed; "
                                               "empty for all."),
                sort: str = Query("name", description="name, -name, status, unit, birth, -birth."),
                limit: int = Query(DEFAULT_LIMIT, description="At most 500."), offset: int = 0) -> Any:
    """People in the caller's scope, in pinyin order by default. ID numbers and phones are masked."""
    user = actor(request)
    unit_obj = scope.unit_or_404(user, unit) if unit else None
    if state and state not in MemberState.values:
        raise ValidationError(_("Unknown state “%(s)s”.") % {"s": state})
    qs = selectors.member_list(user, unit=unit_obj, q=q, status=status.value if status else "", state=state,
                               sort=sort)
    items, count = page(qs, limit, offset)
    return {"items": items, "count": count}


@router.get("/{id}", response={200: MemberDetail, **READ_ERRORS}, operation_id="members_get",
            summary="Get a person")
def member_get(request: HttpRequest, id: int) -> Any:
    """One person with status steps, committee posts and transfers."""
    return _detail(request, scope.member_or_404(actor(request), id), reveal=True)


@router.post("", response={201: MemberDetail, **WRITE_ERRORS}, operation_id="members_create",
             summary="Add a person")
def member_create(request: HttpRequest, payload: MemberCreate) -> Any:
    user = actor(request)
    unit = scope.unit_or_404(user, payload.unit)
    group = _group(request, payload.group)
    data = payload.dict(exclude={"unit", "group"})
    data["education"] = data["education"] or ""
    member = services.create_member(user, unit=unit, group=group, **data)
    return Status(201, _detail(request, member))


@router.patch("/{id}", response={200: MemberDetail, **WRITE_ERRORS}, operation_id="members_update",
              summary="Change a person's record")
def member_update(request: HttpRequest, id: int, payload: MemberUpdate) -> Any:
    user = actor(request)
    member = scope.member_or_404(user, id)
    changes = payload.dict(exclude_unset=True)
    if "group" in changes:
        changes["group"] = _group(request, changes["group"])
    if "education" in changes:
        changes["education"] = changes["education"] or ""
    member = services.update_member(user, member, **changes)
    return _detail(request, member)


@router.post("/{id}/status", response={200: MemberDetail, **WRITE_ERRORS}, operation_id="members_status",
             summary="Advance a person's party status")
def member_status(request: HttpRequest, id: int, payload: StatusIn) -> Any:
    """One step along 申请人 → 入党积极分子 → 发展对象 → 预备党员 → 正式党员 (群众 → 申请人)."""
    user = actor(request)
    member = scope.member_or_404(user, id)
    member = services.advance_status(user, member, payload.status.value, date=payload.date, note=payload.note)
    return _detail(request, member)


@router.post("/{id}/transfer", response={200: MemberDetail, **WRITE_ERRORS},
             operation_id="members_transfer", summary="Transfer a person's organisational relation")
def member_transfer(request: HttpRequest, id: int, payload: TransferIn) -> Any:
    """internal: to another unit of this system (内部转接); out: out of the system (转出)."""
    user = actor(request)
    member = scope.member_or_404(user, id)
    if payload.direction == "internal":
        if not payload.to_unit:
            raise ValidationError(_("Name the unit the person moves to."))
        to_unit = scope.unit_or_404(user, payload.to_unit)
        group = _group(request, payload.group)
        services.transfer_internal(user, member, to_unit, date=payload.date, reason=payload.reason,
                                   group=group)
    else:
        services.transfer_out(user, member, external_org=payload.external_org, date=payload.date,
                              letter_number=payload.letter_number, reason=payload.reason)
    return _detail(request, member)
