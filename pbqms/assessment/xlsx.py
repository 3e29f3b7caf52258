"""Schemes as .xlsx — 考核细则的导入导出: the workbook a department keeps its scheme in.

Three sheets: "细则" (one row per item, with its category), "星级" (the star levels) and "说明"
(name, full mark, caps, description). Headers, sheet names and the labels of kinds, methods and
veto effects are part of the file format, not page text: each carries its Chinese and English
form, the export writes the active language's and the import accepts both (and the codes), so a
file written in one language imports in the other.

The import is all or nothing: `read_scheme` turns a workbook into scheme data (the shape of
fixtures/liukao.py) and lists every problem with its row ("第N行" / "row N") — unreadable cells
here, the scheme's own rules through `schemes.check_data`; `import_scheme` stores it with
`schemes.load_scheme` as a new draft version only when there is none.
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.styles import Alignment

from pbqms.assessment import schemes
from pbqms.assessment.models import ItemKind, Method, Scheme, TargetKind, VetoEffect
from pbqms.core import uploads as core_uploads
from pbqms.core import xlsx as core_xlsx
from pbqms.orgs.models import Unit

XLSX_TYPE = core_xlsx.XLSX
MAX_ROWS = 2000  # a scheme has tens of items; anything far bigger is not a scheme workbook


def is_chinese(lang: str | None = None) -> bool:
    return (lang or get_language() or "zh-hans").lower().startswith("zh")


# ---- the format ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    width: int = 10
    required: bool = False
    aliases: tuple[str, ...] = ()

    def header(self, lang: str | None = None) -> str:
        return self.zh if is_chinese(lang) else self.en

    def names(self) -> tuple[str, ...]:
        return (self.zh, self.en, self.key, *self.aliases)


ITEM_COLUMNS = (
    Column("category_code", "类别编码", "Category code", 9, True),
    Column("category_name", "类别名称", "Category", 12, True, ("类别",)),
    Column("code", "编码", "Code", 8, True, ("项目编码", "item code")),
    Column("title", "项目", "Item", 20, True, ("项目名称", "title")),
    Column("standard", "考核内容与标准", "Content and standard", 60, True, ("考核内容", "考核标准", "standard")),
    Column("max_points", "分值", "Points", 7, True, ("最高分值", "maximum points")),
    Column("kind", "类型", "Kind", 12, True, ("指标类型",)),
    Column("method", "计分方法", "Scoring method", 11, True, ("计分方式", "method")),
    Column("deduct_per", "每次分值", "Points per occurrence", 9),
    Column("levels", "分档", "Levels", 22, False, ("档次",)),
    Column("ratio_floor", "零分比率", "Rate giving 0 points", 9),
    Column("ratio_full", "满分比率", "Rate giving full points", 9),
    Column("evidence_required", "需佐证", "Evidence required", 7, False, ("需要佐证",)),
    Column("annual_only", "仅年度", "Annual only", 7, False, ("仅年度考核",)),
    Column("metric", "自动指标", "Computed from", 22, False, ("自动计分",)),
    Column("veto_effect", "否决效果", "Veto effect", 10),
    Column("veto_deduction", "否决扣分", "Veto deduction", 9),
    Column("veto_star_cap", "星级上限", "Stars at most", 8),
)
STAR_COLUMNS = (
    Column("stars", "星级", "Stars", 7, True),
    Column("min_total", "最低总分", "Minimum total", 10, True),
    Column("quota_pct", "名额比例", "Quota (%)", 10),
    Column("no_veto", "无否决", "No veto", 8),
    Column("min_category_pct", "各类别最低得分率", "Every category at least (%)", 16),
)
# The 说明 sheet: one property per row, its label in column A and its value in column B.
PROPERTIES = (
    Column("name", "名称", "Name", required=True, aliases=("细则名称", "考核细则")),
    Column("target_kind", "考核对象", "Assesses"),
    Column("full_mark", "满分", "Full mark"),
    Column("bonus_cap", "加分上限", "Bonus cap"),
    Column("penalty_cap", "扣分上限", "Penalty cap"),
    Column("public_member_ranking", "公开党员排名", "Show members' ranking"),
    Column("description", "说明", "Description", aliases=("描述",)),
)
NUMBER_KEYS = {"max_points", "deduct_per", "ratio_floor", "ratio_full", "veto_deduction"}
FLAG_KEYS = {"evidence_required", "annual_only"}

SHEETS = {
    "items": ("细则", "Items", ("考核细则", "细则表", "items")),
    "stars": ("星级", "Star levels", ("星级标准", "stars")),
    "about": ("说明", "About", ("填写说明", "about", "scheme")),
}

# Labels of the coded values: (code, Chinese, English, more spellings).
KINDS = (
    (ItemKind.WORK, "工作指标", "Work indicator", ()),
    (ItemKind.VETO, "否决指标", "Veto indicator", ("一票否决", "否决")),
    (ItemKind.INTERACTIVE, "互动评价指标", "Interactive indicator", ("互动指标", "互动评价")),
    (ItemKind.BONUS, "加分", "Bonus", ("加分项",)),
    (ItemKind.PENALTY, "扣分", "Penalty", ("扣分项",)),
)
METHODS = (
    (Method.DEDUCT, "按次扣分", "Per occurrence", ("按次计分", "扣完为止")),
    (Method.GRADED, "分档计分", "Graded levels", ("分档",)),
    (Method.RATIO, "比例折算", "Ratio formula", ("按比例折算", "比例")),
    (Method.YESNO, "是否", "Yes / no", ("是/否", "yes/no")),
)
VETO_EFFECTS = (
    (VetoEffect.ZERO, "总分为零", "Total becomes 0", ("零分",)),
    (VetoEffect.BLOCK_STARS, "不得评星", "No star rating", ()),
    (VetoEffect.CAP_STARS, "星级封顶", "Stars capped", ("限制星级",)),
    (VetoEffect.DEDUCT, "固定扣分", "Fixed deduction", ("扣减总分",)),
)
TARGETS = (
    (TargetKind.BRANCH, "基层党组织", "Party organisations", ("党组织", "党支部", "支部")),
    (TargetKind.MEMBER, "党员量化积分", "Party members", ("党员", "member points")),
)
YES = {"是", "√", "✓", "y", "yes", "true", "1", "有", "需要"}
NO = {"否", "×", "n", "no", "false", "0", "无", "不需要"}


def _norm(text: Any) -> str:
    return re.sub(r"[\s_\-/（）()]+", "", str(text or "")).lower()


def _label(choices: Iterable[tuple[str, str, str, tuple[str, ...]]], code: str, lang: str | None = None) -> str:
    for value, zh, en, _more in choices:
        if value == code:
            return zh if is_chinese(lang) else en
    return code


def _code(choices: Iterable[tuple[str, str, str, tuple[str, ...]]], text: str) -> str | None:
    wanted = _norm(text)
    for value, zh, en, more in choices:
        if wanted in {_norm(value), _norm(zh), _norm(en), *(_norm(m) for m in more)}:
            return str(value)
    return None


# ---- export --------------------------------------------------------------------------------------

def _spread_number(value: Any) -> Any:
    """A stored decimal as a spreadsheet number (whole numbers as int), blank as None."""
    if value in (None, ""):
        return None
    d = Decimal(str(value))
    return int(d) if d == d.to_integral_value() else float(d)


def _flag(value: bool, lang: str | None) -> str:
    return ("是" if value else "否") if is_chinese(lang) else ("yes" if value else "no")


def format_levels(levels: Iterable[Iterable[Any]]) -> str:
    """[["好", "3"], ["较好", "2"]] → "好:3;较好:2"."""
    return ";".join(f"{label}:{points}" for label, points in levels)


def _header_row(ws: Any, headers: list[str], widths: list[int]) -> None:
    core_xlsx.header(ws, list(zip(headers, widths, strict=True)))  # the one header style


def export_scheme(scheme: Scheme, lang: str | None = None) -> bytes:
    """The scheme as an .xlsx workbook (the format `read_scheme` reads back)."""
    data = schemes.scheme_data(scheme)
    wb = core_xlsx.Workbook(write_only=False)  # the one writer: user text stays text
    ws = wb.active
    ws.title = SHEETS["items"][0 if is_chinese(lang) else 1]
    _header_row(ws, [c.header(lang) for c in ITEM_COLUMNS], [c.width for c in ITEM_COLUMNS])
    wrap = Alignment(wrap_text=True, vertical="top")
    for category in data["categories"]:
        for item in category["items"]:
            row: list[Any] = []
            for col in ITEM_COLUMNS:
                key = col.key
                if key == "category_code":
                    row.append(category["code"])
                elif key == "category_name":
                    row.append(category["name"])
                elif key in NUMBER_KEYS:
                    row.append(_spread_number(item[key]))
                elif key in FLAG_KEYS:
                    row.append(_flag(bool(item[key]), lang))
                elif key == "kind":
                    row.append(_label(KINDS, item[key], lang))
                elif key == "method":
                    row.append(_label(METHODS, item[key], lang))
                elif key == "veto_effect":
                    row.append(_label(VETO_EFFECTS, item[key], lang) if item[key] else None)
                elif key == "levels":
                    row.append(format_levels(item[key]) or None)
                elif key == "veto_star_cap":
                    row.append(item[key])
                else:
                    row.append(item[key] or None)
            ws.append(row)
            ws.cell(row=ws.max_row, column=5).alignment = wrap
    stars = wb.create_sheet(SHEETS["stars"][0 if is_chinese(lang) else 1])
    _header_row(stars, [c.header(lang) for c in STAR_COLUMNS], [c.width for c in STAR_COLUMNS])
    for level in data["stars"]:
        stars.append([level["stars"], _spread_number(level["min_total"]), _spread_number(level["quota_pct"]),
                      _flag(bool(level["no_veto"]), lang), _spread_number(level["min_category_pct"])])
    about = wb.create_sheet(SHEETS["about"][0 if is_chinese(lang) else 1])
    _header_row(about, ["项目", "内容"] if is_chinese(lang) else ["Property", "Value"], [16, 100])
    values = {
        "name": data["name"], "target_kind": _label(TARGETS, data["target_kind"], lang),
        "full_mark": _spread_number(data["full_mark"]), "bonus_cap": _spread_number(data["bonus_cap"]),
        "penalty_cap": _spread_number(data["penalty_cap"]),
        "public_member_ranking": _flag(bool(data["public_member_ranking"]), lang),
        "description": data["description"] or None,
    }
    for prop in PROPERTIES:
        about.append([prop.header(lang), values[prop.key]])
    about.cell(row=about.max_row, column=2).alignment = wrap
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ---- import --------------------------------------------------------------------------------------

class SchemeFileError(ValidationError):
    """A scheme workbook with problems: `errors` lists each with its row; nothing was stored."""

    def __init__(self, errors: list[schemes.RowError]):
        self.errors = errors
        super().__init__([str(e) for e in errors], code="scheme_file")


Row = tuple[int, tuple[Any, ...]]
Choices = Iterable[tuple[str, str, str, tuple[str, ...]]]


def _where(sheet: str, row: int, main: bool) -> str:
    """Where a problem is: "第N行" on the items sheet, "星级 第N行" on the others."""
    if main:
        return _("row %(row)s") % {"row": row}
    return _("%(sheet)s, row %(row)s") % {"sheet": sheet, "row": row}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _rows(ws: Any, limit: int) -> list[Row]:
    """(Excel row number, values) of the rows holding something, at most `limit` (+1 to tell)."""
    found = ((n, tuple(v)) for n, v in enumerate(ws.iter_rows(values_only=True), start=1)
             if any(_text(x) for x in v))
    return list(itertools.islice(found, limit + 1))


def _number(text: Any) -> str | None:
    """A number cell as a plain decimal string ("1.5"), None when blank; the text itself when it is
    not a number, so that check_data names the field and the value."""
    if isinstance(text, bool):
        return str(text)
    raw = _text(text)
    if not raw:
        return None
    try:
        d = Decimal(raw.replace(",", "").replace("，", "").rstrip("%％").strip())
    except InvalidOperation:
        return raw
    if not d.is_finite():
        return raw
    return format(d.normalize(), "f")


def _whole(text: str | None) -> int | str | None:
    if text is None:
        return None
    try:
        d = Decimal(text)
    except InvalidOperation:
        return text
    return int(d) if d == d.to_integral_value() else text


LEVEL_RE = re.compile(r"^(?P<label>.*?)\s*[:：=]\s*(?P<points>.*)$")


class _Reader:
    """Reads the three sheets, collecting problems the scheme's own checks cannot see (the file's
    structure, yes/no cells, the levels' notation, the 说明 sheet)."""

    def __init__(self) -> None:
        self.errors: list[schemes.RowError] = []
        # check_data's messages that only repeat a problem reported here: (where, message)
        self.repeats: set[tuple[str, str]] = set()

    def error(self, where: str, message: str) -> None:
        self.errors.append(schemes.RowError(where, message))

    def flag(self, where: str, header: str, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        text = _norm(value)
        if not text or text in {_norm(n) for n in NO}:
            return False
        if text in {_norm(y) for y in YES}:
            return True
        self.error(where, _("%(column)s: write 是 or 否 (yes or no), not “%(value)s”.")
                   % {"column": header, "value": _text(value)})
        return False

    def levels(self, where: str, header: str, value: Any) -> list[list[str]]:
        """"好:3;较好:2;一般:1;差:0" (also with ：；，、 or line breaks) → [["好", "3"], ...]."""
        text = _text(value)
        out: list[list[str]] = []
        for part in re.split(r"[;；,，、\n]+", text):
            if not part.strip():
                continue
            m = LEVEL_RE.match(part.strip())
            points = _number(m.group("points")) if m else None
            try:
                ok = m is not None and bool(m.group("label")) and points is not None and Decimal(points).is_finite()
            except InvalidOperation:
                ok = False
            if not ok or m is None or points is None:
                self.error(where, _("%(column)s: “%(value)s” is not a list of levels such as "
                                    "“好:3;较好:2;一般:1;差:0”.") % {"column": header, "value": text})
                self.repeats.add((where, _("A graded item needs at least two levels, each with a label and points.")))
                self.repeats.add((where, _("Levels' points must lie between 0 and the maximum, the top level at "
                                           "the maximum.")))
                return []
            out.append([m.group("label"), points])
        return out

    def header(self, sheet: str, columns: tuple[Column, ...], rows: list[Row]) -> dict[str, int] | None:
        """Column key → index, from the sheet's first row; None (reported) when a required one is missing."""
        if not rows:
            self.error(sheet, _("The sheet “%(sheet)s” is empty: its first row must hold the column headers.")
                       % {"sheet": sheet})
            return None
        number, values = rows[0]
        found: dict[str, int] = {}
        for index, value in enumerate(values):
            name = _norm(value)
            for col in columns:
                if col.key not in found and name and name in {_norm(n) for n in col.names()}:
                    found[col.key] = index
        missing = [c.header() for c in columns if c.required and c.key not in found]
        if missing:
            self.error(_where(sheet, number, False), _("Columns missing from the header row: %(columns)s.")
                       % {"columns": "、".join(missing)})
            return None
        return found

    def too_long(self, sheet: str, rows: list[Row], limit: int) -> bool:
        if len(rows) > limit:
            self.error(sheet, _("The sheet “%(sheet)s” has more than %(max)s rows: it is not a scheme.")
                       % {"sheet": sheet, "max": limit})
            return True
        return False


def _sheet(wb: Any, key: str) -> Any:
    zh, en, aliases = SHEETS[key]
    names = {_norm(n) for n in (zh, en, *aliases)}
    return next((ws for ws in wb.worksheets if _norm(ws.title) in names), None)


def _cell(cols: Mapping[str, int], values: tuple[Any, ...], key: str) -> Any:
    i = cols.get(key)
    return values[i] if i is not None and i < len(values) else None


def read_scheme(source: str | bytes | IO[bytes]) -> tuple[dict[str, Any], list[schemes.RowError]]:
    """Scheme data from a workbook and every problem in it, each with its row (none: it can be stored)."""
    reader = _Reader()
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    try:
        core_uploads.check_archive(source)  # the one guard before opening an upload (pbqms.core.uploads)
    except core_uploads.ArchiveRefused as err:
        reader.error(_("file"), err.messages[0])
        return {}, reader.errors
    try:
        wb = load_workbook(source, read_only=True, data_only=True)
    except Exception:  # zipfile.BadZipFile, KeyError, InvalidFileException, …
        reader.error(_("file"), _("This is not an .xlsx workbook (Excel 2007 or later): save it as .xlsx and "
                                  "import it again."))
        return {}, reader.errors
    try:
        data = _read(wb, reader)
    except Exception:  # a damaged part inside a valid-looking package
        reader.errors = [schemes.RowError(_("file"), _("The workbook cannot be read: it is damaged."))]
        return {}, reader.errors
    finally:
        wb.close()
    return data, reader.errors


def _read(wb: Any, reader: _Reader) -> dict[str, Any]:
    data: dict[str, Any] = {"name": "", "categories": [], "stars": []}
    items_ws, about_ws, stars_ws = _sheet(wb, "items"), _sheet(wb, "about"), _sheet(wb, "stars")
    for key, ws in (("items", items_ws), ("about", about_ws)):
        if ws is None:
            zh, en, _aliases = SHEETS[key]
            reader.error(_("file"), _("The workbook has no sheet “%(sheet)s”.") % {"sheet": zh if is_chinese() else en})
    if items_ws is not None:
        data["categories"] = _read_items(items_ws, reader)
    if stars_ws is not None:
        data["stars"] = _read_stars(stars_ws, reader)
    if about_ws is not None:
        data.update(_read_about(about_ws, reader))
    # Already reported as the file's structure or the 说明 sheet's name:
    reader.repeats |= {(_("scheme"), _("The scheme has no categories.")),
                       (_("scheme"), _("The scheme has no name."))}
    # The scheme's own rules (codes, points, methods, vetoes, stars), each on its row.
    reader.errors.extend(e for e in schemes.check_data(data) if (e.where, e.message) not in reader.repeats)
    return data


def _read_items(ws: Any, reader: _Reader) -> list[dict[str, Any]]:
    sheet = ws.title
    rows = _rows(ws, MAX_ROWS)
    if reader.too_long(sheet, rows, MAX_ROWS):
        return []
    cols = reader.header(sheet, ITEM_COLUMNS, rows)
    if cols is None:
        return []
    if len(rows) == 1:
        reader.error(_where(sheet, rows[0][0], True), _("The sheet lists no items."))
        return []
    headers = {c.key: c.header() for c in ITEM_COLUMNS}
    categories: dict[str, dict[str, Any]] = {}
    for number, values in rows[1:]:
        where = _where(sheet, number, True)
        item: dict[str, Any] = {"_where": where}
        for key in ("code", "title", "standard", "metric"):
            item[key] = _text(_cell(cols, values, key))
        for key in NUMBER_KEYS:
            item[key] = _number(_cell(cols, values, key))
        for key in FLAG_KEYS:
            item[key] = reader.flag(where, headers[key], _cell(cols, values, key))
        # A label not recognised passes through as written, so check_data names it (“Unknown kind …”).
        for key, choices, default in (("kind", KINDS, ItemKind.WORK), ("method", METHODS, Method.DEDUCT),
                                      ("veto_effect", VETO_EFFECTS, "")):
            text = _text(_cell(cols, values, key))
            item[key] = (_code(choices, text) or text) if text else str(default)
        item["veto_star_cap"] = _whole(_number(_cell(cols, values, "veto_star_cap")))
        item["levels"] = reader.levels(where, headers["levels"], _cell(cols, values, "levels"))
        ccode, cname = _text(_cell(cols, values, "category_code")), _text(_cell(cols, values, "category_name"))
        category = categories.get(ccode)
        if category is None:
            category = categories[ccode] = {"code": ccode, "name": cname, "items": [], "_where": where}
        elif cname and cname != category["name"]:
            reader.error(where, _("Category %(code)s is named “%(name)s” on an earlier row, “%(other)s” here.")
                         % {"code": ccode, "name": category["name"], "other": cname})
        category["items"].append(item)
    return list(categories.values())


def _read_stars(ws: Any, reader: _Reader) -> list[dict[str, Any]]:
    sheet = ws.title
    rows = _rows(ws, 50)
    if not rows or reader.too_long(sheet, rows, 50):
        return []  # an empty star sheet: the scheme awards no stars
    cols = reader.header(sheet, STAR_COLUMNS, rows)
    if cols is None:
        return []
    headers = {c.key: c.header() for c in STAR_COLUMNS}
    return [{
        "_where": _where(sheet, number, False),
        "stars": _whole(_number(_cell(cols, values, "stars"))),
        "min_total": _number(_cell(cols, values, "min_total")),
        "quota_pct": _number(_cell(cols, values, "quota_pct")),
        "no_veto": reader.flag(_where(sheet, number, False), headers["no_veto"], _cell(cols, values, "no_veto")),
        "min_category_pct": _number(_cell(cols, values, "min_category_pct")),
    } for number, values in rows[1:]]


def _read_about(ws: Any, reader: _Reader) -> dict[str, Any]:
    sheet = ws.title
    out: dict[str, Any] = {"name": "", "target_kind": TargetKind.BRANCH.value, "description": "",
                           "public_member_ranking": False}
    labels = {prop.key: {_norm(n) for n in prop.names()} for prop in PROPERTIES}
    seen: set[str] = set()
    rows = _rows(ws, 100)
    if reader.too_long(sheet, rows, 100):
        return out
    for number, values in rows:
        label = _norm(values[0] if values else "")
        value = values[1] if len(values) > 1 else None
        key = next((k for k, names in labels.items() if label in names), None)
        if key is None or key in seen:
            continue  # the header row, notes
        seen.add(key)
        where = _where(sheet, number, False)
        header = next(p.header() for p in PROPERTIES if p.key == key)
        if key in ("full_mark", "bonus_cap", "penalty_cap"):
            number_text = _number(value)
            try:
                ok = number_text is None or Decimal(number_text) >= 0
            except InvalidOperation:
                ok = False
            if not ok:
                reader.error(where, _("%(column)s: “%(value)s” is not a number, 0 or more.")
                             % {"column": header, "value": _text(value)})
                number_text = None
            out[key] = number_text
        elif key == "public_member_ranking":
            out[key] = reader.flag(where, header, value)
        elif key == "target_kind":
            text = _text(value)
            code = _code(TARGETS, text) if text else TargetKind.BRANCH.value
            if code is None:
                reader.error(where, _("%(column)s: “%(value)s” is neither 基层党组织 nor 党员量化积分.")
                             % {"column": header, "value": text})
                code = TargetKind.BRANCH.value
            out[key] = code
        else:
            out[key] = _text(value)
    if not out["name"]:
        reader.error(sheet, _("Give the scheme's name (名称) on the sheet “%(sheet)s”.") % {"sheet": sheet})
    return out


def clean(data: Mapping[str, Any]) -> dict[str, Any]:
    """The data without the reader's bookkeeping (row positions), as load_scheme and scheme_data see it."""
    out = {k: v for k, v in data.items() if not k.startswith("_")}
    out["categories"] = [{**{k: v for k, v in c.items() if not k.startswith("_")},
                          "items": [{k: v for k, v in i.items() if not k.startswith("_")} for i in c["items"]]}
                         for c in data.get("categories") or []]
    out["stars"] = [{k: v for k, v in s.items() if not k.startswith("_")} for s in data.get("stars") or []]
    return out


def import_scheme(actor: Any, owner: Unit, year: int, source: str | bytes | IO[bytes], *,
                  check_rights: bool = True) -> Scheme:
    """Store a workbook's scheme as a new draft version of (owner, year), or raise SchemeFileError
    listing every problem (nothing stored). Rights are checked before the file is read."""
    if check_rights and not schemes.can_manage(actor, owner):
        raise PermissionDenied
    data, errors = read_scheme(source)
    if errors:
        raise SchemeFileError(errors)
    return schemes.load_scheme(actor, owner, year, clean(data), check_rights=check_rights)
