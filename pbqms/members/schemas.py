"""Shapes of the members API — 党员 API. ID numbers and phones are masked unless the detail
endpoint puts the clear value in (see members.api)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from pbqms import scope

from .models import (
    CommitteeRoleKind,
    Education,
    Gender,
    Member,
    MemberState,
    PartyStatus,
    TransferDirection,
)


class MemberOut(Schema):
    id: int
    name: str
    gender: str = Field(description="M or F.")
    ethnicity: str
    birth_date: dt.date | None
    education: str = Field(description="One of the education codes, or empty.")
    id_number: str = Field(description="Masked (3****************4) unless the caller's role may read it, "
                                       "and then only on GET /members/{id}.")
    phone: str = Field(description="Masked like the ID number.")
    post: str
    status: PartyStatus
    state: MemberState
    unit: str = Field(description="The code of the unit the person belongs to.")
    unit_name: str
    group: str | None = Field(None, description="The code of the person's party group.")
    joined_on: dt.date | None

    @staticmethod
    def resolve_id_number(obj: Member) -> str:
        return getattr(obj, "id_number_clear", None) or obj.id_number_masked

    @staticmethod
    def resolve_phone(obj: Member) -> str:
        return getattr(obj, "phone_clear", None) or obj.phone_masked

    @staticmethod
    def resolve_unit(obj: Member) -> str:
        return obj.unit.code

    @staticmethod
    def resolve_unit_name(obj: Member) -> str:
        return obj.unit.name

    @staticmethod
    def resolve_group(obj: Member) -> str | None:
        return obj.group.code if obj.group_id else None


class StatusStepOut(Schema):
    status: PartyStatus
    date: dt.date
    note: str


def _code_if_readable(unit: Any, context: dict[str, Any]) -> str | None:
    # The other end of a transfer (or a post's unit) may lie outside the caller's scope: unnamed.
    return unit.code if unit is not None and scope.can_read_unit(context["request"].auth, unit) else None


class CommitteeRoleOut(Schema):
    unit: str | None
    role: CommitteeRoleKind
    started_on: dt.date
    ended_on: dt.date | None

    @staticmethod
    def resolve_unit(obj: Any, context: dict[str, Any]) -> str | None:
        return _code_if_readable(obj.unit, context)


class TransferOut(Schema):
    direction: TransferDirection
    from_unit: str | None = Field(None, description="Code of the unit left, if the caller may read it.")
    to_unit: str | None = Field(None, description="Code of the unit joined, if the caller may read it.")
    external_org: str
    date: dt.date
    letter_number: str
    reason: str

    @staticmethod
    def resolve_from_unit(obj: Any, context: dict[str, Any]) -> str | None:
        return _code_if_readable(obj.from_unit, context)

    @staticmethod
    def resolve_to_unit(obj: Any, context: dict[str, Any]) -> str | None:
        return _code_if_readable(obj.to_unit, context)


class MemberDetail(MemberOut):
    status_steps: list[StatusStepOut]
    committee_roles: list[CommitteeRoleOut]
    transfers: list[TransferOut]

    # members.api loads these with their units up front, so serialising costs no further query.
    @staticmethod
    def resolve_status_steps(obj: Any) -> list[Any]:
        return obj.status_steps_list

    @staticmethod
    def resolve_committee_roles(obj: Any) -> list[Any]:
        return obj.committee_roles_list

    @staticmethod
    def resolve_transfers(obj: Any) -> list[Any]:
        return obj.transfers_list


class MemberList(Schema):
    items: list[MemberOut]
    count: int


class MemberCreate(Schema):
    unit: str = Field(max_length=40, description="Code of the unit, usually a branch.")
    group: str | None = Field(None, max_length=40, description="Code of one of the unit's party groups.")
    name: str = Field(min_length=1, max_length=60)
    gender: Gender
    status: PartyStatus
    status_date: dt.date | None = Field(None, description="Date of the current status; default today.")
    id_number: str = Field("", max_length=20)
    phone: str = Field("", max_length=20)
    birth_date: dt.date | None = None
    ethnicity: str = Field("汉族", max_length=20)
    education: Education | None = None
    post: str = Field("", max_length=120)
    joined_on: dt.date | None = None


class MemberUpdate(Schema):
    """Only the fields sent are changed. Status, unit and state change through their own endpoints."""

    name: str = Field(None, min_length=1, max_length=60)
    gender: Gender = Field(None)
    ethnicity: str = Field(None, max_length=20)
    birth_date: dt.date | None = None
    education: Education | None = None
    id_number: str = Field(None, max_length=20)
    phone: str = Field(None, max_length=20)
    post: str = Field(None, max_length=120)
    group: str | None = Field(None, max_length=40, description="Code of a party group of the person's unit.")
    joined_on: dt.date | None = None


class StatusIn(Schema):
    status: PartyStatus = Field(description="The next step on the ladder.")
    date: dt.date
    note: str = Field("", max_length=255)


class TransferIn(Schema):
    direction: Literal["internal", "out"] = Field(
        description="internal: to another unit of this system (内部转接); out: out of the system (转出).")
    date: dt.date
    to_unit: str | None = Field(None, max_length=40, description="internal: the receiving unit's code.")
    group: str | None = Field(None, max_length=40, description="internal: a party group of the new unit.")
    external_org: str = Field("", max_length=200, description="out: the organisation the relation goes to.")
    letter_number: str = Field("", max_length=60)
    reason: str = Field("", max_length=255)

