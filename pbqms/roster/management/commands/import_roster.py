"""`pbqms import-roster FILE.xlsx [--dry-run] [--as USERNAME]`: import a roster workbook."""

from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _

from pbqms.roster import services

from ._common import add_actor_arguments, resolve_actor


class Progress:
    """Progress on stderr: one line per phase, redrawn in place on a terminal."""

    def __init__(self, stream: Any, every: float = 0.5):
        self.stream, self.every = stream, every
        self.tty = getattr(stream, "isatty", lambda: False)()
        self.phase, self.last = "", 0.0
        self.seen: tuple[str, int] = ("", -1)

    def __call__(self, phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        if (phase, done) == self.seen:
            return
        self.seen = (phase, done)
        new_phase = phase != self.phase
        if not new_phase and now - self.last < self.every and done < total:
            return
        if new_phase and self.phase and self.tty:
            self.stream.write("\n")
        self.phase, self.last = phase, now
        line = f"{phase}: {done}/{total}" if total else f"{phase}: {done}"
        self.stream.write(("\r" + line) if self.tty else (line + "\n"))
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self.phase:
            self.stream.write("\n")


class Command(BaseCommand):
    help = ("Import units and people from a roster workbook (.xlsx, the template's format). All or nothing: "
            "every problem is listed with its sheet, row and column, and then nothing changes.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the .xlsx workbook")
        parser.add_argument("--dry-run", action="store_true", help="check every row, change nothing")
        parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
        add_actor_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        actor, language = resolve_actor(options)
        progress = None if options["quiet"] else Progress(self.stderr._out if hasattr(self.stderr, "_out")
                                                          else sys.stderr)
        started = time.monotonic()
        try:
            result = services.import_roster(options["file"], actor, dry_run=options["dry_run"],
                                            progress=progress, language=language)
        finally:
            if progress is not None:
                progress.close()
        with translation.override(language):
            for e in result.errors:
                where = "!".join(x for x in (e["sheet"], e["cell"] or (str(e["row"]) if e["row"] else "")) if x)
                column = f" [{e['column']}]" if e["column"] else ""
                self.stdout.write(f"{where}{column}: {e['message']}" if where else e["message"])
            if result.ignored_columns:
                self.stderr.write(_("Columns not recognised, and ignored:") + " " + ", ".join(result.ignored_columns))
            s = result.summary
            counts = (_("units: %(c)s created, %(u)s updated, %(n)s unchanged")
                      % {"c": s["units_created"], "u": s["units_updated"], "n": s["units_unchanged"]} + "; "
                      + _("people: %(c)s created, %(u)s updated, %(n)s unchanged")
                      % {"c": s["members_created"], "u": s["members_updated"], "n": s["members_unchanged"]})
            elapsed = f" ({time.monotonic() - started:.1f} s)"
            if not result.ok:
                raise CommandError(_("%(n)s problems found; nothing was changed.") % {"n": len(result.errors)})
            if result.dry_run:
                self.stdout.write(_("No problem found (dry run, nothing changed): %(counts)s.")
                                  % {"counts": counts} + elapsed)
            else:
                self.stdout.write(_("Imported: %(counts)s.") % {"counts": counts} + elapsed)
