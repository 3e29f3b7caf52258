"""`pbqms worker`: a background-task worker (django-tasks-db's db_worker) that also keeps the daily
schedule (pbqms.core.schedule): once a minute it enqueues the day's sweeps when they are due."""

from __future__ import annotations

import threading
from typing import Any

from django.db import close_old_connections
from django_tasks_db.management.commands.db_worker import Command as DbWorker

from pbqms.core import schedule


def _keep_schedule(stop: threading.Event, every: float) -> None:
    while not stop.is_set():
        try:
            close_old_connections()
            schedule.enqueue_due()
        except Exception:  # a database hiccup must not kill the worker; try again next minute
            schedule.logger.exception("daily schedule check failed")
        finally:
            close_old_connections()
        stop.wait(every)


class Command(DbWorker):
    help = "Run background tasks, and enqueue the daily sweeps once a day (PBQMS_DAILY_HOUR)."

    def add_arguments(self, parser: Any) -> None:
        super().add_arguments(parser)
        parser.add_argument("--no-schedule", action="store_true", help="Do not enqueue the daily sweeps.")

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        if not options.pop("no_schedule", False):
            threading.Thread(target=_keep_schedule, args=(stop, 60.0), daemon=True, name="pbqms-schedule").start()
        try:
            super().handle(*args, **options)
        finally:
            stop.set()
