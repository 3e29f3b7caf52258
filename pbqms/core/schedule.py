"""The daily schedule — 每日任务: deadline sweeps and reminders enqueued once a day by `pbqms worker`.

Each capability's sweep is a django-tasks task; the worker enqueues every job once a day after
PBQMS_DAILY_HOUR (local time). A DailyRun row per (job, day) makes that idempotent however many
workers run. Without a worker, cron can call the sweeps' commands instead (`pbqms sweep-deadlines`).
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import DailyRun

logger = logging.getLogger("pbqms.schedule")

# job name → dotted path of a django-tasks task taking no arguments
DAILY_JOBS: dict[str, str] = {
    "rectification.sweep_deadlines": "pbqms.rectification.tasks.sweep_deadlines_task",
    "activities.nightly": "pbqms.activities.tasks.nightly_task",
    "documents.sweep_reviews": "pbqms.documents.tasks.sweep_reviews_task",
    "objectives.remind_member_targets": "pbqms.objectives.tasks.remind_missing_member_targets_task",
    "assessment.close_months": "pbqms.assessment.tasks.close_months_task",
    "notify.send_digests": "pbqms.notify.tasks.send_digests_task",
}


def jobs() -> dict[str, str]:
    return {**DAILY_JOBS, **getattr(settings, "PBQMS_DAILY_JOBS", {})}


def _task(path: str):  # type: ignore[no-untyped-def]
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def enqueue_due(now: dt.datetime | None = None) -> list[str]:
    """Enqueue each job not yet enqueued today, once the daily hour has come; returns their names."""
    now = timezone.localtime(now or timezone.now())
    if now.hour < getattr(settings, "PBQMS_DAILY_HOUR", 6):
        return []
    done = []
    for name, path in jobs().items():
        try:
            with transaction.atomic():
                DailyRun.objects.create(job=name, day=now.date())
                task = _task(path)
                transaction.on_commit(task.enqueue)
        except IntegrityError:
            continue  # already enqueued today, by this or another worker
        done.append(name)
        logger.info("enqueued daily job %s", name)
    return done
