"""Issue 22.4: 五不放过 begins "考核评价没有对照责任目标不放过" — a scheme item names the letter
targets it measures; a deduction on it shows the branch's target; the scorecard shows the unit's
letter targets beside its scores (with a note on per-assessor vs averaged deductions and an
overdue flag on open findings: issue 20, lesser points)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation

from pbqms.accounts.models import Role
from pbqms.assessment import schemes, services, targets
from pbqms.assessment.models import SchemeItem
from pbqms.assessment.tests import walk_results as W
from pbqms.objectives import services as objectives


def url(name, **kw):
    return reverse(f"assessment:{name}", kwargs=kw)


@pytest.fixture
def letter(tree):
    """SUB1's 2025 objective "三会一课按期落实", decomposed onto B01 and B02 (their letters' rows)."""
    objective = objectives.create_objective(
        None, tree.sub1, year=W.YEAR, title="三会一课按期落实", indicator="按期召开率", value_kind="percent",
        target_value="100", measure_unit="%", deadline=dt.date(W.YEAR, 12, 31), responsible="组织委员")
    b01 = objectives.create_target(None, objective=objective, unit=tree.b01, task="按月召开支委会、按季上党课",
                                   person="张三", indicator="按期召开率", value_kind="percent", target_value="98",
                                   measure_unit="%", deadline=dt.date(W.YEAR, 12, 15))
    other = objectives.create_objective(
        None, tree.sub2, year=W.YEAR, title="二矿目标", indicator="x", value_kind="number", target_value="1",
        deadline=dt.date(W.YEAR, 12, 31), responsible="y")
    return {"objective": objective, "b01": b01, "outside": other}


def test_an_item_names_the_letter_targets_it_measures(tree, users, letter):
    staff = users[Role.DEPARTMENT_STAFF]
    plan, items = W.make_plan(staff, tree.sub1)
    item = items["DJ01"]
    assert [o.pk for o in targets.objective_choices(staff, plan.scheme)] == [letter["objective"].pk]
    assert targets.set_item_objectives(staff, item, [letter["objective"].pk]) == [letter["objective"].pk]
    assert list(SchemeItem.objects.get(pk=item.pk).objectives.all()) == [letter["objective"]]
    with pytest.raises(PermissionDenied):
        targets.set_item_objectives(users[Role.BRANCH_SECRETARY], item, [])


@pytest.mark.parametrize("lang, words", [("zh-hans", "只能对照"), ("en", "measures only objectives of")])
def test_an_objective_of_another_committee_is_refused_and_nothing_changes(tree, users, letter, lang, words):
    staff = users[Role.DEPARTMENT_STAFF]
    _plan, items = W.make_plan(staff, tree.sub1)
    targets.set_item_objectives(staff, items["DJ01"], [letter["objective"].pk])
    with translation.override(lang), pytest.raises(ValidationError) as e:
        targets.set_item_objectives(staff, items["DJ01"], [letter["outside"].pk])
    assert words in " ".join(e.value.messages)
    assert list(items["DJ01"].objectives.values_list("pk", flat=True)) == [letter["objective"].pk]


def test_the_item_form_offers_the_committees_objectives(client, tree, users, letter):
    staff = users[Role.DEPARTMENT_STAFF]
    scheme = schemes.load_scheme(staff, tree.sub1, W.YEAR, W.SMALL)
    item = scheme.items.get(code="DJ01")
    client.force_login(staff)
    page = client.get(url("item_edit", scheme_pk=scheme.pk, item_pk=item.pk)).content.decode()
    assert "三会一课按期落实" in page and "二矿目标" not in page
    data = {"category": item.category_id, "code": "DJ01", "title": item.title, "standard": item.standard,
            "kind": "work", "method": "deduct", "max_points": "40", "deduct_per": "2",
            "objectives": [str(letter["objective"].pk)]}
    r = client.post(url("item_edit", scheme_pk=scheme.pk, item_pk=item.pk), data)
    assert r.status_code == 302
    assert list(item.objectives.values_list("pk", flat=True)) == [letter["objective"].pk]


def test_deductions_and_scorecard_show_the_branchs_letter_target(client, tree, users, letter,
                                                                  django_assert_max_num_queries):
    staff = users[Role.DEPARTMENT_STAFF]
    plan, items = W.make_plan(staff, tree.sub1)
    targets.set_item_objectives(staff, items["DJ01"], [letter["objective"].pk])
    period = W.run_period(staff, plan, items, f"{W.YEAR}Q1", {tree.b01: {"DJ01": {"occurrences": 2}},
                                                               tree.b02: {}})
    client.force_login(users[Role.BRANCH_SECRETARY])
    with django_assert_max_num_queries(30):
        page = client.get(url("scorecard", period_pk=period.pk, code="B01")).content.decode()
    assert 'id="letter"' in page
    letter_part = page[page.index('id="letter"'):page.index('id="deductions"')]
    assert "三会一课按期落实" in letter_part and "98%" in letter_part and "DJ01" in letter_part
    assert "36" in letter_part  # B01's points on the item measuring the target
    deductions = page[page.index('id="deductions"'):]
    assert "责任书目标" in deductions and "按期召开率 98%" in deductions
    assert "取平均" in page  # which deductions are averaged, which are each assessor's


def test_the_sheet_shows_the_target_beside_the_item(client, tree, users, letter):
    staff = users[Role.DEPARTMENT_STAFF]
    plan, items = W.make_plan(staff, tree.sub1)
    targets.set_item_objectives(staff, items["DJ01"], [letter["objective"].pk])
    period = plan.periods.get(key=f"{W.YEAR}Q1")
    sheet = services.open_sheet(users[Role.BRANCH_SECRETARY], period, tree.b01, "self")
    client.force_login(users[Role.BRANCH_SECRETARY])
    page = client.get(url("sheet", sheet_pk=sheet.pk)).content.decode()
    row = page[page.index(f'id="row-{items["DJ01"].pk}"'):page.index(f'id="row-{items["DJ02"].pk}"')]
    assert "责任书目标" in row and "三会一课按期落实" in row


def test_an_overdue_open_finding_is_flagged_on_the_scorecard(client, tree, users):
    from pbqms.rectification.models import Finding
    from pbqms.rectification.services import FindingInput, raise_finding

    staff = users[Role.DEPARTMENT_STAFF]
    plan, items = W.make_plan(staff, tree.sub1)
    period = W.run_period(staff, plan, items, f"{W.YEAR}Q1", {tree.b01: {}, tree.b02: {}})
    found = dt.date(2025, 1, 5)
    late, _new = raise_finding(FindingInput(unit=tree.b01, description="整改逾期的问题甲", found_on=found),
                               source_key="test:late")
    soon, _new = raise_finding(FindingInput(unit=tree.b01, description="未到期的问题乙", found_on=found),
                               source_key="test:soon")
    Finding.objects.filter(pk=late.pk).update(deadline=dt.date(2025, 2, 1))
    Finding.objects.filter(pk=soon.pk).update(deadline=dt.date(2099, 2, 1))
    client.force_login(users[Role.COMMITTEE_SECRETARY])
    page = client.get(url("scorecard", period_pk=period.pk, code="B01")).content.decode()
    late_row = page[page.index("整改逾期的问题甲"):page.index("整改逾期的问题甲") + 400]
    soon_row = page[page.index("未到期的问题乙"):page.index("未到期的问题乙") + 300]
    assert "逾期" in late_row.replace("整改逾期的问题甲", "") and "逾期" not in soon_row.split("</li>")[0]
