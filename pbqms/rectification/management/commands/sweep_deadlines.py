"""`pbqms sweep-deadlines`: run the rectification deadline sweep once (reminders, overdue, escalation).

Safe to run as often as you like (cron, or the `sweep_deadlines_task` on a worker): each message
is sent once per notice, event and deadline.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from pbqms.rectification.reminders import sweep_deadlines


class Command(BaseCommand):
    help = "Run the rectification deadline sweep once: reminders, overdue marking, escalation."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--today", type=dt.date.fromisoformat, default=None,
                            help="Sweep as if today were this date (YYYY-MM-DD).")

    def handle(self, *args: Any, **options: Any) -> None:
        result = sweep_deadlines(options["today"])
        self.stdout.write(
            f"findings newly overdue: {result.findings_overdue}; notices newly overdue: {result.notices_overdue}; "
            f"reminders: {result.reminders}; escalations: {result.escalations}; "
            f"preventive actions overdue: {result.preventive_overdue}; messages: {result.messages}")
