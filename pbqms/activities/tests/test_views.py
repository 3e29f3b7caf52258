"""The organisational-life pages through HTTP: recording an activity with its attendance, the record's
page and its deletion, the calendar, the heat map, plans and their review, participation, the
exports; every bad input with its message (Chinese by default, English on request) and nothing
changed; scope; and bounded queries on the calendar and the heat map whatever the size.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from pbqms.accounts.models import Role
from pbqms.activities import engine, services
from pbqms.activities.models import (
    ActivityKind,
    ActivityPlan,
    ActivityRecord,
    Attendance,
    ComplianceState,
    ComplianceTally,
    PlannedActivity,
    PlanStatus,
)
from pbqms.core import clock
from pbqms.files.models import StoredFile
from pbqms.files.tests import samples
from pbqms.members import services as members
from pbqms.members.models import CommitteeRoleKind, PartyStatus
from pbqms.orgs import services as orgs
from pbqms.orgs.models import UnitKind

from .conftest import on_committee

TODAY = dt.date(2026, 5, 20)
DAY = dt.date(2026, 5, 12)
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def as_of_today():
    """Every request and service call of these tests runs on 20 May 2026."""
    with clock.as_of(TODAY):
        yield


@pytest.fixture(autouse=True)
def file_root(settings, tmp_path):
    settings.PBQMS_FILE_ROOT = tmp_path / "files"
    return settings.PBQMS_FILE_ROOT


def url(name: str, *args) -> str:
    return reverse(f"activities:{name}", args=args)


def body(r) -> str:
    return r.content.decode()


@pytest.fixture
def secretary(users):
    return users[Role.BRANCH_SECRETARY]


@pytest.fixture
def staff(users):
    return users[Role.DEPARTMENT_STAFF]


@pytest.fixture
def zhao(tree):
    """A second member of B01 (no group), so an attendance sheet has somebody to mark absent."""
    zhao = members.create_member(None, unit=tree.b01, name="赵六", gender="M", status=PartyStatus.FULL)
    on_committee(zhao, tree.b01, CommitteeRoleKind.ORGANISATION)  # and on the committee
    return zhao


def record(actor, unit, kind=ActivityKind.COMMITTEE_MEETING, day=DAY, topic="学习贯彻全会精神", absent=(), **kw):
    attendance = {m.pk: services.Presence(m.pk not in {a.pk for a in absent}, "出差" if m in absent else "")
                  for m in services.roster_of(unit)}
    return services.record_activity(actor, services.RecordInput(unit=unit, kind=kind, held_on=day, topic=topic,
                                                                attendance=attendance, **kw))


def record_post(tree, *people, absent=(), reasons=None, **fields) -> dict:
    data = {"kind": "committee", "held_on": DAY.isoformat(), "start_time": "14:30", "place": "三楼会议室",
            "topic": "研究五月份党建工作", "host": str(tree.m01.pk), "recorder": "", "minutes": "一、传达上级精神。",
            "resolutions": "按计划开展主题党日。", **fields}
    data["attendee"] = [str(p.pk) for p in people]
    data["present"] = [str(p.pk) for p in people if p not in absent]
    for p in people:
        data[f"reason-{p.pk}"] = (reasons or {}).get(p.pk, "")
    return data


def snapshot():
    return (ActivityRecord.objects.count(), Attendance.objects.count(), StoredFile.objects.count(),
            ComplianceState.objects.count(), ActivityPlan.objects.count(), PlannedActivity.objects.count())


# ---- recording an activity ---------------------------------------------------------------------

def test_record_form_lists_the_roster_ticked_present(client, tree, secretary, zhao):
    client.force_login(secretary)
    r = client.get(url("record_create", "B01") + "?kind=committee&day=2026-05-12")
    page = body(r)
    assert r.status_code == 200
    assert "记录活动" in page and "出席情况" in page
    for m in (tree.m01, zhao):
        assert f'name="present" value="{m.pk}" checked' in page
        assert f'name="reason-{m.pk}"' in page
    assert 'value="2026-05-12"' in page and '<option value="committee" selected' in page
    assert "党小组会" not in page.split('name="kind"')[1].split("</select>")[0]  # recorded on the group
    assert "王五" not in page


def test_record_an_activity_with_an_absentee_and_a_photo(client, tree, secretary, zhao, file_root):
    client.force_login(secretary)
    photo = samples.upload("会场.png", samples.image("PNG")) if hasattr(samples, "upload") else None
    if photo is None:
        from django.core.files.uploadedfile import SimpleUploadedFile

        photo = SimpleUploadedFile("会场.png", samples.image("PNG"), content_type="image/png")
    data = record_post(tree, tree.m01, zhao, absent=[zhao], reasons={zhao.pk: "井下当班"})
    data["photos"] = [photo]
    r = client.post(url("record_create", "B01"), data)
    assert r.status_code == 302, body(r)
    rec = ActivityRecord.objects.get()
    assert r["Location"] == url("record", rec.pk)
    assert (rec.expected, rec.present, float(rec.attendance_rate)) == (2, 1, 50.0)
    assert rec.host == tree.m01 and rec.place == "三楼会议室" and rec.start_time == dt.time(14, 30)
    assert Attendance.objects.get(record=rec, member=zhao).absence_reason == "井下当班"
    stored = StoredFile.objects.get()
    assert stored.owner == f"activities.record:{rec.pk}" and list(rec.files.all()) == [stored]
    may = dt.date(2026, 5, 1)
    assert ComplianceState.objects.get(rule__code="COMMITTEE_M", unit=tree.b01, period_start=may).status == "met"
    page = body(client.get(url("record", rec.pk)))
    assert "研究五月份党建工作" in page and "赵六" in page and "井下当班" in page and "50%" in page
    assert "会场.png" in page and "一、传达上级精神。" in page


def test_a_refused_file_saves_nothing(client, tree, secretary, file_root):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(secretary)
    data = record_post(tree, tree.m01)
    data["photos"] = [SimpleUploadedFile("纪要.pdf", samples.EXE, content_type="application/pdf")]
    before = snapshot()
    r = client.post(url("record_create", "B01"), data)
    assert r.status_code == 200 and "纪要.pdf" in body(r)
    assert snapshot() == before
    assert not [p for p in file_root.rglob("*") if p.is_file()] if file_root.exists() else True


BAD_RECORDS = [
    ("future", "未来", "in the future"),
    ("stranger", "不是本单位", "Not people of this unit"),
    ("no_reason", "缺席原因", "reason for each absence"),
    ("twice", "已经记录", "already recorded"),
]


def _bad_post(case, tree, zhao):
    if case == "future":
        return record_post(tree, tree.m01, held_on="2026-05-25")
    if case == "stranger":
        return record_post(tree, tree.m01, tree.m02)  # 李四 of B02: the department reads them
    if case == "no_reason":
        return record_post(tree, tree.m01, zhao, absent=[zhao])
    return record_post(tree, tree.m01)


@pytest.mark.parametrize(("case", "zh", "en"), BAD_RECORDS)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_bad_records_are_refused_with_a_clear_message(client, tree, staff, zhao, case, zh, en, lang):
    if lang == "en":
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    if case == "twice":
        record(staff, tree.b01)
    client.force_login(staff)
    before = snapshot()
    r = client.post(url("record_create", "B01"), _bad_post(case, tree, zhao))
    assert r.status_code == 200
    assert (zh if lang == "zh" else en) in body(r)
    assert snapshot() == before


def test_english_fixture_shows_english(english, tree, secretary):
    english.force_login(secretary)
    r = english.post(url("record_create", "B01"), record_post(tree, tree.m01, held_on="2026-06-02"))
    assert "the date is in the future" in body(r) and not ActivityRecord.objects.exists()


def test_people_the_user_cannot_read_are_refused_without_their_names(client, tree, secretary):
    client.force_login(secretary)
    r = client.post(url("record_create", "B01"), record_post(tree, tree.m01, tree.m03))
    page = body(r)
    assert "不是本单位" in page and "王五" not in page
    assert not ActivityRecord.objects.exists()


def test_an_absence_without_reason_marks_the_row(client, tree, secretary, zhao):
    client.force_login(secretary)
    page = body(client.post(url("record_create", "B01"), record_post(tree, tree.m01, zhao, absent=[zhao])))
    assert "请说明每位缺席人员的缺席原因" in page or "缺席原因" in page
    row = page.split(f'name="attendee" value="{zhao.pk}"')[0].rsplit('<li class="att-row', 1)[1]
    assert "att-missing" in row
    # what was typed stays on the form
    assert 'value="研究五月份党建工作"' in page


def test_only_recording_roles_may_open_the_form(client, tree, users):
    for role in (Role.MEMBER, Role.INTERNAL_AUDITOR):
        client.force_login(users[role])
        assert client.get(url("record_create", "B01")).status_code == 403
        assert client.post(url("record_create", "B01"), record_post(tree, tree.m01)).status_code == 403
    leader = users[Role.GROUP_LEADER]
    client.force_login(leader)
    assert client.get(url("record_create", "B01")).status_code == 404  # reads only their group
    page = body(client.get(url("record_create", "B01G1")))
    assert '<option value="group" selected' in page
    r = client.post(url("record_create", "B01G1"), record_post(tree, tree.m01, kind="group"))
    assert r.status_code == 302 and ActivityRecord.objects.get().unit == tree.g1
    client.force_login(users[Role.BRANCH_SECRETARY])
    assert client.get(url("record_create", "B03")).status_code == 404


# ---- a record's page, deleting it --------------------------------------------------------------

def test_delete_needs_a_reason_then_reevaluates(client, tree, secretary):
    rec = record(secretary, tree.b01)
    client.force_login(secretary)
    r = client.post(url("record_delete", rec.pk), {"reason": " "})
    assert r.status_code == 200 and "删除原因" in body(r)
    assert ActivityRecord.objects.filter(pk=rec.pk).exists()
    r = client.post(url("record_delete", rec.pk), {"reason": "重复录入"})
    assert r.status_code == 302 and r["Location"].endswith("?month=2026-05")
    assert not ActivityRecord.objects.exists()
    state = ComplianceState.objects.get(rule__code="COMMITTEE_M", unit=tree.b01, period_start=dt.date(2026, 5, 1))
    assert state.done == 0


def test_members_read_but_do_not_delete(client, tree, users, secretary):
    rec = record(secretary, tree.b01)
    client.force_login(users[Role.MEMBER])
    page = body(client.get(url("record", rec.pk)))
    assert "学习贯彻全会精神" in page and "删除这条记录" not in page
    assert client.post(url("record_delete", rec.pk), {"reason": "x"}).status_code == 403
    client.force_login(users[Role.GROUP_LEADER])
    assert client.get(url("record", rec.pk)).status_code == 404


def test_record_list_and_its_export(client, tree, secretary):
    record(secretary, tree.b01, topic="支委会：研究发展党员")
    record(secretary, tree.b01, kind=ActivityKind.THEME_DAY, day=dt.date(2026, 5, 8), topic="主题党日：志愿服务")
    record(secretary, tree.g1, kind=ActivityKind.GROUP_MEETING, topic="小组学习")
    client.force_login(secretary)
    page = body(client.get(url("records", "B01")))
    assert "支委会：研究发展党员" in page and "主题党日：志愿服务" in page and "小组学习" in page
    page = body(client.get(url("records", "B01") + "?kind=theme_day&year=2026"))
    assert "主题党日：志愿服务" in page and "研究发展党员" not in page
    r = client.get(url("records", "B01") + "?kind=committee", **HX, HTTP_HX_TARGET="record-results")
    assert "<html" not in body(r) and "研究发展党员" in body(r)
    r = client.get(url("records_xlsx", "B01") + "?year=2026")
    ws = load_workbook(io.BytesIO(b"".join(r.streaming_content))).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "日期" and len(rows) == 4
    assert {row[4] for row in rows[1:]} == {"支委会：研究发展党员", "主题党日：志愿服务", "小组学习"}


# ---- the calendar ------------------------------------------------------------------------------

def test_calendar_shows_records_plans_and_what_must_still_happen(client, tree, secretary, staff):
    record(secretary, tree.b01, topic="研究五月份工作")
    record(secretary, tree.g1, kind=ActivityKind.GROUP_MEETING, day=dt.date(2026, 5, 6), topic="小组学习党章")
    with clock.as_of(dt.date(2026, 4, 28)):
        services.file_plan(secretary, unit=tree.b01, period="2026-05", items=[
            services.PlanItem(ActivityKind.THEME_DAY, dt.date(2026, 5, 28), "主题党日：重温入党誓词"),
            services.PlanItem(ActivityKind.COMMITTEE_MEETING, dt.date(2026, 5, 11), "研究五月份工作")])
    with clock.as_of(dt.date(2026, 5, 27)):
        engine.evaluate(start=DAY, end=DAY)
        client.force_login(secretary)
        page = body(client.get(url("calendar", "B01") + "?month=2026-05"))
    assert "2026年5月" in page
    assert "研究五月份工作" in page and "小组学习党章" in page and "主题党日：重温入党誓词" in page
    # the requirements of May, Q2 and 2026: the committee meeting met, the theme day at risk
    assert "支委会每月至少召开1次" in page and "每月开展1次主题党日" in page and "每季度" in page
    assert "1/1" in page and "0/1" in page
    assert "有风险" in page and "已达标" in page
    assert "还剩 4 天" in page
    assert "王五" not in page and "第三党支部" not in page
    # a month without states says why
    with clock.as_of(dt.date(2026, 5, 27)):
        assert "尚未开始" in body(client.get(url("calendar", "B01") + "?month=2027-01"))


def test_calendar_export(client, tree, secretary):
    record(secretary, tree.b01, topic="研究五月份工作")
    client.force_login(secretary)
    r = client.get(url("calendar_xlsx", "B01") + "?month=2026-05")
    wb = load_workbook(io.BytesIO(b"".join(r.streaming_content)))
    assert wb.sheetnames == ["活动记录", "计划事项", "组织生活要求"]
    assert [c.value for c in wb["活动记录"][2]][3] == "研究五月份工作"
    assert wb["组织生活要求"].max_row > 1


def test_calendar_is_scoped(client, tree, users):
    client.force_login(users[Role.MEMBER])
    assert client.get(url("calendar", "B01")).status_code == 200
    assert client.get(url("calendar", "B03")).status_code == 404
    assert client.get(url("calendar", "B02")).status_code == 404
    client.force_login(users[Role.GROUP_LEADER])
    assert client.get(url("calendar", "B01G1")).status_code == 200
    assert client.get(url("calendar", "B01")).status_code == 404


def _many_branches(tree, n: int) -> list:
    return [orgs.create_unit(None, code=f"X{i:03d}", name=f"扩展第{i}党支部", kind=UnitKind.BRANCH, parent=tree.sub1,
                             order=10 + i) for i in range(n)]


@pytest.mark.parametrize("size", [0, 60])
def test_calendar_and_heat_map_queries_are_bounded(client, tree, users, django_assert_max_num_queries, size):
    extra = _many_branches(tree, size)
    for i in range(6):
        orgs.create_unit(None, code=f"B01G{i + 2}", name=f"第{i + 2}党小组", kind=UnitKind.GROUP, parent=tree.b01)
    kinds = [ActivityKind.COMMITTEE_MEETING, ActivityKind.THEME_DAY, ActivityKind.PARTY_LECTURE, ActivityKind.OTHER]
    rows = [ActivityRecord(unit=u, org_path=u.path, kind=kinds[d % 4], held_on=dt.date(2026, 5, 1 + d),
                           topic=f"活动{d}", expected=1, present=1, attendance_rate=100)
            for u in [tree.b01, *extra] for d in range(min(size // 2 + 4, 28))]
    ActivityRecord.objects.bulk_create(rows)
    with clock.as_of(dt.date(2026, 5, 27)):
        engine.evaluate(start=dt.date(2026, 1, 1), end=dt.date(2026, 5, 27))
    assert ComplianceTally.objects.filter(unit=tree.sub1, month=dt.date(2026, 5, 1)).exists()
    for role, page_url in ((Role.BRANCH_SECRETARY, url("calendar", "B01") + "?month=2026-05"),
                           (Role.COMMITTEE_ADMIN, url("calendar", "SUB1")),
                           (Role.COMMITTEE_ADMIN, url("heatmap", "SUB1") + "?year=2026"),
                           (Role.COMMITTEE_ADMIN, url("heatmap", "SUB1") + "?year=2026&page=2"),
                           (Role.BRANCH_SECRETARY, url("heatmap", "B01"))):
        client.force_login(users[role])
        with clock.as_of(dt.date(2026, 5, 27)), django_assert_max_num_queries(15):
            r = client.get(page_url)
        assert r.status_code == 200, page_url


# ---- the heat map ------------------------------------------------------------------------------

def test_heat_map_colours_each_month_and_links_down(client, tree, users, secretary):
    with clock.as_of(dt.date(2026, 4, 30)):  # March: every monthly and quarterly requirement met
        record(secretary, tree.b01, day=dt.date(2026, 3, 10))
        record(secretary, tree.b01, kind=ActivityKind.THEME_DAY, day=dt.date(2026, 3, 11))
        record(secretary, tree.b01, kind=ActivityKind.BRANCH_ASSEMBLY, day=dt.date(2026, 2, 11))
        record(secretary, tree.b01, kind=ActivityKind.PARTY_LECTURE, day=dt.date(2026, 3, 12))
        record(secretary, tree.g1, kind=ActivityKind.GROUP_MEETING, day=dt.date(2026, 3, 13))
    with clock.as_of(dt.date(2026, 5, 27)):
        engine.evaluate(start=dt.date(2026, 1, 1), end=dt.date(2026, 5, 27))
        client.force_login(users[Role.COMMITTEE_SECRETARY])
        page = body(client.get(url("heatmap", "SUB1") + "?year=2026"))
    assert "第一党支部" in page and "第二党支部" in page and "第三党支部" not in page
    b01_row = page.split(url("calendar", "B01"))[1].split("</tr>")[0]
    assert "heat-cell hm5" in b01_row  # March
    assert "heat-cell hm1" in b01_row  # January: nothing held
    assert "heat-risk" in b01_row  # May: at risk now
    sub_row = page.split("heat-total")[1].split("</tr>")[0]
    assert "hm" in sub_row
    client.force_login(users[Role.COMMITTEE_SECRETARY])
    r = client.get(url("heatmap_xlsx", "SUB1") + "?year=2026")
    ws = load_workbook(io.BytesIO(b"".join(r.streaming_content))).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][2] == "2026-01" and rows[1][0] == "一矿党委"
    b01 = next(r for r in rows if r[1] == "B01")
    assert b01[2] == 0 and b01[4] == 100


def test_heat_map_pages_children_and_needs_the_whole_subtree(client, tree, users):
    _many_branches(tree, 55)
    client.force_login(users[Role.COMMITTEE_ADMIN])
    page = body(client.get(url("heatmap", "SUB1")))
    assert page.count("kind-tag kind-branch") == 50 and 'rel="next"' in page
    page = body(client.get(url("heatmap", "SUB1") + "?page=2"))
    assert page.count("kind-tag kind-branch") == 7
    client.force_login(users[Role.MEMBER])
    assert client.get(url("heatmap", "B01")).status_code == 403
    assert client.get(url("heatmap_home")).status_code == 403
    client.force_login(users[Role.BRANCH_SECRETARY])
    assert client.get(url("heatmap", "SUB1")).status_code == 404
    r = client.get(url("heatmap_home"))
    assert r["Location"] == url("heatmap", "B01")


def test_home_opens_where_the_role_works(client, tree, users):
    expected = {Role.COMMITTEE_SECRETARY: url("heatmap_home"), Role.DEPARTMENT_STAFF: url("heatmap_home"),
                Role.INTERNAL_AUDITOR: url("heatmap_home"), Role.BRANCH_SECRETARY: url("calendar", "B01"),
                Role.GROUP_LEADER: url("calendar", "B01G1"), Role.MEMBER: url("my")}
    for role, target in expected.items():
        client.force_login(users[role])
        assert client.get(url("home"))["Location"] == target, role


# ---- plans -------------------------------------------------------------------------------------

def plan_post(period="2026-06", lines=(("committee", "2026-06-10", "研究二季度工作"),
                                       ("theme_day", "2026-06-28", "主题党日：七一重温入党誓词"))) -> dict:
    return {"period": period, "line-kind": [k for k, _d, _t in lines], "line-date": [d for _k, d, _t in lines],
            "line-topic": [t for _k, _d, t in lines]}


def test_file_a_plan_with_lines_and_review_it(client, tree, secretary, staff):
    client.force_login(secretary)
    page = body(client.get(url("plan_create", "B01")))
    assert page.count('name="line-topic"') == 3 and "2026-06" in page  # the period suggestions
    r = client.get(url("plan_line") + "?unit=B01", **HX)
    assert body(r).count('name="line-topic"') == 1 and "<html" not in body(r)
    data = plan_post()
    data["line-kind"].append("committee")
    data["line-date"].append("")
    data["line-topic"].append("")  # an empty line is ignored
    r = client.post(url("plan_create", "B01"), data)
    plan = ActivityPlan.objects.get()
    assert r.status_code == 302 and r["Location"] == url("plan", plan.pk)
    assert [i.topic for i in plan.items.all()] == ["研究二季度工作", "主题党日：七一重温入党誓词"]
    client.force_login(staff)
    page = body(client.get(url("plans")))
    assert "研究二季度工作" in page and "审核" in page
    r = client.post(url("plan_review", plan.pk), {"comment": ""})
    assert "请填写审核意见" in body(r) or "意见" in body(r)
    r = client.post(url("plan_review", plan.pk), {"comment": "同意，注意留存影像资料"})
    assert r.status_code == 302
    plan.refresh_from_db()
    assert plan.status == PlanStatus.REVIEWED and plan.comment == "同意，注意留存影像资料"
    client.force_login(secretary)
    page = body(client.get(url("plans")))
    assert "同意，注意留存影像资料" in page
    assert client.post(url("plan_review", plan.pk), {"comment": "自审"}).status_code == 403
    ws = load_workbook(io.BytesIO(b"".join(client.get(url("plans_xlsx")).streaming_content))).active
    rows = list(ws.iter_rows(values_only=True))
    assert len(rows) == 3 and rows[1][0] == "第一党支部" and rows[1][7] == "同意，注意留存影像资料"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_plan_cannot_be_changed_after_its_period_closed(client, tree, secretary, lang):
    if lang == "en":
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    with clock.as_of(dt.date(2026, 3, 28)):
        plan = services.file_plan(secretary, unit=tree.b01, period="2026-04", items=[
            services.PlanItem(ActivityKind.COMMITTEE_MEETING, dt.date(2026, 4, 9), "研究一季度工作")])
    client.force_login(secretary)
    page = body(client.get(url("plan", plan.pk)))
    assert "修改后重新报备" not in page
    before = snapshot(), list(PlannedActivity.objects.values_list("topic", flat=True))
    r = client.post(url("plan_edit", plan.pk), plan_post("2026-04", [("committee", "2026-04-20", "改过的")]))
    assert ("已结束" if lang == "zh" else "has closed") in body(r)
    r = client.post(url("plan_create", "B01"), plan_post("2026-04", [("committee", "2026-04-20", "改过的")]))
    assert ("已结束" if lang == "zh" else "has closed") in body(r)
    assert (snapshot(), list(PlannedActivity.objects.values_list("topic", flat=True))) == before


def test_plan_lines_are_checked(client, tree, secretary):
    client.force_login(secretary)
    page = body(client.post(url("plan_create", "B01"), plan_post("2026-06", [("committee", "2026-07-03", "越期")])))
    assert "第1行" in page and not ActivityPlan.objects.exists()
    page = body(client.post(url("plan_create", "B01"), plan_post("2026-06", [("committee", "", "没有日期")])))
    assert "第1行" in page and 'value="没有日期"' in page and not ActivityPlan.objects.exists()
    page = body(client.post(url("plan_create", "B01"), plan_post("6月")))
    assert "2026Q2" in page and not ActivityPlan.objects.exists()


def test_refiling_a_plan_while_open_replaces_it(client, tree, secretary):
    client.force_login(secretary)
    client.post(url("plan_create", "B01"), plan_post())
    plan = ActivityPlan.objects.get()
    page = body(client.get(url("plan_edit", plan.pk)))
    assert 'value="研究二季度工作"' in page and "readonly" in page
    client.post(url("plan_edit", plan.pk), plan_post("2026-06", [("committee", "2026-06-12", "改期研究二季度工作")]))
    assert [i.topic for i in ActivityPlan.objects.get().items.all()] == ["改期研究二季度工作"]


# ---- participation -----------------------------------------------------------------------------

def test_a_member_sees_their_own_participation(client, tree, users, secretary, zhao):
    record(secretary, tree.b01)
    record(secretary, tree.b01, kind=ActivityKind.THEME_DAY, day=dt.date(2026, 5, 8), absent=[tree.m01],
           topic="主题党日：参观展览")
    record(secretary, tree.g1, kind=ActivityKind.GROUP_MEETING, topic="小组学习")
    client.force_login(users[Role.MEMBER])
    page = body(client.get(url("my")))
    assert "我的参与" in page and "张三" in page
    assert "66.7%" in page and "主题党日：参观展览" in page and "出差" in page
    assert "小组学习" in page  # their own group's meeting, even though the member role reads the branch only
    ws = load_workbook(io.BytesIO(b"".join(client.get(url("my_xlsx")).streaming_content))).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "日期" and len([r for r in rows[1:] if r and r[0]]) == 4  # 3 rows and the summary
    client.force_login(secretary)
    page = body(client.get(url("member", zhao.pk)))
    assert "赵六" in page and "100%" in page
    assert client.get(url("member", tree.m03.pk)).status_code == 404
    assert client.get(url("member_xlsx", tree.m03.pk)).status_code == 404
    page = body(client.get(url("my")))
    assert "没有关联" in page
