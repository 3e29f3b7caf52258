"""Full marks and the year (issue 22, decision 0012): the year follows its quarters; each period's
results stand on the full mark; the scorecard states how the total is made."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from pbqms.accounts.models import Role
from pbqms.assessment import results, schemes, services
from pbqms.assessment.models import Result, Scheme, SchemeStatus
from pbqms.assessment.tests.conftest import SMALL, make_setup
from pbqms.assessment.tests.test_results import result, run_period


def _sum(r: Result) -> Decimal:
    return sum((Decimal(v) for v in r.categories.values()), Decimal(0))


def test_the_year_follows_its_quarters_and_its_subtotals_add_up(setup, tree, admin_user):
    """22.1: B01 has the better quarters (88 and 90 of 90) but one year-end item (10 points) graded
    0; B02 has weaker quarters (80 of 90 twice) and the year-end item in full. The year is the
    quarterly items' mean + the year-end items at their own points: 89 against 90 — no 30-point
    swing from a 10-point item (the old weighted rule made it 69.22 against 92.22)."""
    run_period(setup, admin_user, "2026Q1", {tree.b01: {"DJ01": {"occurrences": 1}},
                                             tree.b02: {"DJ01": {"occurrences": 5}}})
    run_period(setup, admin_user, "2026Q2", {tree.b01: {}, tree.b02: {"DJ01": {"occurrences": 5}}})
    year = run_period(setup, admin_user, "2026", {tree.b01: {"XC02": {"yes": False}}, tree.b02: {}})
    r1, r2 = result(year, tree.b01), result(year, tree.b02)
    assert (r1.quarter_part, r1.annual_part, r1.total) == (Decimal("89"), Decimal("0"), Decimal("89"))
    assert (r2.quarter_part, r2.annual_part, r2.total) == (Decimal("80"), Decimal("10"), Decimal("90"))
    assert _sum(r1) == r1.total and _sum(r2) == r2.total  # the category subtotals add up to the total


def test_a_weighted_year_states_its_formula_and_its_subtotals_still_add_up(tree, admin_user, users, client):
    setup = make_setup(tree, admin_user)
    setup.plan.year_rule = "weighted"
    setup.plan.save()
    run_period(setup, admin_user, "2026Q1", {tree.b01: {"DJ01": {"occurrences": 1}}})  # 88 of 90
    year = run_period(setup, admin_user, "2026", {tree.b01: {}})  # 10 of 10
    r = result(year, tree.b01)
    # 88 ÷ 90 × 100 × 70 % + 10 ÷ 10 × 100 × 30 % = 68.44 + 30
    assert r.total == Decimal("98.44") and (r.quarter_part, r.annual_part) == (Decimal("88"), Decimal("10"))
    assert _sum(r) == r.total  # 52.89 + 45.55, not 52.89 + 45.56 (each rounded alone)
    client.force_login(users[Role.DEPARTMENT_STAFF])
    page = client.get(reverse("assessment:scorecard", kwargs={"period_pk": year.pk, "code": "B01"}))
    text = page.content.decode()
    assert page.status_code == 200
    assert "88 ÷ 90 × 100 × 70% = 68.44" in text and "10 ÷ 10 × 100 × 30% = 30" in text
    assert "公式" in text and "满分100" in text


def test_a_quarter_stands_on_the_full_mark(setup, tree, admin_user, users, client):
    """22.2: the quarter scores 90 of the 100 points (XC02 is a year-end item); a perfect quarter is
    100, not 90, and the scorecard shows the step and the full mark."""
    q1 = run_period(setup, admin_user, "2026Q1", {tree.b01: {}, tree.b02: {"DJ01": {"occurrences": 1}}})
    assert result(q1, tree.b01).total == Decimal("100")
    r2 = result(q1, tree.b02)
    assert (r2.base, r2.total) == (Decimal("97.78"), Decimal("97.78"))
    assert _sum(r2) == Decimal("88")  # the subtotals stay on the quarter's own points
    client.force_login(users[Role.DEPARTMENT_STAFF])
    text = client.get(reverse("assessment:scorecard", kwargs={"period_pk": q1.pk, "code": "B02"})).content.decode()
    assert "88 × 100 ÷ 90 = 97.78" in text and "总分（满分100）" in text
    ranking = client.get(reverse("assessment:ranking", kwargs={"period_pk": q1.pk})).content.decode()
    assert "/100" in ranking


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_a_scheme_that_does_not_rescale_needs_quarterly_items_making_the_full_mark(tree, admin_user, lang):
    from django.utils import translation

    data = {**SMALL, "quarter_mark": "require"}
    scheme = schemes.load_scheme(admin_user, tree.sub1, 2026, data)
    with translation.override(lang), pytest.raises(ValidationError) as e:
        schemes.publish_scheme(admin_user, scheme)
    wanted = ("季度考核项目须单独合计满分100分" if lang == "zh-hans" else "quarterly items must make the full mark 100")
    assert any(wanted in m and "90" in m for m in e.value.messages)
    assert Scheme.objects.get(pk=scheme.pk).status == SchemeStatus.DRAFT
    # without the year-end item in a category of its own, the quarterly items make 100: published
    data = {**data, "categories": [{**c, "items": [{**i, "annual_only": False} for i in c["items"]]}
                                   for c in SMALL["categories"]]}
    ok = schemes.publish_scheme(admin_user, schemes.load_scheme(admin_user, tree.sub1, 2026, data))
    plan = services.create_plan(admin_user, ok)
    assert ok.status == SchemeStatus.PUBLISHED and plan.year_rule == "sum"


def test_a_veto_removes_eligibility_whatever_the_points(setup, tree, admin_user):
    """22.5: B02 triggers FJ02 (违纪案件) and still scores 100 in both periods: no stars at all (the
    1-star level asks for no veto-free record, yet a vetoed unit is not eligible), and its result
    says so; its total is not cut by a fixed deduction."""
    from pbqms.assessment import stars

    run_period(setup, admin_user, "2026Q1", {tree.b01: {"DJ01": {"occurrences": 5}}, tree.b02: {}})
    year = run_period(setup, admin_user, "2026", {tree.b01: {}, tree.b02: {"FJ02": {"yes": True}}})
    r2 = result(year, tree.b02)
    assert r2.vetoed and r2.total == Decimal("100") and r2.star_cap == 0
    proposals = stars.star_proposals(year)
    assert tree.b02.pk not in proposals and proposals[tree.b01.pk] == 3  # 80 + 10 = 90


@pytest.mark.parametrize(("lang", "effect", "wanted"), [
    ("zh-hans", "deduct", "否决不扣分"), ("en", "deduct", "make a fixed deduction a penalty item"),
    ("zh-hans", "cap_stars", "不得保留任何星级"), ("en", "cap_stars", "cannot keep some stars")])
def test_a_veto_that_deducts_or_caps_stars_is_refused(tree, admin_user, lang, effect, wanted):
    from django.utils import translation

    scheme = schemes.load_scheme(admin_user, tree.sub1, 2026, SMALL)
    fj = schemes.items_by_code(scheme)["FJ01"]
    with translation.override(lang), pytest.raises(ValidationError) as e:
        schemes.save_item(admin_user, scheme, {"veto_effect": effect, "veto_deduction": "10",
                                               "veto_star_cap": 2}, item=fj)
    assert any(wanted in m for m in e.value.messages)
    fj.refresh_from_db()
    assert fj.veto_effect == "zero" and fj.veto_deduction is None


def test_every_star_rating_shows_the_rule_that_decided_it_and_links_to_the_scorecard(setup, tree, admin_user,
                                                                                     users, client):
    """20.5: both units score 100 for the year; the 5-star quota (50 % of 2 = 1) lets only the first
    keep five stars: its rating says it reached the threshold in place 1 of 1; the second's says the
    5-star quota was filled and it reached the 3-star threshold; each links to its scorecard."""
    from pbqms.assessment.models import StarRating

    run_period(setup, admin_user, "2026Q1", {tree.b01: {}, tree.b02: {}})
    year = run_period(setup, admin_user, "2026", {tree.b01: {}, tree.b02: {}})
    ratings = {r.stars: r for r in StarRating.objects.filter(plan=setup.plan)}
    assert sorted(ratings) == [3, 5]
    assert ratings[5].basis["rule"] == "threshold" and ratings[5].basis["quota"][:2] == [1, 1]
    assert [s["why"] for s in ratings[3].basis["passed_over"]] == ["quota"]
    client.force_login(users[Role.DEPARTMENT_STAFF])
    text = client.get(reverse("assessment:stars", kwargs={"plan_pk": setup.plan.pk})).content.decode()
    assert "达到95分的标准" in text and "名额内：第1名，共1个名额" in text
    assert "5★未评：名额1个（占单位数50%）已由排名更靠前的单位占满" in text
    code = ratings[3].unit.code
    assert reverse("assessment:scorecard", kwargs={"period_pk": year.pk, "code": code}) in text
    one = client.get(reverse("assessment:star_rating", kwargs={"rating_pk": ratings[3].pk})).content.decode()
    assert "已由排名更靠前的单位占满" in one and "达到80分的标准" in one


def test_linkage_adds_the_administrative_head_award_eligibility_and_the_members_risk_fund(tree, users,
                                                                                          admin_user):
    """22.6 (seed 001: 与黨員風險金掛鉤，與評先評優掛鉤，行政負責人也一同獎勵): the table gives the
    administrative head's coefficient and the risk fund's share; the export has the head's row per
    unit, says who is eligible for awards (a veto: not), and returns members' risk funds by points."""
    from pbqms.assessment import linkage
    from pbqms.assessment.models import Period, Plan
    from pbqms.assessment.tests import walk_results as W
    from pbqms.members import services as members

    staff = users[Role.DEPARTMENT_STAFF]
    data = W.build(staff, tree.sub1, [tree.b01, tree.b02])
    plan = Plan.objects.get(pk=data["plan"])
    year = Period.objects.get(pk=data["year"])
    members.assign_committee_role(None, tree.m01, tree.b01, "secretary", started_on=year.starts_on)
    linkage.save_linkage(staff, plan, [linkage.LinkageInput(min_total=t, secretary="1.2", committee="1.1", head=h)
                                       for t, h in (("90", "1.15"), ("0", "1.0"))])
    from pbqms.assessment.models import Result
    Result.objects.filter(period=year, unit=tree.b02).update(vetoed=True, veto_items="FJ02")
    rows = list(linkage.export_rows(staff, plan, year))
    heads = [r for r in rows if "行政负责人" in str(r[9])]
    assert {r[1] for r in heads} == {"B01", "B02"} and all(r[10] in (Decimal("1.15"), Decimal("1.0")) for r in heads)
    eligible = {r[1]: r[7] for r in rows}
    assert eligible["B02"] == "否" and eligible["B01"] == "是"
    assert "评先评优" in linkage.export_headers()[7]
    # bad input: a share of the risk fund over 100 % — a clear message, nothing changed
    before = list(plan.linkage.values_list("min_total", "head_coefficient"))
    with pytest.raises(ValidationError) as e:
        linkage.save_linkage(staff, plan, [linkage.LinkageInput(min_total="60", secretary="1", committee="1",
                                                                risk_fund="120")])
    assert "风险金" in e.value.messages[0]
    assert list(plan.linkage.values_list("min_total", "head_coefficient")) == before
    # members' points: each member's risk fund returned at the band their points reach
    mplan, period, other = W.scored_member_points(tree, staff)
    results.compute(period)
    linkage.save_linkage(staff, mplan, [linkage.LinkageInput(min_total=t, secretary="1", committee="1", risk_fund=f)
                                        for t, f in (("95", "100"), ("0", "80"))])
    fund = {r[8]: r[11] for r in linkage.export_rows(staff, mplan, period)}
    assert fund[other.name] == Decimal("100") and fund[tree.m01.name] == Decimal("80")
