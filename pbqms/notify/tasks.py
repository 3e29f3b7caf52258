"""Background tasks of the notify app (django-tasks; `pbqms worker` runs them)."""

from __future__ import annotations

from django_tasks import task


@task()
def deliver_pending_task(limit: int = 500) -> int:
    """Send waiting e-mails and group-chat messages (notify.services.deliver_pending)."""
    from . import services

    return services.deliver_pending(limit, follow_up=True)


@task()
def send_digests_task() -> int:
    """The daily digests of held e-mails and robot messages (core.schedule runs it once a day), and
    forgetting old one-time submission keys (files.idempotency)."""
    from pbqms.files import idempotency

    from . import services

    idempotency.purge()
    return services.send_digests()
