"""Schemes as .xlsx: export → import round trips, and every malformed workbook refused whole, each
problem named with its row, nothing stored."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import translation
from openpyxl import Workbook, load_workbook

from pbqms.accounts.models import Role
from pbqms.assessment import schemes, xlsx
from pbqms.assessment.fixtures import SCHEMES
from pbqms.assessment.models import Scheme, SchemeItem, SchemeStatus
from pbqms.audit.models import AuditEntry

YEAR = 2026


@pytest.fixture
def liukao(tree, admin_user) -> Scheme:
    return schemes.load_scheme(admin_user, tree.sub1, YEAR, SCHEMES["liukao"])


def _edit(data: bytes, change) -> bytes:  # type: ignore[no-untyped-def]
    wb = load_workbook(io.BytesIO(data))
    change(wb)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _row_of(wb, code: str) -> int:  # type: ignore[no-untyped-def]
    ws = wb.worksheets[0]
    for row in ws.iter_rows(min_row=2):
        if row[2].value == code:
            return row[0].row
    raise AssertionError(code)


def _refused(admin, tree, data: bytes) -> list[str]:  # type: ignore[no-untyped-def]
    """Import in English; assert nothing was stored; return the problems as 'where: message'."""
    before = (Scheme.objects.count(), SchemeItem.objects.count(), AuditEntry.objects.count())
    with translation.override("en"), pytest.raises(xlsx.SchemeFileError) as e:
        xlsx.import_scheme(admin, tree.sub1, YEAR, data)
    assert (Scheme.objects.count(), SchemeItem.objects.count(), AuditEntry.objects.count()) == before
    return [str(err) for err in e.value.errors]


@pytest.mark.parametrize("name", ["liukao", "dongli", "member_points"])
@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_round_trip(tree, admin_user, name, lang):
    original = schemes.load_scheme(admin_user, tree.sub1, YEAR, SCHEMES[name])
    data = xlsx.export_scheme(original, lang)
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == (["细则", "星级", "说明"] if lang == "zh-hans" else ["Items", "Star levels", "About"])
    copy = xlsx.import_scheme(admin_user, tree.sub1, YEAR, data)
    assert copy.pk != original.pk and copy.version == original.version + 1
    assert copy.status == SchemeStatus.DRAFT
    assert schemes.scheme_data(copy) == schemes.scheme_data(original)


def test_export_layout(liukao):
    wb = load_workbook(io.BytesIO(xlsx.export_scheme(liukao, "zh-hans")))
    items = wb["细则"]
    header = [c.value for c in items[1]]
    assert header[:8] == ["类别编码", "类别名称", "编码", "项目", "考核内容与标准", "分值", "类型", "计分方法"]
    assert header[8:] == ["每次分值", "分档", "零分比率", "满分比率", "需佐证", "仅年度", "自动指标", "否决效果",
                          "否决扣分", "星级上限"]
    assert items.max_row == 1 + 74  # 67 items (款) + 3 vetoes + 4 bonus/penalty rules
    rows = {r[2]: r for r in items.iter_rows(min_row=2, values_only=True)}
    assert rows["DJ06"][9] == "好:2;较好:1.5;一般:1;差:0" and rows["DJ06"][7] == "分档计分"
    assert rows["DJ01"][14] == "activities.compliance_rate" and rows["DJ01"][7] == "比例折算"
    assert rows["FJ02"][6] == "否决指标" and rows["FJ02"][15] == "不得评星" and rows["FJ02"][17] is None
    assert rows["JK03"][6] == "扣分" and rows["DJ03"][8] == 0.5
    stars = [r for r in wb["星级"].iter_rows(values_only=True)]
    assert stars[0] == ("星级", "最低总分", "名额比例", "无否决", "各类别最低得分率")
    assert stars[1] == (5, 95, 10, "是", 85)
    about = {r[0]: r[1] for r in wb["说明"].iter_rows(values_only=True)}
    assert about["名称"] == liukao.name and about["满分"] == 100 and about["加分上限"] == 5
    assert about["考核对象"] == "基层党组织"


def test_english_codes_and_spellings_are_accepted(tree, admin_user, liukao):
    def change(wb):  # type: ignore[no-untyped-def]
        ws = wb.worksheets[0]
        ws.cell(_row_of(wb, "JK01"), 7).value = "bonus"
        ws.cell(_row_of(wb, "JK03"), 7).value = "Penalty"
        ws.cell(_row_of(wb, "DJ03"), 8).value = "deduct"
        ws.cell(_row_of(wb, "DJ03"), 13).value = "yes"
        ws.cell(_row_of(wb, "DJ06"), 10).value = "好：2；较好：1.5；一般：1；差：0"
        ws.cell(_row_of(wb, "FJ01"), 16).value = "zero"

    data = _edit(xlsx.export_scheme(liukao, "zh-hans"), change)
    copy = xlsx.import_scheme(admin_user, tree.sub1, YEAR, data)
    assert schemes.scheme_data(copy) == schemes.scheme_data(liukao)


def test_every_bad_row_is_reported_with_its_row(tree, admin_user, liukao):
    rows: dict[str, int] = {}

    def change(wb):  # type: ignore[no-untyped-def]
        ws = wb.worksheets[0]
        for code in ("DJ02", "DJ03", "DJ04", "DJ05", "DJ06", "XC01", "JK01"):
            rows[code] = _row_of(wb, code)
        ws.cell(rows["DJ02"], 7).value = "重点指标"  # unknown kind
        ws.cell(rows["DJ03"], 6).value = "两分"  # points not a number
        ws.cell(rows["DJ04"], 5).value = None  # no standard
        ws.cell(rows["DJ05"], 3).value = "DJ01"  # duplicate code
        ws.cell(rows["DJ06"], 10).value = "好 2 较好 1.5"  # levels malformed
        ws.cell(rows["XC01"], 13).value = "也许"  # not yes/no
        ws.cell(rows["JK01"], 9).value = "一分"  # points per occurrence not a number

    problems = _refused(admin_user, tree, _edit(xlsx.export_scheme(liukao, "zh-hans"), change))
    text = "\n".join(problems)
    assert f"row {rows['DJ02']}: Unknown kind “重点指标”." in problems
    assert f"row {rows['DJ03']}: Maximum points must be a number." in problems
    assert f"row {rows['DJ04']}: The item has no content and standard." in problems
    assert f"row {rows['DJ05']}: Item code DJ01 is used twice." in problems
    assert f"row {rows['DJ06']}: Levels: “好 2 较好 1.5” is not a list of levels" in text
    assert f"row {rows['XC01']}: Evidence required: write 是 or 否 (yes or no), not “也许”." in problems
    assert f"row {rows['JK01']}: points per occurrence: “一分” is not a number." in problems
    # one message per problem: the malformed levels are not reported a second time by the scheme's rules
    assert len([p for p in problems if p.startswith(f"row {rows['DJ06']}:")]) == 1
    assert len([p for p in problems if p.startswith(f"row {rows['JK01']}:")]) == 1


def test_rule_errors_carry_their_rows(tree, admin_user, liukao):
    rows: dict[str, int] = {}

    def change(wb):  # type: ignore[no-untyped-def]
        ws = wb.worksheets[0]
        for code in ("FJ03", "DJ01", "DJ03"):
            rows[code] = _row_of(wb, code)
        ws.cell(rows["FJ03"], 16).value = "固定扣分"  # a veto that deducts: no longer allowed (issue 22.5)
        ws.cell(rows["DJ01"], 11).value = 99  # 0-point rate above the full-point rate
        ws.cell(rows["DJ03"], 9).value = 5  # per occurrence above the maximum (2)

    problems = _refused(admin_user, tree, _edit(xlsx.export_scheme(liukao, "en"), change))
    assert any(p.startswith(f"row {rows['FJ03']}: A veto removes eligibility") for p in problems)
    assert any(p.startswith(f"row {rows['DJ01']}: A ratio item needs") for p in problems)
    assert f"row {rows['DJ03']}: Points per occurrence exceed the item's maximum." in problems


def test_star_and_about_sheets_are_checked_row_by_row(tree, admin_user, liukao):
    def change(wb):  # type: ignore[no-untyped-def]
        stars, about = wb["星级"], wb["说明"]
        stars.cell(3, 1).value = 5  # a second 5-star level, row 3
        stars.cell(4, 2).value = "九十"  # minimum total not a number, row 4
        stars.cell(5, 1).value = 7  # row 5
        for row in about.iter_rows():
            if row[0].value == "满分":
                row[1].value = "一百"
            if row[0].value == "考核对象":
                row[1].value = "群众"

    problems = _refused(admin_user, tree, _edit(xlsx.export_scheme(liukao, "zh-hans"), change))
    assert "星级, row 3: The 5-star level is given twice." in problems
    assert any(p.startswith("星级, row 4: Each star level needs") for p in problems)
    assert "星级, row 5: Stars run from 1 to 5." in problems
    assert any(p.startswith("说明, row 4: Full mark: “一百” is not a number") for p in problems)
    assert any(p.startswith("说明, row 3: Assesses: “群众” is neither") for p in problems)


def test_missing_sheets_headers_and_name(tree, admin_user, liukao):
    data = xlsx.export_scheme(liukao, "zh-hans")
    no_about = _edit(data, lambda wb: wb.remove(wb["说明"]))
    assert "file: The workbook has no sheet “About”." in _refused(admin_user, tree, no_about)

    no_items = _edit(data, lambda wb: wb.remove(wb["细则"]))
    problems = _refused(admin_user, tree, no_items)
    assert problems == ["file: The workbook has no sheet “Items”."]

    def drop_headers(wb):  # type: ignore[no-untyped-def]
        wb["细则"].cell(1, 6).value = "满分值"
        wb["细则"].cell(1, 7).value = None

    problems = _refused(admin_user, tree, _edit(data, drop_headers))
    assert problems == ["细则, row 1: Columns missing from the header row: Points、Kind."]

    def no_name(wb):  # type: ignore[no-untyped-def]
        for row in wb["说明"].iter_rows():
            if row[0].value == "名称":
                row[1].value = None

    assert _refused(admin_user, tree, _edit(data, no_name)) == [
        "说明: Give the scheme's name (名称) on the sheet “说明”."]

    def only_header(wb):  # type: ignore[no-untyped-def]
        wb["细则"].delete_rows(2, 200)

    assert _refused(admin_user, tree, _edit(data, only_header)) == ["row 1: The sheet lists no items."]


def test_not_an_xlsx_file(tree, admin_user):
    expected = ["file: This is not an .xlsx workbook (Excel 2007 or later): save it as .xlsx and import it again."]
    assert _refused(admin_user, tree, b"\xd0\xcf\x11\xe0 an old .xls or anything else") == expected
    assert _refused(admin_user, tree, "类别编码,类别名称\n".encode()) == expected
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("word/document.xml", "<w:document/>")
    assert _refused(admin_user, tree, buf.getvalue()) == expected


def test_an_empty_workbook(tree, admin_user):
    buf = io.BytesIO()
    Workbook().save(buf)
    problems = _refused(admin_user, tree, buf.getvalue())
    assert problems == ["file: The workbook has no sheet “Items”.", "file: The workbook has no sheet “About”."]


def test_messages_in_chinese_by_default(tree, admin_user, liukao):
    data = _edit(xlsx.export_scheme(liukao), lambda wb: wb.remove(wb["说明"]))
    with pytest.raises(xlsx.SchemeFileError) as e:
        xlsx.import_scheme(admin_user, tree.sub1, YEAR, data)
    assert "说明" in e.value.messages[0]


def test_only_managers_import(tree, users, liukao):
    data = xlsx.export_scheme(liukao)
    for role in (Role.BRANCH_SECRETARY, Role.INTERNAL_AUDITOR, Role.MEMBER):
        with pytest.raises(PermissionDenied):
            xlsx.import_scheme(users[role], tree.sub1, YEAR, data)
    with pytest.raises(PermissionDenied):
        xlsx.import_scheme(users[Role.DEPARTMENT_STAFF], tree.sub2, YEAR, data)
    scheme = xlsx.import_scheme(users[Role.DEPARTMENT_STAFF], tree.sub1, YEAR, data)
    assert scheme.owner == tree.sub1 and scheme.items.count() == 74
