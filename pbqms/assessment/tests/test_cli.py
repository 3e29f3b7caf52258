"""`pbqms assess …`: compute, load-fixture, export and import from the command line, as the system or
as a user; every failure printed clearly with a non-zero exit, nothing changed."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation
from openpyxl import load_workbook

from pbqms.accounts.models import Role
from pbqms.assessment import schemes, services
from pbqms.assessment.fixtures import SCHEMES
from pbqms.assessment.management.commands.assess import Command
from pbqms.assessment.models import PeriodStatus, Result, Scheme, SchemeStatus, SheetKind
from pbqms.assessment.services import ScoreInput
from pbqms.assessment.tests.conftest import YEAR
from pbqms.audit.models import AuditEntry


def run(*args: str) -> str:
    out = io.StringIO()
    with translation.override("en"):
        call_command("assess", "--language", "en", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def refused(*args: str) -> str:
    with pytest.raises(CommandError) as e:
        run(*args)
    return str(e.value)


def _score_and_submit(setup, admin, period, unit) -> None:  # type: ignore[no-untyped-def]
    sheet = services.open_sheet(admin, period, unit, SheetKind.ASSESSOR)
    values = {"DJ01": {"occurrences": 0}, "DJ02": {"level": "好"}, "DJ03": {"measured": "100"},
              "XC01": {"yes": True}}
    services.save_scores(admin, sheet, [ScoreInput(item=setup.items[c], **v) for c, v in values.items()])
    services.submit_sheet(admin, sheet)


def test_compute_a_period(tree, admin_user, setup):
    period = setup.period("2026Q1")
    services.move_period(admin_user, period, PeriodStatus.SCORING)
    period.refresh_from_db()
    _score_and_submit(setup, admin_user, period, tree.b01)
    out = run("compute", "--period", "2026Q1")
    assert "2026Q1" in out and "1 results computed in" in out and " s." in out
    assert Result.objects.get(period=period, unit=tree.b01).total == 100  # 90 of the quarter's 90 points
    entry = AuditEntry.objects.filter(object_id=str(period.pk), model="assessment.period").latest("id")
    assert entry.actor is None and entry.actor_name == "system"
    out = run("compute", "--period", "2026Q1", "--owner", "SUB1", "--scheme", str(setup.scheme.pk))
    assert "1 results" in out


def test_compute_refusals(tree, admin_user, setup):
    assert "No period 2031Q1 found." in refused("compute", "--period", "2031Q1")
    assert "No unit you can see has the code “NOPE”." in refused("compute", "--period", "2026Q1", "--owner", "NOPE")
    other = schemes.publish_scheme(admin_user, schemes.load_scheme(admin_user, tree.sub2, YEAR, SCHEMES["dongli"]))
    services.create_plan(admin_user, other)
    message = refused("compute", "--period", "2026Q1")
    assert "2 periods are called 2026Q1" in message and "--owner SUB1" in message and "--owner SUB2" in message
    # a published period is locked unless --force
    period = setup.period("2026Q1")
    for to in (PeriodStatus.SCORING, PeriodStatus.REVIEW):
        services.move_period(admin_user, period, to)
    services.move_period(admin_user, period, PeriodStatus.PUBLISHED)
    before = AuditEntry.objects.count()
    message = refused("compute", "--period", "2026Q1", "--owner", "SUB1")
    assert "published: its results are locked" in message
    assert AuditEntry.objects.count() == before
    assert "0 results" in run("compute", "--period", "2026Q1", "--owner", "SUB1", "--force")


def test_compute_as_a_user_is_scoped(tree, admin_user, setup, users):
    staff, secretary = users[Role.DEPARTMENT_STAFF], users[Role.BRANCH_SECRETARY]
    assert "0 results computed" in run("--as", staff.username, "compute", "--period", "2026Q1")
    assert "may not do this" in refused("--as", secretary.username, "compute", "--period", "2026Q1")
    assert "No active user named 'ghost'" in refused("--as", "ghost", "compute", "--period", "2026Q1")


def test_load_fixture_export_import(tree, tmp_path):
    out = run("load-fixture", "liukao", "--owner", "SUB1", "--year", "2026", "--publish")
    scheme = Scheme.objects.get(owner=tree.sub1, year=2026)
    assert scheme.status == SchemeStatus.PUBLISHED and f"Scheme {scheme.pk}" in out and "74 items" in out
    target = tmp_path / "liukao.xlsx"
    out = run("export", "--scheme", str(scheme.pk), "--out", str(target))
    assert "to " + str(target) in out
    assert load_workbook(target).sheetnames == ["Items", "Star levels", "About"]  # --language en
    out = run("import", str(target), "--owner", "SUB1", "--year", "2027")
    copy = Scheme.objects.get(owner=tree.sub1, year=2027)
    assert "(draft): 74 items" in out and copy.status == SchemeStatus.DRAFT
    assert schemes.scheme_data(copy) == schemes.scheme_data(scheme)


def test_import_prints_every_problem_and_changes_nothing(tree, tmp_path, admin_user):
    scheme = schemes.load_scheme(admin_user, tree.sub1, YEAR, SCHEMES["liukao"])
    target = tmp_path / "bad.xlsx"
    call_command("assess", "export", "--scheme", str(scheme.pk), "--out", str(target), stdout=io.StringIO())
    wb = load_workbook(target)
    wb.worksheets[0].cell(2, 7).value = "重点"
    wb.worksheets[0].cell(4, 6).value = "abc"
    wb.save(target)
    before = (Scheme.objects.count(), AuditEntry.objects.count())
    out = io.StringIO()
    with pytest.raises(CommandError) as e:
        call_command("assess", "--language", "en", "import", str(target), "--owner", "SUB1", "--year", "2026",
                     stdout=out)
    assert str(e.value) == "2 problems found; nothing was imported."
    assert out.getvalue().splitlines() == ["row 2: Unknown kind “重点”.", "row 4: Maximum points must be a number."]
    assert (Scheme.objects.count(), AuditEntry.objects.count()) == before
    missing = tmp_path / "missing.xlsx"
    assert "Cannot read" in refused("import", str(missing), "--owner", "SUB1", "--year", "2026")
    assert "No scheme you can see has the id 999999." in refused("export", "--scheme", "999999", "--out",
                                                                  str(tmp_path / "x.xlsx"))
    assert "Cannot write" in refused("export", "--scheme", str(scheme.pk), "--out", str(tmp_path / "no" / "x.xlsx"))


def test_load_fixture_refusals(tree, users):
    before = (Scheme.objects.count(), AuditEntry.objects.count())
    assert "No unit you can see has the code “SUB2”." in refused(
        "--as", users[Role.DEPARTMENT_STAFF].username, "load-fixture", "liukao", "--owner", "SUB2", "--year", "2026")
    assert "may not do this" in refused(
        "--as", users[Role.BRANCH_SECRETARY].username, "load-fixture", "liukao", "--owner", "B01", "--year", "2026")
    with pytest.raises(CommandError):
        run("load-fixture", "nope", "--owner", "SUB1", "--year", "2026")
    assert (Scheme.objects.count(), AuditEntry.objects.count()) == before


def test_exit_status_is_non_zero(tree, monkeypatch, capsys):
    # run_from_argv closes the connections when done: keep the test's transaction open.
    monkeypatch.setattr("django.core.management.base.connections.close_all", lambda: None)
    with pytest.raises(SystemExit) as e:
        Command().run_from_argv(["pbqms", "assess", "--language", "en", "compute", "--period", "2031Q1"])
    assert e.value.code == 1
    assert "CommandError: No period 2031Q1 found." in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        Command().run_from_argv(["pbqms", "assess", "compute"])
    assert e.value.code == 2  # the usage error of a missing --period
