"""The API scope walk's cases for /api/v1/assessment (merged by tests/walk.py; hooks documented in
pbqms/core/tests/walk_registry.py).

The records are those the app's other walk modules set up (their `setup` runs first and fills
`ctx.extra`): under "assess" (tests/walk.py) a published 2026 scheme of SUB1 and of SUB2 with their
plans, 2026Q1 in scoring and the department's sheet of B01 / B03; under "ares" (walk_results.py) a
2025 plan of each with 2025Q1 published (results of B01, B02 / B03) and proposed star ratings.
Each pair is (inside, outside).
"""

from __future__ import annotations

from typing import Any

from pbqms.accounts import services as accounts
from pbqms.accounts.models import Role
from pbqms.assessment import services
from pbqms.assessment.models import (
    LinkageRow,
    PanelMember,
    Period,
    PeriodStatus,
    Plan,
    Result,
    Scheme,
    SchemeItem,
    Score,
    Sheet,
    SheetKind,
    StarChange,
    StarRating,
)
from pbqms.assessment.tests import walk_results as W
from pbqms.core.tests.walk_registry import Call, Case, Ctx
from pbqms.scope import ASSESS_MANAGE_ROLES

OUTSIDE_CODES = ("B03", "SUB2", "GRP")
OUTSIDE_MEMBER_SCHEME = "二矿越界积分细则"
OUTSIDE_WORDS = [OUTSIDE_MEMBER_SCHEME]


def _member_period(actor: Any, owner: Any, member: Any, name: str) -> int:
    """A members' points scheme of `owner` (year 2024) whose 2024Q1 is published with `member` scored."""
    plan, items = W.make_plan(actor, owner, year=2024, data=W.member_data(name))
    period = Period.objects.get(plan=plan, key="2024Q1")
    services.move_period(actor, period, PeriodStatus.SCORING)
    period.refresh_from_db()
    sheet = services.open_sheet(actor, period, member.unit, SheetKind.ASSESSOR, member=member)
    services.save_scores(actor, sheet, [services.ScoreInput(item=items[c], **W.FACTS, **v)
                                        for c, v in {**W.FULL, "DJ01": {"occurrences": 1}}.items()])
    services.submit_sheet(actor, sheet)
    services.move_period(actor, period, PeriodStatus.REVIEW)
    services.move_period(actor, period, PeriodStatus.PUBLISHED)
    return period.pk


def setup(tree: Any, users: dict[str, Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The API's own records: a members' points period of SUB1 (m01 scored) and of SUB2 (m03)."""
    staff = users[Role.DEPARTMENT_STAFF]
    inside = _member_period(staff, tree.sub1, tree.m01, "党员量化积分细则")
    outsider = accounts.create_user(None, username="assess_api_walk_sub2", password="x", validate=False)
    accounts.grant_role(None, outsider, Role.DEPARTMENT_STAFF, tree.sub2)
    outside = _member_period(outsider, tree.sub2, tree.m03, OUTSIDE_MEMBER_SCHEME)
    return {"aapi": {"member_period": (inside, outside)}}


def _manager(c: Ctx) -> bool:
    """Those who manage SUB1's assessment (the plan's linkage table is theirs)."""
    return c.unit == "SUB1" and c.role in ASSESS_MANAGE_ROLES


def _whole(c: Ctx) -> bool:
    """Those who read the whole of SUB1's periods (the bulletin is theirs)."""
    return c.unit == "SUB1"


def _reads_m01_points(c: Ctx) -> bool:
    """Who reads m01's points: the committee's roles, B01's, and m01 themselves."""
    return c.role != Role.GROUP_LEADER


def _assess(c: Ctx, key: str, inside: bool = True) -> int:
    return int(c.extra["assess"][key][0 if inside else 1])


def _ares(c: Ctx, key: str, inside: bool = True) -> int:
    return int(c.extra["ares"][key][0 if inside else 1])


def _scheme_2025(c: Ctx) -> int:
    return Plan.objects.values_list("scheme_id", flat=True).get(pk=_ares(c, "plan"))


def _home(c: Ctx) -> str:
    """A unit the role reads and may be asked to score: B02 for the committee's roles, else its own."""
    return "B02" if c.unit == "SUB1" else c.unit


def _reads_b01_records(c: Ctx) -> bool:
    """Group leaders read neither B01's sheets nor its results (their scope is their group)."""
    return c.role != Role.GROUP_LEADER


def _if_reads(c: Ctx, *calls: Call) -> list[Call]:
    return list(calls) if _reads_b01_records(c) else []


def _ids(c: Ctx, key: str, src: str = "assess") -> tuple[int, int]:
    get = _assess if src == "assess" else _ares
    return get(c, key), get(c, key, False)


def _by_id(key: str, src: str = "assess", body: dict[str, Any] | None = None, gated: bool = False) -> Case:
    """An operation on one record by {id}: the inside record, the outside one."""
    def inside(c: Ctx) -> list[Call]:
        call = Call(path_params={"id": _ids(c, key, src)[0]}, body=body)
        return _if_reads(c, call) if gated else [call]

    return Case(inside=inside, outside=lambda c: [Call(path_params={"id": _ids(c, key, src)[1]}, body=body)])


SCORES = {"entries": [{"item": "DJ02", "yes": True, "version": 1}]}

API_CASES: dict[str, Case] = {
    # schemes
    "assess_schemes_list": Case(
        inside=lambda c: [Call(query={"limit": 500}), Call(query={"owner": c.unit, "year": 2026}),
                          Call(query={"status": "published", "target_kind": "branch"})],
        outside=lambda c: [Call(query={"owner": code}) for code in OUTSIDE_CODES]),
    "assess_schemes_create": Case(
        inside=lambda c: [Call(body={"owner": c.unit, "year": 2027, "fixture": "liukao"})],
        outside=lambda c: [Call(body={"owner": code, "year": 2027, "fixture": "liukao"}) for code in OUTSIDE_CODES]),
    "assess_schemes_import": Case(
        inside=lambda c: [Call(query={"owner": c.unit, "year": 2027})],
        outside=lambda c: [Call(query={"owner": code, "year": 2027}) for code in OUTSIDE_CODES]),
    "assess_schemes_get": _by_id("scheme"),
    "assess_schemes_publish": _by_id("scheme"),
    "assess_schemes_copy": _by_id("scheme", body={"year": 2027}),
    "assess_schemes_diff": Case(
        inside=lambda c: [Call(path_params={"id": _assess(c, "scheme")}, query={"base": _scheme_2025(c)})],
        outside=lambda c: [Call(path_params={"id": _assess(c, "scheme", False)}),
                           Call(path_params={"id": _assess(c, "scheme")},
                                query={"base": _assess(c, "scheme", False)})]),
    "assess_schemes_export": _by_id("scheme"),
    # plans and periods
    "assess_plans_list": Case(inside=lambda c: [Call(query={"limit": 500}), Call(query={"year": 2025})],
                              outside=lambda c: []),
    "assess_plans_create": Case(
        inside=lambda c: [Call(body={"scheme": _assess(c, "scheme")})],
        outside=lambda c: [Call(body={"scheme": _assess(c, "scheme", False)})]),
    "assess_plans_get": _by_id("plan"),
    "assess_periods_get": _by_id("period"),
    "assess_periods_move": _by_id("period", body={"to": "review"}),
    "assess_periods_compute": _by_id("period"),
    # sheets
    "assess_sheets_open": Case(
        inside=lambda c: [Call(body={"period": _assess(c, "period"), "unit": _home(c), "kind": "assessor"}),
                          Call(body={"period": _assess(c, "period"), "unit": _home(c), "kind": "self"})],
        outside=lambda c: [Call(body={"period": _assess(c, "period", False), "unit": "B03", "kind": "assessor"}),
                           Call(body={"period": _assess(c, "period"), "unit": "B03", "kind": "assessor"}),
                           Call(body={"period": _assess(c, "period"), "member": c.m03, "kind": "self"})]),
    "assess_sheets_get": _by_id("sheet", gated=True),
    "assess_sheets_save": _by_id("sheet", body=SCORES, gated=True),
    "assess_sheets_submit": _by_id("sheet", body={"summary": "自查总结"}, gated=True),
    # results
    "assess_results_list": Case(
        inside=lambda c: [Call(path_params={"id": _ares(c, "period")}, query={"limit": 500}),
                          Call(path_params={"id": _ares(c, "year")})],
        outside=lambda c: [Call(path_params={"id": _ares(c, "period", False)}),
                           Call(path_params={"id": _ares(c, "year", False)})]),
    "assess_results_scorecard": Case(
        inside=lambda c: _if_reads(c, Call(path_params={"id": _ares(c, "period"), "code": "B01"}),
                                   Call(path_params={"id": _ares(c, "year"), "code": "B01"})),
        outside=lambda c: [Call(path_params={"id": _ares(c, "period"), "code": "B03"}),
                           Call(path_params={"id": _ares(c, "period", False), "code": "B03"}),
                           Call(path_params={"id": _ares(c, "period", False), "code": "B01"})]),
    # star ratings
    "assess_stars_list": _by_id("plan", "ares"),
    "assess_stars_publicise": _by_id("plan", "ares", body={"days": 5}),
    "assess_stars_confirm": _by_id("plan", "ares"),
    "assess_stars_change": _by_id("rating", "ares", body={"stars": 3, "reason": "动态调整"}, gated=True),
    # scheme items (drafts only: the walk's schemes are published, so writers get 422, others 403)
    "assess_items_create": _by_id("scheme", body={"category": "DJ", "code": "DJ09", "title": "新项目",
                                                  "standard": "每季度1次", "max_points": "1", "method": "yesno"}),
    "assess_items_update": Case(
        inside=lambda c: [Call(path_params={"id": _assess(c, "scheme"), "item": "DJ01"}, body={"title": "改名"})],
        outside=lambda c: [Call(path_params={"id": _assess(c, "scheme", False), "item": "DJ01"},
                                body={"title": "改名"})]),
    "assess_items_delete": Case(
        inside=lambda c: [Call(path_params={"id": _assess(c, "scheme"), "item": "DJ01"})],
        outside=lambda c: [Call(path_params={"id": _assess(c, "scheme", False), "item": "DJ01"})]),
    # periods: the panel and the analysis
    "assess_periods_panel": _by_id("period", body={"members": []}),
    "assess_periods_analysis": _by_id("period", body={"analysis": "半年分析：整体较好"}),
    "assess_sheets_withdraw": _by_id("sheet", body={"reason": "修改评分"}, gated=True),
    # results: members' points, deductions → findings
    "assess_results_member_scorecard": Case(
        inside=lambda c: [Call(path_params={"id": c.extra["aapi"]["member_period"][0], "member": c.m01})]
        if _reads_m01_points(c) else [],
        outside=lambda c: [Call(path_params={"id": c.extra["aapi"]["member_period"][1], "member": c.m03}),
                           Call(path_params={"id": c.extra["aapi"]["member_period"][0], "member": c.m03}),
                           Call(path_params={"id": c.extra["aapi"]["member_period"][1], "member": c.m01})]),
    "assess_results_findings": Case(
        inside=lambda c: _if_reads(c, Call(path_params={"id": _ares(c, "period")}, body={"unit": "B01"})),
        outside=lambda c: [Call(path_params={"id": _ares(c, "period")}, body={"unit": "B03"}),
                           Call(path_params={"id": _ares(c, "period", False)}, body={"unit": "B03"}),
                           Call(path_params={"id": _ares(c, "period", False)}, body={"unit": "B01"})]),
    # bulletins
    "assess_bulletin_docx": Case(
        inside=lambda c: [Call(path_params={"id": _ares(c, "period")})] if _whole(c) else [],
        outside=lambda c: [Call(path_params={"id": _ares(c, "period", False)})]),
    "assess_bulletin_pdf": Case(
        inside=lambda c: [Call(path_params={"id": _ares(c, "period")})] if _whole(c) else [],
        outside=lambda c: [Call(path_params={"id": _ares(c, "period", False)})]),
    "assess_bulletin_build": _by_id("period", "ares"),
    "assess_bulletin_files": Case(
        inside=lambda c: [Call(path_params={"id": _ares(c, "period")})] if _whole(c) else [],
        outside=lambda c: [Call(path_params={"id": _ares(c, "period", False)})]),
    # performance linkage
    "assess_linkage_get": Case(
        inside=lambda c: [Call(path_params={"id": _ares(c, "plan")})] if _manager(c) else [],
        outside=lambda c: [Call(path_params={"id": _ares(c, "plan", False)})]),
    "assess_linkage_save": _by_id("plan", "ares", body={"rows": [{"stars": 5, "secretary": "1.2",
                                                                  "committee": "1.1"}]}),
    "assess_linkage_export": Case(
        inside=lambda c: [Call(path_params={"id": _ares(c, "plan")}),
                          Call(path_params={"id": _ares(c, "plan")}, query={"period": _ares(c, "period")})]
        if _manager(c) else [],
        outside=lambda c: [Call(path_params={"id": _ares(c, "plan", False)}),
                           Call(path_params={"id": _ares(c, "plan", False)}, query={"period": _ares(c, "period")})]
        + ([Call(path_params={"id": _ares(c, "plan")}, query={"period": _ares(c, "period", False)})]
           if _manager(c) else [])),
}


def fingerprint() -> tuple[Any, ...]:
    """Everything an assessment API write could touch."""
    return (sorted(Scheme.objects.values_list("pk", "status", "version")), SchemeItem.objects.count(),
            Plan.objects.count(), sorted(Period.objects.values_list("pk", "status", "computed_at")),
            sorted(Sheet.objects.values_list("pk", "status")), sorted(Score.objects.values_list("pk", "version")),
            Result.objects.count(), sorted(StarRating.objects.values_list("pk", "stars", "status", "notice_until")),
            StarChange.objects.count(), sorted(PanelMember.objects.values_list("period_id", "user_id", "is_lead")),
            sorted(Period.objects.values_list("pk", "analysis")),
            sorted(LinkageRow.objects.values_list("plan_id", "stars", "min_total", "secretary_coefficient",
                                                  "committee_coefficient")),
            _findings())


def _findings() -> int:
    from pbqms.rectification.models import Finding

    return Finding.objects.filter(source="assessment").count()
