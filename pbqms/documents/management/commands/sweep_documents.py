"""`pbqms sweep-documents [--date YYYY-MM-DD]`: put published versions into force on their date and
remind of due periodic reviews and unread documents. Idempotent: a second run does nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from pbqms.documents.circulation import sweep_reviews


class Command(BaseCommand):
    help = ("Put published document versions into force on their effective date, and remind owners of "
            "due periodic reviews and recipients of unread documents (once each).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", type=dt.date.fromisoformat, default=None,
                            help="the day to sweep for (default: today)")

    def handle(self, *args: Any, **options: Any) -> None:
        done = sweep_reviews(options["date"])
        self.stdout.write(f"documents swept: {done} action(s)")
