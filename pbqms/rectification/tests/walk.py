"""How the scope walks reach the rectification pages (see pbqms/core/tests/walk_registry.py).

Inside every role's reach: a finding, an issued notice and a preventive action of B01. Outside
everybody's scope but the superuser's: the same three of B03, whose words must never show.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from pbqms.accounts import services as accounts
from pbqms.accounts.models import Role
from pbqms.rectification import services
from pbqms.rectification.models import (
    Feedback,
    Finding,
    Notice,
    NoticeStep,
    PreventiveAction,
    PreventiveTrigger,
    RectificationSettings,
    Verification,
)

OUTSIDE_WORDS = ["二矿越界问题甲", "二矿越界通知乙", "二矿越界预防丙"]
WEB_PARAMS = {"notice_pk", "finding_pk", "action_pk"}


def _finding(actor: Any, unit: Any, description: str, item: str) -> Finding:
    return services.record_finding(actor, services.FindingInput(
        unit=unit, description=description, found_on=timezone.localdate(), item_code=item,
        standard="每月召开支委会"))


def _notice(actor: Any, unit: Any, title: str, description: str) -> Notice:
    f = _finding(actor, unit, description, "WALK-2")
    notice = services.draft_notice(actor, unit=unit, findings=[f], title=title, requirement="逐条整改",
                                   deadline=timezone.localdate() + dt.timedelta(days=10))
    return services.issue_notice(actor, notice)


def _action(unit: Any, title: str, key: str) -> PreventiveAction:
    return PreventiveAction.objects.create(key=key, trigger=PreventiveTrigger.MANUAL, unit=unit, org_path=unit.path,
                                           item_code="WALK-3", title=title,
                                           due_on=timezone.localdate() + dt.timedelta(days=30))


def setup(tree: Any, users: dict[str, Any]) -> dict[str, Any]:
    staff = users[Role.DEPARTMENT_STAFF]  # issues to B01 from SUB1
    outsider = accounts.create_user(None, username="rect_walk_sub2", password="x", validate=False)
    accounts.grant_role(None, outsider, Role.DEPARTMENT_STAFF, tree.sub2)  # issues to B03 from SUB2
    # Notice numbers are unique across issuing units: SUB2 numbers its notices its own way.
    services.save_settings(outsider, tree.sub2, number_pattern="越纠〔{year}〕{seq:03d}号", reminder_days="3,1")
    inside_finding = _finding(staff, tree.b01, "支部内问题", "WALK-1")
    inside_notice = _notice(staff, tree.b01, "支部内通知", "支部内通知的问题")
    outside_finding = _finding(outsider, tree.b03, OUTSIDE_WORDS[0], "WALK-1")
    outside_notice = _notice(outsider, tree.b03, OUTSIDE_WORDS[1], "二矿越界通知的问题")
    inside_action = _action(tree.b01, "支部内预防措施", "walk:inside")
    outside_action = _action(tree.b03, OUTSIDE_WORDS[2], "walk:outside")
    return {"rect": {"finding": (inside_finding.pk, outside_finding.pk),
                     "notice": (inside_notice.pk, outside_notice.pk),
                     "action": (inside_action.pk, outside_action.pk)}}


def web_values(role: str, inside: bool, tree: Any, extra: dict[str, Any]) -> dict[str, str]:
    rect = extra["rect"]
    i = 0 if inside else 1
    return {"notice_pk": str(rect["notice"][i]), "finding_pk": str(rect["finding"][i]),
            "action_pk": str(rect["action"][i])}


def outside_state(path: str) -> tuple[Any, ...]:
    findings = list(Finding.objects.filter(org_path__startswith=path).order_by("pk").values())
    notices = list(Notice.objects.filter(org_path__startswith=path).order_by("pk").values())
    steps = NoticeStep.objects.filter(notice__org_path__startswith=path).count()
    feedback = Feedback.objects.filter(notice__org_path__startswith=path).count()
    checks = Verification.objects.filter(finding__org_path__startswith=path).count()
    actions = list(PreventiveAction.objects.filter(org_path__startswith=path).order_by("pk").values())
    settings = list(RectificationSettings.objects.filter(unit__path__startswith=path).values())
    return findings, notices, steps, feedback, checks, actions, settings


# API_CASES and fingerprint() for the API walk: added by the lead with api.py.
from .walk_api import API_CASES, fingerprint  # noqa: E402,F401
