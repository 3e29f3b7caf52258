"""Browser tests of every objectives screen (Playwright on Debian's chromium), each leaving a
screenshot in /work/main/screenshots/objectives-*.png."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from playwright.sync_api import expect

from pbqms.core.tests.test_browser import sign_in
from pbqms.members import services as members
from pbqms.objectives import letters, member_services, services
from pbqms.objectives.models import MemberTarget, ResponsibilityLetter, ReviewState

from .conftest import YEAR

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(__file__).resolve().parents[3] / "screenshots"
TODAY = dt.date.today()


def shot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"objectives-{name}.png"), full_page=True)


def rich(tree) -> dict:
    """A year on SUB1: policy, three objectives on B01/B02 (B04 left as a gap), progress, member
    targets in every state, common targets, a letter of B01."""
    from pbqms.orgs import services as orgs

    orgs.create_unit(None, code="B04", name="第四党支部", kind="branch", parent=tree.sub1, order=4)
    services.save_policy(None, tree.sub1, year=YEAR,
                         text="围绕中心抓党建，抓好党建促发展；凡事必规定、规定必执行、执行必有效、过程必记录。",
                         effective_on=dt.date(YEAR, 1, 5), member_targets_due=dt.date(YEAR, 3, 31))
    specs = [("党员教育培训全覆盖", "党员年度集中学习学时", "number", "32", "学时"),
             ("“三会一课”按期落实", "“三会一课”按期召开率", "percent", "100", ""),
             ("安全生产无重大事故", "党员责任区内无重大安全事故", "yesno", "yes", "")]
    out: dict = {"objectives": [], "targets": []}
    for title, indicator, kind, value, mu in specs:
        o = services.create_objective(None, tree.sub1, year=YEAR, title=title, indicator=indicator, value_kind=kind,
                                      target_value=value, measure_unit=mu, deadline=dt.date(YEAR, 12, 31),
                                      responsible="党委副书记", check_method="查阅台账、季度考核")
        out["objectives"].append(o)
        for unit, status, pct in ((tree.b01, "achieved", 100), (tree.b02, "at_risk", 60)):
            t = services.create_target(None, objective=o, unit=unit, task="组织党员参加集中轮训和专题学习",
                                       person="支部书记", indicator=indicator, value_kind=kind, target_value=value,
                                       measure_unit=mu, quality="记录完整、可追溯", deadline=dt.date(YEAR, 11, 30))
            services.report_progress(None, target=t, reported_on=dt.date(YEAR, 6, 30), progress=50,
                                     status="on_track", note="按计划推进")
            services.report_progress(None, target=t, reported_on=dt.date(YEAR, 10, 8), progress=pct, status=status,
                                     note="已完成" if status == "achieved" else "部分党员倒班未参加，正在补课")
            out["targets"].append(t)
    member_services.set_common_standards(None, tree.sub1, YEAR, {
        "party_spirit": "坚定理想信念，按时参加组织生活", "morality": "践行社会主义核心价值观",
        "discipline": "严守党的纪律和国家法律法规", "masses": "每季度联系群众不少于2次"})
    people = [members.create_member(None, unit=tree.b01, group=tree.g1, name=n, gender="M", status="full")
              for n in ("李建国", "王海涛", "赵立新", "孙志强")]
    member_services.apply_common_targets(None, tree.sub1, YEAR)
    for i, m in enumerate(people[:3]):
        mt = member_services.propose_member_target(None, m, year=YEAR, category="work_task",
                                                   title=["全年安全生产无“三违”", "月度生产任务完成率100%",
                                                          "取得高级工证书"][i], measure="以月度考核为准")
        if i == 1:
            member_services.review_member_target(None, mt, approve=True)
        if i == 2:
            member_services.review_member_target(None, mt, approve=False, comment="请写明工种和时限")
    out["letter"] = letters.draw_up_letter(None, tree.b01, YEAR)
    return out


def test_objectives_list_and_cascade(page, users, tree):
    data = rich(tree)
    sign_in(page, "u_committee_admin")
    page.goto(page.base + f"/objectives/?year={YEAR}")
    assert page.locator("table.objectives tbody tr").count() == 3
    expect(page.get_by_text("凡事必规定").first).to_be_visible()
    shot(page, "list")
    page.click("text=党员教育培训全覆盖")
    page.wait_for_selector(".cascade")
    assert page.locator("[data-coverage]").inner_text().startswith("直属下级3个组织中已覆盖2个")
    expect(page.locator(".gaps").get_by_text("第四党支部")).to_be_visible()
    shot(page, "cascade")
    del data


def test_new_objective_refuses_then_creates(page, users, tree):
    sign_in(page, "u_committee_admin")
    page.goto(page.base + f"/objectives/new/?year={YEAR}")
    page.fill("input[name=title]", "党员目标管理全覆盖")
    page.fill("input[name=indicator]", "党员个性目标审定率")
    page.select_option("select[name=value_kind]", "percent")
    page.fill("input[name=target_value]", "一百")
    page.fill("input[name=deadline]", f"{YEAR}-12-31")
    page.fill("input[name=responsible]", "组织委员")
    page.click("button[type=submit].primary")
    expect(page.get_by_text("“一百”不是“百分比”类型的有效值。")).to_be_visible()
    shot(page, "objective-form-error")
    page.fill("input[name=target_value]", "100")
    page.click("button[type=submit].primary")
    page.wait_for_selector("h1:has-text('党员目标管理全覆盖')")


def test_unit_targets_and_progress_with_evidence(page, users, tree, tmp_path):
    data = rich(tree)
    sign_in(page, "u_branch_secretary")
    page.goto(page.base + f"/objectives/units/B01/?year={YEAR}")
    assert page.locator("table.targets tbody tr").count() == 3
    shot(page, "unit-targets")
    target = data["targets"][2]  # B01's share of the second objective
    page.goto(page.base + target.get_absolute_url())
    evidence = tmp_path / "签到表.pdf"
    evidence.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    page.fill("input[name=progress]", "100")
    page.select_option("select[name=status]", "achieved")
    page.fill("input[name=value]", "100")
    page.fill("textarea[name=note]", "全年12次支委会均按期召开，记录完整")
    page.set_input_files("input[name=evidence]", str(evidence))
    page.click("button:has-text('报告进展')")
    page.wait_for_selector(".messages")
    expect(page.locator("ol.reports li").first.get_by_text("签到表.pdf")).to_be_visible()
    shot(page, "target")


def test_member_proposes_own_target(page, users, tree):
    rich(tree)
    sign_in(page, "u_member")
    page.goto(page.base + f"/objectives/mine/?year={YEAR}")
    expect(page.get_by_text("坚定理想信念")).to_be_visible()
    page.select_option("select[name=category]", "post_skill")
    page.fill("input[name=title]", "年内取得采煤机司机高级工证书")
    page.fill("textarea[name=measure]", "以证书为准")
    page.click("button:has-text('提交审定')")
    page.wait_for_selector(".msg-success")
    expect(page.get_by_text("年内取得采煤机司机高级工证书")).to_be_visible()
    shot(page, "mine")
    assert MemberTarget.objects.filter(member=tree.m01, state=ReviewState.PROPOSED).count() == 1


def test_branch_approves_from_the_queue(page, users, tree):
    rich(tree)
    sign_in(page, "u_branch_secretary")
    page.goto(page.base + f"/objectives/units/B01/members/?year={YEAR}")
    assert page.locator(".todo .name-cloud li").count() >= 2  # 张三 and 孙志强 hold no approved target
    row = page.locator("table.queue tbody tr", has_text="全年安全生产无“三违”")
    row.locator("button[value=return]").click()
    page.wait_for_selector("table.queue .error")
    assert "退回时请说明理由。" in page.locator("table.queue").inner_text()
    row = page.locator("table.queue tbody tr", has_text="全年安全生产无“三违”")
    row.locator("input[name=comment]").fill("同意")
    row.locator("button[value=approve]").click()
    page.wait_for_selector("table.queue .badge.rv-approved")
    shot(page, "queue")


def test_dashboard_rolls_up(page, users, tree):
    rich(tree)
    sign_in(page, "u_committee_secretary")
    page.goto(page.base + f"/objectives/dashboard/SUB1/?year={YEAR}")
    rows = page.locator("table.dashboard tbody tr")
    assert rows.count() == 3  # B01, B02, B04
    assert page.locator("svg.stack rect.seg-achieved").count() == 1
    shot(page, "dashboard")


def test_letters_signed_by_both_secretaries(page, users, tree):
    data = rich(tree)
    letter: ResponsibilityLetter = data["letter"]
    sign_in(page, "u_branch_secretary")
    page.goto(page.base + f"/objectives/letters/?year={YEAR}")
    assert page.locator("table.letters tbody tr").count() == 1
    page.click(f"text={letter.title}")
    page.click("button:has-text('代表支部签署')")
    page.wait_for_selector(".msg-success")
    page.context.clear_cookies()
    sign_in(page, "u_committee_secretary")
    page.goto(page.base + letter.get_absolute_url())
    page.click("button:has-text('代表党委签署')")
    page.wait_for_selector(".badge.lt-signed")
    assert page.locator(".sig-time").count() == 2
    shot(page, "letter")
    page.goto(page.base + f"/objectives/letters/?year={YEAR}")
    shot(page, "letters")
