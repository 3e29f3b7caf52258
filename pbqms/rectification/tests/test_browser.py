"""Browser tests of the rectification screens: Playwright on Debian's chromium, against the live server.

Each screen gets a test and a screenshot in screenshots/rect-*.png: the to-do lists, the finding
form, a notice with its feedback and the inline verification, the ledger, the dashboard and a
preventive action.
"""

from __future__ import annotations

import datetime as dt
import importlib
from pathlib import Path

import pytest
from playwright.sync_api import expect

from pbqms.accounts.models import Role
from pbqms.core.tests.test_browser import sign_in
from pbqms.files.tests import samples
from pbqms.orgs import services as orgs
from pbqms.orgs.models import UnitKind
from pbqms.rectification import services
from pbqms.rectification.models import (
    CauseCategory,
    Finding,
    FindingStatus,
    Notice,
    NoticeStatus,
    PreventiveAction,
    PreventiveStatus,
    PreventiveTrigger,
)

from .factories import answered_notice, issued_notice, today

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[3] / "screenshots"
PROBLEMS = [
    ("DJ-1.1", "三会一课记录不全，3月、4月支委会无会议记录", "每月至少召开一次支委会并规范记录"),
    ("DJ-2.3", "党费收缴台账未按月更新，4月党费未及时上缴", "党费按月收缴，及时上缴并公示"),
    ("DJ-3.2", "发展党员材料缺少政治审查意见", "发展对象须经政治审查并形成结论性意见"),
    ("DJ-4.1", "主题党日活动记录过于简单，缺少照片和签到表", "主题党日活动有计划、有记录、有影像资料"),
]


@pytest.fixture(autouse=True)
def file_root(settings, tmp_path):
    settings.PBQMS_FILE_ROOT = tmp_path / "files"


@pytest.fixture(autouse=True)
def cause_categories(db):
    """The default cause categories (a data migration adds them; a transactional test flushes them)."""
    defaults = importlib.import_module("pbqms.rectification.migrations.0002_default_cause_categories").DEFAULTS
    for order, (code, name) in enumerate(defaults, 1):
        CauseCategory.objects.get_or_create(code=code, defaults={"name": name, "order": order})


def shot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"rect-{name}.png"), full_page=True)


def record(staff, unit, i: int, **kw) -> Finding:
    item, description, standard = PROBLEMS[i % len(PROBLEMS)]
    return services.record_finding(staff, services.FindingInput(
        unit=unit, description=description, standard=standard, item_code=item, found_on=today(), **kw))


def loop_in_every_state(users, tree) -> dict[str, Notice]:
    """Notices of SUB1's branches in every state, for the lists and the dashboard."""
    staff, secretary = users[Role.DEPARTMENT_STAFF], users[Role.BRANCH_SECRETARY]
    out = {"answered": answered_notice(staff, secretary, tree.b01, n=2)}
    out["issued"] = issued_notice(staff, tree.b01, n=1)
    out["b02"] = issued_notice(staff, tree.b02, n=3)
    closed = answered_notice(staff, secretary, tree.b01, n=1)
    f = closed.findings.get()
    services.verify_finding(staff, f, effective=True, note="查阅记录，已整改到位")
    out["closed"] = services.close_notice(staff, Notice.objects.get(pk=closed.pk))
    out["draft"] = services.draft_notice(staff, unit=tree.b02, findings=[record(staff, tree.b02, 3)],
                                         title="第二党支部主题党日问题整改", requirement="补齐资料",
                                         deadline=today() + dt.timedelta(days=12))
    record(staff, tree.b02, 2)
    return out


def test_todo_of_the_department_and_of_the_branch(page, users, tree):
    notices = loop_in_every_state(users, tree)
    sign_in(page, "u_department_staff")
    page.wait_for_url(page.base + "/")
    page.goto(page.base + "/rectification/")
    main = page.locator("main")
    assert "整改待办" in page.locator("h1").inner_text()
    assert notices["answered"].number in page.locator("#to-verify").inner_text()
    assert "第二党支部主题党日问题整改" in page.locator("#drafts").inner_text()
    shot(page, "todo-department")
    # issue the draft from the list
    page.locator("#drafts button", has_text="下发").click()
    page.wait_for_selector(".msg-success")
    assert Notice.objects.get(pk=notices["draft"].pk).status == NoticeStatus.ISSUED
    assert "王五" not in main.inner_text()

    page.context.clear_cookies()
    sign_in(page, "u_branch_secretary")
    page.wait_for_url(page.base + "/")
    page.goto(page.base + "/rectification/")
    receive = page.locator("#to-receive")
    assert notices["issued"].number in receive.inner_text()
    shot(page, "todo-branch")
    receive.locator("button", has_text="签收").first.click()
    page.wait_for_selector(".msg-success")
    assert Notice.objects.get(pk=notices["issued"].pk).status == NoticeStatus.RECEIVED


def test_empty_todo_says_what_to_do(page, users, tree):
    sign_in(page, "u_committee_secretary")
    page.wait_for_url(page.base + "/")
    page.goto(page.base + "/rectification/")
    assert "暂无待办事项" in page.locator(".rect-empty").inner_text()
    expect(page.locator(".rect-empty a", has_text="记录问题")).to_be_visible()
    shot(page, "todo-empty")


def test_record_a_finding_with_evidence(page, users, tree, tmp_path):
    photo = tmp_path / "现场照片.png"
    photo.write_bytes(samples.image("PNG"))
    liar = tmp_path / "会议记录.pdf"
    liar.write_bytes(samples.EXE)
    sign_in(page, "u_department_staff")
    page.wait_for_url(page.base + "/")
    page.goto(page.base + "/rectification/findings/new/")
    page.select_option("select[name=unit]", "B01")
    page.fill("input[name=item_code]", "DJ-1.1")
    page.select_option("select[name=severity]", "major")
    page.fill("textarea[name=standard]", "每月至少召开一次支委会并规范记录")
    page.fill("textarea[name=description]", "三会一课记录不全，3月、4月支委会无会议记录")
    page.set_input_files("input[name=evidence]", [str(liar)])
    shot(page, "finding-form")
    page.locator("main button[type=submit].primary").click()
    page.wait_for_selector(".file-input .error")
    assert "与扩展名不符" in page.locator(".file-input .error").inner_text()
    assert Finding.objects.count() == 0
    page.set_input_files("input[name=evidence]", [str(photo)])
    page.locator("main button[type=submit].primary").click()
    page.wait_for_selector(".msg-success")
    assert "三会一课记录不全" in page.locator("main").inner_text()
    expect(page.locator(".file-list a", has_text="现场照片.png")).to_be_visible()
    shot(page, "finding")
    assert Finding.objects.get().evidence.count() == 1


def test_notice_feedback_and_inline_verification(page, users, tree, tmp_path):
    staff = users[Role.DEPARTMENT_STAFF]
    for i in range(3):
        record(staff, tree.b01, i)
    report = tmp_path / "整改报告.pdf"
    report.write_bytes(samples.PDF)

    # the department groups the branch's findings on a notice and issues it
    sign_in(page, "u_department_staff")
    page.wait_for_url(page.base + "/")
    page.goto(page.base + "/rectification/notices/new/")
    page.select_option("select[name=unit]", "B01")  # htmx loads the unit's open findings
    page.wait_for_selector("input[name=findings]")
    assert page.locator("input[name=findings]:checked").count() == 3
    page.locator("label.rect-check", has_text="发展党员材料").locator("input").uncheck()
    shot(page, "notice-new")
    page.locator("button[name=issue]").click()
    page.wait_for_selector(".msg-success")
    notice = Notice.objects.get()
    assert notice.status == NoticeStatus.ISSUED and notice.findings.count() == 2
    assert notice.number in page.locator(".paper-number").inner_text()
    shot(page, "notice-issued")

    # the branch receives it and answers both findings, one with evidence
    page.context.clear_cookies()
    sign_in(page, "u_branch_secretary")
    page.wait_for_url(page.base + "/")
    page.goto(page.base + f"/rectification/notices/{notice.pk}/")
    page.locator("#notice-actions button", has_text="签收").click()
    page.wait_for_selector(".msg-success")
    page.locator("#notice-actions a", has_text="填写整改反馈").click()
    page.wait_for_selector("form.rect-feedback")
    first, second = notice.findings.order_by("pk")
    page.locator("main button[type=submit].primary").click()  # nothing filled in: the service names each gap
    page.wait_for_selector(".rect-answer .errorlist")
    assert "请说明原因" in page.locator(f"#answer-{first.pk}").inner_text()
    for f, cause, measures in ((first, "支委会记录由专人负责但未交接", "补记3月、4月会议记录，明确记录人"),
                               (second, "党费收缴制度执行不严", "补缴4月党费，建立按月收缴台账")):
        page.select_option(f"select[name=f{f.pk}-cause_category]", index=3)
        page.fill(f"textarea[name=f{f.pk}-cause]", cause)
        page.fill(f"textarea[name=f{f.pk}-measures]", measures)
    page.set_input_files(f"input[name=f{first.pk}-evidence]", [str(report)])
    shot(page, "feedback-form")
    page.locator("main button[type=submit].primary").click()
    page.wait_for_selector(".msg-success")
    assert Notice.objects.get(pk=notice.pk).status == NoticeStatus.ANSWERED

    # the department verifies each finding inline, without leaving the page
    page.context.clear_cookies()
    sign_in(page, "u_department_staff")
    page.wait_for_url(page.base + "/")
    page.goto(page.base + f"/rectification/notices/{notice.pk}/")
    block = page.locator(f"#finding-{first.pk}")
    block.locator("input[value=no]").check()
    block.locator("textarea[name=note]").fill("现场查看，4月记录仍未补齐")
    page.evaluate("window.__same_page = true")
    block.locator("button[type=submit]").click()
    page.wait_for_selector(f"#finding-{first.pk} .rect-verdict.bad")
    assert page.evaluate("window.__same_page === true")  # swapped in place by htmx
    assert Finding.objects.get(pk=first.pk).status == FindingStatus.REOPENED
    block = page.locator(f"#finding-{second.pk}")
    block.locator("input[value=yes]").check()
    block.locator("textarea[name=note]").fill("查阅台账，已按月登记")
    block.locator("button[type=submit]").click()
    page.wait_for_selector(f"#finding-{second.pk} .rect-verdict.ok")
    assert "复查验收" in page.locator("#notice-steps").inner_text()  # the step log was updated too
    page.locator("#notice-judge summary").click()
    page.fill("#notice-judge textarea[name=reason]", "第1项整改不到位，请补齐记录")
    shot(page, "notice-verify")
    page.locator("#notice-judge button.danger").click()
    page.wait_for_selector(".msg-success")
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.RETURNED and notice.rounds == 1


def test_notice_page_of_a_closed_notice_and_its_print(page, users, tree):
    staff, secretary = users[Role.DEPARTMENT_STAFF], users[Role.BRANCH_SECRETARY]
    notice = answered_notice(staff, secretary, tree.b01, n=2)
    for f in notice.findings.all():
        services.verify_finding(staff, f, effective=True, note="经查阅记录和现场检查，整改到位")
    notice = services.close_notice(staff, Notice.objects.get(pk=notice.pk), "整改到位，同意销号")
    sign_in(page, "u_committee_secretary")
    page.wait_for_url(page.base + "/")
    page.goto(page.base + f"/rectification/notices/{notice.pk}/")
    assert "已关闭" in page.locator(".page-head").inner_text()
    assert page.locator("ol.rect-life li.done").count() == 5
    shot(page, "notice-closed")
    with page.expect_download() as download:
        page.locator("#notice-actions a", has_text="PDF").click()
    assert download.value.suggested_filename == f"{notice.number}.pdf"
    # the print layout, drawn by the browser from the same template WeasyPrint reads
    from django.template.loader import render_to_string
    from django.utils import translation

    from pbqms.rectification import exports, selectors

    with translation.override("zh-hans"):
        facts = exports.form_facts(notice, selectors.notice_detail(notice))
        for f in facts["findings"]:
            f.verdict = exports._verdict(f.last_check)
            f.completed = exports.day(f.latest.completed_on)
        html = render_to_string("rectification/print.html", facts)
    page.set_viewport_size({"width": 794, "height": 1123})
    page.set_content(html)
    shot(page, "print")


def _grow(staff, tree, n: int) -> None:
    for i in range(n):
        b = orgs.create_unit(None, code=f"RB{i:02d}", name=f"第{i + 3}党支部（综采{i + 1}队）", kind=UnitKind.BRANCH,
                             parent=tree.sub1, order=10 + i)
        for j in range(i % 4 + 1):
            record(staff, b, i + j)


def test_ledger_filters_in_place(page, users, tree):
    staff = users[Role.DEPARTMENT_STAFF]
    loop_in_every_state(users, tree)
    _grow(staff, tree, 6)
    sign_in(page, "u_committee_secretary")
    page.wait_for_url(page.base + "/")
    page.goto(page.base + "/rectification/ledger/")
    page.wait_for_url("**/units/SUB1/ledger/")
    rows = page.locator("#ledger-results tbody tr")
    total = rows.count()
    assert total >= 20
    shot(page, "ledger")
    page.select_option("select[name=status]", "closed")
    expect(page.locator("#ledger-results tbody tr")).to_have_count(1)
    assert "status=closed" in page.url
    with page.expect_download() as download:
        page.locator("a", has_text=".xlsx").click()
    assert download.value.suggested_filename.endswith(".xlsx")


def test_dashboard(page, users, tree):
    staff = users[Role.DEPARTMENT_STAFF]
    loop_in_every_state(users, tree)
    _grow(staff, tree, 6)
    sign_in(page, "u_committee_secretary")
    page.wait_for_url(page.base + "/")
    page.goto(page.base + "/rectification/dashboard/")
    assert "一矿党委" in page.locator("h1").inner_text()
    table = page.locator("table.rect-units")
    assert "第一党支部" in table.inner_text() and "第二党支部" in table.inner_text()
    assert page.locator("figure.chart svg rect.bar").count() >= 3
    shot(page, "dashboard")
    page.locator("table.rect-units a", has_text="第一党支部").click()
    page.wait_for_url("**/units/B01/dashboard/**")
    last_year = str(today().year - 1)
    page.select_option("select[name=year]", last_year)
    page.wait_for_url(f"**year={last_year}")
    assert "0" in page.locator(".stats .stat .n").first.inner_text()


def test_preventive_action_accept_and_report(page, users, tree):
    staff = users[Role.DEPARTMENT_STAFF]
    first = record(staff, tree.b01, 0, period="2026-03")
    again = record(staff, tree.b01, 0, period="2026-04")
    action = PreventiveAction.objects.filter(item_code="DJ-1.1").first() or PreventiveAction.objects.create(
        key="browser:1", trigger=PreventiveTrigger.SAME_UNIT, unit=tree.b01, org_path=tree.b01.path,
        item_code="DJ-1.1", title="第一党支部：DJ-1.1 再次发现", due_on=today() + dt.timedelta(days=30))
    action.findings.add(first, again)
    sign_in(page, "u_department_staff")
    page.wait_for_url(page.base + "/")
    page.goto(page.base + "/rectification/preventive/")
    page.locator("table.rect-preventive a").first.click()
    page.select_option("select[name=owner]", label="u_branch_secretary")
    page.fill("textarea[name=measures]", "建立支委会记录月度自查制度，组织委员每月5日前检查上月记录")
    shot(page, "preventive")
    page.locator("button", has_text="确认预防措施").click()
    page.wait_for_selector(".msg-success")
    action.refresh_from_db()
    assert action.status == PreventiveStatus.OPEN and action.owner.username == "u_branch_secretary"
    page.context.clear_cookies()
    sign_in(page, "u_branch_secretary")
    page.wait_for_url(page.base + "/")
    page.goto(page.base + "/rectification/")
    page.locator("#preventive a").first.click()
    page.fill("textarea[name=result]", "已建立月度自查制度并执行两个月")
    page.locator("button", has_text="报告完成").click()
    page.wait_for_selector(".msg-success")
    assert PreventiveAction.objects.get(pk=action.pk).status == PreventiveStatus.DONE


def test_phone_width_notice_page_does_not_scroll_sideways(browser, live_server, users, tree):
    staff, secretary = users[Role.DEPARTMENT_STAFF], users[Role.BRANCH_SECRETARY]
    notice = answered_notice(staff, secretary, tree.b01, n=2)
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    pg = context.new_page()
    pg.base = live_server.url
    sign_in(pg, "u_department_staff")
    pg.wait_for_url(pg.base + "/")
    pg.goto(pg.base + f"/rectification/notices/{notice.pk}/")
    width = pg.evaluate("document.documentElement.scrollWidth")
    shot(pg, "notice-mobile")
    context.close()
    assert width <= 400, f"the notice page scrolls sideways on a phone ({width}px)"
