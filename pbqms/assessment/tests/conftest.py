"""Fixtures of the assessment tests: a small published scheme on SUB1 (B01, B02 are assessed)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from pbqms.assessment import schemes, services
from pbqms.assessment.models import Period, Plan, Scheme, SchemeItem

YEAR = 2026

SMALL = {
    "name": "测试考核细则",
    "target_kind": "branch",
    "full_mark": "100",
    "bonus_cap": "3",
    "penalty_cap": "5",
    "categories": [
        {"code": "DJ", "name": "党建工作", "items": [
            {"code": "DJ01", "title": "三会一课", "standard": "缺1次扣2分，扣完为止", "max_points": "40",
             "method": "deduct", "deduct_per": "2", "kind": "work", "evidence_required": True},
            {"code": "DJ02", "title": "支部班子建设", "standard": "按好、较好、一般、差计分", "max_points": "20",
             "method": "graded", "levels": [["好", "20"], ["较好", "15"], ["一般", "10"], ["差", "0"]]},
            {"code": "DJ03", "title": "组织生活合规率", "standard": "合规率≥95%满分，≤60%不得分",
             "max_points": "10", "method": "ratio", "ratio_floor": "60", "ratio_full": "95",
             "metric": "activities.compliance_rate"},
        ]},
        {"code": "XC", "name": "宣传工作", "items": [
            {"code": "XC01", "title": "宣传报道", "standard": "每季度报道不少于2篇", "max_points": "20",
             "method": "yesno"},
            {"code": "XC02", "title": "民主评议党员", "standard": "每年开展1次", "max_points": "10",
             "method": "yesno", "annual_only": True},
        ]},
        {"code": "FJ", "name": "否决事项", "items": [
            {"code": "FJ01", "title": "重大安全事故", "standard": "发生重大安全事故", "max_points": "0",
             "method": "yesno", "kind": "veto", "veto_effect": "zero"},
            {"code": "FJ02", "title": "违纪案件", "standard": "发生违纪违法案件", "max_points": "0",
             "method": "yesno", "kind": "veto", "veto_effect": "block_stars"},
        ]},
        {"code": "JK", "name": "加分与扣分", "items": [
            {"code": "JK01", "title": "上级表彰", "standard": "每项加2分", "max_points": "4", "method": "deduct",
             "deduct_per": "2", "kind": "bonus"},
            {"code": "JK02", "title": "通报批评", "standard": "每次扣3分", "max_points": "9", "method": "deduct",
             "deduct_per": "3", "kind": "penalty"},
        ]},
    ],
    "stars": [
        {"stars": 5, "min_total": "95", "quota_pct": "50", "no_veto": True},
        {"stars": 3, "min_total": "80", "no_veto": True},
        {"stars": 1, "min_total": "60"},
    ],
}


@dataclass
class Setup:
    scheme: Scheme
    plan: Plan
    items: dict[str, SchemeItem]

    def period(self, key: str) -> Period:
        return Period.objects.get(plan=self.plan, key=key)


def make_setup(tree, admin, data=SMALL, panel_rule: str = "mean") -> Setup:
    scheme = schemes.load_scheme(admin, tree.sub1, YEAR, data)
    scheme = schemes.publish_scheme(admin, scheme)
    plan = services.create_plan(admin, scheme, panel_rule=panel_rule)
    return Setup(scheme, plan, schemes.items_by_code(scheme))


@pytest.fixture
def setup(tree, admin_user) -> Setup:
    return make_setup(tree, admin_user)
