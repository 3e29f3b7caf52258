"""Streaming an .xlsx workbook row by row.

openpyxl's read-only mode opens the workbook (sheets, shared strings, which styles are dates);
the cells themselves are read here. openpyxl builds a descriptor-checked object for every inline
string, which write-only workbooks (our exports, generated files) use for every text cell, and
walks every XML event in Python: 100,000 people took over half a minute. Here the sheet's XML is
cut into blocks of whole rows, each parsed at C speed, which reads the same cells several times
faster, with memory bounded by one block.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
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

INLINE_TAG = f"{{{SHEET_MAIN_NS}}}is"
TEXT_TAG = f"{{{SHEET_MAIN_NS}}}t"
# The text of a rich inline string is in its runs (is/r/t); phonetic runs (is/rPh/t) are not text.
RUN_TEXT_PATH = f"{{{SHEET_MAIN_NS}}}r/{{{SHEET_MAIN_NS}}}t"
BLOCK = 1 << 20  # bytes of sheet XML parsed at a time


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
    try:
        return load_workbook(source, read_only=True, data_only=True)
    except Exception as err:  # zipfile.BadZipFile, KeyError, InvalidFileException, …
        raise UnreadableWorkbook(str(err) or err.__class__.__name__)


def declared_rows(ws: Any) -> int | None:
    """The row count the sheet declares (for progress only: some writers get it wrong)."""
    try:
        return int(ws.max_row) if ws.max_row else None
    except (TypeError, ValueError):
        return None


def rows(ws: Any) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """(Excel row number, values) for every row that has a value, header included. The sheet's
    declared dimensions are ignored: some writers get them wrong."""
    reader = _Cells(ws)
    number = 0
    with ws._get_source() as src:
        for row in _row_elements(src):
            r = row.get("r")
            number = int(r) if r else number + 1
            values = reader.row(row)
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


_NAME = rb"(?:[A-Za-z_][\w.-]*:)?"
_DATA_START = re.compile(rb"<(" + _NAME + rb")sheetData\b[^>]*?(/?)>")
_XMLNS = re.compile(rb"\sxmlns(:[\w.-]+)?\s*=\s*(\"[^\"]*\"|'[^']*')")


def _row_elements(src: IO[bytes]) -> Iterator[ET.Element]:
    """The <row> elements of a sheet, parsed a block of whole rows at a time.

    Text and attribute values cannot hold '<', so '</row>' only ever closes a row: cutting the
    XML there is safe. The blocks are wrapped in an element that redeclares the root's
    namespaces. Anything unexpected (another encoding, no <sheetData>) falls back to a
    streaming parse of the whole sheet."""
    head = b""
    m = None
    while m is None:
        chunk = src.read(BLOCK)
        if not chunk:
            break
        head += chunk
        m = _DATA_START.search(head)
        if m is None and len(head) > 64 * BLOCK:
            break
    if m is None or b"encoding" in head[:100] and b"utf-8" not in head[:100].lower():
        yield from _iterparse_rows(_Chain(head, src))
        return
    if m.group(2):  # <sheetData/>: no rows
        return
    prefix = m.group(1)
    decls: dict[bytes, bytes] = {}
    for ns in _XMLNS.finditer(head, 0, m.start()):
        decls.setdefault(ns.group(1) or b"", ns.group(0))
    opening = b"<pbqms-rows" + b"".join(decls.values()) + b">"
    closing = b"</pbqms-rows>"
    row_end = b"</" + prefix + b"row>"
    data_end = b"</" + prefix + b"sheetData>"
    buf = head[m.end():]
    done = False
    while not done:
        stop = buf.find(data_end)
        if stop >= 0:
            block, done = buf[:stop], True
        else:
            cut = buf.rfind(row_end)
            chunk = src.read(BLOCK)
            if not chunk:
                block, done = buf, True  # truncated sheet: let the parser say so
            elif cut < 0:
                buf += chunk
                continue
            else:
                cut += len(row_end)
                block, buf = buf[:cut], buf[cut:] + chunk
        if block.strip():
            yield from ET.fromstring(opening + block + closing)


class _Chain:
    """A file-like of already-read bytes followed by the rest of a stream."""

    def __init__(self, first: bytes, rest: IO[bytes]):
        self.first, self.rest = first, rest

    def read(self, size: int = -1) -> bytes:
        if self.first:
            out, self.first = self.first, b""
            return out
        return self.rest.read(size)


def _iterparse_rows(src: Any) -> Iterable[ET.Element]:
    for _event, el in iterparse(src):
        if el.tag == ROW_TAG:
            yield el
            el.clear()
