"""The daily schedule: each job enqueued once a day, after the daily hour, however often checked."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from pbqms.core import schedule
from pbqms.core.models import DailyRun


def _at(hour: int, day: int = 1) -> dt.datetime:
    return timezone.make_aware(dt.datetime(2026, 12, day, hour, 30))


def test_nothing_is_enqueued_before_the_daily_hour(db, settings, django_capture_on_commit_callbacks):
    settings.PBQMS_DAILY_HOUR = 6
    with django_capture_on_commit_callbacks(execute=True):
        assert schedule.enqueue_due(_at(5)) == []
    assert not DBTaskResult.objects.exists()


def test_each_job_is_enqueued_once_a_day(db, settings, django_capture_on_commit_callbacks):
    settings.PBQMS_DAILY_HOUR = 6
    with django_capture_on_commit_callbacks(execute=True):
        first = schedule.enqueue_due(_at(6))
        again = schedule.enqueue_due(_at(9))
    assert first == list(schedule.jobs()) and again == []
    assert DBTaskResult.objects.count() == len(schedule.jobs())
    paths = set(DBTaskResult.objects.values_list("task_path", flat=True))
    assert paths == {path for path in schedule.jobs().values()}
    with django_capture_on_commit_callbacks(execute=True):
        assert schedule.enqueue_due(_at(7, day=2)) == first  # the next day, again once
    assert DailyRun.objects.count() == 2 * len(schedule.jobs())


def test_the_sweep_task_runs_the_sweep(db, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    from pbqms.rectification.tasks import sweep_deadlines_task

    result = sweep_deadlines_task.enqueue()
    assert result.return_value["messages"] == 0
