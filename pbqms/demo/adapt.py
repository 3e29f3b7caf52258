"""The shipped schemes made to fit the demo mine — 因地制宜: seed 001's scheme was written for a power
plant (供电、供水、供汽, 水电费回收率, 厂务公开); the demo mine ran it last year with coal-mine items
(原煤产量、掘进进尺、吨煤成本, 矿务公开 and 区务公开). The owner's name comes from the loader
(`assessment.schemes.for_owner`); this module changes only the words of a few items."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

# Whole texts of the production items, keyed by item code.
COAL_ITEMS: dict[str, dict[str, str]] = {
    "GZ01": {
        "title": "安全生产经营任务完成",
        "standard": (
            "支部保证本区队安全生产和经营承包任务的完成。按本区队季度生产经营指标（原煤产量或掘进进尺、"
            "安全质量标准化达标、吨煤成本、材料消耗等）的综合完成率计分，数据以矿经营考核部门核定结果为准，"
            "不要求支部另行填报：综合完成率≥100%得满分，≤85%不得分，其间按比例计分。"
        ),
    },
    "GZ02": {
        "standard": (
            "支部组织党员在降本增效、节能降耗中发挥作用，吨煤电耗、坑木及支护材料消耗、配件费用等单项指标"
            "按矿下达的计划控制。每有1项成本或能耗指标超计划的，扣1分，扣完为止。"
        ),
    },
    "GZ03": {
        "standard": (
            "支部落实“一岗双责”和党员安全责任区制度，党员带头遵章守纪、排查隐患、反“三违”，保证矿井安全生产。"
            "本区队发生轻伤及以上人身事故、影响矿井生产的机电运输或顶板事故，或上级检查发现的重大隐患未按期"
            "整改的，每起扣1分，扣完为止；发生重大安全事故的按否决指标处理。"
        ),
    },
}
# Words of a power plant in the other items, and the mine's words for them.
COAL_WORDS = [
    ("厂务公开", "矿务公开、区务公开"),
    ("造成主体生产单位大面积停电停水的重大供应事故", "发生瓦斯、水害、顶板、火灾等重大事故"),
    ("因运行、检修或工程施工质量问题", "因采掘工程质量或煤质管理问题"),
]
# What a coal mine's scheme never speaks of.
POWER_PLANT_WORDS = ("供电", "供水", "供汽", "水电费", "厂务公开", "停电停水")


def coal_mine(data: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a shipped scheme with the power plant's production items rewritten for a coal mine."""
    out: dict[str, Any] = copy.deepcopy(dict(data))
    for category in out.get("categories") or []:
        for item in category.get("items") or []:
            item.update(COAL_ITEMS.get(item.get("code", ""), {}))
            for field in ("title", "standard"):
                for old, new in COAL_WORDS:
                    item[field] = str(item.get(field, "")).replace(old, new)
    for old, new in COAL_WORDS:
        out["description"] = str(out.get("description", "")).replace(old, new)
    return out
