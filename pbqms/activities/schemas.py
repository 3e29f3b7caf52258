"""API shapes of organisational life (django-ninja)."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema

from .models import ActivityKind


class UnitRef(Schema):
    code: str
    name: str


class PersonRef(Schema):
    id: int
    name: str


# ---- records -----------------------------------------------------------------------------------

class AttendanceIn(Schema):
    member: int = Field(..., description="A member's id, from the unit's roster.")
    present: bool = True
    reason: str = Field("", max_length=100, description="Required when absent.")


class RecordIn(Schema):
    unit: str = Field(..., description="The unit's code.")
    kind: ActivityKind
    held_on: dt.date
    topic: str = Field(..., max_length=200)
    start_time: dt.time | None = None
    place: str = Field("", max_length=100)
    host: int | None = Field(None, description="A member's id.")
    recorder: int | None = Field(None, description="A member's id.")
    minutes: str = ""
    resolutions: str = ""
    attendance: list[AttendanceIn] = Field(..., description="Everyone expected: present, or absent with a reason.")


class AttendanceOut(Schema):
    member: PersonRef
    present: bool
    absence_reason: str
    counted: bool = Field(..., description="Expected at the meeting (on its roster); false: attended without "
                                           "being expected (列席), not counted in the rate.")


class AttendanceCorrectionIn(Schema):
    attendance: list[AttendanceIn] = Field(..., description="The whole attendance as it should read: everyone "
                                                            "expected, present or absent with a reason; anyone "
                                                            "else who attended.")
    reason: str = Field(..., max_length=200, description="Why the attendance is corrected (kept in the audit "
                                                         "trail).")


class FileOut(Schema):
    name: str
    url: str


class RecordOut(Schema):
    id: int
    unit: UnitRef
    kind: str
    kind_label: str
    held_on: dt.date
    start_time: dt.time | None
    place: str
    topic: str
    host: PersonRef | None
    recorder: PersonRef | None
    host_is_secretary: bool
    expected: int
    present: int
    attendance_rate: float


class RecordDetail(RecordOut):
    minutes: str
    resolutions: str
    attendance: list[AttendanceOut] = Field(default_factory=list, alias="attendance_rows")
    files: list[FileOut] = Field(default_factory=list, alias="file_rows")


class RecordList(Schema):
    items: list[RecordOut]
    count: int


# ---- plans -------------------------------------------------------------------------------------

class PlanItemIn(Schema):
    kind: ActivityKind
    planned_on: dt.date
    topic: str = Field(..., max_length=200)


class PlanIn(Schema):
    unit: str = Field(..., description="The unit's code.")
    period: str = Field(..., description="2026-05 for a month, 2026Q2 for a quarter.", max_length=7)
    items: list[PlanItemIn]


class PlanItemOut(Schema):
    kind: str
    planned_on: dt.date
    topic: str
    filed_at: dt.datetime
    late: bool = Field(..., description="Dated before the day it was filed: reported after the event (补报).")


class PlanOut(Schema):
    id: int
    unit: UnitRef
    period: str
    period_start: dt.date
    period_end: dt.date
    status: str
    comment: str
    submitted_at: dt.datetime
    version: int = Field(..., description="How many times the plan was filed.")
    items: list[PlanItemOut] = Field(default_factory=list, alias="item_rows")


class PlanList(Schema):
    items: list[PlanOut]
    count: int


class ReviewIn(Schema):
    comment: str = Field(..., max_length=2000)


# ---- compliance --------------------------------------------------------------------------------

class RuleRef(Schema):
    code: str
    name: str
    kind: str
    frequency: str
    citation: str


class StateOut(Schema):
    rule: RuleRef
    unit: UnitRef
    period: str = Field(..., alias="period_label")
    period_start: dt.date
    period_end: dt.date
    required: int
    done: int
    status: str
    finding_raised: bool
    evaluated_at: dt.datetime


class StateList(Schema):
    items: list[StateOut]
    count: int
