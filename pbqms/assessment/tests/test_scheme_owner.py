"""A shipped scheme takes the owner's name (#22.11): loading seed 001's scheme for a mine gives the
mine's name, never the power plant's, through every path that loads it."""

from __future__ import annotations

import json

import pytest

from pbqms.assessment import schemes
from pbqms.assessment.fixtures import SCHEMES

pytestmark = pytest.mark.django_db


def test_the_owner_fills_the_shipped_scheme(tree, admin_user):
    scheme = schemes.load_scheme(admin_user, tree.sub1, 2026, SCHEMES["dongli"])
    assert scheme.name == f"{tree.sub1.name}党支部“党建目标质量管理体系”建设考核评价细则"
    text = scheme.description + " ".join(i.standard + i.title for i in scheme.items.all())
    assert "{owner}" not in text and "有色" not in text and "厂党委" not in text
    assert f"由{tree.sub1.name}统一制定" in text
    assert "{owner}" in json.dumps(SCHEMES["dongli"], ensure_ascii=False)  # the fixture itself is untouched


def test_the_demo_adapts_the_items_to_a_coal_mine(tree, admin_user):
    from pbqms.demo.adapt import POWER_PLANT_WORDS, coal_mine

    scheme = schemes.load_scheme(admin_user, tree.sub1, 2025, coal_mine(SCHEMES["dongli"]))
    items = {i.code: i for i in scheme.items.all()}
    text = scheme.description + " ".join(i.standard + i.title for i in items.values())
    assert not [w for w in POWER_PLANT_WORDS if w in text]
    assert "原煤产量" in items["GZ01"].standard and "矿务公开、区务公开" in items["GZ11"].standard
    assert schemes.publish_errors(scheme) == []
