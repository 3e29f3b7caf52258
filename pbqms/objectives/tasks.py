"""Background tasks of the objectives app (django-tasks; `pbqms worker` runs them)."""

from __future__ import annotations

from django_tasks import task


@task()
def remind_missing_member_targets_task(year: int | None = None) -> int:
    """Remind branch secretaries of members still without an approved individual target after the
    committee's due date (member_services.remind_missing_member_targets; idempotent, so a daily
    sweep may run it as often as it likes). Returns how many branches were reminded."""
    import datetime as dt

    from . import member_services

    return member_services.remind_missing_member_targets(year or dt.date.today().year)
