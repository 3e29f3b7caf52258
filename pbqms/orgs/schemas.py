"""Shapes of the units API — 组织 API. Units are named by their code everywhere."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import Field

from pbqms import scope

from .models import BranchVariant, Unit, UnitKind

MAX_ORDER = 2**31 - 1


class UnitRef(Schema):
    code: str
    name: str
    kind: UnitKind


class UnitOut(Schema):
    code: str
    name: str
    kind: UnitKind
    variant: BranchVariant
    parent: str | None = Field(None, description="The parent's code; null at the top of the caller's scope.")
    depth: int
    order: int
    founded_on: dt.date | None
    department: str
    is_active: bool
    dissolved_on: dt.date | None
    dissolution_reason: str

    @staticmethod
    def resolve_parent(obj: Unit, context: dict[str, Any]) -> str | None:
        # A parent outside the caller's scope is not named (a branch secretary's branch shows none).
        parent = obj.parent
        if parent is None or not scope.can_read_unit(context["request"].auth, parent):
            return None
        return parent.code


class UnitCounts(Schema):
    units: dict[str, int] = Field(description="Active units in the subtree by kind, the unit included.")
    members: dict[str, int] = Field(description="People in the subtree by party status.")


class UnitDetail(UnitOut):
    ancestors: list[UnitRef] = Field(description="From the top of the caller's tree down to the parent.")
    counts: UnitCounts


class UnitList(Schema):
    items: list[UnitOut]
    count: int


class UnitCreate(Schema):
    code: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=120)
    kind: UnitKind
    parent: str | None = Field(None, max_length=40, description="The parent unit's code.")
    variant: BranchVariant = BranchVariant.REGULAR
    order: int = Field(0, ge=0, le=MAX_ORDER)
    founded_on: dt.date | None = None
    department: str = Field("", max_length=120)


class UnitUpdate(Schema):
    """Only the fields sent are changed. Kind and parent change by moving, not here."""

    code: str = Field(None, min_length=1, max_length=40)
    name: str = Field(None, min_length=1, max_length=120)
    variant: BranchVariant = Field(None)
    order: int = Field(None, ge=0, le=MAX_ORDER)
    founded_on: dt.date | None = None
    department: str = Field(None, max_length=120)


class UnitMoveIn(Schema):
    parent: str = Field(max_length=40, description="The new parent unit's code.")
    moved_on: dt.date | None = None
    reason: str = Field("", max_length=255)


class UnitDissolveIn(Schema):
    reason: str = Field(min_length=1, max_length=255)
    dissolved_on: dt.date | None = None
