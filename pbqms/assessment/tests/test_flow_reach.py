"""Issue 20.6: results within reach from the assessment home, every unit of the plan shown (the
ones without a result as "not assessed" with the reason), units picked from a list for
benchmarking, and a warning before publishing a period in which units of the plan have no result."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from pbqms.accounts import services as accounts
from pbqms.accounts.models import Role
from pbqms.assessment import bulletin, coverage, services
from pbqms.assessment.models import Period, PeriodStatus, Result
from pbqms.assessment.tests import walk_results as W


def url(name, **kw):
    return reverse(f"assessment:{name}", kwargs=kw)


@pytest.fixture
def staff(users):
    return users[Role.DEPARTMENT_STAFF]


@pytest.fixture
def only_b01(tree, staff):
    """A published 2025Q1 in which only B01 was scored: B02 has no result."""
    plan, items = W.make_plan(staff, tree.sub1)
    period = W.run_period(staff, plan, items, f"{W.YEAR}Q1", {tree.b01: {}})
    return plan, items, period


def _to_review(staff, plan, key):
    period = Period.objects.get(plan=plan, key=key)
    services.move_period(staff, period, PeriodStatus.SCORING)
    period.refresh_from_db()
    return period


def test_ranking_lists_units_without_a_result_with_the_reason(client, only_b01, users,
                                                              django_assert_max_num_queries):
    _plan, _items, period = only_b01
    assert list(Result.objects.filter(period=period).values_list("unit__code", flat=True)) == ["B01"]
    client.force_login(users[Role.COMMITTEE_SECRETARY])
    with django_assert_max_num_queries(18):
        page = client.get(url("ranking", period_pk=period.pk)).content.decode()
    assert 'id="unassessed"' in page
    section = page[page.index('id="unassessed"'):]
    assert "第二党支部" in section and "未参加考核" in section
    assert "没有考核人员为该单位评分" in section


def test_reason_names_a_panel_whose_members_all_belong_to_the_unit(client, tree, staff, users):
    """The demo's Q3: both panel members belong to B11, so nobody could score it."""
    insider = accounts.create_user(None, username="panel_b02", password="x", validate=False)
    accounts.grant_role(None, insider, Role.DEPARTMENT_STAFF, tree.sub1)
    accounts.grant_role(None, insider, Role.BRANCH_COMMITTEE, tree.b02)
    plan, items = W.make_plan(staff, tree.sub1)
    period = _to_review(staff, plan, f"{W.YEAR}Q1")
    services.set_panel(staff, period, [insider])
    W.score(insider, period, tree.b01, items, {})
    services.move_period(staff, period, PeriodStatus.REVIEW)
    missing = coverage.unassessed(staff, period)
    assert [(m.unit.code, m.reason) for m in missing.rows] == [
        ("B02", "考核评价小组成员均属于该单位，而任何人不得为本单位评分")]


def test_publishing_without_every_unit_asks_for_confirmation(client, tree, staff):
    plan, items = W.make_plan(staff, tree.sub1)
    period = _to_review(staff, plan, f"{W.YEAR}Q1")
    W.score(staff, period, tree.b01, items, {})
    services.move_period(staff, period, PeriodStatus.REVIEW)
    client.force_login(staff)
    r = client.post(url("period_move", period_pk=period.pk), {"to": "published", "reason": ""})
    page = r.content.decode()
    assert r.status_code == 200 and "第二党支部" in page and "没有考核人员为该单位评分" in page
    assert 'name="confirm_unassessed"' in page
    period.refresh_from_db()
    assert period.status == PeriodStatus.REVIEW and not Result.objects.filter(period=period).exists()
    r = client.post(url("period_move", period_pk=period.pk),
                    {"to": "published", "reason": "", "confirm_unassessed": "1"})
    assert r.status_code == 302
    period.refresh_from_db()
    assert period.status == PeriodStatus.PUBLISHED


@pytest.mark.parametrize("lang, words", [("zh-hans", "个单位将没有考核结果"), ("en", "would have no result")])
def test_service_refuses_an_unconfirmed_publication_and_changes_nothing(tree, staff, lang, words):
    plan, items = W.make_plan(staff, tree.sub1)
    period = _to_review(staff, plan, f"{W.YEAR}Q1")
    W.score(staff, period, tree.b01, items, {})
    services.move_period(staff, period, PeriodStatus.REVIEW)
    steps = period.steps.count()
    with translation.override(lang), pytest.raises(ValidationError) as e:
        services.move_period(staff, period, PeriodStatus.PUBLISHED, confirm_unassessed=False)
    assert words in " ".join(e.value.messages) and "B02" not in " ".join(e.value.messages)
    assert "第二党支部" in " ".join(e.value.messages)
    period.refresh_from_db()
    assert period.status == PeriodStatus.REVIEW and period.steps.count() == steps


def test_publishing_with_every_unit_scored_needs_no_confirmation(client, tree, staff):
    plan, items = W.make_plan(staff, tree.sub1)
    period = _to_review(staff, plan, f"{W.YEAR}Q1")
    for unit in (tree.b01, tree.b02):
        W.score(staff, period, unit, items, {})
    services.move_period(staff, period, PeriodStatus.REVIEW)
    client.force_login(staff)
    r = client.post(url("period_move", period_pk=period.pk), {"to": "published", "reason": ""})
    assert r.status_code == 302
    period.refresh_from_db()
    assert period.status == PeriodStatus.PUBLISHED


def test_bulletin_names_the_units_not_assessed(only_b01, users):
    _plan, _items, period = only_b01
    with translation.override("zh-hans"):
        b = bulletin.bulletin_data(users[Role.COMMITTEE_SECRETARY], Period.objects.get(pk=period.pk))
    assert "1个党组织" in b.paragraphs["unassessed"] and "第二党支部" in b.paragraphs["unassessed"]
    assert "第二党支部" in bulletin.bulletin_html(b)


def test_assessment_home_links_to_ranking_dashboard_bulletin_and_stars(client, only_b01, users,
                                                                       django_assert_max_num_queries):
    plan, _items, period = only_b01
    client.force_login(users[Role.COMMITTEE_SECRETARY])
    with django_assert_max_num_queries(30):
        page = client.get(url("home")).content.decode()
    for link in (url("ranking", period_pk=period.pk), url("dashboard", period_pk=period.pk),
                 url("bulletin", period_pk=period.pk), url("stars", plan_pk=plan.pk), url("results_home")):
        assert link in page
    client.force_login(users[Role.BRANCH_SECRETARY])  # a branch reads its results, not the bulletin
    page = client.get(url("home")).content.decode()
    assert url("ranking", period_pk=period.pk) in page and url("bulletin", period_pk=period.pk) not in page


def test_benchmarking_picks_units_from_a_list(client, tree, staff, users):
    plan, items = W.make_plan(staff, tree.sub1)
    period = W.run_period(staff, plan, items, f"{W.YEAR}Q1", {tree.b01: {}, tree.b02: {"XC01": {"yes": False}}})
    client.force_login(users[Role.COMMITTEE_SECRETARY])
    page = client.get(url("dashboard", period_pk=period.pk), {"models": ["B02"], "unit": "B01"}).content.decode()
    assert '<select name="models" multiple' in page
    assert 'codes separated by commas' not in page and "以逗号分隔" not in page
    assert '<option value="B02" selected>' in page
