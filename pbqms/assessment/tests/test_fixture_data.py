"""The shipped schemes (pbqms.assessment.fixtures) keep their shape — plain data checks, no database."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pbqms.assessment.fixtures import SCHEMES
from pbqms.assessment.fixtures.dongli import SCHEME as DONGLI
from pbqms.assessment.fixtures.liukao import SCHEME as LIUKAO

KINDS = {"work", "interactive", "veto", "bonus", "penalty"}
METHODS = {"deduct", "graded", "ratio", "yesno"}
VETO_EFFECTS = {"zero", "block_stars"}  # a veto is no penalty (issue 22.5)
SCORED = {"work", "interactive"}
METRICS = {"activities.compliance_rate", "activities.attendance_rate"}
ITEM_KEYS = {"code", "title", "standard", "max_points", "kind", "method", "deduct_per", "levels", "ratio_floor",
             "ratio_full", "evidence_required", "annual_only", "metric", "veto_effect", "veto_deduction",
             "veto_star_cap"}
REQUIRED = {"code", "title", "standard", "max_points", "kind", "method"}
SCHEME_KEYS = {"name", "target_kind", "full_mark", "bonus_cap", "penalty_cap", "description", "categories", "stars"}
# 减负: work is judged by its evidence and outcomes, never by app usage.
FORBIDDEN = ("登录", "登陆", "点击", "学习时长", "在线时长", "点赞", "转发", "打卡")


def items(scheme, kinds=None):
    return [i for c in scheme["categories"] for i in c["items"] if kinds is None or i["kind"] in kinds]


def points(its):
    return sum((Decimal(i["max_points"]) for i in its), Decimal(0))


def texts(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from texts(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from texts(v)


def exact(value: str) -> Decimal:
    assert isinstance(value, str), f"{value!r} must be a string"
    out = Decimal(value)
    assert out.is_finite() and out >= 0 and out == out.quantize(Decimal("0.01")), value
    return out


ALL = pytest.mark.parametrize("name", ["dongli", "liukao"])  # the branch schemes; member_points below


def test_registry():
    from pbqms.assessment.fixtures import MEMBER_POINTS

    assert SCHEMES == {"liukao": LIUKAO, "dongli": DONGLI, "member_points": MEMBER_POINTS}


# ---- 钱营孜 “六考一评” ----------------------------------------------------------------------------

def test_liukao_six_categories_then_veto_and_bonus():
    names = [c["name"] for c in LIUKAO["categories"]]
    six = ["党建", "宣传", "党风廉政", "工会", "共青团", "社会治安及武装保卫"]
    for wanted, got in zip(six, names[:6], strict=True):
        assert wanted in got
    assert len(names) == 8
    veto, extra = LIUKAO["categories"][6:]
    assert "否决" in veto["name"] and {i["kind"] for i in veto["items"]} == {"veto"}
    assert "加分" in extra["name"] and "扣分" in extra["name"]
    assert sorted(i["kind"] for i in extra["items"]) == ["bonus", "bonus", "penalty", "penalty"]


def test_liukao_67_work_items_worth_100():
    six = [i for c in LIUKAO["categories"][:6] for i in c["items"]]
    assert len(six) == 67
    assert {i["kind"] for i in six} == {"work"}
    assert items(LIUKAO, SCORED) == six
    assert points(six) == Decimal("100") == Decimal(LIUKAO["full_mark"])


def test_liukao_weights_are_realistic():
    weights = {c["code"]: points(c["items"]) for c in LIUKAO["categories"][:6]}
    dj, xc, df, gh, gq, za = weights.values()
    assert Decimal(45) <= dj <= Decimal(50)
    assert dj == max(weights.values())
    for got, about in ((xc, 15), (df, 12), (gh, 10), (gq, 8), (za, 10)):
        assert abs(got - about) <= 2, weights


def test_liukao_metrics_annual_and_methods():
    work = items(LIUKAO, {"work"})
    metrics = {i.get("metric") for i in work}
    assert METRICS <= metrics
    assert all(i["method"] == "ratio" for i in work if i.get("metric"))
    assert any(i.get("annual_only") for i in work)
    assert {i["method"] for i in work} == METHODS


def test_liukao_vetoes():
    vetoes = {i["code"]: i for i in items(LIUKAO, {"veto"})}
    assert {c: v["veto_effect"] for c, v in vetoes.items()} == {"FJ01": "zero", "FJ02": "block_stars",
                                                                 "FJ03": "block_stars"}
    assert "安全" in vetoes["FJ01"]["title"] and "违纪" in vetoes["FJ02"]["title"] and "上访" in vetoes["FJ03"]["title"]
    # the fixed deduction of a mass incident is a penalty item (奖惩办法), not the veto's effect
    penalty = next(i for i in items(LIUKAO, {"penalty"}) if "上访" in i["title"])
    assert penalty["deduct_per"] == "10" and "扣10分" in penalty["standard"]


def test_liukao_stars():
    stars = {s["stars"]: s for s in LIUKAO["stars"]}
    assert [(n, stars[n]["min_total"], stars[n].get("quota_pct")) for n in (5, 4, 3, 2, 1)] == [
        (5, "95", "10"), (4, "90", "40"), (3, "80", "30"), (2, "70", None), (1, "60", None)]
    assert all(stars[n].get("no_veto") for n in (5, 4, 3))
    assert not any(stars[n].get("no_veto") for n in (2, 1))
    assert stars[5]["min_category_pct"] == "85"


# ---- 动力厂 考核评价制度 ---------------------------------------------------------------------------

def test_dongli_structure():
    names = [c["name"] for c in DONGLI["categories"]]
    assert names == ["工作指标", "互动评价指标", "否决指标", "奖惩办法"]
    assert 22 <= len(items(DONGLI)) <= 26
    assert {i["kind"] for i in items(DONGLI)} == KINDS
    kinds_by_category = [{i["kind"] for i in c["items"]} for c in DONGLI["categories"]]
    assert kinds_by_category == [{"work"}, {"interactive"}, {"veto"}, {"bonus", "penalty"}]
    assert points(items(DONGLI, SCORED)) == Decimal("100") == Decimal(DONGLI["full_mark"])


def test_dongli_vetoes_and_interactive():
    vetoes = items(DONGLI, {"veto"})
    assert [v["title"] for v in vetoes] == ["安全", "质量", "稳定", "精神文明建设"]
    assert {v["veto_effect"] for v in vetoes} == {"zero", "block_stars"}
    approval = next(i for i in items(DONGLI, {"interactive"}) if "认可率" in i["title"])
    assert (approval["method"], approval["ratio_floor"], approval["ratio_full"]) == ("ratio", "60", "95")
    assert any("二图三表四本" in i["title"] for i in items(DONGLI, {"work"}))


# ---- every scheme ---------------------------------------------------------------------------------

@ALL
def test_scheme_header(name):
    scheme = SCHEMES[name]
    assert set(scheme) <= SCHEME_KEYS
    assert scheme["name"].strip() and scheme["description"].strip()
    assert scheme["target_kind"] == "branch"
    for key in ("full_mark", "bonus_cap", "penalty_cap"):
        assert exact(scheme[key]) > 0
    assert exact(scheme["full_mark"]) == Decimal(100)
    assert points(items(scheme, {"bonus"})) >= exact(scheme["bonus_cap"])  # the cap can be reached


@ALL
def test_codes_unique(name):
    scheme = SCHEMES[name]
    cat_codes = [c["code"] for c in scheme["categories"]]
    assert len(cat_codes) == len(set(cat_codes))
    codes = [i["code"] for i in items(scheme)]
    assert len(codes) == len(set(codes))
    for category in scheme["categories"]:
        assert category["items"] and category["name"].strip()
        assert all(i["code"].startswith(category["code"]) for i in category["items"])


@ALL
def test_every_item_is_complete_for_its_method(name):
    for item in items(SCHEMES[name]):
        code = item["code"]
        assert REQUIRED <= set(item) and set(item) <= ITEM_KEYS, code
        assert item["kind"] in KINDS and item["method"] in METHODS, code
        assert item["title"].strip() and len(item["title"]) <= 200, code
        assert len(item["standard"]) >= 30 and item["standard"].endswith("。"), code
        top = exact(item["max_points"])
        method = item["method"]
        if method == "deduct":
            per = exact(item["deduct_per"])
            assert 0 < per <= top and (top / per) == (top / per).to_integral_value(), code
            verb = "加" if item["kind"] == "bonus" else "扣"
            assert f"{verb}{item['deduct_per']}分" in item["standard"], code
        else:
            assert "deduct_per" not in item, code
        if method == "graded":
            levels = item["levels"]
            assert len(levels) >= 3, code
            values = [exact(p) for _label, p in levels]
            assert values[0] == top and values == sorted(values, reverse=True), code
            assert len(set(values)) == len(values) and values[-1] >= 0, code
            assert all(label.strip() for label, _p in levels), code
            for label, p in levels:
                assert f"{label}（{p}分）" in item["standard"], code
        else:
            assert "levels" not in item, code
        if method == "ratio":
            floor, full = exact(item["ratio_floor"]), exact(item["ratio_full"])
            assert floor < full <= 100, code
            assert f"≥{item['ratio_full']}%" in item["standard"] and f"≤{item['ratio_floor']}%" in item["standard"]
        else:
            assert "ratio_floor" not in item and "ratio_full" not in item, code
        if "metric" in item:
            assert item["metric"] in METRICS and method == "ratio", code
        for flag in ("evidence_required", "annual_only"):
            assert isinstance(item.get(flag, False), bool), code


@ALL
def test_vetoes_and_extras(name):
    for item in items(SCHEMES[name]):
        code = item["code"]
        if item["kind"] == "veto":
            assert item["max_points"] == "0" and item["method"] == "yesno", code
            effect = item["veto_effect"]
            assert effect in VETO_EFFECTS, code
            if effect == "cap_stars":
                assert isinstance(item["veto_star_cap"], int) and 0 <= item["veto_star_cap"] < 5, code
            else:
                assert "veto_star_cap" not in item, code
            if effect == "deduct":
                assert exact(item["veto_deduction"]) > 0, code
                assert f"扣减{item['veto_deduction']}分" in item["standard"], code
            else:
                assert "veto_deduction" not in item, code
        else:
            assert exact(item["max_points"]) > 0, code
            assert not {"veto_effect", "veto_star_cap", "veto_deduction"} & set(item), code
        if item["kind"] in {"bonus", "penalty"}:
            assert item["method"] == "deduct" and not item.get("annual_only"), code


@ALL
def test_star_levels_descend(name):
    stars = SCHEMES[name]["stars"]
    counts = [s["stars"] for s in stars]
    assert counts == sorted(counts, reverse=True) == list(range(counts[0], counts[0] - len(counts), -1))
    assert all(1 <= n <= 5 for n in counts)
    totals = [exact(s["min_total"]) for s in stars]
    assert totals == sorted(totals, reverse=True) and len(set(totals)) == len(totals)
    assert all(t <= exact(SCHEMES[name]["full_mark"]) for t in totals)
    quotas = [exact(s["quota_pct"]) for s in stars if "quota_pct" in s]
    assert sum(quotas) <= 100
    for level in stars:
        assert set(level) <= {"stars", "min_total", "quota_pct", "no_veto", "min_category_pct"}
        if "min_category_pct" in level:
            assert 0 < exact(level["min_category_pct"]) <= 100


@ALL
def test_no_app_usage_is_scored(name):
    for text in texts(SCHEMES[name]):
        for word in FORBIDDEN:
            assert word not in text, f"{word} in {text[:40]}"


def test_member_points_scheme():
    """党员量化积分: members, 100 points, scored by evidence (never by app activity), one item fed by
    the year-end evaluation of the member's targets."""
    from pbqms.assessment.fixtures import MEMBER_POINTS

    assert MEMBER_POINTS["target_kind"] == "member" and MEMBER_POINTS["stars"] == []
    assert points(items(MEMBER_POINTS, {"work", "interactive"})) == Decimal(100)
    assert any(i.get("metric") == "objectives.member_target_score" for i in items(MEMBER_POINTS))
    for text in texts(MEMBER_POINTS):
        assert not any(word in text for word in ("登录", "点击", "学习时长", "点赞", "转发", "打卡"))
