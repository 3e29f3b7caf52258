"""`pbqms check-compliance`: the nightly organisational-life run once (evaluate, warn, raise findings)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from pbqms.activities import services
from pbqms.core import clock


class Command(BaseCommand):
    help = "Evaluate every organisational-life rule for every unit, warn, and raise findings for misses."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--today", type=dt.date.fromisoformat, default=None,
                            help="Run as if today were this date (YYYY-MM-DD).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["today"]:
            with clock.as_of(options["today"]):
                result = services.nightly()
        else:
            result = services.nightly()
        self.stdout.write(f"states written: {result['states']}; reminders: {result['reminders']}; "
                          f"findings raised: {result['findings']}")
