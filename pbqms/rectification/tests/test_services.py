"""The rectification loop through its services: steps, gates, numbering, totals, recurrence."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from pbqms.accounts import services as accounts
from pbqms.accounts.models import Role
from pbqms.audit.models import AuditEntry
from pbqms.orgs.models import UnitTally
from pbqms.rectification import preventive, selectors, services, stats
from pbqms.rectification.models import (
    Feedback,
    Finding,
    FindingSource,
    FindingStatus,
    Notice,
    NoticeStatus,
    PreventiveAction,
    PreventiveStatus,
    RectificationSettings,
    Verification,
)

from .factories import SECRETARY, STAFF, answered_notice, answers, finding, issued_notice, today


def _state():
    return (sorted(Notice.objects.values_list("pk", "status", "deadline", "number")),
            sorted(Finding.objects.values_list("pk", "status", "deadline", "overdue")),
            Feedback.objects.count(), Verification.objects.count(),
            sorted(UnitTally.objects.filter(key__startswith="rect:", n__gt=0).values_list("unit_id", "key", "n")))


def test_the_whole_loop_closes_only_after_every_fix_is_verified(tree, users):
    staff, secretary = users[STAFF], users[SECRETARY]
    notice = issued_notice(staff, tree.b01, n=2)
    assert notice.number == f"党纠〔{today().year}〕001号"
    assert notice.issuing_unit == tree.sub1
    assert set(notice.findings.values_list("status", flat=True)) == {FindingStatus.NOTIFIED}
    services.receive_notice(secretary, notice)
    services.submit_feedback(secretary, notice, answers(notice))
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.ANSWERED
    first, second = notice.findings.order_by("pk")
    services.verify_finding(staff, first, effective=True, note="记录已补齐，查看了台账")
    services.verify_finding(staff, second, effective=False, note="仍缺少7月记录")
    second.refresh_from_db()
    assert second.status == FindingStatus.REOPENED
    with pytest.raises(ValidationError, match="1"):
        services.close_notice(staff, notice)
    services.return_notice(staff, notice, reason="7月记录仍未补齐", deadline=today() + dt.timedelta(days=5))
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.RETURNED and notice.rounds == 1
    # the second round answers only what is still owed
    services.submit_feedback(secretary, notice, {second.pk: answers(notice)[second.pk]})
    assert Feedback.objects.filter(finding=second).count() == 2
    services.verify_finding(staff, second, effective=True, note="已补齐")
    services.close_notice(staff, notice, note="整改到位")
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.CLOSED
    steps = list(notice.steps.values_list("action", flat=True))
    assert steps == ["draft", "issue", "receive", "submit", "verify", "verify", "return", "submit", "verify", "close"]
    assert all(notice.steps.values_list("actor_name", flat=True))
    assert AuditEntry.objects.filter(model="rectification.notice", object_id=str(notice.pk)).count() >= 6
    totals = stats.read([tree.b01.pk, tree.sub1.pk, tree.grp.pk], today().year)
    for uid in (tree.b01.pk, tree.sub1.pk, tree.grp.pk):
        assert totals[uid]["closed"] == 2 and totals[uid]["live"] == 0
        assert totals[uid]["ontime"] == 2 and totals[uid]["ontime_rate"] == 100.0


def test_numbers_follow_the_issuing_units_pattern_and_count_per_year(tree, users):
    staff = users[STAFF]
    services.save_settings(users[Role.COMMITTEE_ADMIN], tree.sub1, number_pattern="一矿党纠〔{year}〕{seq:02d}号",
                           reminder_days="3,1", escalate_after_days=3, recurrence_periods=2, recurrence_units=3,
                           preventive_days=30)
    a = issued_notice(staff, tree.b01, n=1)
    b = issued_notice(staff, tree.b02, n=1)
    assert (a.number, b.number) == (f"一矿党纠〔{today().year}〕01号", f"一矿党纠〔{today().year}〕02号")


@pytest.mark.parametrize("pattern", ["党纠〔{year}〕", "{seq", "{seq:xx}", "{unit}-{seq}", "{0}{seq}"])
def test_a_malformed_number_pattern_is_refused_and_nothing_changes(tree, users, pattern):
    with pytest.raises(ValidationError) as e:
        services.save_settings(users[Role.COMMITTEE_ADMIN], tree.sub1, number_pattern=pattern, reminder_days="3,1",
                               escalate_after_days=3, recurrence_periods=2, recurrence_units=3, preventive_days=30)
    assert "编号" in " ".join(e.value.messages)
    assert not RectificationSettings.objects.exists()


def test_feedback_needs_cause_and_measures_for_every_finding(tree, users):
    staff, secretary = users[STAFF], users[SECRETARY]
    notice = issued_notice(staff, tree.b01, n=2)
    given = answers(notice)
    first = min(given)
    given[first].cause = " "
    given[first].cause_category = None
    del given[max(given)]
    before = _state()
    with pytest.raises(ValidationError) as e:
        services.submit_feedback(secretary, notice, given)
    text = " ".join(e.value.messages)
    assert "原因类别" in text and "原因" in text and "DJ-1.2" in text
    assert _state() == before


def test_feedback_with_a_completion_date_in_the_future_is_refused(tree, users):
    notice = issued_notice(users[STAFF], tree.b01, n=1)
    before = _state()
    with pytest.raises(ValidationError, match="未来"):
        services.submit_feedback(users[SECRETARY], notice, answers(notice, completed_on=today() + dt.timedelta(1)))
    assert _state() == before


def test_feedback_after_closure_is_refused(tree, users):
    staff, secretary = users[STAFF], users[SECRETARY]
    notice = answered_notice(staff, secretary, tree.b01, n=1)
    services.verify_finding(staff, notice.findings.get(), effective=True, note="已核实")
    services.close_notice(staff, notice)
    before = _state()
    with pytest.raises(ValidationError, match="已关闭"):
        services.submit_feedback(secretary, notice, answers(notice))
    assert _state() == before


def test_the_unit_itself_cannot_verify_its_own_fix(tree, users):
    staff, secretary = users[STAFF], users[SECRETARY]
    notice = answered_notice(staff, secretary, tree.b01, n=1)
    f = notice.findings.get()
    before = _state()
    with pytest.raises(PermissionDenied):
        services.verify_finding(secretary, f, effective=True, note="自己验收")
    # a department officer who also sits on the branch may not judge it either
    accounts.grant_role(None, staff, Role.BRANCH_COMMITTEE, tree.b01)
    staff = type(staff).objects.get(pk=staff.pk)  # fresh scope
    with pytest.raises(PermissionDenied):
        services.verify_finding(staff, f, effective=True, note="自己验收")
    assert _state() == before


def test_a_deadline_in_the_past_is_refused(tree, users):
    staff = users[STAFF]
    f = finding(staff, tree.b01)
    before = _state()
    for days in (0, -3):
        with pytest.raises(ValidationError, match="截止日期"):
            services.draft_notice(staff, unit=tree.b01, findings=[f], title="整改", requirement="整改",
                                  deadline=today() + dt.timedelta(days=days))
    assert _state() == before


def test_returning_needs_a_reason_and_a_future_deadline(tree, users):
    notice = answered_notice(users[STAFF], users[SECRETARY], tree.b01, n=1)
    before = _state()
    with pytest.raises(ValidationError, match="理由"):
        services.return_notice(users[STAFF], notice, reason="", deadline=today() + dt.timedelta(3))
    with pytest.raises(ValidationError, match="截止日期"):
        services.return_notice(users[STAFF], notice, reason="不到位", deadline=today())
    assert _state() == before


@pytest.mark.parametrize("role", [Role.BRANCH_SECRETARY, Role.BRANCH_COMMITTEE, Role.GROUP_LEADER, Role.MEMBER,
                                  Role.INTERNAL_AUDITOR])
def test_issuing_steps_are_refused_to_roles_that_may_not_take_them(tree, users, role):
    staff = users[STAFF]
    f = finding(staff, tree.b01)
    draft = services.draft_notice(staff, unit=tree.b01, findings=[f], title="整改", requirement="整改",
                                  deadline=today() + dt.timedelta(days=7))
    before = _state()
    with pytest.raises(PermissionDenied):
        services.issue_notice(users[role], draft)
    with pytest.raises(PermissionDenied):
        services.draft_notice(users[role], unit=tree.b02, findings=[], title="x", requirement="x",
                              deadline=today() + dt.timedelta(days=7))
    assert _state() == before


@pytest.mark.parametrize("role", [Role.COMMITTEE_SECRETARY, Role.DEPARTMENT_STAFF, Role.GROUP_LEADER, Role.MEMBER,
                                  Role.INTERNAL_AUDITOR])
def test_answering_steps_are_refused_to_roles_that_may_not_take_them(tree, users, role):
    notice = issued_notice(users[STAFF], tree.b01, n=1)
    before = _state()
    with pytest.raises(PermissionDenied):
        services.receive_notice(users[role], notice)
    with pytest.raises(PermissionDenied):
        services.submit_feedback(users[role], notice, answers(notice))
    assert _state() == before


def test_nobody_acts_outside_their_subtree(tree, users):
    admin = accounts.create_user(None, username="sub2_staff", password="x", validate=False)
    accounts.grant_role(None, admin, Role.DEPARTMENT_STAFF, tree.sub2)
    notice = answered_notice(users[STAFF], users[SECRETARY], tree.b01, n=1)
    with pytest.raises(PermissionDenied):
        services.verify_finding(admin, notice.findings.get(), effective=True, note="越权")
    with pytest.raises(PermissionDenied):
        finding(admin, tree.b01)
    assert not selectors.notices(admin).exists()


def test_english_messages_for_english_users(tree, users):
    notice = issued_notice(users[STAFF], tree.b01, n=1)
    with translation.override("en"), pytest.raises(ValidationError) as e:
        services.submit_feedback(users[SECRETARY], notice, {})
    assert "cause category" in " ".join(e.value.messages)


def test_raise_finding_is_exactly_once_per_source_key(tree):
    data = services.FindingInput(unit=tree.b01, description="本月支委会未召开", found_on=today(),
                                 source=FindingSource.COMPLIANCE, item_code="ZWH", period="2026-05")
    a, created_a = services.raise_finding(data, source_key="activities:rule:3:unit:1:2026-05")
    b, created_b = services.raise_finding(data, source_key="activities:rule:3:unit:1:2026-05")
    assert created_a and not created_b and a.pk == b.pk
    assert Finding.objects.count() == 1
    assert stats.read([tree.b01.pk], today().year)[tree.b01.pk]["live"] == 1


def test_withdrawing_a_finding_takes_it_off_the_totals(tree, users):
    f = finding(users[STAFF], tree.b01)
    with pytest.raises(ValidationError):
        services.withdraw_finding(users[STAFF], f, "")
    services.withdraw_finding(users[STAFF], f, "重复登记")
    assert stats.read([tree.b01.pk], today().year)[tree.b01.pk]["total"] == 0


def test_a_finding_dated_in_the_future_or_without_description_is_refused(tree, users):
    with pytest.raises(ValidationError):
        finding(users[STAFF], tree.b01, found_on=today() + dt.timedelta(days=1))
    with pytest.raises(ValidationError):
        finding(users[STAFF], tree.b01, description="  ")
    assert not Finding.objects.exists()


def test_recount_rebuilds_the_same_totals(tree, users):
    staff, secretary = users[STAFF], users[SECRETARY]
    notice = answered_notice(staff, secretary, tree.b01, n=2)
    services.verify_finding(staff, notice.findings.first(), effective=True, note="好")
    finding(staff, tree.b02, item="DJ-9")
    assert stats.open_count([tree.sub1.pk]) == 1 and stats.open_count([tree.b01.pk]) == 0
    # a total that fell back to 0 keeps its row, the recount writes none: compare the others
    kept = sorted(UnitTally.objects.filter(key__startswith="rect:", n__gt=0).values_list("unit_id", "key", "n"))
    stats.recount()
    assert sorted(UnitTally.objects.filter(key__startswith="rect:", n__gt=0).values_list("unit_id", "key", "n")) == kept
    from pbqms.orgs import tally

    tally.recount()  # the foundation's recount leaves these keys alone
    assert sorted(UnitTally.objects.filter(key__startswith="rect:", n__gt=0).values_list("unit_id", "key", "n")) == kept


def test_recurrence_in_one_unit_proposes_one_preventive_action(tree, users):
    staff = users[STAFF]
    finding(staff, tree.b01, item="DJ-3.1", period="2026Q1")
    assert not PreventiveAction.objects.exists()
    finding(staff, tree.b01, item="DJ-3.1", period="2026Q2")
    finding(staff, tree.b01, item="DJ-3.1", period="2026Q3")
    action = PreventiveAction.objects.get()
    assert action.unit == tree.b01 and action.findings.count() == 3
    assert action.status == PreventiveStatus.PROPOSED


def test_recurrence_across_units_proposes_an_action_on_the_parent(tree, users):
    staff = users[STAFF]
    services.save_settings(users[Role.COMMITTEE_ADMIN], tree.sub1, number_pattern="党纠〔{year}〕{seq:03d}号",
                           reminder_days="3,1", escalate_after_days=3, recurrence_periods=9, recurrence_units=2,
                           preventive_days=20)
    finding(staff, tree.b01, item="XC-2", period="2026Q3")
    finding(staff, tree.b02, item="XC-2", period="2026Q3")
    action = PreventiveAction.objects.get()
    assert action.unit == tree.sub1 and action.trigger == "many_units"
    assert action.due_on == today() + dt.timedelta(days=20)


def test_preventive_action_is_tracked_to_verified_closure(tree, users):
    staff, secretary = users[STAFF], users[SECRETARY]
    for p in ("2026Q1", "2026Q2"):
        finding(staff, tree.b01, item="DJ-4", period=p)
    action = PreventiveAction.objects.get()
    with pytest.raises(ValidationError):
        preventive.accept(staff, action, owner=secretary, due_on=today(), measures="")
    preventive.accept(staff, action, owner=secretary, due_on=today() + dt.timedelta(days=30),
                      measures="建立支委会提醒机制")
    with pytest.raises(PermissionDenied):
        preventive.close(secretary, action, effective=True, note="自己验收")
    preventive.complete(secretary, action, result="已建立每月提醒")
    preventive.close(staff, action, effective=True, note="两个季度未再发生")
    action.refresh_from_db()
    assert action.status == PreventiveStatus.CLOSED


def test_todo_lists_what_waits_for_each_role(tree, users):
    staff, secretary = users[STAFF], users[SECRETARY]
    notice = issued_notice(staff, tree.b01, n=1)
    assert [n.pk for n in selectors.todo(secretary)["to_answer"]] == [notice.pk]
    assert "to_answer" not in selectors.todo(staff)
    services.submit_feedback(secretary, notice, answers(notice))
    assert [n.pk for n in selectors.todo(staff)["to_verify"]] == [notice.pk]
    assert selectors.todo(secretary)["to_answer"] == []
