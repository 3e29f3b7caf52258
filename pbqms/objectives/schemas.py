"""Shapes of the objectives API — 目标管理 API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from .models import Category, LetterState, ReviewState, TargetPart, TargetStatus, ValueKind


class ObjectiveOut(Schema):
    id: int
    committee: str = Field(description="The code of the committee that set the objective.")
    committee_name: str
    year: int
    number: int
    title: str
    indicator: str
    value_kind: ValueKind
    target_value: str = Field(description="In its kind's normal form: 95 (percent), yes/no, 2026-06-30, 12.5.")
    measure_unit: str
    deadline: dt.date
    responsible: str
    check_method: str

    @staticmethod
    def resolve_committee(obj: Any) -> str:
        return obj.unit.code

    @staticmethod
    def resolve_committee_name(obj: Any) -> str:
        return obj.unit.name


class ObjectiveList(Schema):
    items: list[ObjectiveOut]
    count: int


class ObjectiveIn(Schema):
    committee: str = Field(description="A committee's code.")
    year: int
    title: str
    indicator: str = ""
    value_kind: ValueKind
    target_value: str
    measure_unit: str = ""
    deadline: dt.date | None = None
    responsible: str
    check_method: str = ""


class ObjectivePatch(Schema):
    title: str | None = None
    indicator: str | None = None
    value_kind: ValueKind | None = None
    target_value: str | None = None
    measure_unit: str | None = None
    deadline: dt.date | None = None
    responsible: str | None = None
    check_method: str | None = None


class ReportOut(Schema):
    id: int
    reported_on: dt.date
    value: str
    progress: int
    status: TargetStatus
    note: str
    evidence: list[str] = Field(default_factory=list, description="Download links of the evidence files.")


class TargetOut(Schema):
    id: int
    objective: int
    parent: int | None
    unit: str
    unit_name: str
    member: int | None = Field(None, description="The member whose share this is, if any.")
    year: int
    task: str
    person: str
    indicator: str
    value_kind: ValueKind
    target_value: str
    measure_unit: str
    quality: str
    deadline: dt.date
    status: TargetStatus
    progress: int
    actual_value: str
    version: int

    @staticmethod
    def resolve_objective(obj: Any) -> int:
        return int(obj.objective_id)

    @staticmethod
    def resolve_parent(obj: Any) -> int | None:
        return obj.parent_id

    @staticmethod
    def resolve_unit(obj: Any) -> str:
        return obj.unit.code

    @staticmethod
    def resolve_unit_name(obj: Any) -> str:
        return obj.unit.name

    @staticmethod
    def resolve_member(obj: Any) -> int | None:
        return obj.member_id


class TargetDetail(TargetOut):
    reports: list[ReportOut] = Field(default_factory=list)

    @staticmethod
    def resolve_reports(obj: Any) -> list[dict[str, Any]]:
        return getattr(obj, "reports_list", [])


class TargetList(Schema):
    items: list[TargetOut]
    count: int


class TargetIn(Schema):
    objective: int
    unit: str = Field(description="The code of the unit that carries the target.")
    parent: int | None = Field(None, description="The target this one decomposes (on a unit above).")
    member: int | None = Field(None, description="A member of the unit, for a member's share.")
    task: str = ""
    person: str = ""
    indicator: str = ""
    value_kind: ValueKind
    target_value: str
    measure_unit: str = ""
    quality: str = ""
    deadline: dt.date | None = None


class TargetPatch(Schema):
    task: str | None = None
    person: str | None = None
    indicator: str | None = None
    value_kind: ValueKind | None = None
    target_value: str | None = None
    measure_unit: str | None = None
    quality: str | None = None
    deadline: dt.date | None = None


class ProgressIn(Schema):
    reported_on: dt.date
    progress: int = Field(ge=0, le=100)
    status: TargetStatus
    note: str
    value: str = ""


class MemberTargetOut(Schema):
    id: int
    member: int
    member_name: str
    unit: str
    year: int
    part: TargetPart
    category: Category
    title: str
    measure: str
    deadline: dt.date | None
    state: ReviewState
    review_comment: str
    status: TargetStatus
    progress: int
    score: Decimal | None
    grade: str

    @staticmethod
    def resolve_member(obj: Any) -> int:
        return int(obj.member_id)

    @staticmethod
    def resolve_member_name(obj: Any) -> str:
        return obj.member.name

    @staticmethod
    def resolve_unit(obj: Any) -> str:
        return obj.unit.code


class MemberTargetList(Schema):
    items: list[MemberTargetOut]
    count: int


class MemberTargetIn(Schema):
    member: int = Field(description="The caller's own member record: members propose only their own targets.")
    year: int
    category: Literal["work_task", "post_skill", "responsibility_area"]
    title: str
    measure: str
    deadline: dt.date | None = None


class ReviewIn(Schema):
    decision: Literal["approve", "return"]
    comment: str = ""


class LetterOut(Schema):
    id: int
    unit: str
    unit_name: str
    committee_name: str
    year: int
    version: int
    amends: int | None
    state: LetterState
    title: str
    preamble: str
    rows: list[dict[str, Any]]
    committee_signer_name: str
    committee_signed_at: dt.datetime | None
    branch_signer_name: str
    branch_signed_at: dt.datetime | None

    @staticmethod
    def resolve_unit(obj: Any) -> str:
        return obj.unit.code

    @staticmethod
    def resolve_unit_name(obj: Any) -> str:
        return obj.unit.name

    @staticmethod
    def resolve_committee_name(obj: Any) -> str:
        return obj.committee.name

    @staticmethod
    def resolve_amends(obj: Any) -> int | None:
        return obj.amends_id


class LetterList(Schema):
    items: list[LetterOut]
    count: int


class LetterIn(Schema):
    unit: str = Field(description="The branch's code.")
    year: int


class SignIn(Schema):
    side: Literal["committee", "branch"]


class RollupRow(Schema):
    unit: str
    unit_name: str
    targets: int
    on_track: int
    at_risk: int
    missed: int
    achieved: int
    proposed: int
    approved: int
    returned: int
    party_members: int
    members_without_approved_targets: int


class DashboardOut(Schema):
    year: int
    unit: RollupRow
    children: list[RollupRow]
