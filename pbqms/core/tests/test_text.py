"""#21.3: user text with control characters, direction overrides, invisible-only names, absurd
lengths and birth dates is refused by the services (clear message, nothing changed); what is
already stored is cleaned by a migration, and exports never fail on it."""

from __future__ import annotations

import datetime as dt
import importlib
import io

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from pbqms.accounts.models import Role
from pbqms.activities import services as activities
from pbqms.activities.models import ActivityKind, ActivityRecord
from pbqms.core import clock
from pbqms.members import services as members
from pbqms.members.models import Member, PartyStatus
from pbqms.orgs import services as orgs
from pbqms.orgs.models import Unit
from pbqms.rectification import services as rectification
from pbqms.rectification.models import Finding

pytestmark = pytest.mark.django_db

NUL_OK = connection.vendor != "postgresql"  # PostgreSQL text cannot hold U+0000 at all
BAD_NAMES = [("张\x01三", "控制字符"), ("张\u202e三", "阅读方向"), ("\u200b\u200b", "A person needs a name"),
             ("张\u000b三", "控制字符")] + ([("张\x00三", "控制字符")] if NUL_OK else [])


def message(err: ValidationError) -> str:
    return " ".join(err.messages)


@pytest.mark.parametrize(("name", "words"), BAD_NAMES)
def test_member_names_with_control_or_invisible_characters_are_refused(tree, users, name, words):
    before = Member.objects.count()
    with pytest.raises(ValidationError) as err:
        members.create_member(users[Role.BRANCH_SECRETARY], unit=tree.b01, name=name, gender="M",
                              status=PartyStatus.MASSES)
    if words == "A person needs a name":
        with translation.override("zh-hans"):
            assert "姓名" in message(err.value) or "名字" in message(err.value) or "需要" in message(err.value)
    else:
        assert words in message(err.value)
    assert Member.objects.count() == before
    with pytest.raises(ValidationError):
        members.update_member(users[Role.BRANCH_SECRETARY], Member.objects.get(pk=tree.m01.pk), name=name)
    assert Member.objects.get(pk=tree.m01.pk).name == "张三"


def test_messages_in_english(tree, users):
    with translation.override("en"), pytest.raises(ValidationError) as err:
        members.create_member(users[Role.BRANCH_SECRETARY], unit=tree.b01, name="张\x01三", gender="M",
                              status=PartyStatus.MASSES)
    assert "invisible control character (U+0001)" in message(err.value)
    with translation.override("en"), pytest.raises(ValidationError) as err:
        members.update_member(users[Role.BRANCH_SECRETARY], tree.m01, post="值\u202e班")
    assert "reverses the reading direction (U+202E)" in message(err.value)


@pytest.mark.parametrize(("born", "words"), [(dt.date.today() + dt.timedelta(days=1), "未来"),
                                             (dt.date(1899, 12, 31), "1900")])
def test_absurd_birth_dates_are_refused(tree, users, born, words):
    with pytest.raises(ValidationError) as err:
        members.create_member(users[Role.BRANCH_SECRETARY], unit=tree.b01, name="钱七", gender="M",
                              status=PartyStatus.MASSES, birth_date=born)
    assert words in message(err.value)
    assert not Member.objects.filter(name="钱七").exists()


def test_unit_names_checked(tree, users):
    with pytest.raises(ValidationError) as err:
        orgs.update_unit(users[Role.COMMITTEE_ADMIN], tree.b01, name="第一\x1b党支部")
    assert "控制字符" in message(err.value)
    with pytest.raises(ValidationError):
        orgs.update_unit(users[Role.COMMITTEE_ADMIN], tree.b01, name="\ufeff\u200d")
    assert Unit.objects.get(pk=tree.b01.pk).name == "第一党支部"


def test_a_five_million_character_description_is_refused(tree, users):
    with pytest.raises(ValidationError) as err:
        rectification.record_finding(users[Role.DEPARTMENT_STAFF], rectification.FindingInput(
            unit=tree.b01, description="问" * 5_000_000, found_on=dt.date.today()))
    assert "过长" in message(err.value) and "20000" in message(err.value)
    with pytest.raises(ValidationError) as err:
        rectification.record_finding(users[Role.DEPARTMENT_STAFF], rectification.FindingInput(
            unit=tree.b01, description="记录\x0b不全", found_on=dt.date.today()))
    assert "控制字符" in message(err.value)
    assert not Finding.objects.exists()
    # multi-line text keeps its newlines and tabs
    f = rectification.record_finding(users[Role.DEPARTMENT_STAFF], rectification.FindingInput(
        unit=tree.b01, description="第一行\n\t第二行", found_on=dt.date.today()))
    assert f.description == "第一行\n\t第二行"


def test_activity_record_text_checked(tree, users):
    secretary = users[Role.BRANCH_SECRETARY]
    with clock.as_of(dt.date(2026, 5, 20)):
        attendance = {m.pk: activities.Presence(True, "") for m in activities.roster_of(tree.b01)}
        with pytest.raises(ValidationError) as err:
            activities.record_activity(secretary, activities.RecordInput(
                unit=tree.b01, kind=ActivityKind.COMMITTEE_MEETING, held_on=dt.date(2026, 5, 12),
                topic="支委会", minutes="会\x07议", attendance=attendance))
    assert "控制字符" in message(err.value)
    assert not ActivityRecord.objects.exists()


def _store_bad_data(tree) -> None:
    """What older code accepted: control characters in a name, a description, a topic."""
    bad = "\x00\x01" if NUL_OK else "\x01\x02"
    Member.objects.filter(pk=tree.m01.pk).update(name=f"张{bad}三", post="值\u202e班")
    Unit.objects.filter(pk=tree.b01.pk).update(name="第一\x0b党支部")
    Finding.objects.create(unit=tree.b01, org_path=tree.b01.path, description=f"描述\x0b{bad}",
                           found_on=dt.date.today(), period="2026-05")


def test_exports_never_fail_on_stored_control_characters(client, tree, users):
    _store_bad_data(tree)
    client.force_login(users[Role.COMMITTEE_ADMIN])
    for url in (reverse("roster:export"), reverse("roster:export") + "?unmask=1",
                reverse("rectification:ledger_xlsx", args=["SUB1"])):
        r = client.get(url)
        assert r.status_code == 200, url
        wb = load_workbook(io.BytesIO(b"".join(r.streaming_content)))
        values = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row]
        assert "张三" in values or "第一党支部" in values or any(v == "描述" for v in values), url


def test_migration_cleans_stored_text(tree):
    _store_bad_data(tree)
    Member.objects.filter(pk=tree.m02.pk).update(name="\u200b\u200b", birth_date=dt.date(2999, 1, 1))
    migration = importlib.import_module("pbqms.core.migrations.0002_clean_user_text")
    migration.forwards(apps, connection.schema_editor())
    m01, m02 = Member.objects.get(pk=tree.m01.pk), Member.objects.get(pk=tree.m02.pk)
    assert (m01.name, m01.post) == ("张三", "值班")
    assert (m02.name, m02.birth_date) == ("未命名", None)
    assert Unit.objects.get(pk=tree.b01.pk).name == "第一党支部"
    assert Finding.objects.get().description == "描述"


def test_roster_import_rows_are_checked(tree, tmp_path):
    from pbqms.conftest import make_id_number
    from pbqms.roster import services as roster
    from pbqms.roster.tests.helpers import errors_at, person, state, workbook

    path = workbook(tmp_path / "r.xlsx", members=[
        person("孙\u202e八", make_id_number(40), "B01"),
        person("\u200b\u200b", make_id_number(41), "B01"),
        person("周九", make_id_number(42), "B01", post="x" * 121),
    ])
    before = state()
    result = roster.import_roster(path, None)
    where = {(row, col) for _s, row, col in errors_at(result)}
    assert {(2, "姓名"), (3, "姓名"), (4, "岗位")} <= where, result.errors
    assert any("阅读方向" in e["message"] for e in result.errors)
    assert state() == before


@pytest.mark.parametrize("sep", ["\u2028", "\u2029"])
def test_line_separators_break_a_one_line_text(sep):
    from pbqms.core import text

    with pytest.raises(ValidationError) as e:
        text.check("第一" + sep + "第二", "Name")
    assert e.value.code == "one_line"
    assert text.check("第一" + sep + "第二", "Minutes", multiline=True, max_length=100)
