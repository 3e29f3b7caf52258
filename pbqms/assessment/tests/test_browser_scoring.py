"""Browser tests of the scoring screens: Playwright on Debian's chromium, against the live server.

A department staff member opens B02's quarterly sheet from the period page, scores it row by row
(a deduction with its reason, standard and evidence), sees the branch's self-score beside each row
with the differences marked, and submits; the manager then moves the period on. Screenshots of
every screen land in screenshots/assessment_*.png.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from pbqms.accounts import services as accounts
from pbqms.accounts.models import Role
from pbqms.assessment import schemes, services
from pbqms.assessment.fixtures import SCHEMES
from pbqms.assessment.models import PeriodStatus, Score, Sheet, SheetKind, SheetStatus
from pbqms.assessment.services import ScoreInput
from pbqms.conftest import PASSWORD
from pbqms.core.tests.test_browser import sign_in

from .conftest import YEAR, make_setup

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[3] / "screenshots"


def shot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"assessment_{name}.png"), full_page=True)


def b02_self_check(setup, tree):
    """B02's secretary self-checks the quarter (through the services) and writes a summary."""
    secretary = accounts.create_user(None, username="b02_secretary", password=PASSWORD, validate=False)
    accounts.grant_role(None, secretary, Role.BRANCH_SECRETARY, tree.b02)
    period = setup.period("2026Q1")
    own = services.open_sheet(secretary, period, tree.b02, SheetKind.SELF)
    it = setup.items
    services.save_scores(secretary, own, [
        ScoreInput(item=it["DJ01"], occurrences=0), ScoreInput(item=it["DJ02"], level="好"),
        ScoreInput(item=it["DJ03"], measured="96"), ScoreInput(item=it["XC01"], yes=True)])
    services.submit_sheet(secretary, own, summary="本季度按计划召开支委会3次、党员大会1次，开展主题党日3次；"
                                                 "不足是宣传报道偏少，下季度加强。")
    return period


def test_staff_scores_b02_side_by_side_and_submits_then_the_manager_moves_on(page, users, tree, admin_user):
    setup = make_setup(tree, admin_user)
    period = b02_self_check(setup, tree)
    services.move_period(admin_user, period, PeriodStatus.SCORING)
    it = setup.items

    sign_in(page, "u_department_staff")
    page.goto(f"{page.base}/assessment/periods/{period.pk}/")
    shot(page, "period_before")
    row = page.locator("table.as-units tr", has_text="第二党支部")
    row.locator("form.inline-form button").last.click()
    page.wait_for_url("**/assessment/sheets/*/")
    sheet = Sheet.objects.get(period=period, unit=tree.b02, kind=SheetKind.ASSESSOR)
    assert page.locator(".as-beside").inner_text().count("宣传报道偏少") == 1

    # a deduction: one meeting missed, with the reason, the standard (pre-filled) and the evidence
    dj01 = page.locator(f"#row-{it['DJ01'].pk}")
    assert dj01.locator(f"input[name=i{it['DJ01'].pk}-standard]").input_value() == "缺1次扣2分，扣完为止"
    dj01.locator(f"input[name=i{it['DJ01'].pk}-occ]").fill("1")
    dj01.locator(f"input[name=i{it['DJ01'].pk}-reason]").fill("2月未召开支委会")
    dj01.locator(f"input[name=i{it['DJ01'].pk}-evidence]").fill("支委会记录本第12页")
    dj01.locator("button[name=row]").click()
    dj01 = page.locator(f"#row-{it['DJ01'].pk}")
    dj01.locator(".as-saved").wait_for()
    expect(dj01.locator(".as-points")).to_have_text("38")
    expect(dj01).to_have_class(re.compile(r"\bdiff\b"))  # the branch gave itself 40
    expect(dj01.locator(".as-self")).to_have_text(re.compile(r"^\s*40"))
    expect(page.locator("#sheet-totals .as-total-n")).to_have_text("38")

    # the other rows, each saved on its own
    dj02 = page.locator(f"#row-{it['DJ02'].pk}")
    dj02.locator("select").select_option("好")
    dj02.locator("button[name=row]").click()
    page.locator(f"#row-{it['DJ02'].pk} .as-saved").wait_for()
    dj03 = page.locator(f"#row-{it['DJ03'].pk}")
    dj03.locator(f"input[name=i{it['DJ03'].pk}-measured]").fill("95")
    dj03.locator("button[name=row]").click()
    page.locator(f"#row-{it['DJ03'].pk} .as-saved").wait_for()
    xc01 = page.locator(f"#row-{it['XC01'].pk}")
    xc01.locator("input[value=yes]").check()
    xc01.locator("button[name=row]").click()
    page.locator(f"#row-{it['XC01'].pk} .as-saved").wait_for()
    expect(page.locator("#sheet-totals .as-total-n")).to_have_text("88")
    expect(page.locator(f"#row-{it['DJ02'].pk}")).not_to_have_class(re.compile(r"\bdiff\b"))
    page.locator(f"#row-{it['DJ01'].pk}").scroll_into_view_if_needed()
    shot(page, "sheet_scoring")

    page.locator("#submit textarea").fill("总体较好，三会一课需严格落实。")
    page.locator("#submit button[type=submit]").click()
    page.wait_for_url(f"**/assessment/sheets/{sheet.pk}/")
    sheet.refresh_from_db()
    assert sheet.status == SheetStatus.SUBMITTED
    assert Score.objects.get(sheet=sheet, item=it["DJ01"]).reason == "2月未召开支委会"
    shot(page, "sheet_submitted")

    # the manager moves the period on to review
    page.goto(f"{page.base}/assessment/periods/{period.pk}/")
    page.locator(".page-head form button[type=submit]").click()
    page.wait_for_url(f"**/assessment/periods/{period.pk}/")
    period.refresh_from_db()
    assert period.status == PeriodStatus.REVIEW
    assert page.locator(".as-steps").inner_text().count("→") == 2
    shot(page, "period_review")


def test_scheme_screens_publish_refusal_compare_and_plan(page, users, tree, admin_user):
    staff = users[Role.DEPARTMENT_STAFF]
    liukao = schemes.publish_scheme(staff, schemes.load_scheme(staff, tree.sub1, YEAR, SCHEMES["liukao"]))
    services.create_plan(staff, liukao)
    copy = schemes.copy_for_year(staff, liukao, YEAR + 1)
    dj03 = copy.items.get(code="DJ03")
    schemes.save_item(staff, copy, {"max_points": "3", "deduct_per": "1"}, item=dj03)  # 101 points now
    sign_in(page, "u_department_staff")
    page.goto(f"{page.base}/assessment/")
    shot(page, "home_manager")
    page.goto(f"{page.base}/assessment/schemes/{copy.pk}/")
    page.locator(".page-head form.inline button[type=submit]").click()
    expect(page.locator(".as-refused")).to_be_visible()
    copy.refresh_from_db()
    assert copy.status == "draft"
    shot(page, "scheme_publish_refused")
    page.goto(f"{page.base}/assessment/schemes/{copy.pk}/items/{dj03.pk}/")
    shot(page, "item_form")
    page.goto(f"{page.base}/assessment/schemes/new/")
    page.locator("input[name=source][value=blank]").check()
    page.locator("input[name=name]").fill("党员量化积分（试行）")
    page.locator("select[name=target_kind]").select_option("member")
    page.locator("textarea[name=categories]").fill("JB 基本积分\nJL 奖励积分")
    shot(page, "scheme_form")
    page.locator("form button[type=submit].primary").click()
    page.wait_for_url("**/assessment/schemes/*/")
    expect(page.locator(".as-check.bad")).to_be_visible()  # no items yet: the page lists what to fix
    page.goto(f"{page.base}/assessment/schemes/{copy.pk}/compare/")
    assert page.locator("table.as-diff tr.as-diff-changed").count() == 1
    shot(page, "scheme_compare")
    page.goto(f"{page.base}/assessment/plans/{liukao.plan.pk}/")
    assert page.locator(".as-group").count() == 4
    shot(page, "plan")


def test_branch_self_check_member_points_and_the_panel(page, users, tree, admin_user):
    from .test_views_scoring import MEMBER_SCHEME

    setup = make_setup(tree, admin_user)
    period = setup.period("2026Q4")  # running now: the self-check is due on the branch's home
    it = setup.items
    sign_in(page, "u_branch_secretary")
    page.goto(f"{page.base}/assessment/")
    due = page.locator("ul.as-due li", has_text="2026Q4")
    due.locator("button[type=submit]").click()
    page.wait_for_url("**/assessment/sheets/*/")
    own = Sheet.objects.get(period=period, unit=tree.b01, kind=SheetKind.SELF)
    row = page.locator(f"#row-{it['DJ02'].pk}")
    row.locator("select").select_option("较好")
    row.locator(f"input[name=i{it['DJ02'].pk}-reason]").fill("班子理论学习次数不足")
    row.locator("button[name=row]").click()
    page.locator(f"#row-{it['DJ02'].pk} .as-saved").wait_for()
    assert Score.objects.get(sheet=own, item=it["DJ02"]).points == 15
    shot(page, "self_check")
    page.goto(f"{page.base}/assessment/")
    shot(page, "home_branch")

    # a member's own points sheet (党员量化积分)
    member_scheme = schemes.publish_scheme(admin_user, schemes.load_scheme(admin_user, tree.sub1, YEAR, MEMBER_SCHEME))
    services.create_plan(admin_user, member_scheme)
    page.context.clear_cookies()
    sign_in(page, "u_member")
    page.goto(f"{page.base}/assessment/")
    page.locator("ul.as-due li", has_text="2026Q4").locator("button[type=submit]").click()
    page.wait_for_url("**/assessment/sheets/*/")
    assert page.locator(".as-row").count() == 2
    shot(page, "member_sheet")

    # the panel of a quarter
    page.context.clear_cookies()
    sign_in(page, "u_department_staff")
    page.goto(f"{page.base}/assessment/periods/{setup.period('2026Q3').pk}/panel/")
    page.locator("label.as-check-line", has_text="u_committee_secretary").locator("input").check()
    page.locator("label.as-check-line", has_text="u_department_staff").locator("input").check()
    page.locator("select[name=lead]").select_option(label="u_committee_secretary")
    shot(page, "panel")
    page.locator("form button[type=submit].primary").click()
    page.wait_for_url(f"**/assessment/periods/{setup.period('2026Q3').pk}/")
    assert page.locator(".as-side").inner_text().count("u_committee_secretary") == 1
    page.goto(f"{page.base}/assessment/schemes/")
    shot(page, "scheme_list")
