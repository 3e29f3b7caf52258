"""Browser tests: Playwright driving Debian's chromium against the live server.

Login, the unit tree, the member list search, a failing roster import with its report, and the
language switch. Skipped (loudly, by `make test`) only when chromium is missing.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from pbqms.conftest import PASSWORD
from pbqms.members.models import Member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, username, password=PASSWORD):
    page.goto(page.base + "/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit].primary")


def test_login_refuses_then_admits(page, users):
    sign_in(page, "u_committee_admin", "wrong")
    expect(page.locator("[role=alert]")).to_be_visible()
    sign_in(page, "u_committee_admin")
    page.wait_for_url(page.base + "/")
    # home shows the scope's counts: 2 branches under SUB1
    assert page.locator("main").inner_text().count("2") >= 1
    expect(page.locator(".topbar")).to_be_visible()


def test_tree_expands_lazily_and_searches(page, users, tree):
    sign_in(page, "u_committee_admin")
    page.goto(page.base + "/units/")
    # the scope's root opens with its first level; deeper levels load on demand
    expect(page.locator("main").get_by_text("第二党支部").first).to_be_visible()
    assert page.locator("main").get_by_text("第一党小组").count() == 0
    page.locator("summary", has_text="第一党支部").first.click()
    page.wait_for_selector("main :text('第一党小组')")
    page.fill("input[name=q]", "第二")
    page.wait_for_selector("#search-results a:has-text('第二党支部')")
    assert "第三党支部" not in page.locator("main").inner_text()


def test_member_list_search_by_pinyin_initials(page, users, tree):
    from pbqms.members import services

    for name in ("周杰", "安娜", "赵四"):
        services.create_member(None, unit=tree.b01, name=name, gender="F", status="masses")
    sign_in(page, "u_branch_secretary")
    page.goto(page.base + "/members/")
    rows = page.locator("table.members tbody tr")
    assert rows.count() == 4
    names = [rows.nth(i).locator("td").first.inner_text().strip() for i in range(4)]
    assert names == ["安娜", "张三", "赵四", "周杰"]  # pinyin order: an, zhang, zhao, zhou
    page.fill("input[name=q]", "zs")
    expect(page.locator("table.members tbody tr")).to_have_count(2)
    text = page.locator("table.members").inner_text()
    assert "张三" in text and "赵四" in text and "周杰" not in text
    assert "王五" not in page.content()


def test_failing_import_shows_every_bad_row(page, users, tree, settings, tmp_path):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    from pbqms.roster import services as roster

    path = tmp_path / "bad.xlsx"
    roster.write_template(path)
    wb = _fill_bad_rows(path)
    wb.save(path)
    before = Member.objects.count()
    sign_in(page, "u_committee_admin")
    page.goto(page.base + "/roster/import/")
    page.set_input_files("input[type=file]", str(path))
    page.locator("form button[type=submit]").last.click()
    page.wait_for_selector("table.errors, .error-report", timeout=30000)
    report = page.locator("table.errors, .error-report").first.inner_text()
    assert re.search(r"\b3\b", report) and re.search(r"\b4\b", report)  # both bad rows, by row number
    assert Member.objects.count() == before


def _fill_bad_rows(path):
    from openpyxl import load_workbook

    wb = load_workbook(path)
    ws = wb["Members"] if "Members" in wb.sheetnames else wb.worksheets[1]
    headers = [c.value for c in ws[1]]
    ws.delete_rows(2, ws.max_row)
    base = dict.fromkeys(headers, "")

    def row(**kv):
        r = dict(base)
        for key, value in kv.items():
            for h in headers:
                if h and key in str(h):
                    r[h] = value
                    break
        return [r[h] for h in headers]

    ws.append(row(姓名="好人", 性别="男", 身份证="320102198503120036", 政治面貌="正式党员", 支部="B01"))
    ws.append(row(姓名="坏号", 性别="男", 身份证="320102198503120037", 政治面貌="正式党员", 支部="B01"))
    ws.append(row(姓名="无单位", 性别="男", 身份证="320102198503120052", 政治面貌="正式党员", 支部="NOPE"))
    return wb


def test_language_switch(page, users):
    sign_in(page, "u_committee_admin")
    page.wait_for_url(page.base + "/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert "首页" in page.locator("nav.mainnav").inner_text()
    page.click("button[data-lang=en]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert "Home" in page.locator("nav.mainnav").inner_text()
    page.goto(page.base + "/members/")  # the choice sticks to the account
    assert page.locator("html").get_attribute("lang") == "en"
    page.click("button[data-lang=zh-hans]")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    assert "党员" in page.locator("nav.mainnav").inner_text()


def test_phone_width_has_a_menu(browser, live_server, users):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    pg = context.new_page()
    pg.base = live_server.url
    sign_in(pg, "u_committee_admin")
    pg.wait_for_url(pg.base + "/")
    expect(pg.locator("nav.mainnav")).not_to_be_visible()
    pg.click("label.nav-toggle-label")
    expect(pg.locator("nav.mainnav")).to_be_visible()
    width = pg.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"page scrolls sideways on a phone ({width}px)"
    context.close()



def test_unit_member_audit_and_account_pages(page, users, tree):
    from pbqms.conftest import make_id_number

    sign_in(page, "u_committee_admin")
    page.wait_for_url(page.base + "/")
    page.goto(page.base + "/units/B01/")
    assert page.locator("h1").inner_text() == "第一党支部"
    page.locator("nav.tabs a").nth(1).click()  # the people tab
    page.wait_for_selector("main :text('张三')")
    page.goto(page.base + f"/members/{tree.m01.pk}/")
    number = make_id_number(1, dt.date(1985, 3, 12))
    assert number not in page.content()  # masked until asked for
    page.locator("#id-number button").click()
    page.wait_for_selector(f"#id-number :text('{number}')")
    page.goto(page.base + "/audit/")
    assert "张三" in page.locator("main").inner_text()  # the reveal above is on the log
    assert "王五" not in page.content()
    page.goto(page.base + "/accounts/users/")
    assert "u_branch_secretary" in page.locator("main").inner_text()
