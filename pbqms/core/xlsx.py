"""The one .xlsx writer of the product — every export's workbook, header style and response.

- **User text is text.** openpyxl turns any string starting with "=" into a live formula, and a
  spreadsheet program may evaluate text starting with "+", "-", "@", a tab or a carriage return
  once a cell is edited. Every sheet made by `Workbook` writes such strings as string cells
  (`t="inlineStr"`) with Excel's quote prefix, so they show and stay as typed (#21.2).
- **Nothing a service accepted is refused here.** Characters an .xlsx cannot hold (C0 controls
  other than tab, newline and carriage return) are dropped as a last resort, so a stored value the
  validators of `pbqms.core.text` would now refuse never makes an export answer 500 (#21.3).
- **One header style**: white bold on the party red, frozen below the header row.
- **One response**: `xlsx_response` sends a workbook as an attachment with its (translated) name
  and an ASCII fallback, as RFC 6266 asks (`filename=` plus `filename*=UTF-8''`).

Write-only workbooks stream their rows, so an export of 100,000 rows keeps one row in memory.
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from typing import IO, Any
from urllib.parse import quote

import openpyxl
from django.http import FileResponse, HttpResponse
from django.http.response import HttpResponseBase
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="B71C1C")
REQUIRED_FILL = PatternFill("solid", fgColor="8E1414")  # a column a new record must fill
BOLD = Font(bold=True)
# Text a spreadsheet program may read as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def clean(text: str) -> str:
    """`text` without the characters an .xlsx cannot hold."""
    return ILLEGAL_CHARACTERS_RE.sub("", text)


def _as_text(cell: Cell) -> Cell:
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell


def safe(ws: Any, value: Any) -> Any:
    """A value for `ws.append`: text that could be read as a formula becomes a string cell."""
    if isinstance(value, str):
        if not value:
            return value
        if ILLEGAL_CHARACTERS_RE.search(value):
            value = clean(value)
        if value.startswith(FORMULA_START):
            return _as_text(WriteOnlyCell(ws, value))
        return value
    if isinstance(value, Cell):
        v = value._value
        if isinstance(v, str):
            if ILLEGAL_CHARACTERS_RE.search(v):
                value._value = v = clean(v)
            if value.data_type == "f" or v.startswith(FORMULA_START):
                _as_text(value)
    return value


class _WriteOnlySheet(WriteOnlyWorksheet):
    def append(self, row: Iterable[Any]) -> None:
        super().append([safe(self, v) for v in row])


class _Sheet(Worksheet):
    def append(self, iterable: Iterable[Any]) -> None:
        super().append([safe(self, v) if isinstance(v, str) else v for v in iterable])

    def cell(self, row: int, column: int, value: Any = None) -> Cell:
        if isinstance(value, str):
            value = clean(value)
        c = super().cell(row, column, value)
        if value is not None and isinstance(c._value, str) and (c.data_type == "f"
                                                               or c._value.startswith(FORMULA_START)):
            _as_text(c)
        return c


class Workbook(openpyxl.Workbook):
    """openpyxl's workbook whose every sheet writes user text as text. Write-only by default."""

    def __init__(self, write_only: bool = True) -> None:
        super().__init__(write_only=write_only)
        if not write_only:
            self._sheets = [_Sheet(self)]

    def create_sheet(self, title: Any = None, index: int | None = None) -> Any:
        ws: Any = _WriteOnlySheet(parent=self, title=title) if self.write_only else _Sheet(parent=self, title=title)
        self._add_sheet(sheet=ws, index=index)
        return ws

    def save(self, filename: Any) -> None:
        if not self.write_only:  # cells set by assignment (ws["A1"] = …) pass here
            for ws in self.worksheets:
                for c in ws._cells.values():
                    if c.data_type == "f" and isinstance(c._value, str):
                        _as_text(c)
        super().save(filename)


def header(ws: Any, heads: Sequence[str | tuple[str, int]], *, required: Sequence[int] = (),
           width: Callable[[str], int] | None = None) -> None:
    """The header row in the one header style, with column widths, frozen below.

    `heads` are titles or (title, width) pairs; `required` the 0-based columns drawn darker."""
    cells = []
    for i, head in enumerate(heads):
        title, w = head if isinstance(head, tuple) else (head, None)
        if w is None:
            w = width(str(title)) if width else max(10, min(40, len(str(title)) * 2 + 6))
        ws.column_dimensions[get_column_letter(i + 1)].width = w
        c = WriteOnlyCell(ws, clean(str(title))) if isinstance(ws, WriteOnlyWorksheet) else None
        if c is None:
            c = ws.cell(row=1, column=i + 1, value=str(title))
        c.font = HEADER_FONT
        c.fill = REQUIRED_FILL if i in required else HEADER_FILL
        cells.append(c)
    ws.freeze_panes = "A2"
    if isinstance(ws, WriteOnlyWorksheet):
        ws.append(cells)


def sheet(wb: Workbook, title: str, heads: Sequence[str | tuple[str, int]], **kw: Any) -> Any:
    """A new sheet (title cut to Excel's 31 characters) with its header row."""
    ws = wb.create_sheet(clean(str(title))[:31] or "Sheet1")
    header(ws, heads, **kw)
    return ws


def table(out: str | os.PathLike[str] | IO[bytes], title: str, heads: Sequence[str | tuple[str, int]],
          rows: Iterable[Sequence[Any]], *, max_rows: int | None = None) -> int:
    """A one-sheet workbook of `rows` under `heads`, written to `out`; the number of rows."""
    wb = Workbook()
    ws = sheet(wb, title, heads)
    n = 0
    for row in rows:
        if max_rows is not None and n >= max_rows:
            break
        ws.append(row)
        n += 1
    wb.save(out)
    return n


def table_bytes(title: str, heads: Sequence[str | tuple[str, int]], rows: Iterable[Sequence[Any]],
                **kw: Any) -> bytes:
    import io

    buf = io.BytesIO()
    table(buf, title, heads, rows, **kw)
    return buf.getvalue()


# ---- the response ------------------------------------------------------------------------------

_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|]+')


def ascii_name(name: str) -> str:
    """An ASCII stand-in for a file name: Chinese in pinyin, anything else dropped."""
    from pbqms.core import pinyin

    out = []
    for ch in name:
        if ord(ch) < 128:
            out.append(ch)
        elif "\u4e00" <= ch <= "\u9fff":
            out.append(pinyin.full(ch).capitalize())
        else:
            ch = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
            out.append(ch)
    text = _UNSAFE_NAME.sub("-", "".join(out)).strip(" .-") or "export"
    return re.sub(r"\s+", "-", text)


def content_disposition(name: str, fallback: str | None = None) -> str:
    """`attachment; filename="…"; filename*=UTF-8''…` (RFC 6266 / 5987)."""
    name = _UNSAFE_NAME.sub("-", name).strip() or "export.xlsx"
    plain = ascii_name(fallback or name)
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"


def xlsx_response(content: bytes | IO[bytes] | Callable[[IO[bytes]], Any], name: str, *,
                  fallback: str | None = None) -> HttpResponseBase:
    """Send a workbook: bytes, an open file (sent from where it is), or a function writing one to a
    temporary file (streamed from disk; gone when the response closes it)."""
    if not name.lower().endswith(".xlsx"):
        name += ".xlsx"
    if callable(content):
        out: IO[bytes] = tempfile.TemporaryFile()
        try:
            content(out)
        except BaseException:
            out.close()
            raise
        out.seek(0)
        content = out
    if isinstance(content, bytes):
        response: HttpResponseBase = HttpResponse(content, content_type=XLSX)
    else:
        response = FileResponse(content, content_type=XLSX)
    response["Content-Disposition"] = content_disposition(name, fallback)
    return response


# ---- names -------------------------------------------------------------------------------------

_CN_DIGITS = "〇一二三四五六七八九十"


def period_name(key: str) -> str:
    """An assessment period's key as a file name says it: 2026Q3 → 2026年第三季度 / 2026 Q3."""
    from django.utils.translation import get_language

    zh = (get_language() or "zh-hans").startswith("zh")
    m = re.fullmatch(r"(\d{4})(?:([QH])(\d)|-?M?(\d{1,2}))?", key or "")
    if m is None:
        return key
    year, kind, n, month = m.groups()
    if kind == "Q":
        return f"{year}年第{_CN_DIGITS[int(n)]}季度" if zh else f"{year} Q{n}"
    if kind == "H":
        return f"{year}年{'上' if n == '1' else '下'}半年" if zh else f"{year} H{n}"
    if month:
        return f"{year}年{int(month)}月" if zh else f"{year}-{int(month):02d}"
    return f"{year}年度" if zh else year


def ranking_name(key: str) -> str:
    """2026Q3 → 2026年第三季度考核排名.xlsx / 2026 Q3 assessment ranking.xlsx"""
    from django.utils.translation import gettext as _

    return _("%(period)s assessment ranking") % {"period": period_name(key)} + ".xlsx"


def linkage_name(key: str) -> str:
    """2026Q3 → 2026年第三季度绩效挂钩表.xlsx / 2026 Q3 performance linkage.xlsx"""
    from django.utils.translation import gettext as _

    return _("%(period)s performance linkage") % {"period": period_name(key)} + ".xlsx"
