"""`pbqms assess …`: the assessment engine from the command line.

    pbqms assess compute --period 2026Q3 [--owner CODE] [--scheme ID] [--force]
    pbqms assess load-fixture liukao --owner CODE --year 2026 [--publish]
    pbqms assess export --scheme ID --out FILE.xlsx
    pbqms assess import FILE.xlsx --owner CODE --year 2026

The command acts as the system (full scope; its audit entries read "system") unless
`--as USERNAME` names a user, whose scope and rights then apply. Every problem is printed and the
command exits non-zero; nothing is half done.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import Http404
from django.utils import translation
from django.utils.translation import gettext as _

from pbqms import scope
from pbqms.assessment import results, schemes, xlsx
from pbqms.assessment.fixtures import SCHEMES
from pbqms.assessment.models import Period, Scheme
from pbqms.orgs.models import Unit


class SystemActor:
    """The system as an actor: full scope (like a superuser), no account, audited as "system"."""

    pk = None
    id = None
    member_id = None
    is_authenticated = True
    is_active = True
    is_superuser = True
    is_staff = False
    username = "system"
    display_name = ""

    def __str__(self) -> str:
        return "system"


class Command(BaseCommand):
    help = ("Assessment (考核评价): recompute a period's results, load a shipped scheme, export or import a "
            "scheme workbook.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as", dest="as_user", metavar="USERNAME",
                            help="act as this user, within their scope (default: the system, with full scope)")
        parser.add_argument("--language", metavar="CODE",
                            help="language of the messages (default: the user's, else the site's)")
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        compute = sub.add_parser("compute", help="recompute one period's results")
        compute.add_argument("--period", required=True, metavar="KEY", help="2026Q3, 2026-07, 2026H1 or 2026")
        compute.add_argument("--owner", metavar="CODE", help="the committee running the assessment")
        compute.add_argument("--scheme", type=int, metavar="ID", help="the scheme whose plan holds the period")
        compute.add_argument("--force", action="store_true",
                             help="recompute a published period too (its results are otherwise locked)")
        load = sub.add_parser("load-fixture", help="load a shipped scheme as a new draft version")
        load.add_argument("name", choices=sorted(SCHEMES), help="the shipped scheme")
        load.add_argument("--owner", required=True, metavar="CODE", help="the issuing committee's code")
        load.add_argument("--year", required=True, type=int)
        load.add_argument("--publish", action="store_true", help="publish it too")
        export = sub.add_parser("export", help="write a scheme to an .xlsx workbook")
        export.add_argument("--scheme", required=True, type=int, metavar="ID")
        export.add_argument("--out", required=True, metavar="FILE.xlsx")
        imp = sub.add_parser("import", help="read a scheme workbook into a new draft version (all or nothing)")
        imp.add_argument("file", metavar="FILE.xlsx")
        imp.add_argument("--owner", required=True, metavar="CODE", help="the issuing committee's code")
        imp.add_argument("--year", required=True, type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        user, language = self._actor(options)
        with translation.override(language):
            try:
                getattr(self, "do_" + options["action"].replace("-", "_"))(user, options)
            except xlsx.SchemeFileError as exc:
                for e in exc.errors:
                    self.stdout.write(str(e))
                raise CommandError(_("%(n)s problems found; nothing was imported.") % {"n": len(exc.errors)})
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages))
            except PermissionDenied:
                raise CommandError(_("%(user)s may not do this.") % {"user": user})
            except Http404:
                raise CommandError(_("Not found (or outside the scope of %(user)s).") % {"user": user})

    def _actor(self, options: dict[str, Any]) -> tuple[Any, str]:
        from pbqms.accounts.models import User

        username = options.get("as_user")
        if not username:
            return SystemActor(), options.get("language") or settings.LANGUAGE_CODE
        user = User.objects.filter(username=username).first()
        if user is None or not user.is_active:
            raise CommandError(f"No active user named {username!r}.")
        return user, options.get("language") or user.language or settings.LANGUAGE_CODE

    def _owner(self, user: Any, code: str) -> Unit:
        unit = Unit.objects.filter(code=code).first()
        if unit is None or not scope.can_read_unit(user, unit):
            raise CommandError(_("No unit you can see has the code “%(code)s”.") % {"code": code})
        return unit

    def _scheme(self, user: Any, pk: int) -> Scheme:
        found: Scheme | None = scope.schemes_readable(user).filter(pk=pk).first()
        if found is None:
            raise CommandError(_("No scheme you can see has the id %(id)s.") % {"id": pk})
        return found

    # actions

    def do_compute(self, user: Any, options: dict[str, Any]) -> None:
        periods = scope.assessment_runs(user, Period).filter(key=options["period"]).select_related(
            "plan__owner", "scheme")
        if options["owner"]:
            periods = periods.filter(plan__owner=self._owner(user, options["owner"]))
        if options["scheme"]:
            periods = periods.filter(scheme_id=options["scheme"])
        found = list(periods.order_by("plan__owner__path", "scheme__target_kind", "scheme_id")[:20])
        if not found:
            raise CommandError(_("No period %(key)s found.") % {"key": options["period"]})
        if len(found) > 1:
            listing = "; ".join(f"--owner {p.plan.owner.code} --scheme {p.scheme_id} ({p.scheme.name})"
                                for p in found)
            raise CommandError(_("%(n)s periods are called %(key)s: choose one with --owner or --scheme: %(list)s")
                               % {"n": len(found), "key": options["period"], "list": listing})
        period = found[0]
        started = time.monotonic()
        count = results.compute(period, actor=user, allow_published=options["force"])
        self.stdout.write(_("%(key)s of “%(scheme)s” (%(owner)s): %(n)s results computed in %(s).2f s.")
                          % {"key": period.key, "scheme": period.scheme.name, "owner": period.plan.owner.code,
                             "n": count, "s": time.monotonic() - started})

    def do_load_fixture(self, user: Any, options: dict[str, Any]) -> None:
        owner = self._owner(user, options["owner"])
        scheme = schemes.load_scheme(user, owner, options["year"], cast("dict[str, Any]", SCHEMES[options["name"]]))
        if options["publish"]:
            scheme = schemes.publish_scheme(user, scheme)
        self.stdout.write(_("Scheme %(id)s “%(name)s” %(year)s v%(version)s: %(n)s items, %(status)s.")
                          % {"id": scheme.pk, "name": scheme.name, "year": scheme.year, "version": scheme.version,
                             "n": scheme.items.count(), "status": scheme.get_status_display()})

    def do_export(self, user: Any, options: dict[str, Any]) -> None:
        scheme = self._scheme(user, options["scheme"])
        out = Path(options["out"])
        try:
            out.write_bytes(xlsx.export_scheme(scheme))
        except OSError as exc:
            raise CommandError(_("Cannot write %(file)s: %(error)s") % {"file": out, "error": exc.strerror or exc})
        self.stdout.write(_("Exported scheme %(id)s (%(n)s items) to %(file)s.")
                          % {"id": scheme.pk, "n": scheme.items.count(), "file": out})

    def do_import(self, user: Any, options: dict[str, Any]) -> None:
        owner = self._owner(user, options["owner"])
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(_("Cannot read %(file)s: %(error)s") % {"file": path, "error": exc.strerror or exc})
        scheme = xlsx.import_scheme(user, owner, options["year"], data)
        self.stdout.write(_("Imported scheme %(id)s “%(name)s” %(year)s v%(version)s (draft): %(n)s items.")
                          % {"id": scheme.pk, "name": scheme.name, "year": scheme.year, "version": scheme.version,
                             "n": scheme.items.count()})
