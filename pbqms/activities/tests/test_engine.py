"""Organisational life: recording activities, plans, and the compliance engine's states."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from pbqms.accounts.models import Role
from pbqms.activities import engine, services
from pbqms.activities.models import (
    ActivityKind,
    ActivityPlan,
    ActivityRecord,
    Attendance,
    ComplianceRule,
    ComplianceState,
    ComplianceTally,
)
from pbqms.core import clock
from pbqms.members import services as members
from pbqms.members.models import CommitteeRoleKind, PartyStatus
from pbqms.notify.models import Notification
from pbqms.rectification.models import Finding, FindingSource

DAY = dt.date(2026, 5, 12)


def _everyone(unit, present=True):
    return {m.pk: services.Presence(present) for m in services.roster_of(unit)}


def _record(actor, unit, kind=ActivityKind.COMMITTEE_MEETING, day=DAY, **kw):
    data = services.RecordInput(unit=unit, kind=kind, held_on=day, topic=kw.pop("topic", "学习贯彻会议精神"),
                                attendance=kw.pop("attendance", None) or _everyone(unit), **kw)
    with clock.as_of(kw.pop("as_of", dt.date(2026, 5, 20))):
        return services.record_activity(actor, data)


def _state(code, unit, start):
    return ComplianceState.objects.get(rule__code=code, unit=unit, period_start=start)


@pytest.fixture
def secretary(tree, users):
    return users[Role.BRANCH_SECRETARY]


def test_a_record_counts_attendance_and_meets_the_monthly_rule(tree, secretary):
    m2 = members.create_member(None, unit=tree.b01, name="赵六", gender="M", status=PartyStatus.FULL)
    members.assign_committee_role(None, m2, tree.b01, CommitteeRoleKind.ORGANISATION, started_on=dt.date(2020, 1, 1))
    attendance = {tree.m01.pk: services.Presence(True), m2.pk: services.Presence(False, "井下当班")}
    record = _record(secretary, tree.b01, attendance=attendance, host=tree.m01, place="会议室")
    assert (record.expected, record.present, float(record.attendance_rate)) == (2, 1, 50.0)
    assert Attendance.objects.get(record=record, member=m2).absence_reason == "井下当班"
    state = _state("COMMITTEE_M", tree.b01, dt.date(2026, 5, 1))
    assert (state.status, state.done, state.required) == ("met", 1, 1)
    # the other branch has not met it yet, but only its own record counts
    with clock.as_of(dt.date(2026, 5, 20)):
        engine.evaluate(start=DAY, end=DAY)
    assert _state("COMMITTEE_M", tree.b02, dt.date(2026, 5, 1)).status == "open"


def test_states_move_from_open_to_at_risk_to_missed(tree):
    with clock.as_of(dt.date(2026, 5, 10)):
        engine.evaluate(start=DAY, end=DAY)
    assert _state("COMMITTEE_M", tree.b01, dt.date(2026, 5, 1)).status == "open"
    with clock.as_of(dt.date(2026, 5, 27)):  # within 5 days of the month's end
        engine.evaluate(start=DAY, end=DAY)
    assert _state("COMMITTEE_M", tree.b01, dt.date(2026, 5, 1)).status == "at_risk"
    with clock.as_of(dt.date(2026, 6, 1)):
        engine.evaluate(start=DAY, end=DAY)
    assert _state("COMMITTEE_M", tree.b01, dt.date(2026, 5, 1)).status == "missed"
    # a group rule applies to groups, not branches
    assert not ComplianceState.objects.filter(rule__code="GROUP_M", unit=tree.b01).exists()
    assert _state("GROUP_M", tree.g1, dt.date(2026, 5, 1)).status == "missed"


def test_heat_map_totals_roll_up_and_follow_each_record(tree, secretary):
    with clock.as_of(dt.date(2026, 6, 1)):
        engine.evaluate(start=DAY, end=DAY)
    may = dt.date(2026, 5, 1)
    sub1 = ComplianceTally.objects.get(unit=tree.sub1, month=may)
    before_missed = sub1.missed
    assert before_missed >= 3  # B01's and B02's committee meetings and theme days, B01G1's group meeting
    data = services.RecordInput(unit=tree.b01, kind=ActivityKind.COMMITTEE_MEETING, held_on=DAY, topic="补开",
                                attendance=_everyone(tree.b01))
    with clock.as_of(dt.date(2026, 6, 1)):
        services.record_activity(secretary, data)
    sub1.refresh_from_db()
    assert (sub1.missed, sub1.met) == (before_missed - 1, 1)
    grp = ComplianceTally.objects.get(unit=tree.grp, month=may)
    engine.rebuild_tallies([may])  # the full rebuild (what a nightly run that changed a state does) agrees
    assert ComplianceTally.objects.get(unit=tree.grp, month=may).missed == grp.missed


def test_party_groups_keep_no_tally_their_states_count_into_the_branch(tree, secretary):
    """Decision 0010: a group (a leaf) keeps no tally; its states are counted into its branch and,
    on the heat map, read from the states themselves."""
    from pbqms.activities import selectors

    may = dt.date(2026, 5, 1)
    with clock.as_of(dt.date(2026, 6, 1)):
        engine.evaluate(start=DAY, end=DAY)
    assert _state("GROUP_M", tree.g1, may).status == "missed"
    assert not ComplianceTally.objects.filter(unit=tree.g1).exists()
    b01 = ComplianceTally.objects.get(unit=tree.b01, month=may)
    assert b01.missed == ComplianceState.objects.filter(unit__in=[tree.b01, tree.g1], month=may,
                                                        status="missed").count()
    with clock.as_of(dt.date(2026, 6, 1)):
        cell = selectors.heat_rows([tree.g1], 2026)[0].cells[4]
    assert (cell.month, cell.missed, cell.met) == (may, 1, 0)

    data = services.RecordInput(unit=tree.g1, kind=ActivityKind.GROUP_MEETING, held_on=DAY, topic="补开小组会",
                                attendance=_everyone(tree.g1))
    with clock.as_of(dt.date(2026, 6, 1)):
        services.record_activity(secretary, data)
        cell = selectors.heat_rows([tree.g1], 2026)[0].cells[4]
    assert (cell.missed, cell.met) == (0, 1)
    assert not ComplianceTally.objects.filter(unit=tree.g1).exists()
    after = ComplianceTally.objects.get(unit=tree.b01, month=may)
    assert (after.missed, after.met) == (b01.missed - 1, b01.met + 1)
    engine.rebuild_tallies([may])  # the full rebuild agrees with the increments
    rebuilt = ComplianceTally.objects.get(unit=tree.b01, month=may)
    assert (rebuilt.missed, rebuilt.met) == (after.missed, after.met)
    assert not ComplianceTally.objects.filter(unit=tree.g1).exists()


def _tallies():
    return {(t.unit_id, t.month): (t.met, t.open, t.at_risk, t.missed) for t in ComplianceTally.objects.all()
            if t.met or t.open or t.at_risk or t.missed}


def test_a_moved_unit_takes_its_totals_to_its_new_ancestors(tree):
    """A branch (with its group) and then a group move: the totals follow them, and agree with a
    rebuild from the states."""
    from pbqms.orgs import services as orgs

    may = dt.date(2026, 5, 1)
    with clock.as_of(dt.date(2026, 6, 1)):
        engine.evaluate(start=DAY, end=DAY)
    b01 = ComplianceTally.objects.get(unit=tree.b01, month=may)
    sub1_before = ComplianceTally.objects.get(unit=tree.sub1, month=may).missed
    sub2_before = ComplianceTally.objects.get(unit=tree.sub2, month=may).missed
    grp_before = ComplianceTally.objects.get(unit=tree.grp, month=may).missed
    orgs.move_unit(None, tree.b01, tree.sub2, reason="划转")
    assert ComplianceTally.objects.get(unit=tree.sub1, month=may).missed == sub1_before - b01.missed
    assert ComplianceTally.objects.get(unit=tree.sub2, month=may).missed == sub2_before + b01.missed
    assert ComplianceTally.objects.get(unit=tree.grp, month=may).missed == grp_before
    tree.g1.refresh_from_db()
    orgs.move_unit(None, tree.g1, tree.b02, reason="调整党小组")
    assert ComplianceTally.objects.get(unit=tree.b01, month=may).missed == b01.missed - 1  # G1's group meeting
    moved = _tallies()
    engine.rebuild_tallies([may])
    assert _tallies() == moved


def test_secretary_lecture_rule_needs_the_secretary_as_host(tree, secretary):
    members.assign_committee_role(None, tree.m01, tree.b01, CommitteeRoleKind.SECRETARY, started_on=dt.date(2024, 1, 1))
    _record(secretary, tree.b01, kind=ActivityKind.PARTY_LECTURE, host=None, topic="党课：党章学习")
    assert _state("LECTURE_SEC_Y", tree.b01, dt.date(2026, 1, 1)).done == 0
    assert _state("LECTURE_Q", tree.b01, dt.date(2026, 4, 1)).status == "met"
    _record(secretary, tree.b01, kind=ActivityKind.PARTY_LECTURE, day=DAY + dt.timedelta(days=1), host=tree.m01,
            topic="书记讲党课")
    assert _state("LECTURE_SEC_Y", tree.b01, dt.date(2026, 1, 1)).status == "met"


def test_bad_records_are_refused_and_change_nothing(tree, secretary):
    def refused(match, **kw):
        with pytest.raises(ValidationError, match=match):
            _record(secretary, tree.b01, **kw)
        assert not ActivityRecord.objects.exists() and not ComplianceState.objects.exists()

    refused("未来", day=dt.date(2026, 5, 25))
    refused("不是本单位", attendance={tree.m01.pk: services.Presence(True), tree.m03.pk: services.Presence(True)})
    refused("缺席原因", attendance={tree.m01.pk: services.Presence(False)})
    _record(secretary, tree.b01)
    with pytest.raises(ValidationError, match="已经记录"):
        _record(secretary, tree.b01)
    assert ActivityRecord.objects.count() == 1


@pytest.mark.parametrize("role", [Role.MEMBER, Role.INTERNAL_AUDITOR])
def test_roles_that_may_not_record_are_refused(tree, users, role):
    with pytest.raises(PermissionDenied):
        _record(users[role], tree.b01)


def test_group_leader_records_only_their_groups_meeting(tree, users):
    leader = users[Role.GROUP_LEADER]
    _record(leader, tree.g1, kind=ActivityKind.GROUP_MEETING)
    assert _state("GROUP_M", tree.g1, dt.date(2026, 5, 1)).status == "met"
    with pytest.raises(PermissionDenied):
        _record(leader, tree.b01)


def test_a_plan_cannot_change_after_its_period_closed(tree, secretary):
    item = services.PlanItem(ActivityKind.COMMITTEE_MEETING, dt.date(2026, 6, 10), "研究二季度工作")
    with clock.as_of(dt.date(2026, 5, 28)):
        plan = services.file_plan(secretary, unit=tree.b01, period="2026-06", items=[item])
    assert plan.items.count() == 1
    with clock.as_of(dt.date(2026, 7, 2)), pytest.raises(ValidationError, match="已结束"):
        services.file_plan(secretary, unit=tree.b01, period="2026-06", items=[item, item])
    assert ActivityPlan.objects.get().items.count() == 1
    with clock.as_of(dt.date(2026, 5, 28)), pytest.raises(ValidationError):
        services.file_plan(secretary, unit=tree.b01, period="2026-13", items=[item])


def test_plan_review_by_the_department_only(tree, users, secretary):
    item = services.PlanItem(ActivityKind.THEME_DAY, dt.date(2026, 6, 5), "主题党日：志愿服务")
    with clock.as_of(dt.date(2026, 5, 28)):
        plan = services.file_plan(secretary, unit=tree.b01, period="2026-06", items=[item])
    with pytest.raises(PermissionDenied):
        services.review_plan(secretary, plan, "自审")
    services.review_plan(users[Role.DEPARTMENT_STAFF], plan, "同意，注意留存影像资料")
    assert ActivityPlan.objects.get().status == "reviewed"


def test_nightly_run_warns_once_and_turns_a_miss_into_one_finding(tree, users):
    with clock.as_of(dt.date(2026, 5, 27)):
        first = services.nightly()
        again = services.nightly()
    assert first["reminders"] >= 1 and again["reminders"] == 0
    warned = Notification.objects.filter(recipient=users[Role.BRANCH_SECRETARY], key__endswith=":risk")
    assert warned.filter(title__contains="支委会").exists()
    with clock.as_of(dt.date(2026, 6, 1)):
        services.nightly()
        services.nightly()
    committee = ComplianceRule.objects.get(code="COMMITTEE_M")
    key = f"activities:{committee.pk}:{tree.b01.pk}:2026-05-01"
    finding = Finding.objects.get(source_key=key)
    assert finding.source == FindingSource.COMPLIANCE and finding.unit == tree.b01
    assert "2026-05" in finding.description and "支委会" in finding.standard
    assert Finding.objects.filter(source_key=key).count() == 1


def test_rules_are_configurable(tree, secretary):
    rule = ComplianceRule.objects.get(code="COMMITTEE_M")
    rule.min_count = 2
    rule.save()
    _record(secretary, tree.b01)
    assert _state("COMMITTEE_M", tree.b01, dt.date(2026, 5, 1)).status == "open"
    rule.active = False
    rule.save()
    ComplianceState.objects.all().delete()
    with clock.as_of(dt.date(2026, 6, 1)):
        engine.evaluate(start=DAY, end=DAY)
    assert not ComplianceState.objects.filter(rule=rule).exists()


def test_metrics_for_the_assessment_engine(tree, secretary):
    from pbqms.core import metrics

    m2 = members.create_member(None, unit=tree.b01, name="赵六", gender="M", status=PartyStatus.FULL)
    members.assign_committee_role(None, m2, tree.b01, CommitteeRoleKind.ORGANISATION, started_on=dt.date(2020, 1, 1))
    _record(secretary, tree.b01, attendance={tree.m01.pk: services.Presence(True),
                                             m2.pk: services.Presence(False, "病假")})
    with clock.as_of(dt.date(2026, 6, 1)):
        engine.evaluate(start=DAY, end=DAY)
    may = (dt.date(2026, 5, 1), dt.date(2026, 5, 31))
    rates = metrics.get("activities.compliance_rate").compute([tree.b01.pk, tree.b02.pk], *may)
    # B01: committee met; theme day and B01G1's group meeting missed → 1 of 3
    assert rates[tree.b01.pk] == Decimal("33.3") and rates[tree.b02.pk] == 0  # one decimal, no float expansion
    assert metrics.get("activities.attendance_rate").compute([tree.b01.pk, tree.b02.pk], *may) == {
        tree.b01.pk: 50, tree.b02.pk: None}
