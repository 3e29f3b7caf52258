"""Background tasks of the roster app (django-tasks; `pbqms worker` runs them)."""

from __future__ import annotations

from django_tasks import task


@task()
def run_import_job(job_id: int) -> None:
    """Run an uploaded roster import; progress and the result go to its ImportJob row."""
    from . import services

    services.run_job(job_id)
