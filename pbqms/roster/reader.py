"""Streaming an .xlsx workbook row by row.

openpyxl's read-only mode opens the workbook (sheets, shared strings, which styles are dates);
the cells themselves are read here, from the same streaming XML parse. openpyxl builds a
descriptor-checked object for every inline string, which write-only workbooks (our exports,
generated files) use for every text cell: 100,000 people took over half a minute to read that
way, and a quarter of it here.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import IO, Any

from openpyxl import load_workbook
from openpyxl.reader import excel as _excel_reader
from openpyxl.utils import column_index_from_string
from openpyxl.utils.datetime import WINDOWS_EPOCH, from_excel, from_ISO8601
from openpyxl.worksheet import _read_only
from openpyxl.worksheet._reader import CELL_TAG, DATA_TAG, DIMENSION_TAG, ROW_TAG, VALUE_TAG
from openpyxl.worksheet.dimensions import SheetDimension
from openpyxl.xml.constants import SHEET_MAIN_NS
from openpyxl.xml.functions import iterparse

from pbqms.core import uploads

INLINE_TAG = f"{{{SHEET_MAIN_NS}}}is"
TEXT_TAG = f"{{{SHEET_MAIN_NS}}}t"
# The text of a rich inline string is in its runs (is/r/t); phonetic runs (is/rPh/t) are not text.
RUN_TEXT_PATH = f"{{{SHEET_MAIN_NS}}}r/{{{SHEET_MAIN_NS}}}t"


class _HeadOnlyReadOnlyWorksheet(_read_only.ReadOnlyWorksheet):
    """openpyxl looks for the optional <dimension> element by parsing up to the *end* of
    <sheetData> when it is missing (as in every write-only workbook), which reads a large sheet
    once more just to open the file. <dimension> can only come before <sheetData>, so looking at
    the head of the sheet gives the same answer."""

    def _get_size(self) -> None:
        with self._get_source() as src:
            for _event, element in iterparse(src, events=("start",)):
                if element.tag == DIMENSION_TAG:
                    dims = SheetDimension.from_tree(element).boundaries
                    if dims is not None:
                        self._min_column, self._min_row, self._max_column, self._max_row = dims
                    return
                if element.tag == DATA_TAG:
                    return


_excel_reader.ReadOnlyWorksheet = _HeadOnlyReadOnlyWorksheet  # type: ignore[misc]


class UnreadableWorkbook(Exception):
    pass


def open_workbook(source: str | IO[bytes] | Any) -> Any:
    """The workbook, read-only; uploads.ArchiveRefused first if it would expand too much."""
    uploads.check_archive(source)
    try:
        return load_workbook(source, read_only=True, data_only=True)
    except Exception as err:  # zipfile.BadZipFile, KeyError, InvalidFileException, …
        raise UnreadableWorkbook(str(err) or err.__class__.__name__)


def sheet_size(ws: Any) -> int:
    """Bytes of the sheet's XML, to tell how far reading has come."""
    try:
        return int(ws.parent._archive.getinfo(ws._worksheet_path).file_size)
    except (AttributeError, KeyError):
        return 0


class Position:
    """How many bytes of a sheet's XML have been read so far."""

    def __init__(self) -> None:
        self.src: Any = None

    def __int__(self) -> int:
        try:
            return int(self.src.tell()) if self.src is not None else 0
        except (OSError, ValueError):
            return 0


def rows(ws: Any, position: Position | None = None) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """(Excel row number, values) for every row that has a value, header included. The sheet's
    declared dimensions are ignored: some writers get them wrong."""
    cells = _Cells(ws)
    with ws._get_source() as src:
        if position is not None:
            position.src = src
        for number, values in _sheet_rows(src, cells):
            for v in values:
                if v is not None and not (isinstance(v, str) and not v.strip()):
                    yield number, values
                    break


class _Cells:
    def __init__(self, ws: Any):
        wb = ws.parent
        self.shared = ws._shared_strings
        self.date_styles = wb._date_formats
        self.epoch = wb.epoch
        self.letters: dict[str, int] = {}

    def row(self, row: ET.Element) -> tuple[Any, ...]:
        values: list[Any] = []
        for cell in row:
            if cell.tag != CELL_TAG:
                continue
            ref = cell.get("r")
            if ref:
                letter = ref.rstrip("0123456789")
                col = self.letters.get(letter)
                if col is None:
                    col = self.letters[letter] = column_index_from_string(letter) - 1
            else:
                col = len(values)
            value = self.value(cell)
            if value is None:
                continue
            if col >= len(values):
                values.extend([None] * (col + 1 - len(values)))
            values[col] = value
        return tuple(values)

    def value(self, cell: ET.Element) -> Any:
        kind = cell.get("t", "n")
        if kind == "inlineStr":
            inline = cell.find(INLINE_TAG)
            if inline is None:
                return None
            plain = inline.find(TEXT_TAG)
            if plain is not None:
                return plain.text or ""
            return "".join(t.text or "" for t in inline.iterfind(RUN_TEXT_PATH))
        v = cell.findtext(VALUE_TAG)
        if not v:
            return None
        if kind == "s":
            return str(self.shared[int(v)])
        if kind == "n":
            num: int | float = int(v) if v.lstrip("-").isdigit() else float(v)
            style = cell.get("s")
            if style and int(style) in self.date_styles:
                return _excel_date(num, self.epoch)
            return num
        if kind == "b":
            return v == "1"
        if kind == "d":
            return from_ISO8601(v)
        return v  # "str" (a formula's text) and "e" (an error such as #N/A)


_WINDOWS_BASE = dt.datetime(1899, 12, 30)


def _excel_date(num: int | float, epoch: Any) -> Any:
    if isinstance(num, int) and num >= 61 and epoch == WINDOWS_EPOCH:
        return _WINDOWS_BASE + dt.timedelta(days=num)  # whole days after Excel's 1900 leap-year bug
    try:
        return from_excel(num, epoch)
    except (OverflowError, ValueError):
        return num


def _sheet_rows(src: IO[bytes], cells: _Cells) -> Iterator[tuple[int, tuple[Any, ...]]]:
    number = 0
    for _event, row in iterparse(src):  # "end" events: a row is complete when it comes
        if row.tag != ROW_TAG:
            continue
        r = row.get("r")
        number = int(r) if r else number + 1
        values = cells.row(row)
        row.clear()
        yield number, values
