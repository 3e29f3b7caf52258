"""API shapes of the assessment (考核评价) endpoints (django-ninja)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Field, Schema

from .models import PanelRule, PeriodStatus, SheetKind, YearRule


class UnitRef(Schema):
    code: str
    name: str


class MemberRef(Schema):
    id: int
    name: str


class Ref(Schema):
    id: int
    name: str


# ---- schemes ---------------------------------------------------------------------------------------

class ItemOut(Schema):
    id: int
    code: str
    title: str
    standard: str = Field(..., description="考核内容与标准")
    max_points: Decimal
    kind: str = Field(..., description="work / veto / interactive / bonus / penalty")
    method: str = Field(..., description="deduct / graded / ratio / yesno")
    deduct_per: Decimal | None
    levels: list[list[str]] = Field(..., description="[[label, points], ...], highest first")
    ratio_floor: Decimal | None
    ratio_full: Decimal | None
    evidence_required: bool
    annual_only: bool
    metric: str = Field(..., description="The figure the system computes that pre-fills the score, if any.")
    veto_effect: str
    veto_deduction: Decimal | None
    veto_star_cap: int | None


class CategoryOut(Schema):
    code: str
    name: str
    items: list[ItemOut]


class StarLevelOut(Schema):
    stars: int
    min_total: Decimal
    quota_pct: Decimal | None
    no_veto: bool
    min_category_pct: Decimal | None


class SchemeOut(Schema):
    id: int
    owner: UnitRef
    year: int
    target_kind: str
    version: int
    name: str
    status: str
    full_mark: Decimal
    bonus_cap: Decimal
    penalty_cap: Decimal
    public_member_ranking: bool
    copied_from_id: int | None
    published_at: dt.datetime | None
    created_at: dt.datetime
    plan_id: int | None = None


class SchemeDetail(SchemeOut):
    description: str
    categories: list[CategoryOut] = Field(default_factory=list, alias="category_rows")
    stars: list[StarLevelOut] = Field(default_factory=list, alias="star_rows")
    indicator_total: Decimal = Field(..., description="The work and interactive items' maximum points.")


class SchemeList(Schema):
    items: list[SchemeOut]
    count: int


class SchemeIn(Schema):
    owner: str = Field(..., description="The issuing committee's unit code.")
    year: int = Field(..., ge=2000, le=2100)
    fixture: str = Field("", description="A shipped scheme: liukao (六考一评), dongli, member_points.")
    data: dict[str, Any] | None = Field(None, description="A scheme written as data (the fixtures' shape); "
                                                         "give this or `fixture`.")


class CopyIn(Schema):
    year: int = Field(..., ge=2000, le=2100)


class FieldChange(Schema):
    field: str
    before: str
    after: str


class ItemChangeOut(Schema):
    code: str
    title: str
    change: str = Field(..., description="added / removed / changed")
    fields: list[FieldChange]


class DiffOut(Schema):
    base: SchemeOut
    scheme: SchemeOut
    changes: list[ItemChangeOut]


class RowErrorOut(Schema):
    where: str = Field(..., description="第N行 / row N, or the sheet or file")
    message: str


class ImportErrorOut(Schema):
    """422 of an .xlsx import: every problem with its row; nothing was stored."""

    detail: str
    errors: list[RowErrorOut]


# ---- plans and periods -----------------------------------------------------------------------------

class PlanIn(Schema):
    scheme: int = Field(..., description="A published scheme's id.")
    quarter_weight: Decimal = Decimal("70")
    annual_weight: Decimal = Decimal("30")
    panel_rule: PanelRule = PanelRule.MEAN
    year_rule: YearRule = Field(YearRule.SUM, description="sum: the quarterly items' mean + the year-end items at "
                                "their own points; weighted: both parts on the full mark, weighted.")


class PeriodOut(Schema):
    id: int
    key: str = Field(..., description="2026-07, 2026Q3, 2026H1 or 2026")
    kind: str
    status: str
    starts_on: dt.date
    ends_on: dt.date
    computed_at: dt.datetime | None
    published_at: dt.datetime | None


class PlanOut(Schema):
    id: int
    owner: UnitRef
    year: int
    scheme: Ref
    quarter_weight: Decimal
    annual_weight: Decimal
    panel_rule: str
    year_rule: str


class PlanDetail(PlanOut):
    periods: list[PeriodOut] = Field(default_factory=list, alias="period_rows")


class PlanList(Schema):
    items: list[PlanOut]
    count: int


class StepOut(Schema):
    from_status: str
    to_status: str
    actor_name: str
    reason: str
    at: dt.datetime


class PanelMemberOut(Schema):
    id: int
    username: str
    name: str
    is_lead: bool


class PeriodDetail(PeriodOut):
    plan_id: int
    scheme: Ref
    analysis: str
    steps: list[StepOut] = Field(default_factory=list, alias="step_rows")
    panel: list[PanelMemberOut] = Field(default_factory=list, alias="panel_rows",
                                        description="The assessment panel (考核评价小组); empty: the department "
                                                    "scores one shared sheet.")


class MoveIn(Schema):
    to: PeriodStatus
    reason: str = Field("", description="Required for any step back (reopening).")


class PanelIn(Schema):
    members: list[int | str] = Field(..., description="The assessors, by user id or username; empty clears the "
                                                      "panel.")
    lead: int | str | None = Field(None, description="The lead assessor (id or username), one of `members`.")


class AnalysisIn(Schema):
    analysis: str = Field("", description="The half-year analysis or the annual summary's text "
                                          "(半年一分析 / 年底一总结).")


class ComputeOut(Schema):
    period: str
    results: int
    computed_at: dt.datetime | None
    seconds: float


# ---- sheets and scores -----------------------------------------------------------------------------

class SheetOpenIn(Schema):
    period: int
    unit: str = Field("", description="The unit's code (branch schemes).")
    member: int | None = Field(None, description="The member's id (member points schemes).")
    kind: SheetKind


class ScoreOut(Schema):
    version: int
    points: Decimal = Field(..., description="Signed contribution: a penalty negative, a veto 0.")
    occurrences: int | None
    level: str
    measured: Decimal | None
    vetoed: bool
    deducted: bool
    reason: str
    standard_applied: str
    evidence_ref: str
    note: str
    auto: bool = Field(..., description="Pre-filled from the system's records.")
    metric_value: Decimal | None
    override_reason: str
    updated_by: str
    updated_at: dt.datetime


class SheetRowOut(Schema):
    item: str = Field(..., description="The item's code.")
    title: str
    category: str
    kind: str
    method: str
    max_points: Decimal
    levels: list[list[str]]
    score: ScoreOut | None
    self_score: ScoreOut | None = Field(None, description="The unit's own self-check beside an assessor's score.")
    differs: bool = False


class SheetOut(Schema):
    id: int
    period: PeriodOut
    unit: UnitRef
    member: MemberRef | None
    kind: str
    assessor: str
    status: str
    submitted_at: dt.datetime | None
    summary: str
    total: Decimal = Field(..., description="Running total before vetoes and caps.")
    scored: int
    needed: int
    rows: list[SheetRowOut]


class ScoreIn(Schema):
    item: str = Field(..., description="The item's code.")
    version: int = Field(0, description="The score's version you read (0: none yet); a newer one answers 409.")
    points: Decimal | None = None
    occurrences: int | None = None
    level: str = ""
    measured: Decimal | None = None
    yes: bool | None = None
    reason: str = ""
    standard_applied: str = ""
    evidence_ref: str = ""
    note: str = ""
    override_reason: str = ""


class ScoresIn(Schema):
    entries: list[ScoreIn]


class SubmitIn(Schema):
    summary: str = ""


class WithdrawIn(Schema):
    reason: str = Field("", description="Why the submission is withdrawn (required).")


# ---- results and stars -----------------------------------------------------------------------------

class ResultOut(Schema):
    unit: UnitRef
    member: MemberRef | None
    total: Decimal
    base: Decimal
    bonus: Decimal
    penalty: Decimal
    vetoed: bool
    veto_items: str
    star_cap: int | None
    rank: int | None = Field(..., description="Hidden (null) for members' points when ranking members is off.")
    peer_rank: int | None
    peer_size: int | None
    previous_total: Decimal | None
    change: Decimal | None


class ResultList(Schema):
    period: PeriodOut
    items: list[ResultOut]
    count: int


class CategoryScoreOut(Schema):
    code: str
    name: str
    max_points: Decimal
    points: Decimal
    share: int | None = Field(..., description="% of the category's points")


class DeductionOut(Schema):
    score: int = Field(..., description="The score's id: name it in POST /periods/{id}/findings.")
    finding: int | None = Field(None, description="The rectification finding raised from it, if any.")
    period: str
    item: str
    title: str
    lost: Decimal
    vetoed: bool
    occurrences: int | None
    reason: str
    standard_applied: str
    evidence_ref: str
    assessor: str


class ScorecardOut(Schema):
    period: PeriodOut
    result: ResultOut
    categories: list[CategoryScoreOut]
    deductions: list[DeductionOut]
    stars: int | None = Field(None, description="The unit's star rating of the plan's year, once proposed to it.")


class StarChangeOut(Schema):
    from_stars: int | None
    to_stars: int
    status: str
    reason: str
    actor_name: str
    at: dt.datetime


class StarRatingOut(Schema):
    id: int
    unit: UnitRef
    year: int
    stars: int
    previous_stars: int | None
    movement: int
    total: Decimal | None
    status: str
    notice_until: dt.date | None
    reason: str
    changes: list[StarChangeOut] = Field(default_factory=list, alias="change_rows")


class StarRatingList(Schema):
    items: list[StarRatingOut]
    count: int


class PubliciseIn(Schema):
    days: int = Field(5, description="Length of the public notice (公示) in days.")


class StarCountOut(Schema):
    count: int


class StarChangeIn(Schema):
    stars: int
    reason: str


# ---- deductions → findings, bulletins, performance linkage -----------------------------------------

class FindingsIn(Schema):
    unit: str = Field(..., description="The unit's code.")
    scores: list[int] | None = Field(None, description="The deductions (score ids of its scorecard) to raise; "
                                                       "leave out for all of the unit's deductions.")


class FindingRef(Schema):
    id: int
    item_code: str
    period: str
    severity: str
    status: str
    description: str


class FindingsOut(Schema):
    count: int = Field(..., description="Findings raised by this call.")
    created: list[FindingRef]
    existing: list[FindingRef] = Field(..., description="Deductions raised before: their findings, untouched.")


class QueuedOut(Schema):
    detail: str


class StoredFileOut(Schema):
    name: str
    url: str = Field(..., description="The scoped download link.")
    size: int
    uploaded_at: dt.datetime


class StoredFileList(Schema):
    items: list[StoredFileOut]


class LinkageRowIn(Schema):
    stars: int | str | None = None
    min_total: Decimal | str | None = None
    secretary: Decimal | str | None = Field(None, description="The secretary's coefficient.")
    committee: Decimal | str | None = Field(None, description="The committee members' coefficient.")
    head: Decimal | str | None = Field(None, description="The administrative head's coefficient (行政负责人).")
    risk_fund: Decimal | str | None = Field(None, description="% of the members' risk fund returned (党员风险金).")


class LinkageIn(Schema):
    rows: list[LinkageRowIn] = Field(..., description="The whole table (it replaces the saved one): every row "
                                                      "by stars, or every row by a minimum total.")


class LinkageRowOut(Schema):
    stars: int | None
    min_total: Decimal | None
    secretary: Decimal = Field(..., alias="secretary_coefficient")
    committee: Decimal = Field(..., alias="committee_coefficient")
    head: Decimal | None = Field(None, alias="head_coefficient")
    risk_fund: Decimal | None = Field(None, alias="risk_fund_pct")


class LinkageOut(Schema):
    plan_id: int
    by_stars: bool
    rows: list[LinkageRowOut]


# ---- scheme items (drafts) -------------------------------------------------------------------------

class ItemIn(Schema):
    """An item's fields; on a change only those given change."""

    category: str = Field("", description="The category's code (a new item: default the first category).")
    code: str | None = None
    title: str | None = None
    standard: str | None = None
    max_points: Decimal | str | None = None
    kind: str | None = Field(None, description="work / veto / interactive / bonus / penalty")
    method: str | None = Field(None, description="deduct / graded / ratio / yesno")
    deduct_per: Decimal | str | None = None
    levels: list[list[str]] | None = None
    ratio_floor: Decimal | str | None = None
    ratio_full: Decimal | str | None = None
    evidence_required: bool | None = None
    annual_only: bool | None = None
    metric: str | None = None
    veto_effect: str | None = None
    veto_deduction: Decimal | str | None = None
    veto_star_cap: int | None = None
