"""Background tasks of document control (django-tasks; enqueued daily by `pbqms worker`)."""

from __future__ import annotations

from django_tasks import task

from .circulation import sweep_reviews


@task()
def sweep_reviews_task() -> int:
    """Put due versions in force and remind owners of due reviews and readers of unread documents."""
    return sweep_reviews()
