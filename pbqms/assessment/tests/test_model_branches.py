"""Issue 22.9: the committee names model branches (标杆支部) per plan; every branch of the plan
reads their scorecards (scores, not people) and benchmarks against them — a narrow read grant in
pbqms.scope, not a wider scope."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation

from pbqms.accounts.models import Role
from pbqms.assessment import model_branches
from pbqms.assessment.models import ModelBranch
from pbqms.assessment.tests import walk_results as W


def url(name, **kw):
    return reverse(f"assessment:{name}", kwargs=kw)


@pytest.fixture
def run(tree, users):
    staff = users[Role.DEPARTMENT_STAFF]
    plan, items = W.make_plan(staff, tree.sub1)
    period = W.run_period(staff, plan, items, f"{W.YEAR}Q1", {
        tree.b01: {"DJ01": {"occurrences": 2}}, tree.b02: {"XC01": {"yes": False}}})
    return plan, period


def test_a_branch_reads_a_model_branchs_scorecard_but_not_its_people(client, tree, users, run):
    plan, period = run
    client.force_login(users[Role.BRANCH_SECRETARY])  # B01's secretary
    assert client.get(url("scorecard", period_pk=period.pk, code="B02")).status_code == 404
    model_branches.designate(users[Role.DEPARTMENT_STAFF], plan, tree.b02, "宣传工作示范")
    r = client.get(url("scorecard", period_pk=period.pk, code="B02"))
    page = r.content.decode()
    assert r.status_code == 200 and "第二党支部" in page and "XC01" in page
    assert users[Role.DEPARTMENT_STAFF].username not in page  # the assessors (people) are not shown
    assert 'id="letter"' not in page and 'name="score"' not in page
    client.force_login(users[Role.MEMBER])  # a member of B01 takes part in the plan too
    assert client.get(url("scorecard", period_pk=period.pk, code="B02")).status_code == 200


def test_the_dashboard_compares_with_the_model_branches_by_default(client, tree, users, run):
    plan, period = run
    model_branches.designate(users[Role.DEPARTMENT_STAFF], plan, tree.b02, "宣传工作示范")
    client.force_login(users[Role.BRANCH_SECRETARY])
    page = client.get(url("dashboard", period_pk=period.pk)).content.decode()
    assert "本考核期在您的单位中未找到" not in page and "Not found among your units" not in page
    assert '<option value="B02" selected>' in page
    assert "第二党支部" in page[page.index("ar-bench"):]  # on the radar beside B01


@pytest.mark.parametrize("lang, words", [("zh-hans", "不是本计划考核的支部"),
                                         ("en", "is not a branch assessed by this plan")])
def test_only_a_branch_of_the_plan_can_be_a_model(tree, users, run, lang, words):
    plan, _period = run
    with translation.override(lang), pytest.raises(ValidationError) as e:
        model_branches.designate(users[Role.DEPARTMENT_STAFF], plan, tree.b03, "越界")
    assert words in " ".join(e.value.messages)
    with translation.override(lang), pytest.raises(ValidationError):
        model_branches.designate(users[Role.DEPARTMENT_STAFF], plan, tree.b02, "  ")
    assert not ModelBranch.objects.exists()
    with pytest.raises(PermissionDenied):
        model_branches.designate(users[Role.BRANCH_SECRETARY], plan, tree.b02, "自荐")


def test_the_plan_page_names_and_withdraws_model_branches(client, tree, users, run):
    plan, _period = run
    client.force_login(users[Role.BRANCH_SECRETARY])
    assert client.post(url("model_branches", plan_pk=plan.pk), {"unit": "B02", "reason": "x"}).status_code == 403
    client.force_login(users[Role.DEPARTMENT_STAFF])
    page = client.get(url("plan", plan_pk=plan.pk)).content.decode()
    assert 'name="reason"' in page and '<option value="B02">' in page
    r = client.post(url("model_branches", plan_pk=plan.pk), {"unit": "B02", "reason": "宣传工作示范"})
    assert r.status_code == 302 and list(ModelBranch.objects.values_list("unit__code", "reason")) == [
        ("B02", "宣传工作示范")]
    assert "宣传工作示范" in client.get(url("plan", plan_pk=plan.pk)).content.decode()
    r = client.post(url("model_branches", plan_pk=plan.pk), {"unit": "B03", "reason": "越界"}, follow=True)
    assert "请选择本计划的支部" in r.content.decode() and ModelBranch.objects.count() == 1
    client.post(url("model_branches", plan_pk=plan.pk), {"withdraw": "B02"})
    assert not ModelBranch.objects.exists()
