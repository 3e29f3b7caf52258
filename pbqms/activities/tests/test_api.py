"""Organisational-life API — /api/v1/activities: records, plans and compliance states for the roles
that use them; each bad input answers 422 with its message (Chinese by default, English when asked)
and changes nothing; outside the caller's scope 404."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from pbqms.accounts import services as accounts
from pbqms.accounts.models import Role
from pbqms.activities import engine, services
from pbqms.activities.models import ActivityKind, ActivityPlan, ActivityRecord, Attendance, PlannedActivity
from pbqms.core import clock
from pbqms.members import services as members
from pbqms.members.models import CommitteeRoleKind, PartyStatus

from .conftest import on_committee

TODAY = dt.date(2026, 5, 20)


@pytest.fixture(autouse=True)
def as_of_today():
    with clock.as_of(TODAY):
        yield


@pytest.fixture
def api(client, users):
    """api(role, lang="zh-hans").get(path, **query) / .post(path, body)."""

    class Caller:
        def __init__(self, role: str, lang: str = "zh-hans") -> None:
            self.headers = {"Authorization": f"Bearer {accounts.issue_token(users[role])}", "Accept-Language": lang}

        def get(self, path: str, **query):  # type: ignore[no-untyped-def]
            return client.get("/api/v1/activities" + path, query, headers=self.headers)

        def post(self, path: str, body: dict):  # type: ignore[no-untyped-def]
            return client.post("/api/v1/activities" + path, json.dumps(body), content_type="application/json",
                               headers=self.headers)

    return Caller


@pytest.fixture
def zhao(tree):
    zhao = members.create_member(None, unit=tree.b01, name="赵六", gender="M", status=PartyStatus.FULL)
    on_committee(zhao, tree.b01, CommitteeRoleKind.ORGANISATION)  # and on the committee
    return zhao


def body(tree, *people, absent=(), **more) -> dict:
    return {"unit": "B01", "kind": "committee", "held_on": "2026-05-12", "topic": "研究五月份党建工作",
            "start_time": "14:30", "place": "三楼会议室", "host": tree.m01.pk, "minutes": "传达上级精神",
            "attendance": [{"member": p.pk, "present": p not in absent, "reason": "出差" if p in absent else ""}
                           for p in people], **more}


def state():
    return (ActivityRecord.objects.count(), Attendance.objects.count(), ActivityPlan.objects.count(),
            PlannedActivity.objects.count())


def test_record_an_activity_and_read_it_back(api, tree, zhao):
    r = api(Role.BRANCH_SECRETARY).post("/records", body(tree, tree.m01, zhao, absent=[zhao]))
    assert r.status_code == 201, r.content
    data = r.json()
    assert data["unit"] == {"code": "B01", "name": "第一党支部"} and data["kind_label"] == "支委会"
    assert (data["expected"], data["present"], data["attendance_rate"]) == (2, 1, 50.0)
    assert data["host"]["name"] == "张三" and data["start_time"] == "14:30:00"
    assert {(a["member"]["name"], a["present"], a["absence_reason"]) for a in data["attendance"]} == {
        ("张三", True, ""), ("赵六", False, "出差")}
    got = api(Role.MEMBER).get(f"/records/{data['id']}").json()
    assert got["minutes"] == "传达上级精神" and len(got["attendance"]) == 2
    listed = api(Role.COMMITTEE_ADMIN).get("/records", unit="SUB1", year=2026).json()
    assert listed["count"] == 1 and listed["items"][0]["topic"] == "研究五月份党建工作"
    assert api(Role.GROUP_LEADER).get("/records").json()["count"] == 0
    assert api(Role.GROUP_LEADER).get(f"/records/{data['id']}").status_code == 404


@pytest.mark.parametrize(("case", "zh", "en"), [
    ("future", "未来", "in the future"),
    ("stranger", "不是本单位", "Not people of this unit"),
    ("no_reason", "缺席原因", "reason for each absence"),
    ("twice", "已经记录", "already recorded"),
])
@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_bad_records_answer_422_and_change_nothing(api, tree, users, zhao, case, zh, en, lang):
    caller = api(Role.DEPARTMENT_STAFF, lang)
    payload = {"future": body(tree, tree.m01, held_on="2026-05-21"),
               "stranger": body(tree, tree.m01, tree.m02),
               "no_reason": body(tree, tree.m01, zhao, absent=[zhao]) | {
                   "attendance": [{"member": tree.m01.pk}, {"member": zhao.pk, "present": False}]},
               "twice": body(tree, tree.m01)}[case]
    if case == "twice":
        assert caller.post("/records", payload).status_code == 201
    before = state()
    r = caller.post("/records", payload)
    assert r.status_code == 422, r.content
    assert (zh if lang == "zh-hans" else en) in r.json()["detail"]
    assert state() == before


def test_outside_people_and_units_do_not_exist(api, tree):
    caller = api(Role.BRANCH_SECRETARY)
    assert caller.post("/records", body(tree, tree.m01, tree.m03)).status_code == 404
    assert caller.post("/records", body(tree, tree.m01) | {"unit": "B03"}).status_code == 404
    assert caller.post("/records", body(tree, tree.m01) | {"recorder": tree.m03.pk}).status_code == 404
    assert api(Role.MEMBER).post("/records", body(tree, tree.m01)).status_code == 403
    assert state() == (0, 0, 0, 0)


def test_file_review_and_list_plans(api, tree):
    plan = {"unit": "B01", "period": "2026-06",
            "items": [{"kind": "committee", "planned_on": "2026-06-10", "topic": "研究二季度工作"}]}
    r = api(Role.BRANCH_SECRETARY).post("/plans", plan)
    assert r.status_code == 201, r.content
    pk = r.json()["id"]
    assert r.json()["items"] == [{"kind": "committee", "planned_on": "2026-06-10", "topic": "研究二季度工作",
                                  "filed_at": "2026-05-20T02:00:00Z", "late": False}]
    assert api(Role.BRANCH_SECRETARY).post(f"/plans/{pk}/review", {"comment": "自审"}).status_code == 403
    r = api(Role.DEPARTMENT_STAFF).post(f"/plans/{pk}/review", {"comment": "同意"})
    assert r.status_code == 200 and r.json()["status"] == "reviewed" and r.json()["comment"] == "同意"
    listed = api(Role.MEMBER).get("/plans", period="2026-06").json()
    assert listed["count"] == 1 and listed["items"][0]["unit"]["code"] == "B01"
    assert api(Role.DEPARTMENT_STAFF).get("/plans", unit="B02").json()["count"] == 0
    assert api(Role.DEPARTMENT_STAFF).get("/plans", unit="B03").status_code == 404


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_a_plan_cannot_change_after_its_period_closed(api, tree, users, lang):
    with clock.as_of(dt.date(2026, 3, 30)):
        services.file_plan(users[Role.BRANCH_SECRETARY], unit=tree.b01, period="2026-04", items=[
            services.PlanItem(ActivityKind.COMMITTEE_MEETING, dt.date(2026, 4, 9), "研究一季度工作")])
    before = state()
    r = api(Role.BRANCH_SECRETARY, lang).post("/plans", {"unit": "B01", "period": "2026-04", "items": [
        {"kind": "committee", "planned_on": "2026-04-20", "topic": "改过的"}]})
    assert r.status_code == 422
    assert ("已结束" if lang == "zh-hans" else "has closed") in r.json()["detail"]
    assert state() == before
    assert list(PlannedActivity.objects.values_list("topic", flat=True)) == ["研究一季度工作"]


def test_compliance_states_of_a_unit_and_period(api, tree, users):
    services.record_activity(users[Role.BRANCH_SECRETARY], services.RecordInput(
        unit=tree.b01, kind=ActivityKind.COMMITTEE_MEETING, held_on=dt.date(2026, 5, 12), topic="支委会",
        attendance={tree.m01.pk: services.Presence(True)}))
    with clock.as_of(dt.date(2026, 5, 27)):
        engine.evaluate(start=dt.date(2026, 1, 1), end=dt.date(2026, 5, 27))
        data = api(Role.BRANCH_SECRETARY).get("/compliance", unit="B01", period="2026-05").json()
    by_rule = {s["rule"]["code"]: s for s in data["items"] if s["period"] == "2026-05"}
    assert by_rule["COMMITTEE_M"]["status"] == "met" and by_rule["COMMITTEE_M"]["done"] == 1
    assert by_rule["THEME_DAY_M"]["status"] == "at_risk"
    assert "第十七条" in by_rule["THEME_DAY_M"]["rule"]["citation"]
    periods = {s["period"] for s in data["items"]}
    assert periods == {"2026-05", "2026Q2", "2026"}
    subtree = api(Role.COMMITTEE_ADMIN).get("/compliance", unit="SUB1", subtree="true", period="2026",
                                            status="missed", limit=500).json()
    assert subtree["count"] > 0 and {s["unit"]["code"] for s in subtree["items"]} <= {"B01", "B02", "B01G1"}
    r = api(Role.BRANCH_SECRETARY).get("/compliance", unit="B01", period="五月")
    assert r.status_code == 422 and "2026Q2" in r.json()["detail"]
    assert api(Role.BRANCH_SECRETARY).get("/compliance", unit="B03").status_code == 404
