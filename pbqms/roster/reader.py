"""Streaming an .xlsx workbook row by row with openpyxl's read-only mode."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from openpyxl import load_workbook
from openpyxl.reader import excel as _excel_reader
from openpyxl.worksheet import _read_only
from openpyxl.worksheet._reader import DATA_TAG, DIMENSION_TAG
from openpyxl.worksheet.dimensions import SheetDimension
from openpyxl.xml.functions import iterparse


class _HeadOnlyReadOnlyWorksheet(_read_only.ReadOnlyWorksheet):
    """openpyxl looks for the optional <dimension> element by parsing up to the *end* of
    <sheetData> when it is missing (as in every write-only workbook, our exports included), which
    reads a 100,000-row sheet twice. <dimension> can only come before <sheetData>, so looking at
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
    """(Excel row number, values) for every row that has a value, header included."""
    # Some writers declare wrong dimensions ("A1"); never let them cut the sheet short.
    ws.reset_dimensions()
    for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
        for v in values:
            if v is not None and not (isinstance(v, str) and not v.strip()):
                yield number, values
                break
