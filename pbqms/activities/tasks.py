"""Background tasks of organisational life (django-tasks; enqueued daily by `pbqms worker`)."""

from __future__ import annotations

from django_tasks import task

from . import services


@task()
def nightly_task() -> dict[str, int]:
    """Evaluate every rule for every unit, warn before periods close, raise findings for misses."""
    return services.nightly()
