"""`pbqms export-roster FILE.xlsx [--unit CODE] [--as USERNAME]`: export people to a roster workbook."""

from __future__ import annotations

import sys
import time
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import Http404
from django.utils import translation
from django.utils.translation import gettext as _

from pbqms.roster import services

from ._common import add_actor_arguments, resolve_actor


class Command(BaseCommand):
    help = ("Export people (and the units above them) to an .xlsx in the import template's format, within "
            "the scope of --as USERNAME (default: everything). ID numbers and phones are masked.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the .xlsx to write")
        parser.add_argument("--unit", metavar="CODE", help="only this unit and the units below it")
        parser.add_argument("--status", default="", help="only this party status (full, probationary, …)")
        parser.add_argument("--state", default="active",
                            help="organisational relation: active (default), transferred_out, …, or '' for any")
        parser.add_argument("--unmask", action="store_true",
                            help="ID numbers and phones in clear, where the user's role may see them (logged)")
        parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
        add_actor_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        actor, language = resolve_actor(options)
        params = {"unit": options["unit"] or "", "status": options["status"], "state": options["state"]}
        started = time.monotonic()

        def progress(n: int) -> None:
            sys.stderr.write(f"exported: {n}\n")

        try:
            count = services.export_members(params, actor, options["file"], unmask=options["unmask"],
                                            language=language, progress=None if options["quiet"] else progress)
        except Http404:
            with translation.override(language):
                raise CommandError(_("No unit you can see has the code “%(code)s”.") % {"code": options["unit"]})
        except PermissionDenied:
            with translation.override(language):
                raise CommandError(_("This account may not see ID numbers in clear."))
        with translation.override(language):
            self.stdout.write(_("Exported %(n)s people to %(file)s.") % {"n": count, "file": options["file"]}
                              + f" ({time.monotonic() - started:.1f} s)")
