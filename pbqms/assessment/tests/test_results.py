"""Results: totals, category subtotals, vetoes, caps, ranks, change, half-year, year and stars."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from pbqms.assessment import results, services
from pbqms.assessment.models import (
    ItemResult,
    PeriodStatus,
    Result,
    SheetKind,
    StarRating,
    StarStatus,
)
from pbqms.assessment.services import ScoreInput
from pbqms.orgs import services as orgs

FACTS = {"reason": "检查发现问题", "standard_applied": "按细则扣分", "evidence_ref": "检查记录"}


def score_unit(setup, actor, period, unit, values: dict[str, dict]):
    sheet = services.open_sheet(actor, period, unit, SheetKind.ASSESSOR)
    base = {"DJ01": {"occurrences": 0}, "DJ02": {"level": "好"}, "DJ03": {"measured": "100"}, "XC01": {"yes": True}}
    if period.kind == "year":
        base = {"XC02": {"yes": True}}
    merged = {**base, **values}
    services.save_scores(actor, sheet, [ScoreInput(item=setup.items[c], **FACTS, **v) for c, v in merged.items()])
    services.submit_sheet(actor, sheet)
    return sheet


def run_period(setup, admin, key, per_unit: dict):
    period = setup.period(key)
    services.move_period(admin, period, PeriodStatus.SCORING)
    period.refresh_from_db()
    for unit, values in per_unit.items():
        score_unit(setup, admin, period, unit, values)
    services.move_period(admin, period, PeriodStatus.REVIEW)
    services.move_period(admin, period, PeriodStatus.PUBLISHED)
    period.refresh_from_db()
    return period


def result(period, unit) -> Result:
    return Result.objects.get(period=period, unit=unit)


def test_quarter_totals_categories_ranks_and_item_figures(setup, tree, admin_user):
    q1 = run_period(setup, admin_user, "2026Q1", {
        tree.b01: {"DJ01": {"occurrences": 1}, "JK01": {"occurrences": 1}},  # 98 + 2 bonus
        tree.b02: {"DJ02": {"level": "一般"}, "JK02": {"occurrences": 1}},  # 80 (only 90 scored max) - 3
    })
    r1, r2 = result(q1, tree.b01), result(q1, tree.b02)
    # the quarter scores 90 of the 100 points (XC02 is a year-end item): rescaled to 100 (decision 0012)
    assert (r1.base, r1.bonus, r1.penalty, r1.total) == (Decimal("97.78"), Decimal("2"), Decimal("0"),
                                                         Decimal("99.78"))
    assert (r2.base, r2.penalty, r2.total) == (Decimal("88.89"), Decimal("-3"), Decimal("85.89"))
    assert (r1.rank, r2.rank) == (1, 2)
    assert (r1.peer_rank, r1.peer_size) == (1, 2)  # both under SUB1
    codes = dict(setup.scheme.categories.values_list("pk", "code"))
    cats = {codes[int(c)]: Decimal(v) for c, v in r1.categories.items()}
    assert cats["DJ"] == Decimal("68") and cats["XC"] == Decimal("20") and cats["JK"] == Decimal("2")
    items = {r.item.code: r for r in ItemResult.objects.filter(period=q1).select_related("item")}
    assert items["DJ01"].units_deducted == 1 and items["DJ01"].points_deducted == Decimal("2")
    assert items["DJ02"].points_deducted == Decimal("10")
    assert items["JK02"].points_deducted == Decimal("3")


def test_bonus_and_penalty_caps(setup, tree, admin_user):
    q1 = run_period(setup, admin_user, "2026Q1", {
        tree.b01: {"JK01": {"occurrences": 2}},  # 4 bonus, capped at 3
        tree.b02: {"JK02": {"occurrences": 3}},  # 9 penalty, capped at 5
    })
    assert result(q1, tree.b01).bonus == Decimal("3") and result(q1, tree.b01).total == Decimal("103")
    assert result(q1, tree.b02).penalty == Decimal("-5") and result(q1, tree.b02).total == Decimal("95")


def test_veto_zero_and_star_cap(setup, tree, admin_user):
    q1 = run_period(setup, admin_user, "2026Q1", {
        tree.b01: {"FJ01": {"yes": True}},
        tree.b02: {"FJ02": {"yes": True}},
    })
    r1, r2 = result(q1, tree.b01), result(q1, tree.b02)
    assert r1.vetoed and r1.total == 0 and r1.veto_items == "FJ01"
    assert r2.vetoed and r2.total == Decimal("100") and r2.star_cap == 0  # a veto: no stars (issue 22.5)
    assert r2.rank == 1 and r1.rank == 2


def test_change_since_last_quarter_and_half_year(setup, tree, admin_user):
    run_period(setup, admin_user, "2026Q1", {tree.b01: {"DJ01": {"occurrences": 5}}, tree.b02: {}})
    q2 = run_period(setup, admin_user, "2026Q2", {tree.b01: {}, tree.b02: {"DJ01": {"occurrences": 1}}})
    # 80 and 90 of the quarter's 90 points: 88.89 and 100 on the full mark
    assert result(q2, tree.b01).previous_total == Decimal("88.89") and result(q2, tree.b01).change == Decimal("11.11")
    h1 = setup.period("2026H1")
    results.compute(h1)
    assert result(h1, tree.b01).total == Decimal("94.45")  # mean of 88.89 and 100
    assert result(h1, tree.b02).total == Decimal("98.89")  # mean of 100 and 97.78


def test_year_combines_quarters_and_annual_items_and_proposes_stars(setup, tree, admin_user):
    run_period(setup, admin_user, "2026Q1", {tree.b01: {}, tree.b02: {"DJ02": {"level": "较好"}}})
    year = run_period(setup, admin_user, "2026", {tree.b01: {}, tree.b02: {"XC02": {"yes": False}}})
    # the year is one 100-point whole (decision 0012): the quarterly items' mean + the year-end items
    # B01: 90 + 10 = 100
    assert result(year, tree.b01).total == Decimal("100")
    # B02: 85 + 0 = 85 (the weighted formula made it 66.11)
    r2 = result(year, tree.b02)
    assert (r2.total, r2.quarter_part, r2.annual_part) == (Decimal("85"), Decimal("85"), Decimal("0"))
    assert sum(Decimal(v) for v in r2.categories.values()) == r2.total
    ratings = {r.unit_id: r for r in StarRating.objects.filter(plan=setup.plan)}
    assert ratings[tree.b01.pk].stars == 5 and ratings[tree.b02.pk].stars == 3
    assert ratings[tree.b01.pk].status == StarStatus.PROPOSED


def test_star_quota_moves_the_next_unit_down(setup, tree, admin_user):
    # both at 100: the 5-star quota (50 % of 2 = 1) lets only the first keep five stars
    run_period(setup, admin_user, "2026Q1", {tree.b01: {}, tree.b02: {}})
    year = run_period(setup, admin_user, "2026", {tree.b01: {}, tree.b02: {}})
    stars = sorted(results.star_proposals(year).values())
    assert stars == [3, 5]


def test_published_results_are_locked(setup, tree, admin_user):
    q1 = run_period(setup, admin_user, "2026Q1", {tree.b01: {}})
    with pytest.raises(ValidationError) as e:
        results.compute(q1, actor=admin_user, allow_published=False)
    assert "2026Q1" in e.value.messages[0]
    assert Result.objects.filter(period=q1).count() == 1


def test_mean_of_a_panel(setup, tree, admin_user, users):
    from pbqms.accounts.models import Role

    period = setup.period("2026Q1")
    a, b = users[Role.DEPARTMENT_STAFF], users[Role.COMMITTEE_SECRETARY]
    services.set_panel(admin_user, period, [a, b])
    services.move_period(admin_user, period, PeriodStatus.SCORING)
    period.refresh_from_db()
    score_unit(setup, a, period, tree.b01, {"DJ01": {"occurrences": 2}})  # 86
    score_unit(setup, b, period, tree.b01, {"DJ01": {"occurrences": 4}})  # 82
    results.compute(period)
    r = result(period, tree.b01)
    assert r.total == Decimal("93.33") and r.assessors == 2  # 84 of the quarter's 90 points


def test_member_points_on_the_same_engine(tree, admin_user, users):
    from pbqms.accounts.models import Role
    from pbqms.assessment import schemes
    from pbqms.assessment.fixtures import SCHEMES
    from pbqms.assessment.models import TargetKind

    scheme = schemes.publish_scheme(admin_user, schemes.load_scheme(admin_user, tree.b01, 2026,
                                                                     SCHEMES["member_points"]))
    assert scheme.target_kind == TargetKind.MEMBER
    plan = services.create_plan(admin_user, scheme)
    period = plan.periods.get(key="2026Q1")
    services.move_period(admin_user, period, PeriodStatus.SCORING)
    period.refresh_from_db()
    secretary, member = users[Role.BRANCH_SECRETARY], users[Role.MEMBER]
    items = schemes.items_by_code(scheme)
    # the member scores themselves on their self sheet, but never as an assessor
    own = services.open_sheet(member, period, tree.b01, SheetKind.SELF, member=tree.m01)
    assert own.member == tree.m01
    with pytest.raises((ValidationError, Exception)):
        services.open_sheet(member, period, tree.b01, SheetKind.ASSESSOR, member=tree.m01)
    sheet = services.open_sheet(secretary, period, tree.b01, SheetKind.ASSESSOR, member=tree.m01)
    entries = [ScoreInput(item=items["ZZ01"], occurrences=1, **FACTS), ScoreInput(item=items["ZZ02"], level="好"),
               ScoreInput(item=items["ZS01"], measured="100"), ScoreInput(item=items["ZS02"], occurrences=0),
               ScoreInput(item=items["ZS03"], occurrences=0), ScoreInput(item=items["YJ01"], measured="88", **FACTS),
               ScoreInput(item=items["YJ02"], occurrences=0), ScoreInput(item=items["SF01"], level="好"),
               ScoreInput(item=items["SF02"], measured="95"), ScoreInput(item=items["JC01"], occurrences=1, **FACTS)]
    services.save_scores(secretary, sheet, entries)
    services.submit_sheet(secretary, sheet)
    results.compute(period)
    r = Result.objects.get(period=period, member=tree.m01)
    assert (r.base, r.bonus, r.total) == (Decimal("94"), Decimal("5"), Decimal("99"))
    assert r.unit == tree.b01 and r.org_path == tree.m01.org_path and r.rank == 1


def test_member_points_prefilled_from_the_member_targets_evaluation(tree, admin_user, users):
    """一次录入、多处复用: the year-end evaluation of a member's targets pre-fills the member-points item."""
    from pbqms.accounts.models import Role
    from pbqms.assessment import schemes
    from pbqms.assessment.fixtures import SCHEMES
    from pbqms.assessment.models import Score
    from pbqms.objectives.models import MemberTarget, ReviewState, TargetPart

    MemberTarget.objects.create(member=tree.m01, unit=tree.b01, org_path=tree.m01.org_path, year=2026,
                                part=TargetPart.COMMON, category="party_spirit", title="党性观念",
                                state=ReviewState.APPROVED, score=90)
    scheme = schemes.publish_scheme(admin_user, schemes.load_scheme(admin_user, tree.b01, 2026,
                                                                     SCHEMES["member_points"]))
    plan = services.create_plan(admin_user, scheme)
    year = plan.periods.get(key="2026Q4")
    services.move_period(admin_user, year, PeriodStatus.SCORING)
    year.refresh_from_db()
    sheet = services.open_sheet(users[Role.BRANCH_SECRETARY], year, tree.b01, SheetKind.ASSESSOR, member=tree.m01)
    score = Score.objects.get(sheet=sheet, item__code="YJ01")
    assert score.auto and score.metric_value == Decimal("90.0")
    assert score.points == Decimal("17.14")  # (90 - 60) / (95 - 60) × 20


def test_a_unit_figure_cannot_score_members(tree, admin_user):
    from pbqms.assessment import schemes
    from pbqms.assessment.fixtures import SCHEMES

    data = {**SCHEMES["member_points"], "categories": [
        {**SCHEMES["member_points"]["categories"][0], "items": [
            {**SCHEMES["member_points"]["categories"][0]["items"][0], "metric": "activities.compliance_rate",
             "method": "ratio", "ratio_floor": "60", "ratio_full": "95"}]}]}
    with pytest.raises(ValidationError) as e:
        schemes.load_scheme(admin_user, tree.b01, 2026, data)
    assert "ZZ01" in " ".join(e.value.messages)


def test_documents_link_to_the_items_they_serve(setup, tree, admin_user):
    """A document naming assessment item codes links to the published scheme holding them."""
    from pbqms.assessment import selectors

    found = selectors.item_lookup(["DJ01", "XX99"])
    assert found["DJ01"][0] == "三会一课" and f"/assessment/schemes/{setup.scheme.pk}/" == found["DJ01"][1]
    assert "XX99" not in found


def test_mean_of_a_panel_rounds_once_on_the_exact_mean(setup, tree, admin_user, users):
    """Three assessors: each figure is the exact mean rounded half up once (decision 0009), so the
    total is not the sum of rounded parts (84.67 + 0.67 would make 85.34)."""
    from pbqms.accounts.models import Role

    period = setup.period("2026Q1")
    panel = [users[Role.DEPARTMENT_STAFF], users[Role.COMMITTEE_SECRETARY], users[Role.COMMITTEE_ADMIN]]
    services.set_panel(admin_user, period, panel)
    services.move_period(admin_user, period, PeriodStatus.SCORING)
    period.refresh_from_db()
    score_unit(setup, panel[0], period, tree.b01, {"DJ01": {"occurrences": 2}, "JK01": {"occurrences": 1}})  # 86 + 2
    score_unit(setup, panel[1], period, tree.b01, {"DJ01": {"occurrences": 3}})  # 84
    score_unit(setup, panel[2], period, tree.b01, {"DJ01": {"occurrences": 3}})  # 84
    score_unit(setup, panel[0], period, tree.b02, {"FJ02": {"yes": True}})  # one of three triggers a veto
    results.compute(period)
    r = result(period, tree.b01)
    # 254 of 3 × 90 points → 94.07 of 100, once; the bonus is not rescaled
    assert (r.base, r.bonus, r.total, r.assessors) == (Decimal("94.07"), Decimal("0.67"), Decimal("94.74"), 3)
    codes = dict(setup.scheme.categories.values_list("pk", "code"))
    cats = {codes[int(c)]: v for c, v in r.categories.items()}
    assert cats["DJ"] == "64.67" and cats["JK"] == "0.67"
    r2 = result(period, tree.b02)
    assert r2.vetoed and r2.veto_items == "FJ02" and r2.star_cap == 0 and r2.assessors == 1
    assert (r.rank, r2.rank) == (2, 1) and (r.peer_size, r2.peer_size) == (2, 2)
    dj01 = ItemResult.objects.get(period=period, item=setup.items["DJ01"])
    # one unit lost 16 ÷ 3 sheets = 5.33 on average (issue 22.3: a unit, not three sheets); 40 − 5.33 ÷ 2 units
    assert (dj01.units_deducted, dj01.points_deducted, dj01.average) == (1, Decimal("5.33"), Decimal("37.34"))


def test_a_recomputation_writes_only_what_changed(setup, tree, admin_user):
    """Decision 0009: unchanged results are left as stored (the same rows), changed ones are
    replaced, and the result of a unit whose sheet was withdrawn goes."""
    period = setup.period("2026Q1")
    services.move_period(admin_user, period, PeriodStatus.SCORING)
    period.refresh_from_db()
    score_unit(setup, admin_user, period, tree.b01, {"DJ01": {"occurrences": 1}})  # 88
    s2 = score_unit(setup, admin_user, period, tree.b02, {"DJ01": {"occurrences": 2}})  # 86
    b04 = orgs.create_unit(None, code="B04", name="第四党支部", kind="branch", parent=tree.sub1)
    score_unit(setup, admin_user, period, b04, {"DJ01": {"occurrences": 5}})  # 80
    assert results.compute(period) == 3
    before = {r.unit_id: (r.pk, r.total, r.rank) for r in Result.objects.filter(period=period)}
    assert results.compute(period) == 3
    assert {r.unit_id: (r.pk, r.total, r.rank) for r in Result.objects.filter(period=period)} == before

    services.withdraw_submission(admin_user, s2, "补录")
    seen = s2.scores.get(item=setup.items["DJ01"]).version
    services.save_scores(admin_user, s2, [ScoreInput(item=setup.items["DJ01"], version=seen, occurrences=0, **FACTS)])
    services.submit_sheet(admin_user, s2)
    assert results.compute(period) == 3
    r1, r2, r3 = result(period, tree.b01), result(period, tree.b02), result(period, b04)
    assert (r2.total, r2.rank, r1.rank, r3.rank) == (Decimal("100"), 1, 2, 3)
    assert r2.pk != before[tree.b02.pk][0] and r1.pk != before[tree.b01.pk][0]  # its rank moved
    assert r3.pk == before[b04.pk][0]  # nothing about B04 changed

    services.withdraw_submission(admin_user, s2, "补录")
    assert results.compute(period) == 2
    assert sorted(Result.objects.filter(period=period).values_list("unit_id", "rank")) == sorted(
        [(tree.b01.pk, 1), (b04.pk, 2)])


def test_a_scheme_with_many_categories(tree, admin_user):
    """The subtotals are built by concatenation: no function-argument limit (SQLite allows 127
    arguments, so 64 categories as key-value pairs would not fit in json_object)."""
    from pbqms.assessment import schemes
    from pbqms.assessment.models import Period, Sheet, SheetStatus

    cats = [{"code": f"C{i:02d}", "name": f"类别{i}", "items": [
        {"code": f"I{i:02d}", "title": "t", "standard": "s", "max_points": "2", "method": "yesno"}]} for i in range(50)]
    cats += [{"code": f"K{i:02d}", "name": f"加分{i}", "items": [
        {"code": f"J{i:02d}", "title": "t", "standard": "s", "max_points": "1", "method": "deduct", "deduct_per": "1",
         "kind": "bonus"}]} for i in range(14)]
    data = {"name": "多类别细则", "target_kind": "branch", "full_mark": "100", "bonus_cap": "0", "penalty_cap": "0",
            "categories": cats, "stars": []}
    scheme = schemes.publish_scheme(admin_user, schemes.load_scheme(admin_user, tree.sub1, 2026, data))
    period = Period.objects.get(plan=services.create_plan(admin_user, scheme), key="2026Q1")
    Sheet.objects.create(period=period, unit=tree.b01, org_path=tree.b01.path, kind=SheetKind.ASSESSOR,
                         status=SheetStatus.SUBMITTED, tally={})  # a sheet at full points, as a bulk load leaves it
    assert results.compute(period) == 1
    r = result(period, tree.b01)
    assert r.total == Decimal("100") and len(r.categories) == 50 and set(r.categories.values()) == {"2.00"}
