"""The rectification pages through HTTP, as each role: the whole loop, every refusal with its
message and nothing changed, scope, and bounded queries on the ledger and the dashboard.

Messages are asserted in Chinese (the default language); one test asks in English.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from pbqms.accounts import services as accounts
from pbqms.accounts.models import Role
from pbqms.files.models import StoredFile
from pbqms.files.tests import samples
from pbqms.orgs import services as orgs
from pbqms.orgs.models import UnitKind
from pbqms.rectification import services
from pbqms.rectification.models import (
    CauseCategory,
    Feedback,
    Finding,
    FindingStatus,
    Notice,
    NoticeStatus,
    NoticeStep,
    PreventiveAction,
    PreventiveStatus,
    PreventiveTrigger,
    RectificationSettings,
    Verification,
)

from .factories import answered_notice, finding, issued_notice, today

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def file_root(settings, tmp_path):
    settings.PBQMS_FILE_ROOT = tmp_path / "files"
    return settings.PBQMS_FILE_ROOT


def on_disk(root) -> list:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def body(r) -> str:
    return r.content.decode()


def url(name: str, *args) -> str:
    return reverse(f"rectification:{name}", args=args)


@pytest.fixture
def staff(users):
    return users[Role.DEPARTMENT_STAFF]


@pytest.fixture
def secretary(users):
    return users[Role.BRANCH_SECRETARY]


def answer_post(notice: Notice, **override) -> dict:
    cause = CauseCategory.objects.order_by("order").first()
    data = {}
    for f in notice.findings.filter(status__in=(FindingStatus.NOTIFIED, FindingStatus.REOPENED)):
        data.update({f"f{f.pk}-cause_category": str(cause.pk), f"f{f.pk}-cause": override.get("cause", "学习不够"),
                     f"f{f.pk}-measures": override.get("measures", "补齐会议记录，建立台账"),
                     f"f{f.pk}-completed_on": override.get("completed_on", today().isoformat())})
    return data


# ---- the to-do list ----------------------------------------------------------------------------

def test_todo_renders_for_every_role_with_what_to_do(client, any_role):
    role, user = any_role
    client.force_login(user)
    r = client.get(url("todo"))
    assert r.status_code == 200
    text = body(r)
    assert "整改待办" in text
    if role in (Role.COMMITTEE_SECRETARY, Role.COMMITTEE_ADMIN, Role.DEPARTMENT_STAFF):
        assert "记录问题" in text  # issuers are told how to start
    if role == Role.INTERNAL_AUDITOR:
        assert "记录问题" not in text  # auditors read the loop; their findings come through audits
    if role in (Role.BRANCH_SECRETARY, Role.BRANCH_COMMITTEE):
        assert "签收" in text or "下达到本单位" in text


def test_todo_lists_each_sides_work(client, staff, secretary, tree):
    answered = answered_notice(staff, secretary, tree.b01, n=1)
    issued = issued_notice(staff, tree.b02, n=1)
    draft = services.draft_notice(staff, unit=tree.b01, findings=[finding(staff, tree.b01, item="DJ-9")],
                                  title="草稿通知", requirement="整改", deadline=today() + dt.timedelta(days=5))
    client.force_login(staff)
    text = body(client.get(url("todo")))
    assert answered.number in text and "草稿通知" in text
    assert url("notice_issue", draft.pk) in text
    client.force_login(secretary)
    text = body(client.get(url("todo")))
    assert issued.number not in text  # B02 is not the secretary's unit
    b01 = issued_notice(staff, tree.b01, n=1)
    text = body(client.get(url("todo")))
    assert b01.number in text and url("notice_receive", b01.pk) in text


# ---- the whole loop ----------------------------------------------------------------------------

def test_the_whole_loop_through_the_web(client, staff, secretary, tree, file_root):
    # record two findings, one with evidence
    client.force_login(staff)
    r = client.get(url("finding_create"))
    assert r.status_code == 200 and "第一党支部" in body(r) and "第三党支部" not in body(r)
    r = client.post(url("finding_create"), {
        "unit": "B01", "source": "inspection", "item_code": "DJ-1.1", "severity": "major",
        "found_on": today().isoformat(), "standard": "每月召开支委会", "description": "三会一课记录不全",
        "evidence": [samples.upload("现场.jpg")]})
    assert r.status_code == 302, body(r)
    first = Finding.objects.get(item_code="DJ-1.1")
    assert first.evidence.count() == 1 and first.found_by == staff
    r = client.post(url("finding_create"), {
        "unit": "B01", "source": "inspection", "item_code": "DJ-2.3", "severity": "general",
        "found_on": today().isoformat(), "description": "党费收缴台账未及时更新", "next": "another"})
    assert r.status_code == 302 and r["Location"].endswith("?unit=B01")
    second = Finding.objects.get(item_code="DJ-2.3")

    # the new-notice page lists the unit's open findings; save as a draft, then issue
    r = client.get(url("notice_create") + "?unit=B01", **HX, HTTP_HX_TARGET="notice-findings")
    assert "三会一课记录不全" in body(r) and "<html" not in body(r)
    deadline = today() + dt.timedelta(days=10)
    r = client.post(url("notice_create"), {"unit": "B01", "findings": [first.pk, second.pk],
                                           "title": "第一季度检查整改", "requirement": "逐条整改并反馈",
                                           "deadline": deadline.isoformat()})
    notice = Notice.objects.get(title="第一季度检查整改")
    assert r.status_code == 302 and notice.status == NoticeStatus.DRAFT
    r = client.post(url("notice_issue", notice.pk))
    notice.refresh_from_db()
    assert r.status_code == 302 and notice.status == NoticeStatus.ISSUED and notice.number
    page = body(client.get(url("notice", notice.pk)))
    assert notice.number in page and "三会一课记录不全" in page and "每月召开支委会" in page
    assert "剩余10天" in page

    # the branch receives and answers every finding, with evidence on one
    client.force_login(secretary)
    page = body(client.get(url("notice", notice.pk)))
    assert url("notice_receive", notice.pk) in page and url("finding_verify", first.pk) not in page
    assert client.post(url("notice_receive", notice.pk)).status_code == 302
    data = answer_post(notice)
    data[f"f{first.pk}-evidence"] = [samples.upload("整改报告.pdf")]
    r = client.post(url("notice_feedback", notice.pk), data)
    assert r.status_code == 302, body(r)
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.ANSWERED
    assert Feedback.objects.get(finding=first).evidence.count() == 1

    # the department verifies inline: the first not effective, the second effective
    client.force_login(staff)
    page = body(client.get(url("notice", notice.pk)))
    assert url("finding_verify", first.pk) in page and "补齐会议记录" in page
    r = client.post(url("finding_verify", first.pk), {"effective": "no", "note": "记录仍缺两次"}, **HX)
    assert r.status_code == 200 and 'id="finding-' in body(r) and "记录仍缺两次" in body(r)
    assert 'hx-swap-oob="true"' in body(r)
    r = client.post(url("finding_verify", second.pk), {"effective": "yes", "note": "台账已更新"}, **HX)
    assert r.status_code == 200
    first.refresh_from_db()
    assert first.status == FindingStatus.REOPENED

    # closing is refused while a fix is not effective; return with a reason and a new deadline
    r = client.post(url("notice_close", notice.pk))
    assert "不能关闭" in body(r)
    assert Notice.objects.get(pk=notice.pk).status == NoticeStatus.ANSWERED
    new_deadline = today() + dt.timedelta(days=7)
    r = client.post(url("notice_return", notice.pk),
                    {"reason": "第1项整改不到位", "deadline": new_deadline.isoformat()})
    assert r.status_code == 302
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.RETURNED and notice.deadline == new_deadline and notice.rounds == 1

    # the branch answers the reopened finding only
    client.force_login(secretary)
    r = client.get(url("notice_feedback", notice.pk))
    assert f"f{first.pk}-cause" in body(r) and f"f{second.pk}-cause" not in body(r)
    assert "记录仍缺两次" in body(r)  # the failed verification is shown beside the form
    r = client.post(url("notice_feedback", notice.pk), answer_post(notice, measures="逐次补记并签字"))
    assert r.status_code == 302
    assert Feedback.objects.filter(finding=first).count() == 2

    # verified effective, then closed
    client.force_login(staff)
    r = client.post(url("finding_verify", first.pk), {"effective": "yes", "note": "已补齐"})
    assert r.status_code == 302
    r = client.post(url("notice_close", notice.pk), {"note": "整改到位"})
    assert r.status_code == 302
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.CLOSED
    actions = list(NoticeStep.objects.filter(notice=notice).values_list("action", flat=True))
    assert actions == ["draft", "issue", "receive", "submit", "verify", "verify", "return", "submit", "verify",
                       "close"]
    page = body(client.get(url("notice", notice.pk)))
    assert "流转记录" in page and staff.username in page and secretary.username in page
    # the finding's page shows both rounds
    page = body(client.get(url("finding", first.pk)))
    assert "记录仍缺两次" in page and "逐次补记并签字" in page
    assert len(on_disk(file_root)) == 2


# ---- refusals: the message, and nothing changed --------------------------------------------------

def test_feedback_after_closure_is_refused(client, staff, secretary, tree):
    notice = answered_notice(staff, secretary, tree.b01, n=1)
    f = notice.findings.get()
    services.verify_finding(staff, f, effective=True, note="到位")
    services.close_notice(staff, notice)
    before = Feedback.objects.count()
    client.force_login(secretary)
    cause = CauseCategory.objects.first()
    r = client.post(url("notice_feedback", notice.pk), {f"f{f.pk}-cause_category": cause.pk, f"f{f.pk}-cause": "x",
                                                        f"f{f.pk}-measures": "y"})
    assert r.status_code == 200
    assert "此通知书已关闭" in body(r)
    assert Feedback.objects.count() == before
    assert Notice.objects.get(pk=notice.pk).status == NoticeStatus.CLOSED


def test_feedback_without_cause_or_measures_names_each_finding(client, staff, secretary, tree):
    notice = issued_notice(staff, tree.b01, n=2)
    client.force_login(secretary)
    data = answer_post(notice)
    first = notice.findings.order_by("pk").first()
    data[f"f{first.pk}-cause"] = ""
    data[f"f{first.pk}-measures"] = " "
    r = client.post(url("notice_feedback", notice.pk), data)
    assert r.status_code == 200
    text = body(r)
    assert "问题 DJ-1.1" in text and "说明原因" in text and "整改措施" in text
    assert Feedback.objects.count() == 0
    assert Notice.objects.get(pk=notice.pk).status == NoticeStatus.ISSUED


def test_the_unit_itself_cannot_verify(client, staff, secretary, tree):
    notice = answered_notice(staff, secretary, tree.b01, n=1)
    f = notice.findings.get()
    client.force_login(secretary)
    assert url("finding_verify", f.pk) not in body(client.get(url("notice", notice.pk)))
    r = client.post(url("finding_verify", f.pk), {"effective": "yes", "note": "自查到位"})
    assert r.status_code == 403
    # a department user who also holds a role on the branch may not judge it either
    accounts.grant_role(None, staff, Role.BRANCH_COMMITTEE, tree.b01)
    staff = type(staff).objects.get(pk=staff.pk)
    client.force_login(staff)
    assert url("finding_verify", f.pk) not in body(client.get(url("notice", notice.pk)))
    r = client.post(url("finding_verify", f.pk), {"effective": "yes", "note": "到位"})
    assert r.status_code == 403
    assert Verification.objects.count() == 0
    assert Finding.objects.get(pk=f.pk).status == FindingStatus.ANSWERED


def test_a_deadline_in_the_past_is_refused(client, staff, tree):
    f = finding(staff, tree.b01)
    client.force_login(staff)
    r = client.post(url("notice_create"), {"unit": "B01", "findings": [f.pk], "title": "整改", "requirement": "整改",
                                           "deadline": (today() - dt.timedelta(days=1)).isoformat()})
    assert r.status_code == 200
    assert "整改截止日期必须晚于今天" in body(r)
    assert Notice.objects.count() == 0
    assert Finding.objects.get(pk=f.pk).notice_id is None


def test_a_return_with_a_past_deadline_is_refused(client, staff, secretary, tree):
    notice = answered_notice(staff, secretary, tree.b01, n=1)
    client.force_login(staff)
    r = client.post(url("notice_return", notice.pk), {"reason": "不到位", "deadline": today().isoformat()})
    assert r.status_code == 200 and "整改截止日期必须晚于今天" in body(r)
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.ANSWERED and notice.rounds == 0


def test_a_file_that_lies_about_its_type_is_refused(client, staff, tree, file_root):
    client.force_login(staff)
    r = client.post(url("finding_create"), {
        "unit": "B01", "source": "inspection", "severity": "general", "found_on": today().isoformat(),
        "description": "问题", "evidence": [samples.upload("整改报告.pdf", samples.EXE)]})
    assert r.status_code == 200
    assert "“整改报告.pdf”的文件内容与扩展名不符。" in body(r)
    assert Finding.objects.count() == 0 and StoredFile.objects.count() == 0 and on_disk(file_root) == []


def test_a_file_too_big_is_refused(client, staff, secretary, tree, settings, file_root):
    settings.PBQMS_MAX_UPLOAD_MB = 1
    notice = issued_notice(staff, tree.b01, n=1)
    f = notice.findings.get()
    client.force_login(secretary)
    data = answer_post(notice)
    data[f"f{f.pk}-evidence"] = [samples.upload("现场.jpg", samples.image("JPEG") + b"\0" * (1024 * 1024 + 10))]
    r = client.post(url("notice_feedback", notice.pk), data)
    assert r.status_code == 200
    assert "1 MB" in body(r)
    assert Feedback.objects.count() == 0 and StoredFile.objects.count() == 0 and on_disk(file_root) == []


def test_a_refused_feedback_keeps_no_uploaded_file(client, staff, secretary, tree, file_root):
    notice = issued_notice(staff, tree.b01, n=2)
    first, second = notice.findings.order_by("pk")
    client.force_login(secretary)
    data = answer_post(notice)
    data[f"f{first.pk}-evidence"] = [samples.upload("整改报告.pdf")]
    data[f"f{second.pk}-completed_on"] = (today() + dt.timedelta(days=3)).isoformat()  # refused by the service
    r = client.post(url("notice_feedback", notice.pk), data)
    assert r.status_code == 200 and "完成日期不能是未来的日期" in body(r)
    assert StoredFile.objects.count() == 0 and on_disk(file_root) == []


@pytest.mark.parametrize("role,step", [
    (Role.BRANCH_SECRETARY, "notice_issue"),
    (Role.MEMBER, "notice_issue"),
    (Role.INTERNAL_AUDITOR, "notice_issue"),
    (Role.DEPARTMENT_STAFF, "notice_receive"),
    (Role.GROUP_LEADER, "notice_discard"),
])
def test_a_step_by_a_role_that_may_not_take_it_is_forbidden(client, users, tree, role, step):
    staff = users[Role.DEPARTMENT_STAFF]
    notice = services.draft_notice(staff, unit=tree.b01, findings=[finding(staff, tree.b01)], title="整改",
                                   requirement="整改", deadline=today() + dt.timedelta(days=5))
    if step == "notice_receive":
        services.issue_notice(staff, notice)
    before = Notice.objects.get(pk=notice.pk).status
    client.force_login(users[role])
    r = client.post(url(step, notice.pk))
    assert r.status_code in (403, 404)  # outside the role's readable records: 404
    assert Notice.objects.get(pk=notice.pk).status == before


@pytest.mark.parametrize("role", [Role.BRANCH_SECRETARY, Role.MEMBER, Role.GROUP_LEADER])
def test_recording_and_issuing_need_an_issuing_role(client, users, tree, role):
    client.force_login(users[role])
    assert client.get(url("finding_create")).status_code == 403
    assert client.get(url("notice_create")).status_code == 403
    assert client.post(url("finding_create"), {"unit": "B01", "description": "x"}).status_code == 403
    assert Finding.objects.count() == 0


def test_the_branch_cannot_answer_for_another_unit_or_the_department_for_a_branch(client, users, tree):
    staff = users[Role.DEPARTMENT_STAFF]
    notice = issued_notice(staff, tree.b02, n=1)
    client.force_login(users[Role.BRANCH_SECRETARY])
    assert client.get(url("notice", notice.pk)).status_code == 404  # B02 is outside B01's subtree
    client.force_login(staff)
    assert client.post(url("notice_feedback", notice.pk), answer_post(notice)).status_code == 403
    assert Feedback.objects.count() == 0


def test_outside_records_answer_404(client, users, tree, admin_user):
    f = finding(admin_user, tree.b03, description="二矿的问题")
    client.force_login(users[Role.COMMITTEE_SECRETARY])
    assert client.get(url("finding", f.pk)).status_code == 404
    assert client.post(url("finding_withdraw", f.pk), {"reason": "x"}).status_code == 404
    assert client.get(url("ledger", "B03")).status_code == 404
    assert client.get(url("dashboard", "B03")).status_code == 404
    assert "二矿的问题" not in body(client.get(url("findings") + "?year=all&status=all"))


def test_withdrawing_needs_a_reason(client, staff, tree):
    f = finding(staff, tree.b01)
    client.force_login(staff)
    r = client.post(url("finding_withdraw", f.pk), {"reason": ""})
    assert r.status_code == 200 and "撤销问题的原因" in body(r)
    assert Finding.objects.get(pk=f.pk).status == FindingStatus.OPEN
    r = client.post(url("finding_withdraw", f.pk), {"reason": "重复登记"})
    assert r.status_code == 302 and Finding.objects.get(pk=f.pk).status == FindingStatus.WITHDRAWN


def test_a_finding_in_the_future_is_refused_on_its_field(client, staff, tree):
    client.force_login(staff)
    r = client.post(url("finding_create"), {"unit": "B01", "source": "inspection", "severity": "general",
                                            "found_on": (today() + dt.timedelta(days=2)).isoformat(),
                                            "description": "问题"})
    assert r.status_code == 200 and "不能晚于今天" in body(r)
    r = client.post(url("finding_create"), {"unit": "B03", "source": "inspection", "severity": "general",
                                            "found_on": today().isoformat(), "description": "越界"})
    assert r.status_code == 200 and Finding.objects.count() == 0


def test_messages_in_english(english, staff, tree):
    f = finding(staff, tree.b01)
    english.force_login(staff)
    r = english.post(url("notice_create"), {"unit": "B01", "findings": [f.pk], "title": "Fix", "requirement": "Fix",
                                            "deadline": today().isoformat()})
    assert "The deadline must be after today." in body(r)
    assert "Rectification to-do" in body(english.get(url("todo")))
    assert Notice.objects.count() == 0


# ---- lists, filters, search --------------------------------------------------------------------

def test_lists_filter_and_search(client, staff, secretary, tree):
    notice = issued_notice(staff, tree.b01, n=1)
    other = issued_notice(staff, tree.b02, n=1)
    finding(staff, tree.b02, item="ZZ-9", description="发展党员程序不规范")
    client.force_login(staff)
    r = client.get(url("notices") + f"?q={notice.number}")
    assert notice.number in body(r) and other.number not in body(r)
    r = client.get(url("notices") + "?unit=B02&status=issued", **HX, HTTP_HX_TARGET="notice-results")
    assert other.number in body(r) and notice.number not in body(r) and "<html" not in body(r)
    r = client.get(url("findings") + "?item=ZZ-9")
    assert "发展党员程序不规范" in body(r) and "三会一课" not in body(r)
    r = client.get(url("findings") + "?status=open&unit=B02")
    assert "发展党员程序不规范" in body(r)
    r = client.get(url("findings") + "?overdue=on")
    assert "发展党员程序不规范" not in body(r)


def test_settings_page_refuses_a_malformed_pattern(client, users, tree):
    admin = users[Role.COMMITTEE_ADMIN]
    client.force_login(admin)
    r = client.get(url("settings", "SUB1"))
    assert r.status_code == 200 and "党纠〔{year}〕{seq:03d}号" in body(r)
    data = {"number_pattern": "党纠〔{year}〕{seq:03d号", "reminder_days": "3,1", "escalate_after_days": 3,
            "recurrence_periods": 2, "recurrence_units": 3, "preventive_days": 30}
    r = client.post(url("settings", "SUB1"), data)
    assert r.status_code == 200 and "编号格式" in body(r)
    assert RectificationSettings.objects.count() == 0
    data["number_pattern"] = "一矿纠〔{year}〕{seq:03d}号"
    r = client.post(url("settings", "SUB1"), data)
    assert r.status_code == 302
    assert RectificationSettings.objects.get(unit=tree.sub1).number_pattern == "一矿纠〔{year}〕{seq:03d}号"
    client.force_login(users[Role.BRANCH_SECRETARY])
    assert client.get(url("settings", "B01")).status_code == 403


# ---- preventive actions ------------------------------------------------------------------------

def test_preventive_action_through_the_web(client, users, tree):
    staff, secretary = users[Role.DEPARTMENT_STAFF], users[Role.BRANCH_SECRETARY]
    action = PreventiveAction.objects.create(
        key="t:1", trigger=PreventiveTrigger.SAME_UNIT, unit=tree.b01, org_path=tree.b01.path, item_code="DJ-1.1",
        title="第一党支部：DJ-1.1 再次发现", due_on=today() + dt.timedelta(days=30))
    client.force_login(staff)
    page = body(client.get(url("preventive", action.pk)))
    assert secretary.username in page  # offered as owner
    r = client.post(url("preventive_accept", action.pk), {"owner": "", "due_on": "", "measures": ""})
    assert r.status_code == 200 and "负责人" in body(r)
    assert PreventiveAction.objects.get(pk=action.pk).status == PreventiveStatus.PROPOSED
    r = client.post(url("preventive_accept", action.pk), {
        "owner": secretary.pk, "due_on": (today() + dt.timedelta(days=20)).isoformat(), "measures": "建立月度自查"})
    assert r.status_code == 302
    client.force_login(secretary)
    assert "第一党支部：DJ-1.1 再次发现" in body(client.get(url("todo")))
    r = client.post(url("preventive_done", action.pk), {"result": "已建立并执行两个月"})
    assert r.status_code == 302
    assert client.post(url("preventive_verify", action.pk), {"effective": "yes", "note": "x"}).status_code == 403
    client.force_login(staff)
    r = client.post(url("preventive_verify", action.pk), {"effective": "yes", "note": "抽查两次均到位"})
    assert r.status_code == 302
    assert PreventiveAction.objects.get(pk=action.pk).status == PreventiveStatus.CLOSED
    assert "第一党支部：DJ-1.1 再次发现" in body(client.get(url("preventive_list") + "?status=closed"))


# ---- bounded queries ---------------------------------------------------------------------------

def _grow(staff, tree, n: int) -> None:
    for i in range(n):
        b = orgs.create_unit(None, code=f"RX{i:03d}", name=f"扩展支部{i}", kind=UnitKind.BRANCH, parent=tree.sub1)
        finding(staff, b, item=f"DJ-{i % 7}", description=f"问题{i}")
        finding(staff, tree.b01, item=f"DJ-{i % 5}", description=f"一支部问题{i}")


@pytest.mark.parametrize("size", [2, 30])
def test_ledger_and_dashboard_queries_are_bounded(client, users, tree, django_assert_max_num_queries, size):
    staff = users[Role.DEPARTMENT_STAFF]
    _grow(staff, tree, size)
    issued_notice(staff, tree.b02, n=2)
    year = today().year
    for role in (Role.COMMITTEE_SECRETARY, Role.DEPARTMENT_STAFF, Role.BRANCH_SECRETARY):
        client.force_login(users[role])
        code = "B01" if role == Role.BRANCH_SECRETARY else "SUB1"
        for path in (url("ledger", code), url("ledger", code) + f"?year={year}&status=live",
                     url("ledger", code) + "?item=DJ-1", url("ledger", code) + "?overdue=on&year=all",
                     url("dashboard", code), url("dashboard", code) + f"?year={year - 1}", url("dashboard_home")):
            with django_assert_max_num_queries(15):
                r = client.get(path, follow=False)
            assert r.status_code == 200, (role, path)
    client.force_login(staff)
    r = client.get(url("ledger", "SUB1"))
    assert r.context["page"].total == 2 * size + 2  # counted from the stored totals
    assert f"问题{size - 1}" in body(r) or f"一支部问题{size - 1}" in body(r)


@pytest.mark.parametrize("size", [2, 30])
def test_todo_queries_are_bounded_and_its_counts_right(client, users, tree, django_assert_max_num_queries, size):
    staff = users[Role.DEPARTMENT_STAFF]
    _grow(staff, tree, size)
    late = [issued_notice(staff, unit, n=1) for unit in (tree.b01, tree.b02, tree.b02)]
    for days, n in zip((3, 9, 5), late, strict=True):
        Notice.objects.filter(pk=n.pk).update(deadline=today() - dt.timedelta(days=days))
    services.receive_notice(users[Role.BRANCH_SECRETARY], late[0])
    for role in (Role.COMMITTEE_SECRETARY, Role.DEPARTMENT_STAFF, Role.BRANCH_SECRETARY, Role.MEMBER):
        client.force_login(users[role])
        with django_assert_max_num_queries(15):
            r = client.get(url("todo"))
        assert r.status_code == 200, role
    client.force_login(staff)
    r = client.get(url("todo"))
    # the findings not yet on a notice, from the stored totals, as a live count gives them
    assert r.context["open_findings"] == Finding.objects.filter(
        org_path__startswith=tree.sub1.path, status=FindingStatus.OPEN).count() == 2 * size
    # overdue notices of every owed status, the longest overdue first
    assert [n.pk for n in r.context["overdue"]] == [late[1].pk, late[2].pk, late[0].pk]


def test_dashboard_of_many_children_shows_the_worst_first(users, tree):
    from pbqms.rectification import selectors, stats

    staff = users[Role.DEPARTMENT_STAFF]
    _grow(staff, tree, 6)
    for code, extra in (("RX002", 3), ("RX004", 1), ("RX005", 3)):
        unit = tree.sub1.children.get(code=code)
        for i in range(extra):
            finding(staff, unit, item="DJ-8", description=f"追加{i}")
    issued = issued_notice(staff, tree.sub1.children.get(code="RX001"), n=1)
    Finding.objects.filter(notice=issued).update(overdue=True)
    stats.recount()
    year = today().year
    full = selectors.dashboard(staff, tree.sub1, year, limit=None)
    assert full["children_total"] == 8
    worst = sorted(full["rows"], key=lambda r: (-r.overdue, -r.live, -r.total))[:3]
    top = selectors.dashboard(staff, tree.sub1, year, limit=3)
    assert top["children_total"] == 8
    assert [(r.unit.code, r.live, r.overdue, r.closed, r.total) for r in top["rows"]] == [
        (r.unit.code, r.live, r.overdue, r.closed, r.total) for r in worst]
    assert [r.unit.code for r in top["rows"]] == ["RX001", "B01", "RX002"]
    # no more children than the limit: tree order, as before
    assert [r.unit.code for r in selectors.dashboard(staff, tree.sub1, year, limit=8)["rows"]] == [
        r.unit.code for r in full["rows"]]


def test_ledger_overdue_total_comes_from_the_stored_totals(client, users, tree, django_assert_max_num_queries):
    from pbqms.rectification.reminders import sweep_deadlines

    staff = users[Role.DEPARTMENT_STAFF]
    issued_notice(staff, tree.b01, n=2, deadline_days=3)
    late_b02 = issued_notice(staff, tree.b02, n=1, deadline_days=3)
    issued_notice(staff, tree.b02, n=1, deadline_days=30)  # not late
    finding(staff, tree.b02, item="DJ-7")  # on no notice
    day = today() + dt.timedelta(days=5)
    sweep_deadlines(day)
    Finding.objects.filter(notice=late_b02).update(status=FindingStatus.ANSWERED)  # flagged, no longer owed
    from pbqms.rectification import stats

    stats.recount()
    client.force_login(staff)
    for code, expected in (("SUB1", 2), ("B01", 2), ("B02", 0)):
        for query in ("?overdue=on", f"?overdue=on&year={today().year}", "?overdue=on&year=all&status=live"):
            with django_assert_max_num_queries(15):
                r = client.get(url("ledger", code) + query)
            rows = Finding.objects.filter(org_path__startswith=r.context["unit"].path, overdue=True,
                                          status__in=(FindingStatus.NOTIFIED, FindingStatus.REOPENED))
            assert r.context["page"].total == rows.count() == expected, (code, query)
            assert len(r.context["page"].items) == expected


def test_ledger_is_for_those_who_read_the_whole_subtree(client, users, tree):
    client.force_login(users[Role.MEMBER])
    assert client.get(url("ledger", "B01")).status_code == 403
    assert client.get(url("dashboard_home")).status_code == 403
    client.force_login(users[Role.GROUP_LEADER])
    assert client.get(url("ledger", "B01G1")).status_code == 403


def test_notice_and_feedback_pages_cost_the_same_for_one_finding_or_many(client, staff, secretary, tree):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    costs = []
    for n in (1, 6):
        notice = answered_notice(staff, secretary, tree.b01, n=n)
        client.force_login(staff)
        with CaptureQueriesContext(connection) as page:
            assert client.get(url("notice", notice.pk)).status_code == 200
        fresh = issued_notice(staff, tree.b01, n=n)
        client.force_login(secretary)
        with CaptureQueriesContext(connection) as form:
            assert client.get(url("notice_feedback", fresh.pk)).status_code == 200
        costs.append((len(page), len(form)))
    assert costs[0] == costs[1], costs
    assert costs[0][0] <= 20 and costs[0][1] <= 20, costs
