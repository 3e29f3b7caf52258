"""How the scope walks reach organisational life (see pbqms/core/tests/walk_registry.py).

Inside: a committee meeting and a plan of B01, and a group meeting and a plan of B01G1 (what the
group leader reads). Outside everybody's scope but the superuser's: a record and a plan of B03,
whose words must never show.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pbqms.accounts.models import Role, User
from pbqms.activities import services
from pbqms.activities.models import (
    ActivityKind,
    ActivityPlan,
    ActivityRecord,
    Attendance,
    ComplianceState,
    PlannedActivity,
)
from pbqms.core import clock
from pbqms.core.tests.walk_registry import Call, Case, Ctx

OUTSIDE_WORDS = ["三矿越界学习会", "三矿越界计划事项"]
WEB_PARAMS = {"record_pk", "plan_pk", "book"}
OUTSIDE_CODES = ("B03", "SUB2", "GRP")


def _root() -> User:
    return User.objects.filter(username="life_walk_root").first() or User.objects.create_superuser(
        "life_walk_root", "life-walk@example.com", "x")


def _record(actor: Any, unit: Any, person: Any, kind: str, topic: str) -> ActivityRecord:
    return services.record_activity(actor, services.RecordInput(
        unit=unit, kind=kind, held_on=clock.today(), topic=topic, place="党员活动室",
        attendance={person.pk: services.Presence(True)}))


def _plan(actor: Any, unit: Any, kind: str, topic: str) -> ActivityPlan:
    today = clock.today()
    return services.file_plan(actor, unit=unit, period=f"{today:%Y-%m}",
                              items=[services.PlanItem(kind, today, topic)])


def setup(tree: Any, users: dict[str, Any]) -> dict[str, Any]:
    root = _root()
    inside = _record(root, tree.b01, tree.m01, ActivityKind.THEME_DAY, "支部内学习会")
    group = _record(root, tree.g1, tree.m01, ActivityKind.GROUP_MEETING, "小组内学习会")
    outside = _record(root, tree.b03, tree.m03, ActivityKind.THEME_DAY, OUTSIDE_WORDS[0])
    plans = [_plan(root, tree.b01, ActivityKind.THEME_DAY, "支部内计划"),
             _plan(root, tree.g1, ActivityKind.GROUP_MEETING, "小组内计划"),
             _plan(root, tree.b03, ActivityKind.THEME_DAY, OUTSIDE_WORDS[1])]
    return {"life": {"record": (inside.pk, outside.pk), "group_record": group.pk,
                     "plan": (plans[0].pk, plans[2].pk), "group_plan": plans[1].pk}}


def web_values(role: str, inside: bool, tree: Any, extra: dict[str, Any]) -> dict[str, str]:
    life = extra["life"]
    if not inside:
        return {"record_pk": str(life["record"][1]), "plan_pk": str(life["plan"][1]), "book": "branch-book"}
    leader = role == Role.GROUP_LEADER
    return {"record_pk": str(life["group_record"] if leader else life["record"][0]),
            "plan_pk": str(life["group_plan"] if leader else life["plan"][0]),
            "book": "group-book" if leader else "branch-book"}


def outside_state(path: str) -> tuple[Any, ...]:
    records = list(ActivityRecord.objects.filter(org_path__startswith=path).order_by("pk").values())
    attendance = Attendance.objects.filter(record__org_path__startswith=path).count()
    plans = list(ActivityPlan.objects.filter(org_path__startswith=path).order_by("pk").values())
    items = list(PlannedActivity.objects.filter(plan__org_path__startswith=path).order_by("pk").values())
    states = list(ComplianceState.objects.filter(org_path__startswith=path).order_by("pk")
                  .values_list("pk", "status", "done"))
    return records, attendance, plans, items, states


# ---- the API walk ------------------------------------------------------------------------------

def _life(c: Ctx) -> dict[str, Any]:
    return c.extra["life"]


def _leader(c: Ctx) -> bool:
    return c.role == Role.GROUP_LEADER


def _unit(c: Ctx) -> str:
    return "B01G1" if _leader(c) else "B01"


def _record_id(c: Ctx) -> int:
    return _life(c)["group_record"] if _leader(c) else _life(c)["record"][0]


def _plan_id(c: Ctx) -> int:
    return _life(c)["group_plan"] if _leader(c) else _life(c)["plan"][0]


def _next_month() -> tuple[str, str]:
    first = clock.today().replace(day=1) + dt.timedelta(days=32)
    return f"{first:%Y-%m}", first.replace(day=10).isoformat()


def _plan_body(unit: str) -> dict[str, Any]:
    period, day = _next_month()
    return {"unit": unit, "period": period, "items": [{"kind": "theme_day", "planned_on": day, "topic": "主题党日"}]}


def _record_body(c: Ctx, unit: str, person: int, **more: Any) -> dict[str, Any]:
    kind = "other" if unit == "B01G1" else "theme_day"
    return {"unit": unit, "kind": kind, "held_on": clock.today().isoformat(), "topic": "主题党日：重温入党誓词",
            "attendance": [{"member": person, "present": True}], **more}


API_CASES: dict[str, Case] = {
    "activities_plans_list": Case(
        inside=lambda c: [Call(query={"limit": 500}), Call(query={"unit": c.unit}),
                          Call(query={"period": f"{clock.today():%Y-%m}", "status": "submitted"})],
        outside=lambda c: [Call(query={"unit": code}) for code in OUTSIDE_CODES]),
    "activities_plans_file": Case(
        inside=lambda c: [Call(body=_plan_body(_unit(c)))],
        outside=lambda c: [Call(body=_plan_body("B03"))]),
    "activities_plans_review": Case(
        inside=lambda c: [Call(path_params={"id": _plan_id(c)}, body={"comment": "同意"})],
        outside=lambda c: [Call(path_params={"id": _life(c)["plan"][1]}, body={"comment": "同意"})]),
    "activities_records_list": Case(
        inside=lambda c: [Call(query={"limit": 500}), Call(query={"unit": c.unit}),
                          Call(query={"year": clock.today().year, "kind": "committee"})],
        outside=lambda c: [Call(query={"unit": code}) for code in OUTSIDE_CODES]),
    "activities_records_get": Case(
        inside=lambda c: [Call(path_params={"id": _record_id(c)})],
        outside=lambda c: [Call(path_params={"id": _life(c)["record"][1]})]),
    "activities_records_create": Case(
        inside=lambda c: [Call(body=_record_body(c, _unit(c), c.m01))],
        outside=lambda c: [Call(body=_record_body(c, "B03", c.m03)),
                           Call(body=_record_body(c, _unit(c), c.m03)),
                           Call(body=_record_body(c, _unit(c), c.m01, host=c.m03))]),
    "activities_records_attendance": Case(
        inside=lambda c: [Call(path_params={"id": _record_id(c)},
                               body={"attendance": [{"member": c.m01, "present": False, "reason": "出差"}],
                                     "reason": "更正"})],
        outside=lambda c: [Call(path_params={"id": _life(c)["record"][1]},
                                body={"attendance": [{"member": c.m03, "present": True}], "reason": "更正"}),
                           Call(path_params={"id": _record_id(c)},
                                body={"attendance": [{"member": c.m03, "present": True}], "reason": "更正"})]),
    "activities_compliance_list": Case(
        inside=lambda c: [Call(query={"limit": 500}), Call(query={"unit": c.unit, "period": str(clock.today().year)}),
                          Call(query={"unit": c.unit, "subtree": "true", "status": "open"})],
        outside=lambda c: [Call(query={"unit": code}) for code in OUTSIDE_CODES]),
}


def fingerprint() -> tuple[Any, ...]:
    return (sorted(ActivityRecord.objects.values_list("pk", "unit_id", "kind", "held_on", "topic", "present")),
            sorted(Attendance.objects.values_list("pk", "present", "counted")),
            sorted(ActivityPlan.objects.values_list("pk", "status", "comment", "period")),
            PlannedActivity.objects.count(),
            sorted(ComplianceState.objects.values_list("pk", "status", "done")))
