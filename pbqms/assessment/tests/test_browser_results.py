"""Browser tests of the results screens (Playwright on Debian's chromium): the committee opens the
dashboard, the ranking, the bulletin, the star ratings and the linkage table; a branch secretary
opens its scorecard; the department raises a deduction as a finding. Each leaves a screenshot in
/work/main/screenshots/assessment_results_*.png."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from pbqms.accounts.models import Role
from pbqms.assessment.models import Period, PeriodStatus, Result, SchemeItem, StarRating, StarStatus
from pbqms.assessment.tests import walk_results as W
from pbqms.core.tests.test_browser import sign_in
from pbqms.orgs import services as orgs
from pbqms.rectification.models import Finding

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(__file__).resolve().parents[3] / "screenshots"
NAMES = ["机关党支部", "综采一队党支部", "综采二队党支部", "掘进一队党支部", "机电队党支部", "运输队党支部",
         "通风队党支部", "洗煤厂党支部"]
REASONS = ["支委会缺1次记录", "党课未按季度开展", "主题党日记录不全", "宣传报道不足2篇"]


def shot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"assessment_results_{name}.png"), full_page=True)


def rich(tree, users) -> dict:
    """SUB1 with ten branches under seed 004's “六考一评” (6 categories, 67 items): 2026Q1 and
    2026Q2 published (one veto in Q2), the year published with proposed stars; a linkage table;
    B01's secretary on record."""
    from pbqms.assessment import linkage
    from pbqms.assessment.fixtures import SCHEMES
    from pbqms.members import services as members

    staff = users[Role.DEPARTMENT_STAFF]
    units = [tree.b01, tree.b02] + [
        orgs.create_unit(None, code=f"B{n:02d}", name=name, kind="branch", parent=tree.sub1, order=n)
        for n, name in enumerate(NAMES, start=4)]
    plan, _items = W.make_plan(staff, tree.sub1, year=2026, data=SCHEMES["liukao"])
    q1 = W.run_varied(staff, plan, "2026Q1", units, seed=1, facts={**W.FACTS, "reason": REASONS[0]})
    q2 = W.run_varied(staff, plan, "2026Q2", units, seed=2, vetoes={units[7]: "FJ02"},
                      facts={**W.FACTS, "reason": REASONS[1]})
    W.run_varied(staff, plan, "2026", units, seed=3)
    linkage.save_linkage(staff, plan, [linkage.LinkageInput(stars=s, secretary=a, committee=b)
                                       for s, a, b in ((5, "1.3", "1.2"), (3, "1.1", "1.05"), (1, "1.0", "1.0"))])
    members.assign_committee_role(None, tree.m01, tree.b01, "secretary", started_on=q1.starts_on)
    return {"plan": plan, "q1": q1, "q2": q2, "units": units}


def test_committee_dashboard_and_ranking(page, tree, users):
    data = rich(tree, users)
    q2 = data["q2"]
    sign_in(page, "u_committee_secretary")
    page.wait_for_url(page.base + "/")
    page.goto(f"{page.base}/assessment/results/{q2.pk}/dashboard/")
    expect(page.locator("svg.assess-chart.histogram")).to_be_visible()
    expect(page.locator("svg.assess-chart.radar")).to_be_visible()
    quarterly = SchemeItem.objects.filter(scheme=q2.scheme, kind__in=["work", "interactive"], annual_only=False)
    assert page.locator("svg.assess-chart.heat rect").count() == 10 * quarterly.count()
    assert page.locator("svg.assess-chart.lines polyline").count() >= 3
    # 对标: pick a unit and two model branches from the lists (20.6: no codes to type)
    page.select_option("select[name=unit]", "B02")
    page.select_option("select[name=models]", ["B01", "B05"])
    page.click(".ar-choose button[type=submit]")
    page.wait_for_url("**unit=B02**")
    assert page.locator(".ar-radar .chart-legend li").count() == 4  # B02, the average, two models
    assert page.locator("svg.assess-chart.radar polygon.area").count() == 4
    shot(page, "dashboard")
    page.goto(f"{page.base}/assessment/results/{q2.pk}/")
    rows = page.locator("table.ar-ranking tbody tr")
    assert rows.count() == 10
    first = Result.objects.filter(period=q2).order_by("rank", "id").first()
    assert first.unit.name in rows.nth(0).inner_text()
    assert page.locator("table.ar-ranking .ar-veto").count() == 1
    shot(page, "ranking")
    page.select_option("select[name=peer]", index=1)
    page.click(".ar-filter button[type=submit]")
    page.wait_for_url("**peer=**")
    assert "ranked within the peer group" in page.content() or "同类" in page.content()


def test_branch_secretary_opens_its_scorecard(page, tree, users):
    data = rich(tree, users)
    q2 = data["q2"]
    sign_in(page, "u_branch_secretary")
    page.wait_for_url(page.base + "/")
    page.goto(f"{page.base}/assessment/results/{q2.pk}/units/B01/")
    expect(page.locator(".ar-stats .stat").first).to_be_visible()
    assert page.locator("table.ar-cats tbody tr").count() >= 2
    expect(page.locator("svg.assess-chart.lines")).to_be_visible()  # Q1 → Q2
    # a branch cannot raise findings on itself, and reads no other unit
    assert page.locator("#deductions form").count() == 0
    shot(page, "scorecard_branch")
    assert page.goto(f"{page.base}/assessment/results/{q2.pk}/units/B02/").status == 404


def test_department_raises_a_deduction_as_a_finding(page, tree, users):
    data = rich(tree, users)
    q2 = data["q2"]
    sign_in(page, "u_department_staff")
    page.wait_for_url(page.base + "/")
    page.goto(f"{page.base}/assessment/results/{q2.pk}/units/B02/")
    buttons = page.locator("table.ar-deductions form button")
    n = buttons.count()
    assert n >= 1
    buttons.first.click()
    page.wait_for_url("**#deductions")
    assert Finding.objects.filter(unit=tree.b02, source="assessment").count() == 1
    assert page.locator("table.ar-deductions form button").count() == n - 1
    shot(page, "scorecard_committee")


def test_bulletin_stars_and_linkage(page, tree, users):
    data = rich(tree, users)
    plan, q2 = data["plan"], data["q2"]
    sign_in(page, "u_committee_admin")
    page.wait_for_url(page.base + "/")
    page.goto(f"{page.base}/assessment/results/{q2.pk}/bulletin/")
    expect(page.locator(".ar-paper .ar-title")).to_be_visible()
    assert page.locator("table.ar-btable tbody tr").count() == 10
    shot(page, "bulletin")
    with page.expect_download() as dl:
        page.click("a[href$='bulletin.docx']")
    assert dl.value.suggested_filename.endswith(".docx")
    page.goto(f"{page.base}/assessment/plans/{plan.pk}/stars/")
    proposed = StarRating.objects.filter(plan=plan, status=StarStatus.PROPOSED).count()
    assert page.locator("table.ar-stars-table tbody tr").count() == proposed > 0
    page.fill("input[name=days]", "5")
    page.click(".ar-star-actions button.primary")
    page.wait_for_load_state()
    assert StarRating.objects.filter(plan=plan, status=StarStatus.PUBLICISED).count() == proposed
    shot(page, "stars")
    rating = StarRating.objects.filter(plan=plan).order_by("-stars", "unit__path").first()
    before = rating.stars
    page.goto(f"{page.base}/assessment/stars/{rating.pk}/")
    page.select_option("select[name=stars]", str(before - 1))
    page.fill("textarea[name=reason]", "发生安全生产责任事故，按动态管理降一星")
    page.click("form.form button.primary")
    page.wait_for_load_state()
    rating.refresh_from_db()
    assert rating.stars == before - 1 and rating.changes.count() == 3  # proposed, publicised, changed
    shot(page, "star_rating")
    page.goto(f"{page.base}/assessment/plans/{plan.pk}/linkage/")
    assert page.locator("table.ar-linkage tbody tr").count() == 3 + 3
    page.fill("input[name='rows-0-secretary']", "abc")
    page.click(".ar-linkage-form button.primary")
    page.wait_for_load_state()
    expect(page.locator(".errorlist")).to_be_visible()
    shot(page, "linkage")
    assert Period.objects.get(plan=plan, key="2026").status == PeriodStatus.PUBLISHED
