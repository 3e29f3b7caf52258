"""Attendance by the kind of meeting (issue 20.1): a committee meeting expects the committee serving
on its day (others attend without a vote and are never absent), a talk has participants only,
the other meetings the unit's members; the form's roster follows the kind; a record's attendance
is corrected afterwards through a service, a page and the API, each change in the audit trail."""

from __future__ import annotations

import datetime as dt
import importlib
import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from pbqms.accounts import services as accounts
from pbqms.accounts.models import Role
from pbqms.activities import books, selectors, services
from pbqms.activities.models import ActivityKind, ActivityRecord, Attendance, ComplianceState
from pbqms.audit.models import AuditEntry
from pbqms.core import clock
from pbqms.core import metrics as core_metrics
from pbqms.members import services as members
from pbqms.members.models import CommitteeRoleKind, PartyStatus

from .conftest import on_committee

TODAY = dt.date(2026, 5, 20)
DAY = dt.date(2026, 5, 12)
HX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "attendance"}


@pytest.fixture(autouse=True)
def as_of_today():
    with clock.as_of(TODAY):
        yield


@pytest.fixture
def branch(tree):
    """B01: 张三 (m01, committee member since 2020) and six more members; 赵六 and 孙丽 on the committee
    (孙丽's term ended in March), 周强 joins it in June, 吴敏 leads the party group (not a committee post)."""
    made = {name: members.create_member(None, unit=tree.b01, name=name, gender="M", status=status,
                                        group=tree.g1 if name == "吴敏" else None)
            for name, status in [("赵六", PartyStatus.FULL), ("孙丽", PartyStatus.FULL), ("周强", PartyStatus.FULL),
                                 ("吴敏", PartyStatus.FULL), ("郑伟", PartyStatus.PROBATIONARY),
                                 ("钱七", PartyStatus.FULL)]}
    on_committee(made["赵六"], tree.b01, CommitteeRoleKind.SECRETARY)
    post = on_committee(made["孙丽"], tree.b01, CommitteeRoleKind.PUBLICITY)
    members.end_committee_role(None, post, ended_on=dt.date(2026, 3, 31))
    on_committee(made["周强"], tree.b01, CommitteeRoleKind.ORGANISATION, started_on=dt.date(2026, 6, 1))
    on_committee(made["吴敏"], tree.g1, CommitteeRoleKind.GROUP_LEADER)
    return made


def names(people) -> set[str]:
    return {m.name for m in people}


def everyone(tree, branch, present=True, reason="出差"):
    return {m.pk: services.Presence(present, "" if present else reason) for m in [tree.m01, *branch.values()]}


def record(users, tree, branch, kind=ActivityKind.COMMITTEE_MEETING, attendance=None, day=DAY):
    return services.record_activity(users[Role.BRANCH_SECRETARY], services.RecordInput(
        unit=tree.b01, kind=kind, held_on=day, topic="研究五月份党建工作",
        attendance=attendance if attendance is not None else everyone(tree, branch)))


# ---- who is expected, by kind -------------------------------------------------------------------

def test_the_roster_depends_on_the_kind_and_the_day(tree, branch):
    committee = services.roster_for(tree.b01, ActivityKind.COMMITTEE_MEETING, DAY)
    assert names(committee.expected) == {"张三", "赵六"}  # 孙丽's term ended, 周强's not begun, a group leader is not
    assert names(committee.others) == {"孙丽", "周强", "吴敏", "郑伟", "钱七"}
    assert names(services.roster_for(tree.b01, ActivityKind.COMMITTEE_MEETING, dt.date(2026, 3, 1)).expected) == {
        "张三", "赵六", "孙丽"}
    assert names(services.roster_for(tree.b01, ActivityKind.COMMITTEE_MEETING, dt.date(2026, 6, 2)).expected) == {
        "张三", "赵六", "周强"}
    for kind in (ActivityKind.BRANCH_ASSEMBLY, ActivityKind.PARTY_LECTURE, ActivityKind.THEME_DAY,
                 ActivityKind.LIFE_MEETING):
        r = services.roster_for(tree.b01, kind, DAY)
        assert len(r.expected) == 7 and not r.others  # the probationary member attends too
    talk = services.roster_for(tree.b01, ActivityKind.HEART_TALK, DAY)
    assert not talk.expected and len(talk.others) == 7
    assert names(services.roster_for(tree.g1, ActivityKind.GROUP_MEETING, DAY).expected) == {"张三", "吴敏"}


def test_a_committee_meeting_counts_the_committee_and_nobody_else_absent(users, tree, branch):
    # the old form's way: everyone ticked, the five non-members unticked with a reason
    attendance = {tree.m01.pk: services.Presence(True), branch["赵六"].pk: services.Presence(True)}
    attendance |= {m.pk: services.Presence(False, "非支委成员") for n, m in branch.items() if n != "赵六"}
    attendance[branch["吴敏"].pk] = services.Presence(True)  # attends without a vote (列席)
    r = record(users, tree, branch, attendance=attendance)
    assert (r.expected, r.present, float(r.attendance_rate)) == (2, 2, 100.0)
    rows = {a.member.name: (a.present, a.counted) for a in r.attendance.select_related("member")}
    assert rows == {"张三": (True, True), "赵六": (True, True), "吴敏": (True, False)}
    # nobody outside the committee was marked absent: their own rates are untouched
    for name in ("孙丽", "钱七"):
        assert selectors.participation(users[Role.BRANCH_SECRETARY], branch[name], 2026).rate is None
    guest = selectors.participation(users[Role.BRANCH_SECRETARY], branch["吴敏"], 2026)
    assert (guest.total, guest.present, guest.guest, guest.rate) == (0, 0, 1, None)
    # and the compliance state counts the meeting
    state = ComplianceState.objects.get(rule__code="COMMITTEE_M", unit=tree.b01, period_start=dt.date(2026, 5, 1))
    assert (state.status, state.done) == ("met", 1)


def test_a_committee_member_absent_states_the_reason(users, tree, branch, english):
    attendance = {tree.m01.pk: services.Presence(True), branch["赵六"].pk: services.Presence(False)}
    with pytest.raises(ValidationError) as e:
        record(users, tree, branch, attendance=attendance)
    assert "请填写每位缺席人员的缺席原因：赵六。" in str(e.value)
    assert not ActivityRecord.objects.exists()


def test_a_committee_meeting_without_a_committee_is_refused(users, tree, branch):
    with pytest.raises(ValidationError) as e:
        record(users, tree, branch, day=dt.date(2019, 6, 1))  # before any term began
    assert "2019-06-01 第一党支部没有在任的支委" in str(e.value)
    assert not ActivityRecord.objects.exists()


def test_a_talk_has_participants_and_nobody_absent(users, tree, branch):
    attendance = {branch["钱七"].pk: services.Presence(True), branch["郑伟"].pk: services.Presence(False, "出差"),
                  tree.m01.pk: services.Presence(False)}
    r = record(users, tree, branch, kind=ActivityKind.HEART_TALK, attendance=attendance)
    assert (r.expected, r.present, float(r.attendance_rate)) == (1, 1, 100.0)
    assert [(a.member.name, a.present, a.counted) for a in r.attendance.select_related("member")] == [
        ("钱七", True, True)]
    assert selectors.participation(users[Role.BRANCH_SECRETARY], tree.m01, 2026).total == 0


def test_a_talk_without_participants_is_refused(users, tree, branch):
    with pytest.raises(ValidationError) as e:
        record(users, tree, branch, kind=ActivityKind.HEART_TALK, attendance={
            tree.m01.pk: services.Presence(False, "出差")})
    assert "请选择谈话对象。" in str(e.value)
    assert not ActivityRecord.objects.exists()


def test_the_attendance_metric_reads_the_committee_not_the_branch(users, tree, branch):
    attendance = {tree.m01.pk: services.Presence(True), branch["赵六"].pk: services.Presence(False, "病假")}
    attendance |= {m.pk: services.Presence(False, "非支委成员") for n, m in branch.items() if n != "赵六"}
    record(users, tree, branch, attendance=attendance)
    record(users, tree, branch, kind=ActivityKind.HEART_TALK, day=dt.date(2026, 5, 13),
           attendance={branch["钱七"].pk: services.Presence(True)})
    got = core_metrics.get("activities.attendance_rate").compute([tree.b01.pk], dt.date(2026, 5, 1),
                                                                   dt.date(2026, 5, 31))
    assert got == {tree.b01.pk: 50}  # one of the two committee members; the talk is no meeting


def test_the_record_book_names_attendees_without_a_vote_and_talk_participants(users, tree, branch):
    attendance = {tree.m01.pk: services.Presence(True), branch["赵六"].pk: services.Presence(True),
                  branch["吴敏"].pk: services.Presence(True)}
    record(users, tree, branch, attendance=attendance)
    record(users, tree, branch, kind=ActivityKind.HEART_TALK, day=dt.date(2026, 5, 13),
           attendance={branch["钱七"].pk: services.Presence(True)})
    book = books.build(users[Role.BRANCH_SECRETARY], tree.b01, "branch-book", 2026)
    facts = {s.heading: dict(s.facts) for s in book.sections}
    committee = next(f for h, f in facts.items() if "支委会" in h)
    talk = next(f for h, f in facts.items() if "谈心谈话" in h)
    assert committee["出席情况"] == "应到 2 人，实到 2 人（出席率 100%）" and committee["列席人员"] == "吴敏"
    assert talk["谈话对象"] == "钱七" and "缺席人员（原因）" not in talk


def test_the_data_migration_recounts_records_entered_the_old_way(users, tree, branch):
    from django.apps import apps

    r = record(users, tree, branch, attendance={tree.m01.pk: services.Presence(True),
                                                 branch["赵六"].pk: services.Presence(True)})
    # as the old code stored it: everyone of the branch counted, the non-members absent
    for name, m in branch.items():
        if name != "赵六":
            Attendance.objects.create(record=r, member=m, present=name == "吴敏",
                                      absence_reason="" if name == "吴敏" else "非支委成员")
    ActivityRecord.objects.filter(pk=r.pk).update(expected=7, present=3, attendance_rate="42.9")
    importlib.import_module("pbqms.activities.migrations.0004_attendance_counted").recount(apps, None)
    r.refresh_from_db()
    assert (r.expected, r.present, float(r.attendance_rate)) == (2, 2, 100.0)
    assert {(a.member.name, a.counted) for a in r.attendance.select_related("member")} == {
        ("张三", True), ("赵六", True), ("吴敏", False)}


# ---- the form ---------------------------------------------------------------------------------

def test_the_form_roster_follows_the_kind(client, users, tree, branch):
    client.force_login(users[Role.BRANCH_SECRETARY])
    new = reverse("activities:record_create", args=["B01"])
    page = client.get(new + "?kind=committee&day=2026-05-12").content.decode()
    assert "2 位当日在任的支委应到会" in page and f'name="reason-{branch["赵六"].pk}"' in page
    assert f'name="reason-{branch["钱七"].pk}"' not in page and "列席" in page
    # the htmx refresh when the kind or the date changes: just the checklist
    part = client.get(new, {"kind": "committee", "held_on": "2026-03-01"}, **HX).content.decode()
    assert part.lstrip().startswith("<fieldset") and "3 位当日在任的支委应到会" in part
    part = client.get(new, {"kind": "theme_day", "held_on": "2026-05-12"}, **HX).content.decode()
    assert "应到 7 人" in part
    part = client.get(new, {"kind": "talk", "held_on": "2026-05-12"}, **HX).content.decode()
    assert "谈话对象" in part and "reason-" not in part


def test_recording_a_committee_meeting_through_the_form(client, users, tree, branch):
    client.force_login(users[Role.BRANCH_SECRETARY])
    ids = [tree.m01.pk, branch["赵六"].pk, branch["钱七"].pk, branch["郑伟"].pk]
    r = client.post(reverse("activities:record_create", args=["B01"]), {
        "kind": "committee", "held_on": "2026-05-12", "topic": "研究发展党员", "attendee": ids,
        "present": [tree.m01.pk, branch["赵六"].pk, branch["钱七"].pk]})
    assert r.status_code == 302
    rec = ActivityRecord.objects.get()
    assert (rec.expected, rec.present) == (2, 2)
    page = client.get(r["Location"]).content.decode()
    assert "列席" in page and "钱七" in page and "郑伟" not in page


# ---- correcting the attendance ------------------------------------------------------------------

def test_correcting_the_attendance_keeps_each_change_in_the_audit_trail(users, tree, branch):
    r = record(users, tree, branch, attendance={tree.m01.pk: services.Presence(True),
                                                 branch["赵六"].pk: services.Presence(False, "病假")})
    assert float(r.attendance_rate) == 50
    r = services.correct_attendance(users[Role.BRANCH_SECRETARY], r, {
        tree.m01.pk: services.Presence(True), branch["赵六"].pk: services.Presence(True),
        branch["钱七"].pk: services.Presence(True)}, "赵六迟到，误记为缺席")
    r.refresh_from_db()
    assert (r.expected, r.present, float(r.attendance_rate)) == (2, 2, 100.0)
    entry = AuditEntry.objects.filter(action="update", model="activities.activityrecord").get()
    assert entry.note == "赵六迟到，误记为缺席"
    assert entry.changes[f"赵六 ({branch['赵六'].pk})"] == ["缺席：病假", "出席"]
    assert entry.changes[f"钱七 ({branch['钱七'].pk})"] == [None, "列席（不计入应到）"]
    assert entry.changes["attendance_rate"] == ["50.0", "100.0"]


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_a_correction_without_a_reason_or_a_change_is_refused(users, tree, branch, lang):
    from django.utils import translation

    r = record(users, tree, branch, attendance={tree.m01.pk: services.Presence(True),
                                                 branch["赵六"].pk: services.Presence(False, "病假")})
    same = {tree.m01.pk: services.Presence(True), branch["赵六"].pk: services.Presence(False, "病假")}
    with translation.override(lang):
        with pytest.raises(ValidationError) as e:
            services.correct_attendance(users[Role.BRANCH_SECRETARY], r, {
                tree.m01.pk: services.Presence(True), branch["赵六"].pk: services.Presence(True)}, " ")
        assert ("请说明更正的原因。" if lang == "zh-hans" else "Give the reason for the correction.") in str(e.value)
        with pytest.raises(ValidationError) as e:
            services.correct_attendance(users[Role.BRANCH_SECRETARY], r, same, "核对")
        assert ("没有任何改动。" if lang == "zh-hans" else "Nothing was changed.") in str(e.value)
    r.refresh_from_db()
    assert float(r.attendance_rate) == 50
    assert not AuditEntry.objects.filter(action="update", model="activities.activityrecord").exists()
    assert Attendance.objects.get(record=r, member=branch["赵六"]).present is False


def test_the_correction_page(client, users, tree, branch):
    r = record(users, tree, branch, attendance={tree.m01.pk: services.Presence(True),
                                                 branch["赵六"].pk: services.Presence(False, "病假")})
    where = reverse("activities:record_attendance", args=[r.pk])
    client.force_login(users[Role.MEMBER])
    assert client.get(where).status_code == 403
    client.force_login(users[Role.BRANCH_SECRETARY])
    page = client.get(where).content.decode()
    assert "更正出席情况" in page and 'value="病假"' in page
    ids = [tree.m01.pk, branch["赵六"].pk]
    bad = client.post(where, {"attendee": ids, "present": ids, "reason": ""})
    assert bad.status_code == 200 and "请说明更正的原因。" in bad.content.decode()
    assert Attendance.objects.get(record=r, member=branch["赵六"]).present is False
    ok = client.post(where, {"attendee": ids, "present": ids, "reason": "误记"})
    assert ok.status_code == 302
    assert Attendance.objects.get(record=r, member=branch["赵六"]).present is True
    assert "更正出席情况" in client.get(reverse("activities:record", args=[r.pk])).content.decode()


def test_the_correction_through_the_api(client, users, tree, branch):
    r = record(users, tree, branch, attendance={tree.m01.pk: services.Presence(True),
                                                 branch["赵六"].pk: services.Presence(False, "病假")})
    headers = {"Authorization": f"Bearer {accounts.issue_token(users[Role.BRANCH_SECRETARY])}"}
    path = f"/api/v1/activities/records/{r.pk}/attendance"
    rows = [{"member": tree.m01.pk, "present": True}, {"member": branch["赵六"].pk, "present": True}]
    bad = client.put(path, json.dumps({"attendance": rows, "reason": ""}), content_type="application/json",
                     headers=headers)
    assert bad.status_code == 422 and "请说明更正的原因。" in bad.content.decode()
    ok = client.put(path, json.dumps({"attendance": rows, "reason": "误记"}), content_type="application/json",
                    headers=headers)
    assert ok.status_code == 200, ok.content
    assert (ok.json()["present"], ok.json()["attendance_rate"]) == (2, 100.0)
    outside = client.put(path, json.dumps({"attendance": rows + [{"member": tree.m03.pk}], "reason": "x"}),
                         content_type="application/json", headers=headers)
    assert outside.status_code == 404
