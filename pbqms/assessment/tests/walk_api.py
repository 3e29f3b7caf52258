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

from pbqms.accounts.models import Role
from pbqms.assessment.models import (
    Period,
    Plan,
    Result,
    Scheme,
    SchemeItem,
    Score,
    Sheet,
    StarChange,
    StarRating,
)
from pbqms.core.tests.walk_registry import Call, Case, Ctx

OUTSIDE_CODES = ("B03", "SUB2", "GRP")


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
}


def fingerprint() -> tuple[Any, ...]:
    """Everything an assessment API write could touch."""
    return (sorted(Scheme.objects.values_list("pk", "status", "version")), SchemeItem.objects.count(),
            Plan.objects.count(), sorted(Period.objects.values_list("pk", "status", "computed_at")),
            sorted(Sheet.objects.values_list("pk", "status")), sorted(Score.objects.values_list("pk", "version")),
            Result.objects.count(), sorted(StarRating.objects.values_list("pk", "stars", "status", "notice_until")),
            StarChange.objects.count())
