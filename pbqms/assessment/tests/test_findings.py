"""Deductions → findings: one action makes a rectification finding of a deduction, exactly once,
carrying the item, the standard, the period and a link back to the scorecard; only those who may
record findings for the unit act; bad input gets its message and changes nothing."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation

from pbqms.accounts.models import Role
from pbqms.assessment import findings, stats
from pbqms.assessment.models import Period, Score
from pbqms.assessment.tests import walk_results as W
from pbqms.rectification.models import Finding, FindingSource, Severity


@pytest.fixture
def q1(tree, users):
    data = W.build(users[Role.DEPARTMENT_STAFF], tree.sub1, [tree.b01, tree.b02])
    return Period.objects.select_related("plan__owner", "scheme").get(pk=data["period"])


def deductions_of(period, unit):
    return list(Score.objects.filter(sheet__period=period, sheet__unit=unit, deducted=True).select_related("item")
                .order_by("item__code"))


def test_one_deduction_becomes_one_finding_exactly_once(q1, tree, users):
    staff = users[Role.DEPARTMENT_STAFF]
    dj01 = deductions_of(q1, tree.b01)[0]
    raised = findings.raise_findings(staff, q1, tree.b01, [dj01.pk])
    assert raised.count == 1
    f = raised.created[0]
    assert f.source == FindingSource.ASSESSMENT and f.unit == tree.b01 and f.item_code == "DJ01"
    assert f.standard == "缺1次扣2分" and f.period == q1.key
    assert f.source_key == f"assess:{q1.pk}:{tree.b01.pk}:{dj01.item_id}"
    assert f.severity == Severity.GENERAL and "支委会记录缺失" in f.description and "DJ01" in f.description
    assert f.source_link == reverse("assessment:scorecard", kwargs={"period_pk": q1.pk, "code": "B01"})
    assert q1.key in f.source_ref and "DJ01" in f.source_ref
    again = findings.raise_findings(staff, q1, tree.b01, [dj01.pk])
    assert again.count == 0 and again.existing == [f]
    assert Finding.objects.filter(item_code="DJ01", unit=tree.b01).count() == 1


def test_all_deductions_at_once_then_nothing_new(q1, tree, users):
    staff = users[Role.DEPARTMENT_STAFF]
    raised = findings.raise_findings(staff, q1, tree.b01)
    assert sorted(f.item_code for f in raised.created) == ["DJ01", "DJ02"]
    assert findings.raise_findings(staff, q1, tree.b01).count == 0
    assert Finding.objects.filter(unit=tree.b01, source=FindingSource.ASSESSMENT).count() == 2


def test_a_penalty_and_a_shortfall_of_the_second_unit(q1, tree, users):
    raised = findings.raise_findings(users[Role.COMMITTEE_ADMIN], q1, tree.b02)
    assert sorted(f.item_code for f in raised.created) == ["JK02", "XC01"]


@pytest.mark.parametrize("role", [Role.BRANCH_SECRETARY, Role.BRANCH_COMMITTEE, Role.GROUP_LEADER, Role.MEMBER])
def test_branch_roles_may_not_raise(q1, tree, users, role):
    with pytest.raises(PermissionDenied):
        findings.raise_findings(users[role], q1, tree.b01)
    assert not Finding.objects.exists()


def test_a_deduction_of_another_unit_is_refused(q1, tree, users):
    other = deductions_of(q1, tree.b02)[0]
    with translation.override("en"), pytest.raises(ValidationError) as e:
        findings.raise_findings(users[Role.DEPARTMENT_STAFF], q1, tree.b01, [other.pk])
    assert e.value.messages == ["That deduction is not part of this unit's result for 2025Q1."]
    assert not Finding.objects.exists()


def test_a_unit_without_deductions_has_nothing_to_raise(english, tree, users):
    staff = users[Role.DEPARTMENT_STAFF]
    plan, items = W.make_plan(staff, tree.sub1)
    period = W.run_period(staff, plan, items, f"{W.YEAR}Q1", {tree.b01: {}})
    english.force_login(staff)
    r = english.post(reverse("assessment:raise_findings", kwargs={"period_pk": period.pk, "code": "B01"}),
                     {"all": "1"}, follow=True)
    assert "lost no points in 2025Q1: there is nothing to raise" in r.content.decode()
    assert not Finding.objects.exists()


def test_raise_through_http(english, q1, tree, users):
    staff = users[Role.DEPARTMENT_STAFF]
    english.force_login(staff)
    target = reverse("assessment:raise_findings", kwargs={"period_pk": q1.pk, "code": "B01"})
    r = english.post(target, {"score": "abc"}, follow=True)
    assert "Choose the deduction to raise as a finding." in r.content.decode()
    assert not Finding.objects.exists()
    dj02 = deductions_of(q1, tree.b01)[1]
    r = english.post(target, {"score": str(dj02.pk)})
    assert r.status_code == 302 and r["Location"].endswith("#deductions")
    assert Finding.objects.get().item_code == "DJ02"
    page = english.get(reverse("assessment:scorecard", kwargs={"period_pk": q1.pk, "code": "B01"})).content.decode()
    assert reverse("rectification:finding", kwargs={"finding_pk": Finding.objects.get().pk}) in page
    r = english.post(target, {"all": "1"}, follow=True)
    assert "1 finding was raised" in r.content.decode() and "1 deduction had already been raised" in r.content.decode()
    assert Finding.objects.count() == 2


def test_http_refuses_branch_roles_and_outside_units(client, q1, tree, users):
    client.force_login(users[Role.BRANCH_SECRETARY])
    target = reverse("assessment:raise_findings", kwargs={"period_pk": q1.pk, "code": "B01"})
    assert client.post(target, {"all": "1"}).status_code == 403
    client.force_login(users[Role.DEPARTMENT_STAFF])
    assert client.post(reverse("assessment:raise_findings", kwargs={"period_pk": q1.pk, "code": "B03"}),
                       {"all": "1"}).status_code == 404
    assert client.get(target).status_code == 405
    assert not Finding.objects.exists()


def test_nobody_raises_for_their_own_unit(q1, tree, users):
    """A department member who belongs to B01 (holds a role there) may not raise B01's findings."""
    from pbqms.accounts import services as accounts

    staff = users[Role.DEPARTMENT_STAFF]
    accounts.grant_role(None, staff, Role.BRANCH_COMMITTEE, tree.b01)
    staff = type(staff).objects.get(pk=staff.pk)  # a fresh scope
    with pytest.raises(PermissionDenied):
        findings.raise_findings(staff, q1, tree.b01)
    assert findings.raise_findings(staff, q1, tree.b02).count == 2


def test_members_points_are_not_unit_findings(tree, users):
    staff = users[Role.DEPARTMENT_STAFF]
    data = W.member_data()
    plan, _items = W.make_plan(staff, tree.sub1, data=data)
    period = Period.objects.select_related("plan", "scheme").get(plan=plan, key=f"{W.YEAR}Q1")
    with translation.override("en"), pytest.raises(ValidationError) as e:
        findings.raise_findings(staff, period, tree.b01)
    assert e.value.messages == ["Deductions of members' points are not rectified as findings of a unit."]


def test_scorecard_marks_raised_deductions(q1, tree, users):
    staff = users[Role.DEPARTMENT_STAFF]
    findings.raise_findings(staff, q1, tree.b01, [deductions_of(q1, tree.b01)[0].pk])
    result = q1.results.get(unit=tree.b01)
    card = stats.scorecard(staff, q1, result)
    assert [d.finding is not None for d in card.deductions] == [True, False]
    assert card.unraised == 1 and len(card.open_findings) == 1


def test_a_panel_deduction_is_one_finding_per_unit_and_item_with_the_deduction_the_result_used(tree, users,
                                                                                              admin_user):
    """22.3: two assessors deduct 0.5 and 1 on DJ01 of B01: one finding carrying the mean (0.75 —
    what the result used), not one per sheet; the item figures count one unit, not two sheets."""
    from decimal import Decimal

    from pbqms.assessment import results, services
    from pbqms.assessment.models import ItemResult, PeriodStatus, SheetKind
    from pbqms.assessment.services import ScoreInput
    from pbqms.assessment.tests.conftest import SMALL, make_setup

    data = {**SMALL, "stars": [], "categories": [
        {"code": "DJ", "name": "党建工作", "items": [
            {"code": "DJ01", "title": "党员教育培训", "standard": "每缺1次扣0.5分", "max_points": "90",
             "method": "deduct", "deduct_per": "0.5"}]},
        {"code": "XC", "name": "宣传", "items": [
            {"code": "XC01", "title": "宣传报道", "standard": "每季度2篇", "max_points": "10", "method": "yesno"}]}]}
    setup = make_setup(tree, admin_user, data)
    period = setup.period("2026Q1")
    a, b = users[Role.DEPARTMENT_STAFF], users[Role.COMMITTEE_SECRETARY]
    services.set_panel(admin_user, period, [a, b])
    services.move_period(admin_user, period, PeriodStatus.SCORING)
    period.refresh_from_db()
    for who, n in ((a, 1), (b, 2)):
        sheet = services.open_sheet(who, period, tree.b01, SheetKind.ASSESSOR)
        services.save_scores(who, sheet, [
            ScoreInput(item=setup.items["DJ01"], occurrences=n, reason=f"培训缺{n}次", standard_applied="细则",
                       evidence_ref="记录"),
            ScoreInput(item=setup.items["XC01"], yes=True)])
        services.submit_sheet(who, sheet)
    results.compute(period)
    item = ItemResult.objects.get(period=period, item=setup.items["DJ01"])
    assert (item.units_deducted, item.points_deducted) == (1, Decimal("0.75"))
    period = Period.objects.select_related("plan__owner", "scheme").get(pk=period.pk)
    raised = findings.raise_findings(a, period, tree.b01)
    assert raised.count == 1
    f = raised.created[0]
    assert "0.75" in f.description and "培训缺1次" in f.description and "培训缺2次" in f.description
    assert Finding.objects.filter(unit=tree.b01, item_code="DJ01").count() == 1
    # either assessor's score names the same deduction: nothing new
    one = Score.objects.filter(sheet__period=period, item=setup.items["DJ01"]).order_by("pk").last()
    assert findings.raise_findings(a, period, tree.b01, [one.pk]).existing == [f]
