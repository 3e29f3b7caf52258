"""Background tasks of the rectification loop (django-tasks; run by `pbqms worker`)."""

from __future__ import annotations

import dataclasses
from typing import Any

from django_tasks import task

from .reminders import sweep_deadlines


@task()
def sweep_deadlines_task() -> dict[str, Any]:
    """The daily deadline sweep; enqueue it from a scheduler (cron: `pbqms sweep-deadlines` does the same)."""
    return dataclasses.asdict(sweep_deadlines())
