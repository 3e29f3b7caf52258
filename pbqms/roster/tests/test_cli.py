"""`pbqms import-roster` and `pbqms export-roster`."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from pbqms.accounts.models import Role
from pbqms.cli import main
from pbqms.members.models import Member
from pbqms.roster.synthetic import id_number

from .helpers import person, state, workbook

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_dry_run_then_import(tree, tmp_path):
    path = workbook(tmp_path / "a.xlsx", members=[person("新人", id_number(1, True)[0], "B02")])
    before = state()
    out, err = run("import_roster", str(path), "--dry-run", "--language", "en")
    assert "No problem found" in out and "1 created" in out and "checking" in err
    assert state() == before
    out, _err = run("import_roster", str(path), "--language", "en")
    assert "Imported" in out and Member.objects.filter(name="新人").exists()


def test_import_reports_problems_and_fails(tree, tmp_path):
    path = workbook(tmp_path / "b.xlsx", members=[person("新人", id_number(1, True)[0], "NOPE")])
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 problems"):
        call_command("import_roster", str(path), "--quiet", "--language", "en", stdout=out, stderr=io.StringIO())
    assert "党员!K2 [所在组织编码]: No unit you can see has the code “NOPE”." in out.getvalue()


def test_import_as_a_user_stays_in_their_scope(users, tree, tmp_path):
    path = workbook(tmp_path / "c.xlsx", members=[person("新人", id_number(1, True)[0], "B02")])
    with pytest.raises(CommandError):
        run("import_roster", str(path), "--as", users[Role.BRANCH_SECRETARY].username, "--quiet")
    with pytest.raises(CommandError, match="No active user"):
        run("import_roster", str(path), "--as", "nobody")


def test_export_with_unit_and_user(users, tree, tmp_path):
    path = tmp_path / "e.xlsx"
    out, _err = run("export_roster", str(path), "--unit", "B01", "--language", "en")
    assert "Exported 1 people" in out
    with pytest.raises(CommandError, match="No unit you can see"):
        run("export_roster", str(path), "--unit", "B03", "--as", users[Role.BRANCH_SECRETARY].username,
            "--language", "en")
    with pytest.raises(CommandError):
        run("export_roster", str(path), "--unmask", "--as", users[Role.BRANCH_SECRETARY].username)
    out, _err = run("import_roster", str(path), "--quiet", "--language", "en")
    assert "1 unchanged" in out


def test_console_script_names_with_dashes(monkeypatch):
    # Django closes every connection after a command run from the command line, so the real
    # commands are exercised above through call_command; here only the routing.
    import django.core.management

    seen = []
    monkeypatch.setattr(django.core.management, "execute_from_command_line", seen.append)
    main(["pbqms", "import-roster", "a.xlsx", "--dry-run"])
    main(["pbqms", "export-roster", "b.xlsx", "--unit", "B01"])
    assert seen == [["pbqms", "import_roster", "a.xlsx", "--dry-run"],
                    ["pbqms", "export_roster", "b.xlsx", "--unit", "B01"]]
