"""How the scope walks reach the results pages (merged by tests/walk.py; hooks documented in
pbqms/core/tests/walk_registry.py), and the builders the results tests share.

Inside every role's reach: a scheme of SUB1 (year 2025) whose 2025Q1 is published with results of
B01 and B02 (deductions with their five facts), whose year is published with proposed star ratings,
and whose linkage table is set. Outside everybody's scope but the superuser's: the same of SUB2 and
B03, whose words must never show.
"""

from __future__ import annotations

import copy
from typing import Any

from pbqms.accounts import services as accounts
from pbqms.accounts.models import Role
from pbqms.assessment import linkage, schemes, services
from pbqms.assessment.models import (
    ItemKind,
    LinkageRow,
    Method,
    Period,
    PeriodStatus,
    Plan,
    Result,
    SchemeItem,
    SheetKind,
    StarChange,
    StarRating,
)
from pbqms.assessment.tests.conftest import SMALL

YEAR = 2025
OUTSIDE_SCHEME = "二矿越界结果细则"
OUTSIDE_REASON = "越界扣分原因甲"
WEB_PARAMS = {"period_pk", "plan_pk", "rating_pk", "code", "member_pk"}
OUTSIDE_WORDS = [OUTSIDE_SCHEME, OUTSIDE_REASON]

FACTS = {"reason": "支委会记录缺失", "standard_applied": "缺1次扣2分", "evidence_ref": "支委会记录本第3页"}
FULL = {"DJ01": {"occurrences": 0}, "DJ02": {"level": "好"}, "DJ03": {"measured": "100"}, "XC01": {"yes": True}}


def member_data(name: str = "党员量化积分细则") -> dict[str, Any]:
    """The SMALL scheme as members' quantified points (no unit figures, no stars)."""
    data = copy.deepcopy(SMALL)
    data.update(name=name, target_kind="member", stars=[])
    for category in data["categories"]:
        for item in category["items"]:
            item.pop("metric", None)
    return data


def make_plan(actor: Any, owner: Any, name: str = "", year: int = YEAR, data: dict[str, Any] | None = None
              ) -> tuple[Plan, dict[str, SchemeItem]]:
    """A published scheme (the SMALL test scheme unless `data`) of `owner` with its year's plan."""
    data = copy.deepcopy(data or SMALL)
    if name:
        data["name"] = name
    scheme = schemes.publish_scheme(actor, schemes.load_scheme(actor, owner, year, data))
    plan = services.create_plan(actor, scheme)
    return plan, schemes.items_by_code(scheme)


def score(actor: Any, period: Period, unit: Any, items: dict[str, SchemeItem], values: dict[str, dict],
          facts: dict[str, str] | None = None) -> Any:
    """One assessor sheet of `unit`, scored (full points unless `values` say otherwise) and submitted."""
    sheet = services.open_sheet(actor, period, unit, SheetKind.ASSESSOR)
    base = {"XC02": {"yes": True}} if period.kind == "year" else dict(FULL)
    entries = [services.ScoreInput(item=items[c], **(facts or FACTS), **v) for c, v in {**base, **values}.items()]
    services.save_scores(actor, sheet, entries)
    return services.submit_sheet(actor, sheet)


def run_period(actor: Any, plan: Plan, items: dict[str, SchemeItem], key: str,
               per_unit: dict[Any, dict[str, dict]], facts: dict[str, str] | None = None) -> Period:
    """Score the units named and publish the period (which computes its results)."""
    period = Period.objects.get(plan=plan, key=key)
    services.move_period(actor, period, PeriodStatus.SCORING)
    period.refresh_from_db()
    for unit, values in per_unit.items():
        score(actor, period, unit, items, values, facts)
    services.move_period(actor, period, PeriodStatus.REVIEW)
    services.move_period(actor, period, PeriodStatus.PUBLISHED)
    period.refresh_from_db()
    return period


def varied(items: list[SchemeItem], k: int, facts: dict[str, str] | None = None) -> list[services.ScoreInput]:
    """Every item of a sheet scored, about one in five losing points, deterministically by `k`."""
    out = []
    for n, it in enumerate(items):
        h = (k * 31 + n * 17 + k * n) % 23
        v: dict[str, Any]
        if it.kind == ItemKind.VETO:
            continue  # blank: not triggered
        if it.kind in (ItemKind.BONUS, ItemKind.PENALTY):
            if h != 0:
                continue
            v = {"occurrences": 1}
        elif it.method == Method.DEDUCT:
            v = {"occurrences": 1 if h < 3 else 2 if h == 3 else 0}
        elif it.method == Method.GRADED:
            levels = [name for name, _points in it.levels]
            v = {"level": levels[0] if h >= 4 else levels[min(1 + h % 2, len(levels) - 1)]}
        elif it.method == Method.RATIO:
            v = {"measured": "100" if h >= 5 else str(60 + 6 * h), "override_reason": "按原始记录核定"}
        else:
            v = {"yes": h != 0}
        out.append(services.ScoreInput(item=it, **(facts or FACTS), **v))
    return out


def run_varied(actor: Any, plan: Plan, key: str, units: list[Any], seed: int = 0,
               vetoes: dict[Any, str] | None = None, facts: dict[str, str] | None = None) -> Period:
    """Score every unit with `varied` scores (plus the named vetoes) and publish the period."""
    period = Period.objects.get(plan=plan, key=key)
    services.move_period(actor, period, PeriodStatus.SCORING)
    period.refresh_from_db()
    items = services.sheet_items(period)
    by_code = {i.code: i for i in items}
    for i, unit in enumerate(units):
        sheet = services.open_sheet(actor, period, unit, SheetKind.ASSESSOR)
        entries = varied(items, seed + i, facts)
        if vetoes and unit in vetoes:
            entries.append(services.ScoreInput(item=by_code[vetoes[unit]], yes=True, **(facts or FACTS)))
        services.save_scores(actor, sheet, entries)
        services.submit_sheet(actor, sheet)
    services.move_period(actor, period, PeriodStatus.REVIEW)
    services.move_period(actor, period, PeriodStatus.PUBLISHED)
    period.refresh_from_db()
    return period


def build(actor: Any, owner: Any, units: list[Any], name: str = "", reason: str = "") -> dict[str, Any]:
    """A plan of `owner` with 2025Q1 and the year published for `units` (the first loses points on
    DJ01 and DJ02, the second on XC01 with a penalty), stars proposed and a linkage table."""
    plan, items = make_plan(actor, owner, name)
    facts = {**FACTS, "reason": reason} if reason else None
    per_unit: dict[Any, dict[str, dict]] = {}
    for i, unit in enumerate(units):
        per_unit[unit] = ({"DJ01": {"occurrences": 2}, "DJ02": {"level": "较好"}} if i % 2 == 0
                          else {"XC01": {"yes": False}, "JK02": {"occurrences": 1}})
    q1 = run_period(actor, plan, items, f"{YEAR}Q1", per_unit, facts)
    year = run_period(actor, plan, items, str(YEAR), {u: {} for u in units}, facts)
    linkage.save_linkage(actor, plan, [linkage.LinkageInput(stars=s, secretary=sec, committee=com)
                                       for s, sec, com in ((5, "1.2", "1.1"), (3, "1.1", "1.0"), (1, "1.0", "0.9"))])
    rating = StarRating.objects.filter(plan=plan).order_by("unit__path").first()
    return {"plan": plan.pk, "period": q1.pk, "year": year.pk, "rating": rating.pk if rating else 0,
            "items": {c: i.pk for c, i in items.items()}}


def setup(tree: Any, users: dict[str, Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    staff = users[Role.DEPARTMENT_STAFF]
    inside = build(staff, tree.sub1, [tree.b01, tree.b02])
    outsider = accounts.create_user(None, username="assess_res_walk_sub2", password="x", validate=False)
    accounts.grant_role(None, outsider, Role.DEPARTMENT_STAFF, tree.sub2)
    outside = build(outsider, tree.sub2, [tree.b03], name=OUTSIDE_SCHEME, reason=OUTSIDE_REASON)
    return {"ares": {k: (inside[k], outside[k]) for k in ("plan", "period", "year", "rating")}}


def web_values(role: str, inside: bool, tree: Any, extra: dict[str, Any]) -> dict[str, str]:
    a = extra["ares"]
    i = 0 if inside else 1
    return {"period_pk": str(a["period"][i]), "plan_pk": str(a["plan"][i]), "rating_pk": str(a["rating"][i])}


def outside_state(path: str) -> tuple[Any, ...]:
    from pbqms.rectification.models import Finding

    return (list(Result.objects.filter(org_path__startswith=path).order_by("pk").values()),
            list(StarRating.objects.filter(org_path__startswith=path).order_by("pk").values()),
            StarChange.objects.filter(rating__org_path__startswith=path).count(),
            list(LinkageRow.objects.filter(plan__org_path__startswith=path).order_by("pk").values()),
            list(Finding.objects.filter(org_path__startswith=path, source="assessment").values_list("pk")))


def scored_member_points(tree: Any, staff: Any) -> tuple[Any, Any, Any]:
    """A members' points scheme of SUB1 in review: m01 (loses 3 × DJ01) and a second B01 member,
    赵六, scored on assessor sheets. Returns (plan, period, 赵六)."""
    from pbqms.members import services as members

    other = members.create_member(None, unit=tree.b01, name="赵六", gender="M", status="full")
    plan, items = make_plan(staff, tree.sub1, data=member_data())
    period = Period.objects.get(plan=plan, key=f"{YEAR}Q1")
    services.move_period(staff, period, PeriodStatus.SCORING)
    period.refresh_from_db()
    for member, extra in ((tree.m01, {"DJ01": {"occurrences": 3}}), (other, {})):
        sheet = services.open_sheet(staff, period, tree.b01, SheetKind.ASSESSOR, member=member)
        services.save_scores(staff, sheet, [services.ScoreInput(item=items[c], **FACTS, **v)
                                            for c, v in {**FULL, **extra}.items()])
        services.submit_sheet(staff, sheet)
    services.move_period(staff, period, PeriodStatus.REVIEW)
    return plan, period, other
