"""Teaches the scope walks the objectives app: an objective, a target, member targets and a letter
inside (SUB1 / B01 / m01) and outside (SUB2 / B03 / m03) every role's scope."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pbqms.core.tests.walk_registry import Call, Case, Ctx

YEAR = 2026
OUTSIDE_WORDS = ["外部质量目标甲", "外部分解任务乙", "外部个人目标丙"]
WEB_PARAMS = {"objective_pk", "target_pk", "mt_pk", "letter_pk"}


def setup(tree: Any, users: dict[str, Any]) -> dict[str, Any]:
    from pbqms.objectives import letters, member_services, services
    from pbqms.objectives.models import MemberTarget, ReviewState

    day = dt.date(YEAR, 11, 30)
    inside = services.create_objective(None, tree.sub1, year=YEAR, title="党员教育培训全覆盖", indicator="参训率",
                                       value_kind="percent", target_value="100", deadline=dt.date(YEAR, 12, 31),
                                       responsible="党委副书记")
    outside = services.create_objective(None, tree.sub2, year=YEAR, title="外部质量目标甲", indicator="参训率",
                                        value_kind="percent", target_value="100", deadline=dt.date(YEAR, 12, 31),
                                        responsible="某人")
    t01 = services.create_target(None, objective=inside, unit=tree.b01, task="组织党员轮训", person="支部书记",
                                 indicator="参训率", value_kind="percent", target_value="100", deadline=day)
    t03 = services.create_target(None, objective=outside, unit=tree.b03, task="外部分解任务乙", person="支部书记",
                                 indicator="参训率", value_kind="percent", target_value="100", deadline=day)
    proposed = MemberTarget.objects.create(member=tree.m01, unit=tree.b01, org_path=tree.b01.path, year=YEAR,
                                           part="individual", category="work_task", title="月度生产任务",
                                           state=ReviewState.PROPOSED)
    approved = MemberTarget.objects.create(member=tree.m01, unit=tree.b01, org_path=tree.b01.path, year=YEAR,
                                           part="individual", category="post_skill", title="取得高级工证书",
                                           state=ReviewState.APPROVED)
    other = MemberTarget.objects.create(member=tree.m03, unit=tree.b03, org_path=tree.b03.path, year=YEAR,
                                        part="individual", category="work_task", title="外部个人目标丙",
                                        state=ReviewState.PROPOSED)
    letter = letters.draw_up_letter(None, tree.b01, YEAR)
    letter_out = letters.draw_up_letter(None, tree.b03, YEAR)
    del member_services
    return {"obj_in": inside.pk, "obj_out": outside.pk, "t_in": t01.pk, "t_out": t03.pk, "mt_in": proposed.pk,
            "mt_ok": approved.pk, "mt_out": other.pk, "letter_in": letter.pk, "letter_out": letter_out.pk}


def web_values(role: str, inside: bool, tree: Any, extra: dict[str, Any]) -> dict[str, str]:
    side = "in" if inside else "out"
    return {"objective_pk": str(extra[f"obj_{side}"]), "target_pk": str(extra[f"t_{side}"]),
            "mt_pk": str(extra[f"mt_{side}"]), "letter_pk": str(extra[f"letter_{side}"])}


OUTSIDE_CODES = ("B03", "SUB2", "GRP")
TARGET = {"task": "组织学习", "person": "支部书记", "indicator": "次数", "value_kind": "number",
          "target_value": "4", "deadline": f"{YEAR}-10-31"}
PROGRESS = {"reported_on": f"{YEAR}-06-30", "progress": 50, "status": "on_track", "note": "按计划推进"}


def _units(c: Ctx) -> list[Call]:
    return [Call(query={"unit": code}) for code in OUTSIDE_CODES]


API_CASES: dict[str, Case] = {
    "objectives_list": Case(inside=lambda c: [Call(query={"year": YEAR}), Call(query={"unit": c.unit}),
                                              Call(query={"q": "外部"})], outside=_units),
    "objectives_create": Case(
        inside=lambda c: [Call(body={"committee": c.unit, "year": YEAR, "title": "新目标", "indicator": "率",
                                     "value_kind": "number", "target_value": "3", "deadline": f"{YEAR}-12-01",
                                     "responsible": "书记"})],
        outside=lambda c: [Call(body={"committee": code, "year": YEAR, "title": "新目标", "indicator": "率",
                                      "value_kind": "number", "target_value": "3", "deadline": f"{YEAR}-12-01",
                                      "responsible": "书记"}) for code in ("SUB2", "B03", "GRP")]),
    "objectives_get": Case(inside=lambda c: [Call(path_params={"objective_id": c.extra["obj_in"]})],
                           outside=lambda c: [Call(path_params={"objective_id": c.extra["obj_out"]})]),
    "objectives_update": Case(
        inside=lambda c: [Call(path_params={"objective_id": c.extra["obj_in"]}, body={"title": "改名"})],
        outside=lambda c: [Call(path_params={"objective_id": c.extra["obj_out"]}, body={"title": "改名"})]),
    "objectives_targets_list": Case(
        inside=lambda c: [Call(query={"year": YEAR}), Call(query={"unit": c.branch}),
                          Call(query={"objective": c.extra["obj_out"]})], outside=_units),
    "objectives_targets_create": Case(
        inside=lambda c: [Call(body={"objective": c.extra["obj_in"], "unit": "B01" if c.branch == "B01" else c.unit,
                                     **TARGET})],
        outside=lambda c: [Call(body={"objective": c.extra["obj_in"], "unit": "B03", **TARGET}),
                           Call(body={"objective": c.extra["obj_out"], "unit": c.branch, **TARGET}),
                           Call(body={"objective": c.extra["obj_in"], "unit": c.branch, "parent": c.extra["t_out"],
                                      **TARGET}),
                           Call(body={"objective": c.extra["obj_in"], "unit": c.branch, "member": c.m03,
                                      **TARGET})]),
    "objectives_targets_get": Case(inside=lambda c: [Call(path_params={"target_id": c.extra["t_in"]})],
                                   outside=lambda c: [Call(path_params={"target_id": c.extra["t_out"]})]),
    "objectives_targets_update": Case(
        inside=lambda c: [Call(path_params={"target_id": c.extra["t_in"]}, body={"target_value": "99"})],
        outside=lambda c: [Call(path_params={"target_id": c.extra["t_out"]}, body={"target_value": "99"})]),
    "objectives_targets_progress": Case(
        inside=lambda c: [Call(path_params={"target_id": c.extra["t_in"]}, body=PROGRESS)],
        outside=lambda c: [Call(path_params={"target_id": c.extra["t_out"]}, body=PROGRESS)]),
    "objectives_member_targets_list": Case(
        inside=lambda c: [Call(query={"year": YEAR}), Call(query={"member": c.m01})],
        outside=lambda c: [*_units(c), Call(query={"member": c.m03})]),
    "objectives_member_targets_propose": Case(
        inside=lambda c: [Call(body={"member": c.m01, "year": YEAR, "category": "work_task", "title": "新目标",
                                     "measure": "按月考核"})],
        outside=lambda c: [Call(body={"member": c.m03, "year": YEAR, "category": "work_task", "title": "新目标",
                                      "measure": "按月考核"})]),
    "objectives_member_targets_review": Case(
        inside=lambda c: [Call(path_params={"mt_id": c.extra["mt_in"]}, body={"decision": "approve"})],
        outside=lambda c: [Call(path_params={"mt_id": c.extra["mt_out"]}, body={"decision": "approve"})]),
    "objectives_member_targets_progress": Case(
        inside=lambda c: [Call(path_params={"mt_id": c.extra["mt_ok"]}, body=PROGRESS)],
        outside=lambda c: [Call(path_params={"mt_id": c.extra["mt_out"]}, body=PROGRESS)]),
    "objectives_letters_list": Case(inside=lambda c: [Call(query={"year": YEAR}), Call(query={"unit": c.branch})],
                                    outside=_units),
    "objectives_letters_draw_up": Case(
        inside=lambda c: [Call(body={"unit": "B01" if c.branch == "B01" else c.unit, "year": YEAR})],
        outside=lambda c: [Call(body={"unit": "B03", "year": YEAR})]),
    "objectives_letters_get": Case(inside=lambda c: [Call(path_params={"letter_id": c.extra["letter_in"]})],
                                   outside=lambda c: [Call(path_params={"letter_id": c.extra["letter_out"]})]),
    "objectives_letters_sign": Case(
        inside=lambda c: [Call(path_params={"letter_id": c.extra["letter_in"]}, body={"side": "committee"}),
                          Call(path_params={"letter_id": c.extra["letter_in"]}, body={"side": "branch"})],
        outside=lambda c: [Call(path_params={"letter_id": c.extra["letter_out"]}, body={"side": "branch"})]),
    "objectives_dashboard": Case(inside=lambda c: [Call(query={"year": YEAR})],
                                 outside=lambda c: [Call(query={"year": YEAR})]),
}


def _models() -> list[Any]:
    from pbqms.objectives import models as m

    return [m.QualityPolicy, m.Objective, m.Target, m.CommonStandard, m.MemberTarget, m.ProgressReport,
            m.ResponsibilityLetter]


def fingerprint() -> tuple[Any, ...]:
    from pbqms.objectives.models import ObjectiveTally

    rows: list[Any] = [sorted(model.objects.values_list()) for model in _models()]
    rows.append(sorted(ObjectiveTally.objects.exclude(n=0).values_list("unit_id", "year", "key", "n")))
    return tuple(str(r) for r in rows)


def outside_state(path: str) -> tuple[Any, ...]:
    return tuple(str(sorted(model.objects.filter(org_path__startswith=path).values_list())) for model in _models())
