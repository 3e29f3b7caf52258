"""API shapes of the rectification loop (django-ninja)."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema

from .models import FindingSource, Severity


class UnitRef(Schema):
    code: str
    name: str


class FindingIn(Schema):
    unit: str = Field(..., description="The unit's code.")
    description: str
    found_on: dt.date
    source: FindingSource = FindingSource.INSPECTION
    item_code: str = ""
    standard: str = Field("", description="The standard applied (考核标准).")
    severity: Severity = Severity.GENERAL
    period: str = Field("", description="For example 2026Q3 or 2026-07; defaults to the month found.")
    source_ref: str = ""


class FeedbackOut(Schema):
    round: int
    cause_category: str = Field(..., alias="cause_category.name")
    cause: str
    measures: str
    completed_on: dt.date
    submitted_at: dt.datetime


class VerificationOut(Schema):
    effective: bool
    note: str
    verified_at: dt.datetime


class FindingOut(Schema):
    id: int
    unit: UnitRef
    source: str
    source_ref: str
    item_code: str
    standard: str
    severity: str
    description: str
    period: str
    found_on: dt.date
    status: str
    deadline: dt.date | None
    overdue: bool
    closed_on: dt.date | None
    notice_id: int | None


class FindingDetail(FindingOut):
    feedback: list[FeedbackOut] = Field(default_factory=list, alias="rounds")
    verifications: list[VerificationOut] = Field(default_factory=list, alias="checks")


class FindingList(Schema):
    items: list[FindingOut]
    count: int


class NoticeIn(Schema):
    unit: str = Field(..., description="The unit's code.")
    findings: list[int] = Field(..., description="Ids of open findings of that unit.")
    title: str
    requirement: str
    deadline: dt.date


class StepOut(Schema):
    action: str
    actor_name: str
    at: dt.datetime
    note: str
    deadline: dt.date | None


class NoticeOut(Schema):
    id: int
    number: str | None
    title: str
    unit: UnitRef
    issuing_unit: UnitRef
    requirement: str
    deadline: dt.date
    status: str
    rounds: int
    issued_at: dt.datetime | None
    closed_at: dt.datetime | None
    overdue_since: dt.date | None


class NoticeDetail(NoticeOut):
    findings: list[FindingDetail] = Field(default_factory=list, alias="finding_rows")
    steps: list[StepOut] = Field(default_factory=list, alias="step_rows")


class NoticeList(Schema):
    items: list[NoticeOut]
    count: int


class AnswerIn(Schema):
    finding: int
    cause_category: str = Field(..., description="A cause category's code.")
    cause: str
    measures: str
    completed_on: dt.date


class FeedbackIn(Schema):
    answers: list[AnswerIn]


class VerifyIn(Schema):
    effective: bool
    note: str


class ReturnIn(Schema):
    reason: str
    deadline: dt.date


class CloseIn(Schema):
    note: str = ""


class PreventiveOut(Schema):
    id: int
    trigger: str
    unit: UnitRef
    item_code: str
    title: str
    analysis: str
    measures: str
    due_on: dt.date
    status: str
    result: str


class PreventiveList(Schema):
    items: list[PreventiveOut]
    count: int
