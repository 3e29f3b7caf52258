"""Fixtures of the objectives tests: a year of objectives on SUB1 decomposed onto B01 and B02."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from pbqms.objectives import services
from pbqms.objectives.models import Objective, Target

YEAR = 2026


@dataclass
class Year:
    objective: Objective
    t01: Target  # B01's target
    t02: Target  # B02's target


def make_year(tree) -> Year:
    services.save_policy(None, tree.sub1, year=YEAR, text="围绕中心抓党建，抓好党建促发展",
                         effective_on=dt.date(YEAR, 1, 1), member_targets_due=dt.date(YEAR, 3, 31))
    objective = services.create_objective(
        None, tree.sub1, year=YEAR, title="党员教育培训全覆盖", indicator="党员参训率", value_kind="percent",
        target_value="100", deadline=dt.date(YEAR, 12, 31), responsible="党委副书记",
        check_method="查阅培训台账")
    t01 = services.create_target(None, objective=objective, unit=tree.b01, task="组织党员参加轮训", person="支部书记",
                                 indicator="参训率", value_kind="percent", target_value="100",
                                 quality="每人不少于32学时", deadline=dt.date(YEAR, 11, 30))
    t02 = services.create_target(None, objective=objective, unit=tree.b02, task="组织党员参加轮训", person="支部书记",
                                 indicator="参训率", value_kind="percent", target_value="98",
                                 deadline=dt.date(YEAR, 11, 30))
    return Year(objective, t01, t02)


@pytest.fixture
def year(tree) -> Year:
    return make_year(tree)
