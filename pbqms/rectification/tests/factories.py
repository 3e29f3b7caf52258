"""Helpers the rectification tests share: a finding, a notice in a given state."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from pbqms.accounts.models import Role
from pbqms.orgs.models import Unit
from pbqms.rectification import services
from pbqms.rectification.models import CauseCategory, Finding, Notice

STAFF = Role.DEPARTMENT_STAFF
SECRETARY = Role.BRANCH_SECRETARY


def today() -> dt.date:
    return timezone.localdate()


def finding(actor: Any, unit: Unit, *, item: str = "DJ-1.1", period: str = "", description: str = "三会一课记录不全",
            found_on: dt.date | None = None) -> Finding:
    return services.record_finding(actor, services.FindingInput(
        unit=unit, description=description, found_on=found_on or today(), item_code=item,
        standard="每月召开支委会并记录", period=period))


def answers(notice: Notice, **overrides: Any) -> dict[int, services.Answer]:
    cause = CauseCategory.objects.order_by("order").first()
    out = {}
    for f in notice.findings.all():
        out[f.pk] = services.Answer(cause_category=cause, cause=overrides.get("cause", "学习不够，制度执行不严"),
                                    measures=overrides.get("measures", "补齐记录，建立台账"),
                                    completed_on=overrides.get("completed_on", today()))
    return out


def issued_notice(staff: Any, unit: Unit, n: int = 2, deadline_days: int = 10) -> Notice:
    found = [finding(staff, unit, item=f"DJ-1.{i}") for i in range(1, n + 1)]
    notice = services.draft_notice(staff, unit=unit, findings=found, title="党建工作检查发现问题整改",
                                   requirement="请对照问题逐条整改并反馈。",
                                   deadline=today() + dt.timedelta(days=deadline_days))
    return services.issue_notice(staff, notice)


def answered_notice(staff: Any, secretary: Any, unit: Unit, n: int = 2) -> Notice:
    notice = issued_notice(staff, unit, n)
    services.receive_notice(secretary, notice)
    services.submit_feedback(secretary, notice, answers(notice))
    return Notice.objects.get(pk=notice.pk)
