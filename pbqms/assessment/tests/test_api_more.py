"""The rest of the assessment API (/api/v1/assessment): every write the web UI does — withdrawing a
submission, the panel, the analysis, scheme items, deductions → findings, the linkage table — and the
bulletins, the linkage export and members' points scorecards. Each through HTTP as the roles that use
it: the success, a bad input with its message (Chinese by default) and nothing changed, a role that
may not act (403) and a record outside scope (404)."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import load_workbook

from pbqms.accounts import services as accounts
from pbqms.accounts.models import Role
from pbqms.assessment import schemes, services, tasks
from pbqms.assessment.models import (
    LinkageRow,
    PanelMember,
    Period,
    PeriodStatus,
    Score,
    Sheet,
    SheetKind,
    SheetStatus,
)
from pbqms.assessment.tests import walk_results as W
from pbqms.assessment.tests.conftest import SMALL, YEAR
from pbqms.assessment.tests.test_api import FACTS, FULL, Api, state, to_scoring
from pbqms.audit.models import AuditEntry

NOT_YOURS = "您无权修改此记录。"
NOT_FOUND = "未找到。"


@pytest.fixture
def zh(client, users):  # type: ignore[no-untyped-def]
    """role → Api, in the default language (Simplified Chinese)."""
    return {role: Api(client, user) for role, user in users.items()}


@pytest.fixture
def staff(zh):  # type: ignore[no-untyped-def]
    return zh[Role.DEPARTMENT_STAFF]


def full_state() -> tuple:
    from pbqms.rectification.models import Finding

    return (state(), sorted(PanelMember.objects.values_list("period_id", "user_id", "is_lead")),
            sorted(Period.objects.values_list("pk", "analysis", "status")),
            sorted(Sheet.objects.values_list("pk", "status")),
            sorted(LinkageRow.objects.values_list("plan_id", "stars", "min_total", "secretary_coefficient")),
            Finding.objects.count())


@pytest.fixture
def outside(tree):  # type: ignore[no-untyped-def]
    """SUB2's own run (nobody in `users` reads it): a plan with 2026Q1 in scoring and B03's sheet submitted."""
    boss = accounts.create_user(None, username="api_more_sub2", password="x", validate=False)
    accounts.grant_role(None, boss, Role.DEPARTMENT_STAFF, tree.sub2)
    scheme = schemes.publish_scheme(boss, schemes.load_scheme(boss, tree.sub2, YEAR, SMALL))
    plan = services.create_plan(boss, scheme)
    period = Period.objects.get(plan=plan, key=f"{YEAR}Q1")
    services.move_period(boss, period, PeriodStatus.SCORING)
    sheet = services.open_sheet(boss, period, tree.b03, SheetKind.ASSESSOR)
    items = schemes.items_by_code(scheme)
    services.save_scores(boss, sheet, [services.ScoreInput(item=items[e["item"]], **{k: v for k, v in e.items()
                                                                                    if k != "item"})
                                       for e in FULL])
    services.submit_sheet(boss, sheet)
    return {"scheme": scheme, "plan": plan, "period": period, "sheet": sheet, "user": boss}


# ---- withdrawing a submission -------------------------------------------------------------------------

def _submitted(staff, period, unit: str = "B01") -> int:  # type: ignore[no-untyped-def]
    sid = staff.post("/sheets", {"period": period.pk, "unit": unit, "kind": "assessor"}).json()["id"]
    assert staff.put(f"/sheets/{sid}/scores", {"entries": FULL}).status_code == 200
    assert staff.post(f"/sheets/{sid}/submit").status_code == 200
    return int(sid)


def test_withdraw_a_submission(tree, staff, zh, setup, admin_user, outside):
    period = to_scoring(setup, admin_user)
    sid = _submitted(staff, period)
    before = full_state()
    r = staff.post(f"/sheets/{sid}/withdraw", {"reason": "  "})
    assert r.status_code == 422 and r.json()["detail"] == "请填写撤回提交的原因。"
    r = staff.post(f"/sheets/{sid}/withdraw")
    assert r.status_code == 422 and r.json()["detail"] == "请填写撤回提交的原因。"
    r = zh[Role.BRANCH_SECRETARY].post(f"/sheets/{sid}/withdraw", {"reason": "改分"})
    assert r.status_code == 403 and r.json()["detail"] == NOT_YOURS  # the branch reads it, may not withdraw it
    assert zh[Role.GROUP_LEADER].post(f"/sheets/{sid}/withdraw", {"reason": "改分"}).status_code == 404
    r = staff.post(f"/sheets/{outside['sheet'].pk}/withdraw", {"reason": "改分"})
    assert r.status_code == 404 and r.json()["detail"] == NOT_FOUND
    assert full_state() == before
    r = staff.post(f"/sheets/{sid}/withdraw", {"reason": "DJ01 记录有误，重新评分"})
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "draft" and r.json()["submitted_at"] is None
    assert Sheet.objects.get(pk=sid).status == SheetStatus.DRAFT
    assert AuditEntry.objects.filter(note="DJ01 记录有误，重新评分").exists()
    # a draft cannot be withdrawn again; the sheet can be scored again
    before = full_state()
    r = staff.post(f"/sheets/{sid}/withdraw", {"reason": "再次撤回"})
    assert r.status_code == 422 and r.json()["detail"] == "该评分表尚未提交。"
    assert full_state() == before
    assert staff.put(f"/sheets/{sid}/scores", {"entries": [{"item": "DJ02", "level": "较好", "version": 1,
                                                            **FACTS}]}).status_code == 200


# ---- the panel and the analysis --------------------------------------------------------------------------

def test_set_the_panel_by_username_or_id(tree, staff, zh, users, setup, outside):
    period = setup.period("2026Q1")
    a = accounts.create_user(None, username="panel_a", password="x", validate=False)
    b = accounts.create_user(None, username="panel_b", password="x", validate=False)
    for u in (a, b):
        accounts.grant_role(None, u, Role.DEPARTMENT_STAFF, tree.sub1)
    r = staff.put(f"/periods/{period.pk}/panel", {"members": ["panel_a", b.pk], "lead": "panel_a"})
    assert r.status_code == 200, r.content
    panel = r.json()["panel"]
    assert [(m["username"], m["is_lead"]) for m in panel] == [("panel_a", True), ("panel_b", False)]
    assert set(PanelMember.objects.filter(period=period).values_list("user_id", flat=True)) == {a.pk, b.pk}
    assert staff.get(f"/periods/{period.pk}").json()["panel"] == panel
    before = full_state()
    r = staff.put(f"/periods/{period.pk}/panel", {"members": ["panel_a"], "lead": "panel_b"})
    assert r.status_code == 422 and r.json()["detail"] == "牵头考核人必须是考核评价小组成员。"
    # a branch secretary, a stranger and an outside department's user cannot sit on SUB1's panel
    r = staff.put(f"/periods/{period.pk}/panel",
                  {"members": ["panel_a", users[Role.BRANCH_SECRETARY].username, "nobody", outside["user"].pk]})
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert detail.startswith(f"{users[Role.BRANCH_SECRETARY].username}、nobody、{outside['user'].pk}不能担任")
    assert "一矿党委" in detail and "api_more_sub2" not in detail
    r = zh[Role.BRANCH_SECRETARY].put(f"/periods/{period.pk}/panel", {"members": []})
    assert r.status_code == 403 and r.json()["detail"] == NOT_YOURS
    assert zh[Role.INTERNAL_AUDITOR].put(f"/periods/{period.pk}/panel", {"members": []}).status_code == 403
    r = staff.put(f"/periods/{outside['period'].pk}/panel", {"members": []})
    assert r.status_code == 404 and r.json()["detail"] == NOT_FOUND
    assert full_state() == before
    # cleared: the department scores one shared sheet again
    r = staff.put(f"/periods/{period.pk}/panel", {"members": []})
    assert r.status_code == 200 and r.json()["panel"] == []


def test_panel_is_fixed_once_assessors_score(tree, staff, setup, admin_user):
    period = to_scoring(setup, admin_user)
    staff.post("/sheets", {"period": period.pk, "unit": "B01", "kind": "assessor"})
    before = full_state()
    r = staff.put(f"/periods/{period.pk}/panel", {"members": [admin_user.username]})
    assert r.status_code == 422 and "考核" in r.json()["detail"]
    assert full_state() == before


def test_save_the_half_year_analysis(tree, staff, zh, setup, admin_user, outside):
    half = setup.period("2026H1")
    r = staff.post(f"/periods/{half.pk}/analysis", {"analysis": "  上半年整体平稳，DJ01扣分较多。 "})
    assert r.status_code == 200, r.content
    assert r.json()["analysis"] == "上半年整体平稳，DJ01扣分较多。" and r.json()["kind"] == "half"
    before = full_state()
    r = zh[Role.BRANCH_SECRETARY].post(f"/periods/{half.pk}/analysis", {"analysis": "支部改写"})
    assert r.status_code == 403 and r.json()["detail"] == NOT_YOURS
    half_out = Period.objects.get(plan=outside["plan"], key=f"{YEAR}H1")
    r = staff.post(f"/periods/{half_out.pk}/analysis", {"analysis": "越界"})
    assert r.status_code == 404
    # published: locked
    for to in ("scoring", "review", "published"):
        services.move_period(admin_user, half, to)
    before = full_state()
    r = staff.post(f"/periods/{half.pk}/analysis", {"analysis": "发布后改写"})
    assert r.status_code == 422 and r.json()["detail"] == "该考核期已发布并锁定。"
    assert full_state() == before


# ---- scheme items ------------------------------------------------------------------------------------------

ITEM = {"category": "XC", "code": "XC03", "title": "信息报送", "standard": "每月报送1次", "max_points": "5",
        "method": "yesno"}


def test_items_of_a_draft_scheme(tree, staff, zh, admin_user, outside):
    sid = staff.post("/schemes", {"owner": "SUB1", "year": YEAR, "data": SMALL}).json()["id"]
    r = staff.post(f"/schemes/{sid}/items", ITEM)
    assert r.status_code == 201, r.content
    xc = next(c for c in r.json()["categories"] if c["code"] == "XC")
    assert [i["code"] for i in xc["items"]][-1] == "XC03"
    r = staff.send("PATCH", f"/schemes/{sid}/items/XC03", {"max_points": 4, "title": "信息报送及时"})
    assert r.status_code == 200, r.content
    item = schemes.items_by_code(schemes.Scheme.objects.get(pk=sid))["XC03"]
    assert item.title == "信息报送及时" and item.max_points == 4 and item.standard == "每月报送1次"
    before = full_state()
    r = staff.post(f"/schemes/{sid}/items", {**ITEM, "category": "ZZ"})
    assert r.status_code == 422 and r.json()["detail"] == "该考核细则中没有代码为ZZ的考核类别。"
    r = staff.post(f"/schemes/{sid}/items", {**ITEM, "code": "XC01", "max_points": "abc"})
    assert r.status_code == 422 and "XC01" in r.json()["detail"]
    r = staff.send("PATCH", f"/schemes/{sid}/items/XC03", {"kind": "important"})
    assert r.status_code == 422 and "important" in r.json()["detail"]
    assert staff.send("PATCH", f"/schemes/{sid}/items/ZZ99", {"title": "x"}).status_code == 404
    assert zh[Role.BRANCH_SECRETARY].post(f"/schemes/{sid}/items", ITEM).status_code == 404  # a draft: unseen
    assert zh[Role.INTERNAL_AUDITOR].post(f"/schemes/{sid}/items", ITEM).status_code == 404
    assert staff.post(f"/schemes/{outside['scheme'].pk}/items", ITEM).status_code == 404
    assert staff.send("DELETE", f"/schemes/{outside['scheme'].pk}/items/DJ01").status_code == 404
    assert full_state() == before
    r = staff.send("DELETE", f"/schemes/{sid}/items/XC03")
    assert r.status_code == 200 and "XC03" not in str(r.json()["categories"])


def test_items_of_a_published_scheme_are_locked(tree, staff, zh, setup):
    before = full_state()
    r = staff.post(f"/schemes/{setup.scheme.pk}/items", ITEM)
    assert r.status_code == 422 and r.json()["detail"] == "已发布的考核细则已锁定；如需修改，请复制一份。"
    r = staff.send("DELETE", f"/schemes/{setup.scheme.pk}/items/DJ01")
    assert r.status_code == 422 and r.json()["detail"] == "已发布的考核细则已锁定；如需修改，请复制一份。"
    r = zh[Role.BRANCH_SECRETARY].send("PATCH", f"/schemes/{setup.scheme.pk}/items/DJ01", {"title": "改"})
    assert r.status_code == 403 and r.json()["detail"] == NOT_YOURS  # published: read below, never changed
    assert full_state() == before


# ---- results: deductions → findings, members' points -------------------------------------------------------

@pytest.fixture
def data(tree, users):  # type: ignore[no-untyped-def]
    staff = users[Role.DEPARTMENT_STAFF]
    inside = W.build(staff, tree.sub1, [tree.b01, tree.b02])
    outsider = accounts.create_user(None, username="api_more_res_sub2", password="x", validate=False)
    accounts.grant_role(None, outsider, Role.DEPARTMENT_STAFF, tree.sub2)
    out = W.build(outsider, tree.sub2, [tree.b03], name=W.OUTSIDE_SCHEME, reason=W.OUTSIDE_REASON)
    return {"in": inside, "out": out}


def test_deductions_become_findings_exactly_once(tree, staff, zh, data):
    from pbqms.rectification.models import Finding

    period = data["in"]["period"]
    card = staff.get(f"/periods/{period}/units/B01/scorecard").json()
    scores = [d["score"] for d in card["deductions"]]
    assert len(scores) == 2 and all(d["finding"] is None for d in card["deductions"])
    other = staff.get(f"/periods/{period}/units/B02/scorecard").json()["deductions"][0]["score"]
    before = full_state()
    r = staff.post(f"/periods/{period}/findings", {"unit": "B01", "scores": []})
    assert r.status_code == 422 and r.json()["detail"] == "请选择要列为问题的扣分。"
    r = staff.post(f"/periods/{period}/findings", {"unit": "B01", "scores": [other]})
    assert r.status_code == 422 and r.json()["detail"] == "该扣分不属于本单位2025Q1的考核结果。"
    r = zh[Role.BRANCH_SECRETARY].post(f"/periods/{period}/findings", {"unit": "B01"})
    assert r.status_code == 403 and r.json()["detail"] == NOT_YOURS  # nobody raises findings on their own unit
    assert staff.post(f"/periods/{period}/findings", {"unit": "B03"}).status_code == 404
    assert staff.post(f"/periods/{data['out']['period']}/findings", {"unit": "B03"}).status_code == 404
    assert full_state() == before
    r = staff.post(f"/periods/{period}/findings", {"unit": "B01", "scores": [scores[0]]})
    assert r.status_code == 200, r.content
    assert r.json()["count"] == 1 and r.json()["existing"] == []
    first = r.json()["created"][0]
    assert first["item_code"] == "DJ01" and first["period"] == "2025Q1" and "支委会记录缺失" in first["description"]
    r = staff.post(f"/periods/{period}/findings", {"unit": "B01"})
    assert r.status_code == 200 and r.json()["count"] == 1
    assert [f["id"] for f in r.json()["existing"]] == [first["id"]]
    r = staff.post(f"/periods/{period}/findings", {"unit": "B01"})
    assert r.json()["count"] == 0 and len(r.json()["existing"]) == 2
    assert Finding.objects.filter(unit=tree.b01, source="assessment").count() == 2
    card = staff.get(f"/periods/{period}/units/B01/scorecard").json()
    assert {d["finding"] for d in card["deductions"]} == {f["id"] for f in r.json()["existing"]}


@pytest.fixture
def member_points(tree, users):  # type: ignore[no-untyped-def]
    """A members' points scheme of SUB1: m01 (loses 3 × DJ01) and 赵六 of B01 scored, in review."""
    return W.scored_member_points(tree, users[Role.DEPARTMENT_STAFF])


def test_member_points_scorecard(tree, staff, zh, users, member_points, outside):
    plan, period, other = member_points
    me = tree.m01.pk
    # under review: the committee computes and checks it, the member waits
    assert staff.post(f"/periods/{period.pk}/compute").json()["results"] == 2
    assert staff.get(f"/periods/{period.pk}/members/{me}/scorecard").status_code == 200
    r = zh[Role.MEMBER].get(f"/periods/{period.pk}/members/{me}/scorecard")
    assert r.status_code == 403 and r.json()["detail"] == NOT_YOURS
    services.move_period(users[Role.DEPARTMENT_STAFF], period, PeriodStatus.PUBLISHED)
    r = zh[Role.MEMBER].get(f"/periods/{period.pk}/members/{me}/scorecard")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["result"]["member"] == {"id": me, "name": "张三"} and body["result"]["rank"] is None
    assert [d["item"] for d in body["deductions"]] == ["DJ01"] and body["deductions"][0]["lost"] == "6.00"
    assert staff.get(f"/periods/{period.pk}/members/{me}/scorecard").json()["result"]["rank"] == 2
    # another member's points are not the member's to read; nor is anyone outside
    assert zh[Role.MEMBER].get(f"/periods/{period.pk}/members/{other.pk}/scorecard").status_code == 404
    assert staff.get(f"/periods/{period.pk}/members/{tree.m03.pk}/scorecard").status_code == 404
    assert staff.get(f"/periods/{outside['period'].pk}/members/{me}/scorecard").status_code == 404
    # members' deductions are not a unit's findings
    before = full_state()
    r = staff.post(f"/periods/{period.pk}/findings", {"unit": "B01"})
    assert r.status_code == 404  # a members' scheme has no unit result
    assert full_state() == before


# ---- bulletins ----------------------------------------------------------------------------------------------

def test_bulletin_docx_and_pdf(tree, staff, zh, data):
    period = data["in"]["period"]
    r = zh[Role.COMMITTEE_SECRETARY].get(f"/periods/{period}/bulletin.docx")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in r["Content-Disposition"]
    text = zipfile.ZipFile(io.BytesIO(r.content)).read("word/document.xml").decode()
    assert "第一党支部" in text and "第三党支部" not in text
    r = staff.get(f"/periods/{period}/bulletin.pdf")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf" and r.content.startswith(b"%PDF")
    for path in ("bulletin.docx", "bulletin.pdf", "bulletin/files"):
        r = zh[Role.BRANCH_SECRETARY].get(f"/periods/{period}/{path}")
        assert r.status_code == 403 and r.json()["detail"] == NOT_YOURS, path
        assert staff.get(f"/periods/{data['out']['period']}/{path}").status_code == 404, path


def test_bulletin_built_in_the_background(tree, zh, data, settings, django_capture_on_commit_callbacks):
    from pbqms.files.models import StoredFile

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    period = data["in"]["period"]
    sec = zh[Role.COMMITTEE_SECRETARY]
    assert sec.get(f"/periods/{period}/bulletin/files").json() == {"items": []}
    before = full_state()
    with django_capture_on_commit_callbacks(execute=True):
        r = zh[Role.BRANCH_SECRETARY].post(f"/periods/{period}/bulletin/build")
        assert r.status_code == 403
        assert sec.post(f"/periods/{data['out']['period']}/bulletin/build").status_code == 404
    assert full_state() == before and not StoredFile.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        r = sec.post(f"/periods/{period}/bulletin/build")
    assert r.status_code == 202 and r.json()["detail"] == "通报正在生成，完成后可在站内消息和下方查看。"
    files = sec.get(f"/periods/{period}/bulletin/files").json()["items"]
    assert sorted(f["name"].rsplit(".", 1)[1] for f in files) == ["docx", "pdf"]
    kept = StoredFile.objects.filter(owner=tasks.OWNER.format(pk=period))
    assert {f["url"] for f in files} == {f"/files/{f.token}/" for f in kept}
    assert sec.client.get(files[0]["url"]).status_code in (200, 302)


# ---- performance linkage --------------------------------------------------------------------------------------

def test_linkage_table_and_export(tree, staff, zh, data):
    plan = data["in"]["plan"]
    r = staff.get(f"/plans/{plan}/linkage")
    assert r.status_code == 200 and r.json()["by_stars"] is True and len(r.json()["rows"]) == 3
    r = staff.put(f"/plans/{plan}/linkage", {"rows": [{"min_total": 90, "secretary": "1.2", "committee": "1.1"},
                                                      {"min_total": "60", "secretary": 1, "committee": "0.9"}]})
    assert r.status_code == 200, r.content
    assert r.json()["by_stars"] is False
    assert [(x["min_total"], x["secretary"]) for x in r.json()["rows"]] == [("90.00", "1.20"), ("60.00", "1.00")]
    before = full_state()
    r = staff.put(f"/plans/{plan}/linkage", {"rows": []})
    assert r.status_code == 422 and r.json()["detail"] == "挂钩表至少要填写一行。"
    r = staff.put(f"/plans/{plan}/linkage", {"rows": [{"stars": 7, "secretary": "1", "committee": "1"}]})
    assert r.status_code == 422 and r.json()["detail"] == "第1行：星级应在0至5之间。"
    for role in (Role.BRANCH_SECRETARY, Role.INTERNAL_AUDITOR):
        r = zh[role].put(f"/plans/{plan}/linkage", {"rows": [{"stars": 5, "secretary": "1", "committee": "1"}]})
        assert r.status_code == 403 and r.json()["detail"] == NOT_YOURS
        assert zh[role].get(f"/plans/{plan}/linkage").status_code == 403
        assert zh[role].get(f"/plans/{plan}/linkage.xlsx").status_code == 403
    out = data["out"]["plan"]
    assert staff.put(f"/plans/{out}/linkage", {"rows": [{"stars": 5, "secretary": "1",
                                                          "committee": "1"}]}).status_code == 404
    assert staff.get(f"/plans/{out}/linkage").status_code == 404
    assert staff.get(f"/plans/{out}/linkage.xlsx").status_code == 404
    assert staff.get(f"/plans/{plan}/linkage.xlsx", period=data["out"]["period"]).status_code == 404
    assert full_state() == before
    audits = AuditEntry.objects.count()
    r = staff.get(f"/plans/{plan}/linkage.xlsx", period=data["in"]["period"])
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert rows[0][0] == "排名" and {row[1] for row in rows[1:]} == {"B01", "B02"}
    assert AuditEntry.objects.count() == audits + 1  # the export is recorded
    assert staff.get(f"/plans/{plan}/linkage.xlsx").status_code == 200  # default: the year


def test_linkage_export_before_any_result(tree, staff, setup):
    before = full_state()
    r = staff.get(f"/plans/{setup.plan.pk}/linkage.xlsx")
    assert r.status_code == 422 and r.json()["detail"] == "本考核计划的考核期尚无结果。"
    assert full_state() == before


def test_english_messages(tree, english, users, setup, admin_user):
    staff = Api(english, users[Role.DEPARTMENT_STAFF])
    period = to_scoring(setup, admin_user)
    sid = _submitted(staff, period)
    r = staff.post(f"/sheets/{sid}/withdraw", {"reason": ""})
    assert r.status_code == 422 and r.json()["detail"] == "Give the reason for withdrawing the submission."
    r = staff.put(f"/periods/{period.pk}/panel", {"members": ["nobody"]})
    assert r.status_code == 422 and r.json()["detail"].startswith("nobody cannot sit on this panel")
    assert Score.objects.filter(sheet_id=sid).count() == 8
