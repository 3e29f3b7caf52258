"""`pbqms remind_member_targets [--year Y]`: the daily sweep reminding branch secretaries of members
without an approved individual target after the due date (idempotent; cron may run it daily)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Remind branch secretaries of members without approved individual targets after the due date."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--year", type=int, default=dt.date.today().year)

    def handle(self, *args: Any, **options: Any) -> None:
        from django.utils import translation

        from pbqms.objectives import member_services

        with translation.override("zh-hans"):
            n = member_services.remind_missing_member_targets(options["year"])
        self.stdout.write(f"reminded {n} branches")
