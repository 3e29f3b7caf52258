"""How the scope walks reach the assessment pages (see pbqms/core/tests/walk_registry.py).

Inside every role's reach: a published scheme of SUB1 with its plan, the 2026Q1 period in scoring,
the department's sheet of B01 (scored) and B01's self-check. Outside everybody's scope but the
superuser's: the same of SUB2 and B03, whose words must never show.

The results pages teach the walk through tests/walk_results.py and the API through
tests/walk_api.py (when they exist): what they define is merged here, so the registry sees one
module for the app.
"""

from __future__ import annotations

import importlib
import inspect
from types import ModuleType
from typing import Any

from pbqms.accounts import services as accounts
from pbqms.accounts.models import Role
from pbqms.assessment import schemes, services
from pbqms.assessment.models import Period, PeriodStatus, Plan, Scheme, SchemeItem, Score, Sheet, SheetKind

YEAR = 2026
OUTSIDE_SCHEME = "二矿越界考核细则"
OUTSIDE_ITEM = "越界考核项目"


def _data(name: str, item_title: str) -> dict[str, Any]:
    return {
        "name": name, "target_kind": "branch", "full_mark": "100",
        "categories": [{"code": "DJ", "name": "党建工作", "items": [
            {"code": "DJ01", "title": item_title, "standard": "缺1次扣2分", "max_points": "60", "method": "deduct",
             "deduct_per": "2"},
            {"code": "DJ02", "title": "宣传报道", "standard": "每季度不少于2篇", "max_points": "40", "method": "yesno"},
            {"code": "FJ01", "title": "重大事故", "standard": "发生重大事故", "max_points": "0", "method": "yesno",
             "kind": "veto", "veto_effect": "zero"},
        ]}],
    }


def _run(actor: Any, owner: Any, name: str, item_title: str, unit: Any) -> dict[str, Any]:
    scheme = schemes.publish_scheme(actor, schemes.load_scheme(actor, owner, YEAR, _data(name, item_title)))
    plan = services.create_plan(actor, scheme)
    period = Period.objects.get(plan=plan, key=f"{YEAR}Q1")
    services.move_period(actor, period, PeriodStatus.SCORING)
    period.refresh_from_db()
    items = schemes.items_by_code(scheme)
    sheet = services.open_sheet(actor, period, unit, SheetKind.ASSESSOR)
    services.save_scores(actor, sheet, [services.ScoreInput(item=items["DJ02"], yes=True)])
    return {"scheme": scheme.pk, "plan": plan.pk, "period": period.pk, "sheet": sheet.pk, "item": items["DJ01"].pk}


def _setup(tree: Any, users: dict[str, Any]) -> dict[str, Any]:
    staff = users[Role.DEPARTMENT_STAFF]
    inside = _run(staff, tree.sub1, "一矿考核细则", "三会一课", tree.b01)
    outsider = accounts.create_user(None, username="assess_walk_sub2", password="x", validate=False)
    accounts.grant_role(None, outsider, Role.DEPARTMENT_STAFF, tree.sub2)
    outside = _run(outsider, tree.sub2, OUTSIDE_SCHEME, OUTSIDE_ITEM, tree.b03)
    return {"assess": {k: (inside[k], outside[k]) for k in inside}}


def _web_values(role: str, inside: bool, tree: Any, extra: dict[str, Any]) -> dict[str, str]:
    a = extra["assess"]
    i = 0 if inside else 1
    return {"scheme_pk": str(a["scheme"][i]), "plan_pk": str(a["plan"][i]), "period_pk": str(a["period"][i]),
            "sheet_pk": str(a["sheet"][i]), "item_pk": str(a["item"][i])}


def _outside_state(path: str) -> tuple[Any, ...]:
    return (list(Scheme.objects.filter(org_path__startswith=path).order_by("pk").values()),
            list(SchemeItem.objects.filter(scheme__org_path__startswith=path).order_by("pk").values()),
            list(Plan.objects.filter(org_path__startswith=path).order_by("pk").values()),
            list(Period.objects.filter(org_path__startswith=path).order_by("pk").values()),
            list(Sheet.objects.filter(org_path__startswith=path).order_by("pk").values()),
            list(Score.objects.filter(sheet__org_path__startswith=path).order_by("pk").values()))


# ---- merging the other assessment walk modules ---------------------------------------------------

def _part(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(f"pbqms.assessment.tests.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"pbqms.assessment.tests.{name}":
            raise
        return None


PARTS = [m for m in (_part("walk_results"), _part("walk_api")) if m is not None]

WEB_PARAMS: set[str] = {"scheme_pk", "plan_pk", "period_pk", "sheet_pk", "item_pk"}
OUTSIDE_WORDS: list[str] = [OUTSIDE_SCHEME, OUTSIDE_ITEM]
for _m in PARTS:
    WEB_PARAMS |= set(getattr(_m, "WEB_PARAMS", set()))
    OUTSIDE_WORDS += [w for w in getattr(_m, "OUTSIDE_WORDS", []) if w not in OUTSIDE_WORDS]


def setup(tree: Any, users: dict[str, Any]) -> dict[str, Any]:
    extra = _setup(tree, users)
    for m in PARTS:
        if hasattr(m, "setup"):
            takes_extra = len(inspect.signature(m.setup).parameters) >= 3
            extra.update((m.setup(tree, users, extra) if takes_extra else m.setup(tree, users)) or {})
    return extra


def web_values(role: str, inside: bool, tree: Any, extra: dict[str, Any]) -> dict[str, str]:
    values = _web_values(role, inside, tree, extra)
    for m in PARTS:
        if hasattr(m, "web_values"):
            values.update(m.web_values(role, inside, tree, extra))
    return values


def outside_state(path: str) -> tuple[Any, ...]:
    return (_outside_state(path), *(m.outside_state(path) for m in PARTS if hasattr(m, "outside_state")))


API_CASES: dict[str, Any] = {}
for _m in PARTS:
    API_CASES.update(getattr(_m, "API_CASES", {}))
_FINGERPRINTS = [m.fingerprint for m in PARTS if hasattr(m, "fingerprint")]
if _FINGERPRINTS:
    def fingerprint() -> tuple[Any, ...]:
        return tuple(f() for f in _FINGERPRINTS)
