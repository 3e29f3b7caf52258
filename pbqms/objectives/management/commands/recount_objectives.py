"""`pbqms recount_objectives [--year Y]`: rebuild the stored roll-up of target status from the records."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Rebuild the objectives roll-up (ObjectiveTally) from the records."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--year", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        from pbqms.objectives import rollup

        started = time.perf_counter()
        rows = rollup.recount(options["year"])
        self.stdout.write(f"{rows} stored counts rebuilt in {time.perf_counter() - started:.2f} s")
