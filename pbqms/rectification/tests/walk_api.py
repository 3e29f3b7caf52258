"""The API scope walk's cases for /api/v1/rectification (merged into walk.py's hooks).

Records are made on demand by a superuser through the services: an answered notice of B01
(inside every issuing and answering role's scope) and one of B03 (outside everybody's).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pbqms.accounts.models import Role, User
from pbqms.core import clock
from pbqms.core.tests.walk_registry import Call, Case, Ctx
from pbqms.orgs.models import Unit
from pbqms.rectification import services
from pbqms.rectification.models import (
    CauseCategory,
    Feedback,
    Finding,
    Notice,
    NoticeStep,
    PreventiveAction,
    RectificationSettings,
    Verification,
)


def _root() -> User:
    return User.objects.filter(username="walk_root").first() or User.objects.create_superuser(
        "walk_root", "walk@example.com", "x")


def _notice(code: str) -> Notice:
    """An answered notice of unit `code` with one finding, made once."""
    found = Notice.objects.filter(unit__code=code, title="巡查整改").first()
    if found:
        return found
    root, unit = _root(), Unit.objects.get(code=code)
    f = services.record_finding(root, services.FindingInput(unit=unit, description="巡查发现的问题",
                                                            found_on=clock.today(), item_code="W-1"))
    notice = services.draft_notice(root, unit=unit, findings=[f], title="巡查整改", requirement="整改",
                                   deadline=clock.today() + dt.timedelta(days=9))
    services.issue_notice(root, notice)
    cause = CauseCategory.objects.first()
    services.submit_feedback(root, notice, {f.pk: services.Answer(cause, "原因", "措施", clock.today())})
    return notice


def _open_finding(code: str) -> int:
    root, unit = _root(), Unit.objects.get(code=code)
    f = Finding.objects.filter(unit=unit, status="open", notice__isnull=True).first()
    if f is None:
        f = services.record_finding(root, services.FindingInput(unit=unit, description="另一个问题",
                                                                found_on=clock.today(), item_code="W-2"))
    return f.pk


def _inside_unit(c: Ctx) -> str:
    return "B01" if c.unit in ("SUB1", "B01") else c.unit


def _home(c: Ctx) -> str:
    """A unit inside the role's scope: B02 for roles on SUB1, their own unit (branch, group) otherwise."""
    return "B02" if c.unit == "SUB1" else c.unit


def _reads(c: Ctx) -> bool:
    """Group leaders and members see no rectification records: nothing inside to fetch by id."""
    return c.role not in (Role.GROUP_LEADER, Role.MEMBER)


def _by_id(c: Ctx, call: Call) -> list[Call]:
    return [call] if _reads(c) else []


def _finding_of(code: str) -> int:
    return _notice(code).findings.first().pk  # type: ignore[union-attr]


DEADLINE = (dt.date.today() + dt.timedelta(days=20)).isoformat()
ANSWER = {"cause_category": "EXEC", "cause": "原因", "measures": "措施", "completed_on": "2026-01-05"}


def _answers(code: str) -> dict[str, Any]:
    return {"answers": [{**ANSWER, "finding": _finding_of(code)}]}


API_CASES: dict[str, Case] = {
    "rect_findings_list": Case(
        inside=lambda c: [Call(query={"limit": 500}), Call(query={"unit": _inside_unit(c)}),
                          Call(query={"status": "answered", "overdue": "false"})],
        outside=lambda c: [Call(query={"unit": code}) for code in ("B03", "SUB2", "GRP")]),
    "rect_findings_create": Case(
        inside=lambda c: [Call(body={"unit": _home(c), "description": "检查发现", "found_on": "2026-01-05"})],
        outside=lambda c: [Call(body={"unit": "B03", "description": "检查发现", "found_on": "2026-01-05"})]),
    "rect_findings_get": Case(
        inside=lambda c: _by_id(c, Call(path_params={"id": _finding_of("B01")})),
        outside=lambda c: [Call(path_params={"id": _finding_of("B03")})]),
    "rect_findings_verify": Case(
        inside=lambda c: _by_id(c, Call(path_params={"id": _finding_of("B01")},
                                        body={"effective": True, "note": "核实"})),
        outside=lambda c: [Call(path_params={"id": _finding_of("B03")}, body={"effective": True, "note": "核实"})]),
    "rect_notices_list": Case(
        inside=lambda c: [Call(query={"limit": 500}), Call(query={"unit": _inside_unit(c)}),
                          Call(query={"q": "巡查"}), Call(query={"overdue": "true"})],
        outside=lambda c: [Call(query={"unit": code}) for code in ("B03", "SUB2", "GRP")]),
    "rect_notices_create": Case(
        inside=lambda c: _by_id(c, Call(body={"unit": _home(c), "findings": [_open_finding(_home(c))],
                                              "title": "整改", "requirement": "整改", "deadline": DEADLINE})),
        outside=lambda c: [Call(body={"unit": "B03", "findings": [_open_finding("B03")], "title": "整改",
                                      "requirement": "整改", "deadline": DEADLINE}),
                           Call(body={"unit": "B02", "findings": [_open_finding("B03")], "title": "整改",
                                      "requirement": "整改", "deadline": DEADLINE})]),
    "rect_notices_get": Case(
        inside=lambda c: _by_id(c, Call(path_params={"id": _notice("B01").pk})),
        outside=lambda c: [Call(path_params={"id": _notice("B03").pk})]),
    "rect_notices_issue": Case(
        inside=lambda c: _by_id(c, Call(path_params={"id": _notice("B01").pk})),
        outside=lambda c: [Call(path_params={"id": _notice("B03").pk})]),
    "rect_notices_receive": Case(
        inside=lambda c: _by_id(c, Call(path_params={"id": _notice("B01").pk})),
        outside=lambda c: [Call(path_params={"id": _notice("B03").pk})]),
    "rect_notices_feedback": Case(
        inside=lambda c: _by_id(c, Call(path_params={"id": _notice("B01").pk}, body=_answers("B01"))),
        outside=lambda c: [Call(path_params={"id": _notice("B03").pk}, body=_answers("B03"))]),
    "rect_notices_return": Case(
        inside=lambda c: _by_id(c, Call(path_params={"id": _notice("B01").pk},
                                        body={"reason": "不到位", "deadline": DEADLINE})),
        outside=lambda c: [Call(path_params={"id": _notice("B03").pk},
                                body={"reason": "不到位", "deadline": DEADLINE})]),
    "rect_notices_close": Case(
        inside=lambda c: _by_id(c, Call(path_params={"id": _notice("B01").pk}, body={"note": "同意"})),
        outside=lambda c: [Call(path_params={"id": _notice("B03").pk}, body={"note": "同意"})]),
    "rect_preventive_list": Case(inside=lambda c: [Call(query={"limit": 500})], outside=lambda c: []),
}


def fingerprint() -> tuple[Any, ...]:
    return (sorted(Finding.objects.values_list("pk", "status", "notice_id", "overdue")),
            sorted(Notice.objects.values_list("pk", "status", "deadline", "number")),
            Feedback.objects.count(), Verification.objects.count(), NoticeStep.objects.count(),
            PreventiveAction.objects.count(), RectificationSettings.objects.count())
