"""The assessment pages for schemes, plans and periods through HTTP, as several roles: every bad
input shows the service's message and changes nothing; outside scope is 404, inside without the
role 403; the period page costs the same number of queries for 3 units or 40.

Messages are asserted in English (the `english` client): the app's catalogue is built at the end.
"""

from __future__ import annotations

import html
from decimal import Decimal

import pytest
from django.urls import reverse

from pbqms.accounts.models import Role
from pbqms.assessment import schemes, services
from pbqms.assessment.models import (
    PanelMember,
    Period,
    PeriodStatus,
    PeriodStep,
    Plan,
    Scheme,
    SchemeItem,
    SchemeStatus,
    Sheet,
    SheetKind,
)
from pbqms.orgs import services as orgs
from pbqms.orgs.models import UnitKind

from .conftest import SMALL, YEAR, make_setup

HX = {"HTTP_HX_REQUEST": "true"}


def url(name: str, **kw) -> str:
    return reverse(f"assessment:{name}", kwargs=kw)


def body(r) -> str:
    return html.unescape(r.content.decode())


def draft(tree, actor, data=SMALL) -> Scheme:
    return schemes.load_scheme(actor, tree.sub1, YEAR, data)


def unbalanced() -> dict:
    data = {**SMALL, "categories": [dict(c) for c in SMALL["categories"]]}
    items = [dict(i) for i in data["categories"][0]["items"]]
    items[1] = {**items[1], "max_points": "15", "levels": [["好", "15"], ["差", "0"]]}
    data["categories"][0] = {**data["categories"][0], "items": items}
    return data


# ---- home ---------------------------------------------------------------------------------------

def test_home_for_a_manager_shows_schemes_and_running_periods(client, users, setup, admin_user, tree):
    period = setup.period("2026Q1")
    services.move_period(admin_user, period, PeriodStatus.SCORING)
    staff = users[Role.DEPARTMENT_STAFF]
    services.open_sheet(staff, period, tree.b01, SheetKind.ASSESSOR)
    client.force_login(staff)
    r = client.get(url("home"))
    assert r.status_code == 200
    assert setup.scheme.name in body(r)
    assert period in r.context["current"]
    prog = r.context["progress"][period.pk]
    assert prog.total == 2 and prog.assessor_started == 1 and prog.assessor_submitted == 0


def test_home_for_a_branch_secretary_lists_the_self_checks_due(client, users, setup, tree, monkeypatch):
    from pbqms.core import clock

    monkeypatch.setattr(clock, "today", lambda: __import__("datetime").date(YEAR, 2, 10))
    client.force_login(users[Role.BRANCH_SECRETARY])
    r = client.get(url("home"))
    assert r.status_code == 200
    keys = {(p.key, u.code) for p, u, _s in r.context["due"]}
    assert ("2026-02", "B01") in keys and ("2026Q1", "B01") in keys
    assert not r.context["is_manager"]
    # the self-check opens from there
    r = client.post(url("open_self", period_pk=setup.period("2026-02").pk, code="B01"))
    sheet = Sheet.objects.get(period=setup.period("2026-02"), unit=tree.b01, kind=SheetKind.SELF)
    assert r.status_code == 302 and r["Location"] == url("sheet", sheet_pk=sheet.pk)


def test_home_for_anyone_else_says_nothing_to_score(client, users, setup):
    client.force_login(users[Role.GROUP_LEADER])
    r = client.get(url("home"))
    assert r.status_code == 200 and r.context["nothing"]


def test_home_queries_are_bounded(client, users, setup, admin_user, django_assert_max_num_queries):
    for key in ("2026Q1", "2026Q2"):
        services.move_period(admin_user, setup.period(key), PeriodStatus.SCORING)
    for role in (Role.DEPARTMENT_STAFF, Role.BRANCH_SECRETARY, Role.MEMBER):
        client.force_login(users[role])
        with django_assert_max_num_queries(20):
            assert client.get(url("home")).status_code == 200


# ---- schemes ------------------------------------------------------------------------------------

def test_scheme_list_is_scoped(client, users, tree, admin_user):
    inside = schemes.publish_scheme(admin_user, draft(tree, admin_user))
    outside = schemes.publish_scheme(admin_user, schemes.load_scheme(admin_user, tree.sub2, YEAR,
                                                                     {**SMALL, "name": "二矿细则"}))
    for role in (Role.DEPARTMENT_STAFF, Role.BRANCH_SECRETARY, Role.MEMBER):
        client.force_login(users[role])
        r = client.get(url("schemes"))
        assert inside in r.context["page"].items and outside not in r.context["page"].items
        assert "二矿细则" not in body(r)
        assert client.get(url("scheme", scheme_pk=outside.pk)).status_code == 404
    # a draft is for those who manage it
    d = draft(tree, admin_user)
    client.force_login(users[Role.BRANCH_SECRETARY])
    assert client.get(url("scheme", scheme_pk=d.pk)).status_code == 404
    client.force_login(users[Role.DEPARTMENT_STAFF])
    assert client.get(url("scheme", scheme_pk=d.pk)).status_code == 200


def test_scheme_detail_shows_items_totals_and_method_parameters(client, users, tree, admin_user):
    scheme = draft(tree, admin_user)
    client.force_login(users[Role.DEPARTMENT_STAFF])
    r = client.get(url("scheme", scheme_pk=scheme.pk))
    text = body(r)
    assert r.status_code == 200
    for code in ("DJ01", "DJ02", "DJ03", "XC01", "XC02", "FJ01", "JK01", "JK02"):
        assert code in text
    assert "缺1次扣2分，扣完为止" in text and "好 20 / 较好 15" in text and "60% → 0" in text
    blocks = r.context["blocks"]
    assert [b.scored for b in blocks] == [Decimal("70"), Decimal("30"), Decimal("0"), Decimal("0")]
    assert r.context["total"] == Decimal("100") and r.context["balanced"]
    assert r.context["publish_errors"] == []


def test_create_a_draft_from_a_fixture_and_blank(client, users, tree):
    client.force_login(users[Role.DEPARTMENT_STAFF])
    r = client.get(url("scheme_create"))
    assert r.status_code == 200
    r = client.post(url("scheme_create"), {"owner": "SUB1", "year": "2027", "source": "liukao", "name": "",
                                            "target_kind": "branch"})
    scheme = Scheme.objects.get(year=2027)
    assert r.status_code == 302 and scheme.status == SchemeStatus.DRAFT
    assert scheme.items.filter(kind__in=["work", "interactive"]).count() == 67
    r = client.post(url("scheme_create"), {"owner": "SUB1", "year": "2027", "source": "blank", "name": "党员量化积分",
                                            "target_kind": "member", "categories": "JB 基本积分\nJL 奖励积分"})
    blank = Scheme.objects.get(year=2027, target_kind="member")
    assert list(blank.categories.values_list("code", flat=True)) == ["JB", "JL"]


def test_create_refuses_bad_input_and_changes_nothing(english, users, tree):
    english.force_login(users[Role.DEPARTMENT_STAFF])
    r = english.post(url("scheme_create"), {"owner": "SUB1", "year": "2027", "source": "blank", "name": "",
                                             "target_kind": "branch", "categories": ""})
    assert r.status_code == 200 and "no name" in body(r) and "no categories" in body(r)
    r = english.post(url("scheme_create"), {"owner": "SUB2", "year": "2027", "source": "liukao",
                                             "target_kind": "branch"})
    assert r.status_code == 200 and r.context["form"].errors["owner"]
    assert not Scheme.objects.exists()
    # the create page is for those who run an assessment
    english.force_login(users[Role.BRANCH_SECRETARY])
    assert english.get(url("scheme_create")).status_code == 403


def test_publishing_an_unbalanced_scheme_lists_the_problem_and_changes_nothing(english, users, tree, admin_user):
    scheme = draft(tree, admin_user, unbalanced())
    english.force_login(users[Role.DEPARTMENT_STAFF])
    r = english.get(url("scheme", scheme_pk=scheme.pk))
    assert "add up to 95, not the full mark 100" in body(r)
    r = english.post(url("scheme_publish", scheme_pk=scheme.pk))
    assert r.status_code == 400
    assert "The scheme was not published; nothing changed." in body(r)
    assert "add up to 95, not the full mark 100" in body(r)
    scheme.refresh_from_db()
    assert scheme.status == SchemeStatus.DRAFT and scheme.published_at is None


def test_publish_then_the_scheme_is_locked(english, users, tree, admin_user):
    scheme = draft(tree, admin_user)
    english.force_login(users[Role.DEPARTMENT_STAFF])
    r = english.post(url("scheme_publish", scheme_pk=scheme.pk))
    assert r.status_code == 302
    scheme.refresh_from_db()
    assert scheme.status == SchemeStatus.PUBLISHED
    item = scheme.items.get(code="DJ01")
    r = english.get(url("item_edit", scheme_pk=scheme.pk, item_pk=item.pk), follow=True)
    assert "A published scheme is locked" in body(r)
    r = english.post(url("item_delete", scheme_pk=scheme.pk, item_pk=item.pk), follow=True)
    assert "A published scheme is locked" in body(r)
    assert SchemeItem.objects.filter(pk=item.pk).exists()


def test_edit_add_and_delete_items_of_a_draft(english, users, tree, admin_user):
    scheme = draft(tree, admin_user)
    item = scheme.items.get(code="DJ01")
    english.force_login(users[Role.DEPARTMENT_STAFF])
    r = english.get(url("item_edit", scheme_pk=scheme.pk, item_pk=item.pk))
    assert r.status_code == 200 and r.context["form"].initial["max_points"] == "40"
    data = {"category": item.category_id, "code": "DJ01", "title": "三会一课落实", "standard": "缺1次扣3分",
            "kind": "work", "method": "deduct", "max_points": "40", "deduct_per": "3"}
    r = english.post(url("item_edit", scheme_pk=scheme.pk, item_pk=item.pk), data)
    assert r.status_code == 302
    item.refresh_from_db()
    assert item.title == "三会一课落实" and item.deduct_per == Decimal("3")
    # bad input: the service's message, nothing changed
    r = english.post(url("item_edit", scheme_pk=scheme.pk, item_pk=item.pk), {**data, "deduct_per": "50"})
    assert r.status_code == 200 and "Points per occurrence exceed the item's maximum." in body(r)
    r = english.post(url("item_edit", scheme_pk=scheme.pk, item_pk=item.pk),
                     {**data, "method": "graded", "levels": "好=40\n差"})
    assert "at least two levels" in body(r) or "Levels' points" in body(r)
    item.refresh_from_db()
    assert item.deduct_per == Decimal("3") and item.method == "deduct"
    # add one
    r = english.post(url("item_create", scheme_pk=scheme.pk), {**data, "code": "DJ09", "title": "党费收缴",
                                                                "method": "graded", "max_points": "5",
                                                                "levels": "好=5\n差=0"})
    added = scheme.items.get(code="DJ09")
    assert r.status_code == 302 and added.levels == [["好", "5"], ["差", "0"]]
    r = english.post(url("item_create", scheme_pk=scheme.pk), {**data, "code": "DJ09"})
    assert "used twice" in body(r)
    # the points no longer add up: the page says so
    r = english.get(url("scheme", scheme_pk=scheme.pk))
    assert "add up to 105, not the full mark 100" in body(r)
    r = english.post(url("item_delete", scheme_pk=scheme.pk, item_pk=added.pk))
    assert r.status_code == 302 and not scheme.items.filter(code="DJ09").exists()
    # only those who manage it
    english.force_login(users[Role.BRANCH_SECRETARY])
    assert english.post(url("item_delete", scheme_pk=scheme.pk, item_pk=item.pk)).status_code == 404


def test_copy_to_next_year_and_compare_item_by_item(client, users, tree, admin_user):
    scheme = schemes.publish_scheme(admin_user, draft(tree, admin_user))
    client.force_login(users[Role.DEPARTMENT_STAFF])
    r = client.post(url("scheme_copy", scheme_pk=scheme.pk), {"year": str(YEAR + 1)})
    copy = Scheme.objects.get(year=YEAR + 1)
    assert r.status_code == 302 and r["Location"] == url("scheme", scheme_pk=copy.pk)
    assert copy.copied_from == scheme and copy.status == SchemeStatus.DRAFT
    staff = users[Role.DEPARTMENT_STAFF]
    dj01 = copy.items.get(code="DJ01")
    schemes.save_item(staff, copy, {"max_points": "35", "deduct_per": "2.5"}, item=dj01)
    schemes.delete_item(staff, copy.items.get(code="XC02"))
    schemes.save_item(staff, copy, {"code": "XC03", "title": "网站更新", "standard": "每月更新", "max_points": "15",
                                    "method": "yesno", "kind": "work"}, category=copy.categories.get(code="XC"))
    r = client.get(url("scheme_compare", scheme_pk=copy.pk))
    assert r.status_code == 200 and r.context["base"] == scheme
    changes = {c.code: c for c in r.context["changes"]}
    assert changes["XC03"].change == "added" and changes["XC02"].change == "removed"
    assert ("35", "40") not in [(a, b) for _l, a, b in changes["DJ01"].fields]
    assert ("40", "35") in [(a, b) for _l, a, b in changes["DJ01"].fields]
    text = body(r)
    assert "<del>40</del> → <ins>35</ins>" in text and "<del>2</del> → <ins>2.5</ins>" in text
    assert r.context["counts"] == {"added": 1, "removed": 1, "changed": 1}


def test_copy_refuses_a_branch_secretary(client, users, tree, admin_user):
    scheme = schemes.publish_scheme(admin_user, draft(tree, admin_user))
    client.force_login(users[Role.BRANCH_SECRETARY])
    assert client.get(url("scheme", scheme_pk=scheme.pk)).status_code == 200  # published rules are readable
    assert client.post(url("scheme_copy", scheme_pk=scheme.pk), {"year": "2027"}).status_code == 403
    assert client.post(url("scheme_publish", scheme_pk=scheme.pk)).status_code == 403
    assert Scheme.objects.count() == 1


# ---- plans and periods --------------------------------------------------------------------------

def test_create_the_plan_checks_the_weights(english, users, tree, admin_user):
    scheme = schemes.publish_scheme(admin_user, draft(tree, admin_user))
    english.force_login(users[Role.DEPARTMENT_STAFF])
    r = english.post(url("plan_create", scheme_pk=scheme.pk), {"quarter_weight": "70", "annual_weight": "40",
                                                               "panel_rule": "mean", "year_rule": "weighted"})
    assert r.status_code == 200 and "must add up to 100" in body(r)
    assert not Plan.objects.exists()
    r = english.post(url("plan_create", scheme_pk=scheme.pk), {"quarter_weight": "60", "annual_weight": "40",
                                                               "panel_rule": "lead", "year_rule": "weighted"})
    plan = Plan.objects.get()
    assert r.status_code == 302 and plan.periods.count() == 19 and plan.quarter_weight == Decimal("60")
    r = english.get(url("plan", plan_pk=plan.pk))
    assert [k for k, _l, _p in r.context["groups"]] == ["month", "quarter", "half", "year"]
    assert len(r.context["groups"][0][2]) == 12
    # a draft cannot be planned
    d = draft(tree, admin_user)
    r = english.post(url("plan_create", scheme_pk=d.pk), {"quarter_weight": "70", "annual_weight": "30",
                                                          "panel_rule": "mean"})
    assert "Publish the scheme before planning" in body(r) and not Plan.objects.filter(scheme=d).exists()


def test_move_forward_and_reopen_with_a_reason(english, users, setup):
    period = setup.period("2026Q1")
    english.force_login(users[Role.DEPARTMENT_STAFF])
    r = english.post(url("period_move", period_pk=period.pk), {"to": "scoring", "back": "plan"})
    assert r.status_code == 302 and r["Location"] == url("plan", plan_pk=setup.plan.pk)
    period.refresh_from_db()
    assert period.status == PeriodStatus.SCORING
    r = english.post(url("period_move", period_pk=period.pk), {"to": "open", "reason": " "}, follow=True)
    assert "Give the reason for reopening the period." in body(r)
    r = english.post(url("period_move", period_pk=period.pk), {"to": "published"}, follow=True)
    assert "one step at a time" in body(r)
    period.refresh_from_db()
    assert period.status == PeriodStatus.SCORING and PeriodStep.objects.filter(period=period).count() == 1
    r = english.post(url("period_move", period_pk=period.pk), {"to": "open", "reason": "支部反映自查未完成"},
                     follow=True)
    period.refresh_from_db()
    assert period.status == PeriodStatus.OPEN
    assert "支部反映自查未完成" in body(r) and [s.reason for s in r.context["steps"]] == ["", "支部反映自查未完成"]


def test_period_actions_refuse_those_without_the_role_and_hide_the_outside(client, users, setup, tree, admin_user):
    period = setup.period("2026Q1")
    other = make_setup(tree, admin_user, {**SMALL, "name": "另一细则"})  # a second plan, same committee
    assert other.plan.pk != setup.plan.pk
    outside_scheme = schemes.publish_scheme(admin_user, schemes.load_scheme(admin_user, tree.sub2, YEAR, SMALL))
    outside = services.create_plan(admin_user, outside_scheme)
    client.force_login(users[Role.BRANCH_SECRETARY])
    assert client.get(url("period", period_pk=period.pk)).status_code == 200  # B01 takes part
    assert client.post(url("period_move", period_pk=period.pk), {"to": "scoring"}).status_code == 403
    assert client.post(url("period_analysis", period_pk=period.pk), {"analysis": "x"}).status_code == 403
    assert client.get(url("period_panel", period_pk=period.pk)).status_code == 403
    client.force_login(users[Role.DEPARTMENT_STAFF])
    out_period = outside.periods.get(key="2026Q1")
    for name in ("period", "period_panel"):
        assert client.get(url(name, period_pk=out_period.pk)).status_code == 404
    assert client.post(url("period_move", period_pk=out_period.pk), {"to": "scoring"}).status_code == 404
    assert client.get(url("plan", plan_pk=outside.pk)).status_code == 404
    out_period.refresh_from_db()
    assert out_period.status == PeriodStatus.OPEN


def test_set_the_panel_and_its_lead(english, users, setup, tree, admin_user):
    period = setup.period("2026Q1")
    staff, secretary = users[Role.DEPARTMENT_STAFF], users[Role.COMMITTEE_SECRETARY]
    english.force_login(staff)
    r = english.get(url("period_panel", period_pk=period.pk))
    names = [label for _v, label in r.context["form"].fields["members"].choices]
    assert "u_department_staff" in names and "u_committee_secretary" in names
    assert "u_branch_secretary" not in names and "u_internal_auditor" not in names
    r = english.post(url("period_panel", period_pk=period.pk), {"members": [str(staff.pk)], "lead": str(secretary.pk)})
    assert r.status_code == 200 and "must sit on the panel" in body(r)
    assert not PanelMember.objects.exists()
    r = english.post(url("period_panel", period_pk=period.pk),
                     {"members": [str(staff.pk), str(secretary.pk)], "lead": str(secretary.pk)})
    assert r.status_code == 302
    assert set(PanelMember.objects.values_list("user__username", "is_lead")) == {
        ("u_department_staff", False), ("u_committee_secretary", True)}


def test_half_year_analysis_is_written_on_its_period(client, users, setup):
    half = setup.period("2026H1")
    client.force_login(users[Role.DEPARTMENT_STAFF])
    r = client.get(url("period", period_pk=half.pk))
    # the committee's analysis, and beside it the branches' own (22.7): the units are listed, none assessed
    assert r.status_code == 200 and r.context["scored"] and not r.context["assessed"]
    r = client.post(url("period_analysis", period_pk=half.pk), {"analysis": "上半年总体平稳，二季度有所提升。"})
    assert r.status_code == 302
    half.refresh_from_db()
    assert half.analysis == "上半年总体平稳，二季度有所提升。"


def test_period_page_lists_units_with_their_sheets_and_filters(client, users, setup, tree, admin_user):
    period = setup.period("2026Q1")
    secretary, staff = users[Role.BRANCH_SECRETARY], users[Role.DEPARTMENT_STAFF]
    services.open_sheet(secretary, period, tree.b01, SheetKind.SELF)
    services.move_period(admin_user, period, PeriodStatus.SCORING)
    services.open_sheet(staff, period, tree.b02, SheetKind.ASSESSOR)
    client.force_login(staff)
    r = client.get(url("period", period_pk=period.pk))
    rows = {row.unit.code: row for row in r.context["rows"]}
    assert set(rows) == {"B01", "B02"}
    assert rows["B01"].own is not None and rows["B01"].assessor == [] and rows["B01"].may_assess
    assert rows["B02"].mine is not None and rows["B02"].own is None
    r = client.get(url("period", period_pk=period.pk) + "?status=self_none", HTTP_HX_TARGET="period-rows", **HX)
    assert [row.unit.code for row in r.context["rows"]] == ["B02"]
    assert "<html" not in body(r)
    r = client.get(url("period", period_pk=period.pk) + "?status=assessor_draft")
    assert [row.unit.code for row in r.context["rows"]] == ["B02"]
    # a branch secretary sees only their branch
    client.force_login(secretary)
    r = client.get(url("period", period_pk=period.pk))
    assert [row.unit.code for row in r.context["rows"]] == ["B01"]


@pytest.mark.parametrize("extra", [0, 40])
def test_period_page_queries_are_bounded(client, users, setup, tree, admin_user, django_assert_max_num_queries,
                                         extra):
    period = setup.period("2026Q1")
    staff = users[Role.DEPARTMENT_STAFF]
    services.move_period(admin_user, period, PeriodStatus.SCORING)
    for n in range(extra):
        unit = orgs.create_unit(None, code=f"X{n:02d}", name=f"新支部{n}", kind=UnitKind.BRANCH, parent=tree.sub1)
        services.open_sheet(staff, period, unit, SheetKind.ASSESSOR)
    for role in (Role.DEPARTMENT_STAFF, Role.COMMITTEE_SECRETARY, Role.BRANCH_SECRETARY):
        client.force_login(users[role])
        for q in ("", "?status=assessor_draft", "?status=self_none&page=2"):
            with django_assert_max_num_queries(18):
                r = client.get(url("period", period_pk=period.pk) + q)
            assert r.status_code == 200
    client.force_login(staff)
    r = client.get(url("period", period_pk=period.pk))
    assert len(r.context["rows"]) == min(50, 2 + extra)
    with django_assert_max_num_queries(18):
        assert client.get(url("plan", plan_pk=setup.plan.pk)).status_code == 200


def test_a_scheme_page_in_chinese_by_default(client, users, setup):
    client.force_login(users[Role.DEPARTMENT_STAFF])
    r = client.get(url("scheme", scheme_pk=setup.scheme.pk))
    assert r.status_code == 200 and setup.scheme.name in body(r)
    assert Period.objects.filter(plan=setup.plan).count() == 19
