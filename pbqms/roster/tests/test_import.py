"""Roster import through roster.services.import_roster: all or nothing, every problem reported."""

from __future__ import annotations

import datetime as dt

import pytest

from pbqms.accounts.models import Role
from pbqms.audit import services as audit
from pbqms.audit.models import AuditAction, AuditEntry
from pbqms.core import crypto, pinyin
from pbqms.members import services as member_services
from pbqms.members.models import Member, PartyStatus, StatusStep
from pbqms.orgs import services as org_services
from pbqms.orgs.models import Unit, path_segment
from pbqms.roster import services
from pbqms.roster.models import ImportJob
from pbqms.roster.synthetic import id_number

from .helpers import member_row, person, state, unit_row, workbook

pytestmark = pytest.mark.django_db

ID1, BORN1 = id_number(1, True)
ID2, BORN2 = id_number(2, False)
ID3, _ = id_number(3, True)


def good_file(tmp_path, lang="zh-hans"):
    units = [
        unit_row("B10", "第十党支部", "党支部", "SUB1", variant="联合党支部", order=3, founded_on=dt.date(2001, 7, 1),
                 department="运输区"),
        unit_row("B10G1", "第十党支部第一党小组", "党小组", "B10"),
        unit_row("GB1", "机关党总支", "党总支", "SUB1"),
        unit_row("GB1B1", "机关第一党支部", "党支部", "GB1"),  # its parent is new too
        unit_row("TMP1", "项目临时党支部", "临时党支部", "GB1"),  # a variant named as the kind
    ]
    members = [
        person("赵一", ID1, "B10", group="B10G1", phone="13900001111", education="本科", post="调度员",
               applicant_on=dt.date(2005, 3, 1), activist_on=dt.date(2006, 3, 1), candidate_on=dt.date(2007, 3, 1),
               probationary_on=dt.date(2008, 7, 1), joined_on=dt.date(2008, 7, 1), status_date=dt.date(2009, 7, 1)),
        person("钱二", ID2, "GB1B1", status="入党积极分子", gender="女", status_date=dt.date(2020, 5, 4)),
        person("孙三", None, "B10", status="群众", status_date=None, gender="男"),
    ]
    return workbook(tmp_path / "good.xlsx", units, members, lang)


def test_good_file_imports_everything(tree, tmp_path):
    before_audit = AuditEntry.objects.count()
    result = services.import_roster(good_file(tmp_path), None)
    assert result.ok, result.errors
    assert result.summary == {"units_created": 5, "units_updated": 0, "units_unchanged": 0,
                              "members_created": 3, "members_updated": 0, "members_unchanged": 0}
    tmp = Unit.objects.get(code="TMP1")
    assert (tmp.kind, tmp.variant) == ("branch", "temporary")
    b10, g1, gb1, gb1b1 = (Unit.objects.get(code=c) for c in ("B10", "B10G1", "GB1", "GB1B1"))
    assert b10.path == tree.sub1.path + path_segment(b10.pk) and b10.depth == tree.sub1.depth + 1
    assert g1.path == b10.path + path_segment(g1.pk) and g1.parent == b10
    assert gb1b1.path == gb1.path + path_segment(gb1b1.pk) and gb1b1.depth == 3
    assert (b10.variant, b10.order, b10.founded_on, b10.department) == ("joint", 3, dt.date(2001, 7, 1), "运输区")

    zhao = Member.objects.get(id_number_hash=crypto.lookup_hash(ID1))
    assert (zhao.name, zhao.unit, zhao.group, zhao.org_path) == ("赵一", b10, g1, b10.path)
    assert zhao.name_pinyin == pinyin.full("赵一") and zhao.name_initials == "zy"
    assert zhao.id_number_masked == ID1[:1] + "*" * 16 + ID1[-1:] and crypto.decrypt(zhao.id_number_encrypted) == ID1
    assert zhao.birth_date == BORN1 and zhao.phone_masked == "139****1111" and zhao.education == "bachelor"
    assert zhao.status == PartyStatus.FULL and zhao.joined_on == dt.date(2008, 7, 1)
    assert dict(zhao.status_steps.values_list("status", "date")) == {
        "applicant": dt.date(2005, 3, 1), "activist": dt.date(2006, 3, 1), "candidate": dt.date(2007, 3, 1),
        "probationary": dt.date(2008, 7, 1), "full": dt.date(2009, 7, 1)}
    qian = Member.objects.get(name="钱二")
    assert (qian.status, qian.gender, qian.unit.code) == ("activist", "F", "GB1B1")
    sun = Member.objects.get(name="孙三")
    assert sun.status == PartyStatus.MASSES and sun.id_number_hash is None and not sun.status_steps.exists()

    # One audit entry per created record, and one for the import itself, on its job.
    entries = AuditEntry.objects.all()[: AuditEntry.objects.count() - before_audit]
    assert sorted(e.action for e in entries) == ["create"] * 8 + ["import"]
    created_zhao = AuditEntry.objects.get(model="members.member", object_id=str(zhao.pk))
    assert created_zhao.changes["name"] == [None, "赵一"] and created_zhao.org_path == b10.path
    # The same entry members.services.create_member would have written.
    assert created_zhao.changes == audit.created(audit.snapshot(zhao, member_services.AUDITED_FIELDS))
    created_b10 = AuditEntry.objects.get(model="orgs.unit", object_id=str(b10.pk))
    assert created_b10.changes == audit.created(audit.snapshot(b10, org_services.AUDITED_FIELDS))
    assert created_b10.action == "create" and created_b10.actor_name == "system"
    job = ImportJob.objects.get(pk=result.job_id)
    assert job.state == ImportJob.State.DONE and job.summary["members_created"] == 3
    assert AuditEntry.objects.filter(action=AuditAction.IMPORT, object_id=str(job.pk)).count() == 1


def test_reimport_changes_nothing_but_the_import_record(tree, tmp_path):
    path = good_file(tmp_path)
    assert services.import_roster(path, None).ok
    before = state()
    again = services.import_roster(path, None)
    assert again.ok
    assert again.summary == {"units_created": 0, "units_updated": 0, "units_unchanged": 5,
                             "members_created": 0, "members_updated": 0, "members_unchanged": 3}
    after = state()
    assert after["audit"] == before["audit"] + 1
    assert AuditEntry.objects.order_by("-id").first().action == AuditAction.IMPORT
    assert {k: v for k, v in after.items() if k != "audit"} == {k: v for k, v in before.items() if k != "audit"}


def test_english_headers_codes_and_labels(tree, tmp_path):
    path = workbook(tmp_path / "en.xlsx", [unit_row("B11", "Branch 11", "branch", "SUB1")],
                    [person("Li Lei", ID1, "B11", status="full", gender="M", education="Master"),
                     person("韩梅", ID2, "B11", status="Probationary member", gender="F", status_date=None,
                            joined_on=dt.date(2024, 7, 1))], lang="en")
    result = services.import_roster(path, None)
    assert result.ok, result.errors
    assert Member.objects.get(name="Li Lei").education == "master"
    han = Member.objects.get(name="韩梅")
    assert han.status == "probationary" and han.status_steps.get().date == dt.date(2024, 7, 1)


def test_every_problem_is_reported_and_nothing_changes(tree, tmp_path):
    bad_check = ID1[:-1] + ("0" if ID1[-1] != "0" else "1")
    units = [
        unit_row("B20", "第二十党支部", "党支部", "SUB1"),  # fine on its own
        unit_row("G9", "错位小组", "党小组", "SUB1"),  # row 3: a group under a committee
        unit_row("B21", "", "党支部", "NOPE"),  # row 4: no name, unknown parent
        unit_row("B20", "重复", "党支部", "SUB1"),  # row 5: duplicate code
        unit_row("B22", "第二十二党支部", "支部委员会?", "SUB1"),  # row 6: unknown kind
    ]
    members = [
        person("甲", bad_check, "B20"),  # row 2: check digit
        person("乙", ID2, "B20", gender="女", birth_date=dt.date(1990, 1, 1)),  # row 3: birth date vs ID
        person("丙", ID3, "NOSUCH"),  # row 4: unknown unit
        person("丁", id_number(4, True)[0], "B20", group="B01G1"),  # row 5: group of another unit
        person("戊", ID3, "B20"),  # row 6: same ID number as row 4
        person("己", id_number(5, True)[0], "B20", status_date="2020-13-45"),  # row 7: bad date
        person("庚", id_number(6, True)[0], "B20", status="党员积极"),  # row 8: bad status
        member_row(name=None, gender="男", id_number=id_number(7, True)[0], unit="B20", status="正式党员",
                   status_date=dt.date(2010, 1, 1)),  # row 9: missing name
        person("辛", None, "B20"),  # row 10: party member without ID number
        person("壬", id_number(8, True)[0], "B20", status_date=dt.date(2030, 1, 1)),  # row 11: future
        person("癸", id_number(9, True)[0], "B20", status="入党积极分子", candidate_on=dt.date(2015, 1, 1)),  # row 12
        person("子", id_number(10, True)[0], "B20", applicant_on=dt.date(2012, 1, 1),
               status_date=dt.date(2011, 1, 1)),  # row 13: steps go backwards
        person("丑", "3201**********1234", "B20"),  # row 14: masked ID without a record ID
    ]
    path = workbook(tmp_path / "bad.xlsx", units, members)
    before = state()
    result = services.import_roster(path, None, language="en")
    assert not result.ok
    where = {(e["sheet"], e["row"], e["column"]): e["message"] for e in result.errors}
    expected = {
        ("党组织", 3, "上级组织编码"), ("党组织", 4, "组织名称"), ("党组织", 4, "上级组织编码"),
        ("党组织", 5, "组织编码"), ("党组织", 6, "组织类型"),
        ("党员", 2, "身份证号"), ("党员", 3, "身份证号"), ("党员", 4, "所在组织编码"), ("党员", 5, "党小组编码"),
        ("党员", 6, "身份证号"), ("党员", 7, "当前状态日期"), ("党员", 8, "政治面貌"), ("党员", 9, "姓名"),
        ("党员", 10, "身份证号"), ("党员", 11, "当前状态日期"), ("党员", 12, "确定发展对象日期"),
        ("党员", 13, "当前状态日期"), ("党员", 14, "身份证号"),
    }
    assert expected <= set(where), sorted(set(expected) - set(where))
    assert "check digit" in where[("党员", 2, "身份证号")]
    assert "does not match" in where[("党员", 3, "身份证号")]
    assert "row 4" in where[("党员", 6, "身份证号")]
    assert "row 2" in where[("党组织", 5, "组织编码")]
    assert "cannot sit under" in where[("党组织", 3, "上级组织编码")]
    assert all(e["cell"] for e in result.errors if e["row"])
    assert result.errors == sorted(result.errors, key=lambda e: (e["sheet"] != "党组织", e["row"]))
    assert state() == before  # nothing changed, not even the audit log


def test_messages_in_the_requested_language(tree, tmp_path, settings):
    path = workbook(tmp_path / "bad.xlsx", members=[person("甲", ID1, "NOSUCH")])
    result = services.import_roster(path, None, language="en")
    assert result.errors[0]["message"] == "No unit you can see has the code “NOSUCH”."


def test_dry_run_checks_and_changes_nothing(tree, tmp_path):
    before = state()
    result = services.import_roster(good_file(tmp_path), None, dry_run=True)
    assert result.ok and result.dry_run and result.summary["members_created"] == 3
    assert state() == before and result.job_id is None


def test_changed_cells_update_and_are_audited(tree, tmp_path):
    path = good_file(tmp_path)
    services.import_roster(path, None)
    zhao = Member.objects.get(name="赵一")
    changed = workbook(tmp_path / "changed.xlsx",
                       [unit_row("B10", "第十党支部（运输）", "党支部", "SUB1")],
                       [person("赵一", ID1, "B10", post="值班长", phone="13900002222", status_date=None),
                        person("钱二", ID2, "GB1B1", status="发展对象", status_date=dt.date(2021, 6, 1), gender="女")])
    result = services.import_roster(changed, None)
    assert result.ok, result.errors
    assert result.summary["units_updated"] == 1 and result.summary["members_updated"] == 2
    zhao.refresh_from_db()
    assert zhao.post == "值班长" and zhao.phone_masked == "139****2222" and zhao.education == "bachelor"
    entry = AuditEntry.objects.filter(model="members.member", object_id=str(zhao.pk), action="update").get()
    assert entry.changes["post"] == ["调度员", "值班长"]
    qian = Member.objects.get(name="钱二")
    assert qian.status == "candidate" and qian.status_steps.get(status="candidate").date == dt.date(2021, 6, 1)
    assert Unit.objects.get(code="B10").name == "第十党支部（运输）"


def test_rules_that_import_does_not_bypass(tree, tmp_path):
    services.import_roster(good_file(tmp_path), None)
    path = workbook(tmp_path / "x.xlsx", [unit_row("B10", "第十党支部", "党支部", "SUB2")],
                    [person("赵一", ID1, "B02"),  # a transfer, not an edit
                     person("钱二", ID2, "GB1B1", status="申请人", gender="女")])  # status back
    result = services.import_roster(path, None)
    cols = {(e["sheet"], e["column"]) for e in result.errors}
    assert cols == {("党组织", "上级组织编码"), ("党员", "所在组织编码"), ("党员", "政治面貌")}


def test_masses_without_id_number_match_by_name_and_unit(tree, tmp_path):
    path = workbook(tmp_path / "m.xlsx", members=[person("周四", None, "B01", status="群众", status_date=None)])
    assert services.import_roster(path, None).summary["members_created"] == 1
    assert services.import_roster(path, None).summary["members_unchanged"] == 1


@pytest.mark.parametrize("role", [Role.BRANCH_SECRETARY, Role.BRANCH_COMMITTEE])
def test_branch_roles_import_only_into_their_branch(users, tree, tmp_path, role):
    user = users[role]
    path = workbook(tmp_path / "s.xlsx",
                    [unit_row("B01G2", "第二党小组", "党小组", "B01")],  # branch roles cannot add units
                    [person("本支部", ID1, "B01"),
                     person("别支部", ID2, "B02", gender="女"),  # readable? no: outside the branch
                     person("王五", ID3, "B03")])
    before = state()
    result = services.import_roster(path, user)
    assert not result.ok
    rows = {(e["sheet"], e["row"]) for e in result.errors}
    assert rows == {("党组织", 2), ("党员", 3), ("党员", 4)}
    assert state() == before
    ok = workbook(tmp_path / "ok.xlsx", members=[person("本支部", ID1, "B01")])
    assert services.import_roster(ok, user).summary["members_created"] == 1


def test_people_outside_scope_cannot_be_changed_even_by_id_number(users, tree, tmp_path):
    from pbqms.conftest import make_id_number

    born = dt.date(1985, 3, 12)
    path = workbook(tmp_path / "o.xlsx", members=[person("李四", make_id_number(2, born), "B01")])
    result = services.import_roster(path, users[Role.BRANCH_SECRETARY], language="en")
    assert [e["column"] for e in result.errors] == ["身份证号"]
    assert "outside your scope" in result.errors[0]["message"]


def test_unreadable_and_empty_files(tree, tmp_path):
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"not a workbook")
    result = services.import_roster(junk, None)
    assert not result.ok and result.errors[0]["sheet"] == ""
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "Sheet1"
    wb.save(tmp_path / "nosheets.xlsx")
    result = services.import_roster(tmp_path / "nosheets.xlsx", None, language="en")
    assert not result.ok and "neither" in result.errors[0]["message"]


def test_a_sheet_named_otherwise_is_recognised_by_its_headers(tree, tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"  # as another system's export names it
    ws.append(["姓名", "性别", "身份证号", "政治面貌", "当前状态日期", "所在支部编码", "工号"])
    ws.append(["新人", "男", ID1, "中共党员", "2012-07-01", "B02", "E1001"])
    wb.save(tmp_path / "hr.xlsx")
    result = services.import_roster(tmp_path / "hr.xlsx", None)
    assert result.ok, result.errors
    assert result.summary["members_created"] == 1 and result.ignored_columns == ["Sheet1: 工号"]
    assert Member.objects.get(name="新人").status == PartyStatus.FULL


def test_missing_required_column_is_one_problem(tree, tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Members"
    ws.append(["Name", "Gender", "Unit code"])
    ws.append(["张三", "男", "B01"])
    wb.save(tmp_path / "cols.xlsx")
    result = services.import_roster(tmp_path / "cols.xlsx", None)
    assert [(e["sheet"], e["row"]) for e in result.errors] == [("Members", 1)]
    assert "政治面貌" in result.errors[0]["message"]


def test_a_generated_file_of_thousands_of_rows(tree, tmp_path):
    from pbqms.roster.synthetic import write_roster

    path = tmp_path / "big.xlsx"
    write_roster(str(path), 3000, parent="SUB1", prefix="Z")
    phases = set()
    result = services.import_roster(path, None, progress=lambda phase, done, total: phases.add(phase))
    assert result.ok, result.errors[:5]
    assert result.summary["members_created"] == 3000 and result.summary["units_created"] == 200
    assert phases == {"reading", "checking", "writing"}
    assert Member.objects.filter(org_path__startswith=tree.sub1.path).count() == 3000 + 2
    assert StatusStep.objects.filter(member__unit__code__startswith="Z").count() > 3000
    assert AuditEntry.objects.filter(action="create", model="members.member").count() >= 3000
    again = services.import_roster(path, None)
    assert again.summary["members_unchanged"] == 3000 and again.summary["units_unchanged"] == 200


def test_subtree_totals_stay_exact(tree, tmp_path):
    from pbqms.orgs import tally
    from pbqms.orgs.models import UnitTally

    services.import_roster(good_file(tmp_path), None)
    changed = workbook(tmp_path / "c.xlsx", members=[
        person("钱二", ID2, "GB1B1", status="发展对象", status_date=dt.date(2021, 6, 1), gender="女")])
    services.import_roster(changed, None)
    kept = sorted(UnitTally.objects.filter(n__gt=0).values_list("unit_id", "key", "n"))
    tally.recount()
    assert kept == sorted(UnitTally.objects.filter(n__gt=0).values_list("unit_id", "key", "n"))
    assert tally.read([tree.sub1.pk], "person:")[tree.sub1.pk]["candidate"] == 1
