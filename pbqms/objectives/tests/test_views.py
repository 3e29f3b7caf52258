"""The objectives pages over HTTP: every screen renders for the roles that use it with bounded
queries, the flows work, every table exports to .xlsx, and bad input gets a clear message in the
caller's language with nothing changed."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from pbqms.accounts import services as accounts
from pbqms.accounts.models import Role
from pbqms.objectives import letters, member_services
from pbqms.objectives.models import MemberTarget, Objective, ResponsibilityLetter, ReviewState, Target

from .conftest import YEAR

pytestmark = pytest.mark.django_db


def _login(client, user):
    client.force_login(user)
    return client


def _propose(tree, users, title="完成月度生产任务"):
    return member_services.propose_member_target(users[Role.MEMBER], tree.m01, year=YEAR, category="work_task",
                                                 title=title, measure="按调度报表考核")


# ---- every screen -------------------------------------------------------------------------------

def test_every_screen_renders_with_bounded_queries(client, tree, year, users, django_assert_max_num_queries):
    mt = _propose(tree, users)
    letter = letters.draw_up_letter(None, tree.b01, YEAR)
    pages = {
        Role.COMMITTEE_ADMIN: ["/objectives/", f"/objectives/{year.objective.pk}/", "/objectives/new/",
                               f"/objectives/{year.objective.pk}/edit/", "/objectives/policy/SUB1/",
                               "/objectives/common/SUB1/", "/objectives/units/B01/", "/objectives/units/B01/new/",
                               f"/objectives/targets/{year.t01.pk}/", f"/objectives/targets/{year.t01.pk}/edit/",
                               "/objectives/units/B01/members/", f"/objectives/member-targets/{mt.pk}/",
                               "/objectives/dashboard/SUB1/", "/objectives/dashboard/B01/", "/objectives/letters/",
                               f"/objectives/letters/{letter.pk}/"],
        Role.BRANCH_SECRETARY: ["/objectives/units/B01/members/", "/objectives/dashboard/B01/",
                                f"/objectives/letters/{letter.pk}/"],
        Role.MEMBER: ["/objectives/mine/", f"/objectives/member-targets/{mt.pk}/", "/objectives/",
                      "/objectives/dashboard/B01/"],
    }
    for role, urls in pages.items():
        _login(client, users[role])
        for url in urls:
            with django_assert_max_num_queries(15):
                r = client.get(url + f"?year={YEAR}")
            assert r.status_code == 200, (role, url, r.status_code)


def test_cascade_shows_coverage_and_gaps(client, tree, year, users):
    from pbqms.orgs import services as orgs

    orgs.create_unit(None, code="B04", name="第四党支部", kind="branch", parent=tree.sub1)
    body = _login(client, users[Role.COMMITTEE_ADMIN]).get(f"/objectives/{year.objective.pk}/").content.decode()
    assert "第一党支部" in body and "第二党支部" in body
    assert 'data-coverage="2/3"' in body
    gaps = body.split('class="card gaps"')[1]
    assert "第四党支部" in gaps and "第一党支部" not in gaps


def test_dashboard_rolls_up_the_tree(client, tree, year, users):
    _login(client, users[Role.BRANCH_SECRETARY]).post(f"/objectives/targets/{year.t01.pk}/", {
        "reported_on": dt.date.today().isoformat(), "progress": 100, "status": "achieved", "value": "100",
        "note": "全员完成轮训"})
    body = _login(client, users[Role.COMMITTEE_ADMIN]).get(f"/objectives/dashboard/SUB1/?year={YEAR}").content.decode()
    assert "第一党支部" in body and "第二党支部" in body and "50%" in body
    wb = load_workbook(io.BytesIO(client.get(f"/objectives/dashboard/SUB1/?year={YEAR}&export=xlsx").content))
    rows = list(wb.active.iter_rows(values_only=True))
    assert rows[1][:2] == ("一矿党委", 2) and len(rows) == 4


@pytest.mark.parametrize("url", ["/objectives/", "/objectives/units/B01/", "/objectives/units/B01/members/",
                                 "/objectives/letters/", "/objectives/dashboard/SUB1/", "OBJECTIVE"])
def test_every_table_exports_to_xlsx(client, tree, year, users, url):
    letters.draw_up_letter(None, tree.b01, YEAR)
    _propose(tree, users)
    url = f"/objectives/{year.objective.pk}/" if url == "OBJECTIVE" else url
    r = _login(client, users[Role.COMMITTEE_ADMIN]).get(f"{url}?year={YEAR}&export=xlsx")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert len(rows) >= 2 and all(rows[0])


def test_member_proposes_branch_approves_from_the_queue(client, tree, users):
    _login(client, users[Role.MEMBER]).post("/objectives/mine/", {
        "year": YEAR, "category": "post_skill", "title": "取得采煤机司机高级工证书", "measure": "年底前取得证书"})
    mt = MemberTarget.objects.get()
    assert mt.state == ReviewState.PROPOSED
    body = _login(client, users[Role.BRANCH_SECRETARY]).get(
        f"/objectives/units/B01/members/?year={YEAR}").content.decode()
    assert "取得采煤机司机高级工证书" in body and "张三" in body
    r = client.post(f"/objectives/member-targets/{mt.pk}/review/", {"decision": "approve"},
                    HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "rv-approved" in r.content.decode()
    mt.refresh_from_db()
    assert mt.state == ReviewState.APPROVED
    body = client.get(f"/objectives/units/B01/members/?year={YEAR}").content.decode()
    assert "每名党员" in body or "Every party member" in body  # m01 is no longer on the to-do list


def test_letter_signing_and_printing(client, tree, year, users):
    letter = letters.draw_up_letter(None, tree.b01, YEAR)
    _login(client, users[Role.BRANCH_SECRETARY]).post(f"/objectives/letters/{letter.pk}/",
                                                      {"action": "sign", "side": "branch"})
    _login(client, users[Role.COMMITTEE_SECRETARY]).post(f"/objectives/letters/{letter.pk}/",
                                                         {"action": "sign", "side": "committee"})
    letter.refresh_from_db()
    assert letter.is_signed and letter.state == "signed"
    body = client.get(f"/objectives/letters/{letter.pk}/").content.decode()
    assert letter.branch_signer_name in body and "组织党员参加轮训" in body
    docx = client.get(f"/objectives/letters/{letter.pk}/docx/")
    assert docx.status_code == 200 and docx.content[:2] == b"PK"
    from docx import Document

    text = "\n".join(p.text for p in Document(io.BytesIO(docx.content)).paragraphs)
    assert letter.title in text and "第一党支部" in text
    pdf = client.get(f"/objectives/letters/{letter.pk}/pdf/")
    assert pdf.status_code == 200 and pdf.content[:4] == b"%PDF"


# ---- bad input ----------------------------------------------------------------------------------

TARGET_FORM = {"objective": "", "parent": "", "member": "", "task": "组织轮训", "person": "支部书记",
               "indicator": "参训率", "value_kind": "percent", "target_value": "100", "measure_unit": "",
               "deadline": f"{YEAR}-10-31", "quality": ""}


def _target_form(year, **changes):
    return {**TARGET_FORM, "objective": str(year.objective.pk), **changes}


@pytest.mark.parametrize("changes,zh,en", [
    ({"indicator": ""}, "目标须有指标（定指标）。", "A target needs an indicator (定指标)."),
    ({"deadline": ""}, "目标须有完成时限（定时限）。", "A target needs a deadline (定时限)."),
    ({"target_value": "全部"}, "“全部”不是“百分比”类型的有效值。",
     "“全部” is not a valid value of the kind “Percentage”."),
    ({"value_kind": "date", "target_value": "十月底"}, "“十月底”不是“日期”类型的有效值。",
     "“十月底” is not a valid value of the kind “Date”."),
])
def test_bad_target_is_refused_in_both_languages(client, tree, year, users, changes, zh, en):
    user = users[Role.BRANCH_COMMITTEE]
    before = list(Target.objects.values())
    r = _login(client, user).post(f"/objectives/units/B02/new/?year={YEAR}", _target_form(year, **changes))
    assert r.status_code == 404  # another branch: outside the branch committee's scope
    r = client.post(f"/objectives/units/B01/new/?year={YEAR}", _target_form(year, **changes))
    assert r.status_code == 200 and zh in r.content.decode()
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    r = client.post(f"/objectives/units/B01/new/?year={YEAR}", _target_form(year, **changes))
    assert r.status_code == 200 and en in r.content.decode()
    assert list(Target.objects.values()) == before


def test_approving_ones_own_target_is_refused_in_both_languages(client, english, tree, users):
    secretary = users[Role.BRANCH_SECRETARY]
    users[Role.MEMBER].member = None
    users[Role.MEMBER].save()
    secretary.member = tree.m01
    secretary.save()
    accounts.grant_role(None, secretary, Role.MEMBER, tree.b01)
    secretary = type(secretary).objects.get(pk=secretary.pk)
    mt = member_services.propose_member_target(secretary, tree.m01, year=YEAR, category="work_task", title="自己的目标",
                                               measure="x")
    before = list(MemberTarget.objects.values())
    client.force_login(secretary)
    client.defaults.pop("HTTP_ACCEPT_LANGUAGE", None)
    r = client.post(f"/objectives/member-targets/{mt.pk}/", {"action": "review", "decision": "approve"})
    assert "您不能审定、退回或评分自己的目标" in r.content.decode()
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    r = client.post(f"/objectives/member-targets/{mt.pk}/review/", {"decision": "approve"}, follow=True)
    assert "You cannot approve, return or score your own targets" in r.content.decode()
    assert list(MemberTarget.objects.values()) == before


def test_editing_a_signed_letter_is_refused_in_both_languages(client, tree, year, users):
    letter = letters.draw_up_letter(None, tree.b01, YEAR)
    letters.sign_letter(None, letter, "branch", name="赵支书")
    before = list(ResponsibilityLetter.objects.values())
    admin = users[Role.COMMITTEE_ADMIN]
    r = _login(client, admin).post(f"/objectives/letters/{letter.pk}/", {"action": "edit", "title": "改过的标题",
                                                                        "preamble": "x"})
    assert "已签署的责任书不能修改；请另行起草补充责任书。" in r.content.decode()
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    r = client.post(f"/objectives/letters/{letter.pk}/", {"action": "edit", "title": "改过的标题", "preamble": "x"})
    assert "A signed letter cannot be edited; draw up an amendment instead." in r.content.decode()
    assert list(ResponsibilityLetter.objects.values()) == before


def test_objective_value_of_the_wrong_kind_is_refused(client, tree, users):
    before = Objective.objects.count()
    data = {"unit": "SUB1", "year": YEAR, "title": "党组织按期换届", "indicator": "按期换届率", "value_kind": "yesno",
            "target_value": "大概", "deadline": f"{YEAR}-12-31", "responsible": "组织委员"}
    r = _login(client, users[Role.COMMITTEE_ADMIN]).post("/objectives/new/", data)
    assert "“大概”不是“是/否”类型的有效值。" in r.content.decode()
    assert Objective.objects.count() == before


def test_member_cannot_see_other_members_or_the_branch_list(client, tree, year, users):
    _login(client, users[Role.MEMBER])
    assert client.get("/objectives/units/B01/members/").status_code == 404
    other = MemberTarget.objects.create(member=tree.m02, unit=tree.b02, org_path=tree.b02.path, year=YEAR,
                                        part="individual", category="work_task", title="李四的目标")
    assert client.get(f"/objectives/member-targets/{other.pk}/").status_code == 404
    assert client.post(f"/objectives/targets/{year.t01.pk}/", {"reported_on": "2026-01-02", "progress": 5,
                                                                "status": "on_track", "note": "x"}).status_code == 403
