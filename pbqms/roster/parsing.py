"""Reading a roster workbook — 花名册读取: the rows of both sheets, each cell parsed as it comes.

Bad cells are reported with their sheet, row and column, never guessed. What a row holds is kept
compactly (slotted objects), for checking against the roster in importer.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from pbqms.core import crypto, uploads
from pbqms.core import text as core_text
from pbqms.members import idnumber
from pbqms.orgs.models import Unit, UnitKind

from . import columns as C
from .reader import Position, UnreadableWorkbook, open_workbook, rows, sheet_size

Progress = Callable[[str, int, int], None]
READING, CHECKING, WRITING = "reading", "checking", "writing"
PROGRESS_EVERY = 1000
CHUNK = 2000  # rows checked or written per batch of queries
IN_CHUNK = 900  # values per SQL IN (...), under SQLite's parameter limit


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


@dataclass(order=True)
class RowError:
    sort_key: tuple[int, int, int] = field(repr=False)
    sheet: str = field(compare=False)
    row: int | None = field(compare=False)
    column: str = field(compare=False)
    cell: str = field(compare=False)
    message: str = field(compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {"sheet": self.sheet, "row": self.row, "column": self.column, "cell": self.cell,
                "message": self.message}


class Sheet:
    """One data sheet of the file: its title as written and where each known column sits."""

    def __init__(self, key: str, title: str, order: int, cols: tuple[C.Column, ...]):
        self.key, self.title, self.order = key, title, order
        self.columns = {c.key: c for c in cols}
        self.index: dict[str, int] = {}
        self.header_text: dict[str, str] = {}

    def column_label(self, key: str) -> str:
        return self.header_text.get(key) or self.columns[key].header()

    def letter(self, key: str) -> str:
        i = self.index.get(key)
        return get_column_letter(i + 1) if i is not None else ""


NO_PROBLEM: frozenset[str] = frozenset()
NO_CHANGES: dict[Any, Any] = {}  # shared and never written to: rows get their own dict when they change
STEP_ATTRS = tuple(C.STEP_COLUMNS.items())


class URow:
    __slots__ = ("row", "code", "name", "kind", "variant", "parent", "order", "founded_on", "department",
                 "bad", "ok", "unit", "anchor", "level", "changes")
    bad: set[str] | frozenset[str]
    code: str | None
    name: str | None
    kind: str | None
    variant: str | None
    parent: str | None
    order: int | None
    founded_on: dt.date | None
    department: str | None

    def __init__(self, row: int):
        self.row = row
        self.code = self.name = self.kind = self.variant = self.parent = self.department = None
        self.order = self.founded_on = None
        self.bad = NO_PROBLEM
        self.ok = True
        self.unit: Unit | None = None  # the roster's unit, when the code exists
        self.anchor: Unit | None = None  # nearest existing ancestor (new units)
        self.level = 0
        self.changes: dict[str, Any] = {}


class MRow:
    __slots__ = ("row", "name", "gender", "ethnicity", "birth_date", "education", "id_number", "id_hash",
                 "id_masked", "phone", "phone_masked", "post", "status", "status_date", "unit", "group",
                 "joined_on", "steps", "record_id", "bad", "match", "changes", "new_steps", "moved_steps",
                 *C.STEP_COLUMNS)
    bad: set[str] | frozenset[str]
    name: str | None
    gender: str | None
    ethnicity: str | None
    birth_date: dt.date | None
    education: str | None
    id_number: str | None
    id_hash: str | None
    id_masked: str | None
    phone: str | None
    phone_masked: str | None
    post: str | None
    status: str | None
    status_date: dt.date | None
    unit: str | None
    group: str | None
    joined_on: dt.date | None
    steps: dict[str, dt.date] | None
    record_id: int | None
    applicant_on: dt.date | None
    activist_on: dt.date | None
    candidate_on: dt.date | None
    probationary_on: dt.date | None

    def __init__(self, row: int):
        self.row = row
        self.name = self.gender = self.ethnicity = self.birth_date = self.education = self.id_number = None
        self.id_hash = self.id_masked = self.phone = self.phone_masked = self.post = self.status = None
        self.status_date = self.unit = self.group = self.joined_on = self.record_id = self.steps = None
        self.applicant_on = self.activist_on = self.candidate_on = self.probationary_on = None
        self.bad = NO_PROBLEM
        self.match: int | None = None
        self.changes: dict[str, Any] = NO_CHANGES
        self.new_steps: dict[str, dt.date] = NO_CHANGES
        self.moved_steps: dict[int, tuple[str, dt.date, dt.date]] = NO_CHANGES  # step pk → (status, old, new)


class Parser:
    """Reads the file into rows; importer.Importer checks and plans them."""

    def __init__(self, actor: Any, progress: Progress | None = None):
        self.actor = actor
        self._progress = progress
        self.errors: list[RowError] = []
        self.ignored: list[str] = []
        self.sheets: dict[str, Sheet] = {}
        self.urows: list[URow] = []
        self.mrows: list[MRow] = []
        self.total_rows = 0
        self._bytes_total = self._bytes_done = 0
        self.db_units: dict[str, Unit] = {}
        self.unit_by_pk: dict[int, Unit] = {}
        self.new_units: dict[str, URow] = {}
        self.bad_unit_codes: set[str] = set()
        self._unit_plan: list[tuple[str, int, Any]] | None = None
        self._member_plan: list[tuple[str, int, Any]] | None = None
        self.new_members: list[MRow] = []
        self.changed_members: list[MRow] = []
        self.summary = {"units_created": 0, "units_updated": 0, "units_unchanged": 0,
                        "members_created": 0, "members_updated": 0, "members_unchanged": 0}
        self.today = dt.date.today()

    # ---- reporting -------------------------------------------------------------------------

    def progress(self, phase: str, done: int, total: int) -> None:
        if self._progress is not None:
            self._progress(phase, done, total)

    def error(self, sheet: Sheet | None, row: int | None, key: str | None, message: str) -> None:
        if sheet is None:
            self.errors.append(RowError((-1, 0, 0), "", row, "", "", message))
            return
        col = sheet.column_label(key) if key else ""
        idx = sheet.index.get(key, -1) if key else -1
        cell = f"{sheet.letter(key)}{row}" if key and row and sheet.letter(key) else ""
        self.errors.append(RowError((sheet.order, row or 0, idx), sheet.title, row, col, cell, message))

    def sorted_errors(self) -> list[dict[str, Any]]:
        return [e.as_dict() for e in sorted(self.errors)]

    # ---- 1. reading ------------------------------------------------------------------------

    def read(self, source: Any) -> None:
        try:
            wb = open_workbook(source)
        except UnreadableWorkbook as err:
            self.error(None, None, None, _("The file is not an .xlsx workbook (%(error)s).") % {"error": err})
            return
        except uploads.ArchiveRefused as err:
            self.error(None, None, None, err.messages[0])
            return
        try:
            found: dict[str, Any] = {}
            for ws in wb.worksheets:
                key = C.sheet_key(ws.title)
                if key in ("units", "members") and key not in found:
                    found[key] = ws
            if not found:  # an export of another system, its sheet named otherwise: go by the headers
                for ws in wb.worksheets:
                    key = _sheet_by_headers(ws)
                    if key is not None and key not in found:
                        found[key] = ws
            if not found:
                self.error(None, None, None, _("The workbook has neither a Units nor a Members sheet."))
                return
            self._bytes_total = sum(sheet_size(ws) for ws in found.values())
            self._bytes_done = 0
            done = 0
            for order, (key, cols, required, parse) in enumerate((
                    ("units", C.UNIT_COLUMNS, C.UNIT_REQUIRED, self._parse_unit),
                    ("members", C.MEMBER_COLUMNS, C.MEMBER_REQUIRED, self._parse_member))):
                if key not in found:
                    continue
                sheet = Sheet(key, found[key].title, order, cols)
                self.sheets[key] = sheet
                done = self._read_sheet(found[key], sheet, required, parse, done)
                self._bytes_done += sheet_size(found[key])
            self.total_rows = done
        finally:
            wb.close()

    def _read_sheet(self, ws: Any, sheet: Sheet, required: tuple[str, ...],
                    parse: Callable[[Sheet, int, tuple[Any, ...]], None], done: int) -> int:
        position = Position()
        it = rows(ws, position)
        header: tuple[Any, ...] | None = None
        for _attempt, (_number, values) in zip(range(5), it, strict=False):
            index, ignored = C.match_headers(tuple(sheet.columns.values()), values)
            if any(k in index for k in required):
                header = values
                break
        if header is None:
            for key in required:
                self.error(sheet, 1, None, _("The column “%(column)s” is missing.")
                           % {"column": sheet.columns[key].header()})
            return done
        sheet.index = index
        sheet.header_text = {k: str(header[i]).strip() for k, i in index.items()}
        self.ignored.extend(f"{sheet.title}: {h}" for h in ignored)
        missing = [k for k in required if k not in index]
        for key in missing:
            self.error(sheet, 1, None, _("The column “%(column)s” is missing.")
                       % {"column": sheet.columns[key].header()})
        if missing:
            return done
        for number, values in it:
            refused = uploads.too_many_rows(number) or uploads.too_many_columns(len(values))
            if refused:
                self.error(sheet, number, None, refused)
                break
            parse(sheet, number, values)
            done += 1
            if done % PROGRESS_EVERY == 0:
                self.progress(READING, done, self._estimate(done, int(position)))
        self.progress(READING, done, done)
        return done

    def _estimate(self, done: int, sheet_bytes: int) -> int:
        """Rows in the file, guessed from how much of its XML the rows read so far took."""
        consumed = self._bytes_done + sheet_bytes
        if not consumed or not self._bytes_total:
            return done
        return max(done, round(done * self._bytes_total / consumed))

    def _cell(self, sheet: Sheet, values: tuple[Any, ...], key: str) -> Any:
        i = sheet.index.get(key)
        return values[i] if i is not None and i < len(values) else None

    def _plan(self, sheet: Sheet, parsers: dict[str, Callable[[Any], Any]]) -> list[tuple[str, int, Any]]:
        """(key, column index, parser) for the columns the file has; the others stay None."""
        return [(key, sheet.index[key], parsers[key]) for key in parsers if key in sheet.index]

    def _parse_cells(self, sheet: Sheet, r: URow | MRow, values: tuple[Any, ...],
                     plan: list[tuple[str, int, Any]]) -> None:
        n = len(values)
        for key, i, parser in plan:
            raw = values[i] if i < n else None
            if raw is None:
                continue
            try:
                setattr(r, key, parser(raw))
            except C.CellError as err:
                self.bad(r, key)
                self.error(sheet, r.row, key, str(err))

    def bad(self, r: URow | MRow, key: str) -> None:
        bad = r.bad if isinstance(r.bad, set) else set()
        bad.add(key)
        r.bad = bad

    def _past_date(self, value: Any) -> dt.date | None:
        d = C.date(value)
        if d is not None and d > self.today:
            raise C.CellError(_("The date cannot be in the future."))
        return d

    def _birth_date(self, value: Any) -> dt.date | None:
        try:
            return core_text.birth_date(C.date(value), self.today)
        except ValidationError as err:
            raise C.CellError(err.messages[0])

    def _unit_parsers(self) -> dict[str, Callable[[Any], Any]]:
        return {"code": C.text_parser(40), "name": C.text_parser(120), "kind": C.KIND.parse,
                "variant": C.VARIANT.parse, "parent": C.text_parser(40), "order": C.integer,
                "founded_on": self._past_date, "department": C.text_parser(120)}

    def _member_parsers(self) -> dict[str, Callable[[Any], Any]]:
        parsers = {"name": C.text_parser(60), "gender": C.GENDER.parse, "ethnicity": C.text_parser(20),
                   "birth_date": self._birth_date, "education": C.EDUCATION.parse,
                   "id_number": C.digits_parser(30), "phone": C.digits_parser(20), "post": C.text_parser(120),
                   "status": C.STATUS.parse, "status_date": self._past_date, "unit": C.text_parser(40),
                   "group": C.text_parser(40), "joined_on": self._past_date, "record_id": C.integer}
        for key in C.STEP_COLUMNS:
            parsers[key] = self._past_date
        return parsers

    def _parse_unit(self, sheet: Sheet, number: int, values: tuple[Any, ...]) -> None:
        if self._unit_plan is None:
            self._unit_plan = self._plan(sheet, self._unit_parsers())
        r = URow(number)
        self._parse_cells(sheet, r, values, self._unit_plan)
        raw_kind = self._cell(sheet, values, "kind")
        implied = C.KIND_IMPLIES_VARIANT.get(C._norm(raw_kind)) if raw_kind is not None else None
        if implied:
            r.kind = UnitKind.BRANCH
            r.variant = r.variant or implied
        self.urows.append(r)

    def _parse_member(self, sheet: Sheet, number: int, values: tuple[Any, ...]) -> None:
        if self._member_plan is None:
            self._member_plan = self._plan(sheet, self._member_parsers())
        r = MRow(number)
        self._parse_cells(sheet, r, values, self._member_plan)
        raw_id = r.id_number
        if raw_id is not None:
            if "*" in raw_id:
                r.id_number, r.id_masked = None, raw_id.upper()
            else:
                try:
                    r.id_number = idnumber.validate(raw_id)
                    r.id_hash = crypto.lookup_hash(r.id_number)
                except ValidationError as err:
                    r.id_number = None
                    self.bad(r, "id_number")
                    self.error(sheet, number, "id_number", err.messages[0])
        phone = r.phone
        if phone is not None:
            if "*" in phone:
                r.phone, r.phone_masked = None, phone
            elif not phone.replace("-", "").replace("+", "").replace(" ", "").isdigit():
                r.phone = None
                self.bad(r, "phone")
                self.error(sheet, number, "phone", _("A phone number holds digits only."))
            else:
                r.phone = phone.replace(" ", "")
        steps = None
        for key, status in STEP_ATTRS:
            d = getattr(r, key)
            if d is not None:
                if steps is None:
                    steps = {}
                steps[status] = d
        r.steps = steps
        self.mrows.append(r)

def _sheet_by_headers(ws: Any) -> str | None:
    """'members' or 'units' when the sheet's first row names that sheet's required columns."""
    for _number, values in rows(ws):
        for key, cols, required in (("members", C.MEMBER_COLUMNS, C.MEMBER_REQUIRED),
                                    ("units", C.UNIT_COLUMNS, C.UNIT_REQUIRED)):
            index, _ignored = C.match_headers(cols, values)
            if all(k in index for k in required):
                return key
        return None
    return None
