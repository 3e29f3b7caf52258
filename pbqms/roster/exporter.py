"""Writing roster workbooks — the template, member exports and error reports.

All three stream through openpyxl's write-only mode, so an export of 100,000 people holds one
batch of rows in memory at a time. An export has exactly the template's columns (plus the record
ID), so it imports again unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.translation import gettext as _
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from pbqms import scope
from pbqms.core import crypto, xlsx
from pbqms.core.xlsx import BOLD, Workbook
from pbqms.members.models import STATUS_LADDER, Member, PartyStatus, StatusStep
from pbqms.orgs.models import Unit, UnitKind

from . import columns as C

VALIDATION_ROWS = 100_000
EXPORT_CHUNK = 2000


def _header(ws: Any, cols: tuple[C.Column, ...], required: tuple[str, ...], lang: str | None) -> None:
    for i, col in enumerate(cols, start=1):
        if col.text:
            ws.column_dimensions[get_column_letter(i)].number_format = "@"
    xlsx.header(ws, [(col.header(lang), col.width) for col in cols],
                required=[i for i, col in enumerate(cols) if col.key in required])


def _dropdowns(ws: Any, cols: tuple[C.Column, ...], enums: dict[str, C.Enum], lang: str | None) -> None:
    for i, col in enumerate(cols, start=1):
        enum = enums.get(col.key)
        if enum is None:
            continue
        dv = DataValidation(type="list", formula1='"' + ",".join(enum.labels(lang)) + '"', allow_blank=True,
                            showErrorMessage=False)
        letter = get_column_letter(i)
        dv.add(f"{letter}2:{letter}{VALIDATION_ROWS}")
        ws.data_validations.append(dv)


UNIT_ENUMS = {"kind": C.KIND, "variant": C.VARIANT}
MEMBER_ENUMS = {"gender": C.GENDER, "education": C.EDUCATION, "status": C.STATUS}


def new_workbook(lang: str | None, *, instructions: bool) -> tuple[Workbook, Any, Any]:
    wb = Workbook()
    units = wb.create_sheet(C.sheet_title("units", lang))
    _header(units, C.UNIT_COLUMNS, C.UNIT_REQUIRED, lang)
    _dropdowns(units, C.UNIT_COLUMNS, UNIT_ENUMS, lang)
    members = wb.create_sheet(C.sheet_title("members", lang))
    _header(members, C.MEMBER_COLUMNS, C.MEMBER_REQUIRED + ("id_number",), lang)
    _dropdowns(members, C.MEMBER_COLUMNS, MEMBER_ENUMS, lang)
    if instructions:
        _instructions(wb.create_sheet(C.sheet_title("instructions", lang)), lang)
    return wb, units, members


def write_template(out: str | os.PathLike[str] | IO[bytes], lang: str | None = None) -> None:
    wb, _units, _members = new_workbook(lang, instructions=True)
    wb.save(out)


def _instructions(ws: Any, lang: str | None) -> None:
    ws.column_dimensions["A"].width = 26
    ws.column_dimensions["B"].width = 22
    ws.column_dimensions["C"].width = 90
    wrap = Alignment(wrap_text=True, vertical="top")

    def line(*values: Any, bold: bool = False) -> None:
        cells = []
        for v in values:
            c = WriteOnlyCell(ws, v)
            c.alignment = wrap
            if bold:
                c.font = BOLD
            cells.append(c)
        ws.append(cells)

    units, members = C.sheet_title("units", lang), C.sheet_title("members", lang)
    line(_("PBQMS roster template"), bold=True)
    for text in (
        _("Fill in the “%(units)s” sheet for party organisations and the “%(members)s” sheet for people; "
          "either may stay empty.") % {"units": units, "members": members},
        _("Keep the column names in the first row. Columns may come in any order; other columns are ignored. "
          "Chinese and English column names are both accepted, and so are the codes and labels listed below."),
        _("Units are matched by code, people by ID number (or by the record ID of an exported file). "
          "Importing the same file twice changes nothing."),
        _("For a unit or a person already on the roster, an empty cell keeps the stored value."),
        _("The import is all or nothing: if any row has a problem, nothing is imported, and every problem is "
          "listed with its sheet, row, column and reason."),
        _("Dates as 2024-07-01 or as date cells. Type ID numbers and phone numbers as text."),
        _("An ID number is required for everyone except the masses (群众). It must pass the GB 11643 check "
          "digit, and the birth date and gender must match it."),
        _("Status date: the date of the current party status. The earlier-step columns hold the dates of the "
          "earlier steps of the development ladder."),
        _("Import does not move units, transfer people to another unit, or take a status back; do those on the "
          "record's page."),
    ):
        line("•", "", text)
    line("")
    line(_("Column"), _("Needed"), _("Accepted values"), bold=True)
    enums = {**UNIT_ENUMS, **MEMBER_ENUMS}
    for sheet_key, cols, required in (("units", C.UNIT_COLUMNS, C.UNIT_REQUIRED),
                                      ("members", C.MEMBER_COLUMNS, C.MEMBER_REQUIRED)):
        line(C.sheet_title(sheet_key, lang), bold=True)
        for col in cols:
            enum = enums.get(col.key)
            if enum is not None:
                accepted = " / ".join(f"{c.zh}, {c.en}, {c.code}" for c in enum.choices)
            elif col.key in ("founded_on", "birth_date", "status_date", "joined_on") or col.key in C.STEP_COLUMNS:
                accepted = _("A date.")
            elif col.key == "record_id":
                accepted = _("Filled in by an export; leave empty for new people.")
            elif col.key == "parent":
                accepted = _("The code of the parent unit, on this sheet or already on the roster.")
            elif col.key == "id_number":
                accepted = _("Required for everyone except the masses.")
            else:
                accepted = ""
            needed = _("For new records") if col.key in required else ""
            line(f"{col.zh} / {col.en}", needed, accepted)


# ---- exports -------------------------------------------------------------------------------

def unit_rows(units: QuerySet[Unit], lang: str | None) -> Iterator[list[Any]]:
    for code, name, kind, parent, variant, order, founded, dept in units.values_list(
            "code", "name", "kind", "parent__code", "variant", "order", "founded_on", "department").iterator(
            chunk_size=EXPORT_CHUNK):
        yield [code, name, C.KIND.label(kind, lang), parent,
               C.VARIANT.label(variant, lang) if kind == UnitKind.BRANCH else None,
               order, founded, dept or None]


MEMBER_EXPORT_FIELDS = ("pk", "name", "gender", "ethnicity", "birth_date", "education", "id_number_masked",
                        "phone_masked", "post", "status", "unit__code", "group__code", "joined_on", "org_path")


def member_rows(members: QuerySet[Member], actor: Any, lang: str | None, *, unmask: bool = False,
                progress: Callable[[int], None] | None = None) -> Iterator[list[Any]]:
    steps = {f"step_{st}": Subquery(StatusStep.objects.filter(member=OuterRef("pk"), status=st)
                                    .values("date")[:1]) for st in STATUS_LADDER}
    fields = MEMBER_EXPORT_FIELDS + tuple(steps)
    if unmask:
        fields += ("id_number_encrypted", "phone_encrypted")
    n_base = len(MEMBER_EXPORT_FIELDS)
    count = 0
    for row in members.annotate(**steps).values_list(*fields).iterator(chunk_size=EXPORT_CHUNK):
        (pk, name, gender, ethnicity, birth, education, id_masked, phone_masked, post, status, unit_code,
         group_code, joined, org_path) = row[:n_base]
        dates = dict(zip(STATUS_LADDER, row[n_base:n_base + len(STATUS_LADDER)], strict=True))
        id_text, phone_text = id_masked or None, phone_masked or None
        if unmask and (actor is None or scope.can_see_id_number(actor, Member(org_path=org_path))):
            id_text = crypto.decrypt(row[-2]) or None
            phone_text = crypto.decrypt(row[-1]) or None
        cur = STATUS_LADDER.index(PartyStatus(status)) if status in STATUS_LADDER else -1
        earlier = [dates[st] if 0 <= i < cur else None for i, st in enumerate(STATUS_LADDER[:-1])]
        yield [name, C.GENDER.label(gender, lang), ethnicity, birth,
               C.EDUCATION.label(education, lang) if education else None, id_text, phone_text, post or None,
               C.STATUS.label(status, lang), dates.get(status) if cur >= 0 else None, unit_code, group_code,
               joined, *earlier, pk]
        count += 1
        if progress is not None and count % EXPORT_CHUNK == 0:
            progress(count)


def write_export(out: str | os.PathLike[str] | IO[bytes], units: Iterable[list[Any]], people: Iterable[list[Any]],
                 lang: str | None) -> int:
    wb, ws_units, ws_members = new_workbook(lang, instructions=False)
    for row in units:
        ws_units.append(row)
    count = 0
    for row in people:
        ws_members.append(row)
        count += 1
    wb.save(out)
    return count


def write_error_report(out: str | os.PathLike[str] | IO[bytes], errors: list[dict[str, Any]]) -> None:
    wb = Workbook()
    ws = xlsx.sheet(wb, _("Problems"), [(_("Sheet"), 14), (_("Row"), 8), (_("Column"), 18), (_("Cell"), 8),
                                        (_("Problem"), 80)])
    for e in errors:
        ws.append([e.get("sheet") or "", e.get("row"), e.get("column") or "", e.get("cell") or "",
                   e.get("message") or ""])
    wb.save(out)
