"""Printed and exported forms of organisational life: the record books (books.py) as .docx
(python-docx) and PDF (WeasyPrint, imported only when a PDF is asked for: it is slow to import),
and every table of the pages as .xlsx (openpyxl, write-only, streamed in batches).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import IO, Any

from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from pbqms.core import officedocs, xlsx

from .books import Book, day

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = xlsx.XLSX
PDF = "application/pdf"
CHUNK = 2000

# Fonts of Chinese official documents (Word substitutes what the machine has).
TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
HEAD_FONT = "黑体"


_font = officedocs.font


# ---- .docx -------------------------------------------------------------------------------------

def _para(doc: Any, text: str = "", *, font: str = BODY_FONT, size: float = 12, bold: bool = False,
          align: str = "left", space_after: float = 4, indent: bool = False) -> Any:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    p = doc.add_paragraph()
    p.alignment = {"left": WD_ALIGN_PARAGRAPH.LEFT, "center": WD_ALIGN_PARAGRAPH.CENTER,
                   "right": WD_ALIGN_PARAGRAPH.RIGHT}[align]
    p.paragraph_format.space_after = Pt(space_after)
    p.paragraph_format.line_spacing = 1.3
    if indent:
        p.paragraph_format.first_line_indent = Pt(size * 2)
    if text:
        _font(p.add_run(text), font, size, bold)
    return p


def _cell(cell: Any, text: str, *, bold: bool = False, size: float = 10.5, center: bool = False,
          shade: str = "") -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn

    cell.text = ""
    p = cell.paragraphs[0]
    for i, line in enumerate(str(text).split("\n")):
        if i:
            p = cell.add_paragraph()
        if center:
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _font(p.add_run(line), HEAD_FONT if bold else BODY_FONT, size, bold)
    if shade:
        tc_pr = cell._element.get_or_add_tcPr()
        tc_pr.append(tc_pr.makeelement(qn("w:shd"), {qn("w:val"): "clear", qn("w:color"): "auto",
                                                      qn("w:fill"): shade}))


def book_docx(book: Book) -> bytes:
    """A record book as a Word document: the title page head, then each section with its facts,
    its table and its labelled texts (minutes, resolutions)."""
    from docx import Document
    from docx.enum.text import WD_BREAK
    from docx.shared import Cm, Pt

    doc = Document()
    sec = doc.sections[0]
    sec.page_height, sec.page_width = Cm(29.7), Cm(21.0)
    sec.top_margin, sec.bottom_margin = Cm(2.5), Cm(2.3)
    sec.left_margin, sec.right_margin = Cm(2.5), Cm(2.2)
    normal = doc.styles["Normal"]
    normal.font.name = BODY_FONT
    normal.font.size = Pt(12)
    doc.core_properties.title = f"{book.unit.name} {book.title}"
    doc.core_properties.subject = book.subtitle
    _para(doc, book.unit.name, font=TITLE_FONT, size=16, bold=True, align="center", space_after=2)
    _para(doc, book.title, font=TITLE_FONT, size=22, bold=True, align="center", space_after=4)
    _para(doc, book.subtitle, size=12, align="center", space_after=14)
    if not book.sections:
        _para(doc, book.empty, align="center")
    for s in book.sections:
        if s.new_page:
            doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        _para(doc, s.heading, font=HEAD_FONT, size=13, bold=True, space_after=6)
        for label, value in s.facts:
            p = _para(doc, space_after=2)
            _font(p.add_run(f"{label}："), HEAD_FONT, 11, True)
            _font(p.add_run(value), BODY_FONT, 11)
        if s.table is not None:
            t = doc.add_table(rows=1, cols=len(s.table.heads))
            t.style = "Table Grid"
            for cell, head in zip(t.rows[0].cells, s.table.heads, strict=True):
                _cell(cell, head, bold=True, center=True, shade="F2F2F2")
            for row in s.table.rows:
                for cell, value in zip(t.add_row().cells, row, strict=True):
                    _cell(cell, value)
            if not s.table.rows:
                _cell(t.add_row().cells[0], "—")
            for row in t.rows:
                for cell, w in zip(row.cells, s.table.widths, strict=False):
                    cell.width = Cm(w)
            _para(doc, space_after=4)
        for label, text in s.texts:
            _para(doc, f"{label}：", font=HEAD_FONT, size=11, bold=True, space_after=1)
            for line in (text or "—").splitlines() or ["—"]:
                _para(doc, line, size=11, indent=True, space_after=1)
        _para(doc, space_after=6)
    _para(doc, _("Printed on %(date)s") % {"date": day(timezone.localdate())}, size=9, align="right")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


# ---- PDF ---------------------------------------------------------------------------------------

def book_pdf(book: Book) -> bytes:
    """The same book on A4 pages (WeasyPrint, Noto CJK fonts)."""
    from weasyprint import HTML  # imported here: loading WeasyPrint costs a second

    html = render_to_string("activities/book_print.html", {"book": book, "printed_on": day(timezone.localdate())})
    return HTML(string=html).write_pdf()  # type: ignore[no-any-return]


# ---- .xlsx -------------------------------------------------------------------------------------

_sheet = xlsx.sheet  # the one writer (pbqms.core.xlsx): user text stays text
_workbook = xlsx.Workbook


def records_xlsx(rows: QuerySet[Any], out: IO[bytes]) -> None:
    """活动记录 as on the list page: one row per record, in its order and filters."""
    wb = _workbook()
    ws = _sheet(wb, _("Activity records"), [
        (_("Date"), 12), (_("Time"), 8), (_("Unit"), 22), (_("Activity"), 18), (_("Topic"), 40), (_("Place"), 16),
        (_("Host"), 10), (_("Expected"), 8), (_("Present"), 8), (_("Attendance rate (%)"), 12)])
    for r in rows.iterator(chunk_size=CHUNK):
        ws.append([r.held_on, r.start_time.strftime("%H:%M") if r.start_time else "", r.unit.name,
                   r.get_kind_display(), r.topic, r.place, r.host.name if r.host else "", r.expected, r.present,
                   float(r.attendance_rate)])
    wb.save(out)


def plans_xlsx(rows: QuerySet[Any], out: IO[bytes]) -> None:
    """活动计划报备: one row per planned line, with its plan's status and the department's comment."""
    wb = _workbook()
    ws = _sheet(wb, _("Activity plans"), [
        (_("Unit"), 22), (_("Period"), 10), (_("Status"), 10), (_("Planned date"), 12), (_("Activity"), 18),
        (_("Topic"), 40), (_("Filed at"), 18), (_("Department's comment"), 40)])
    for plan in rows.iterator(chunk_size=CHUNK):
        filed = timezone.localtime(plan.submitted_at).replace(tzinfo=None)
        items = list(plan.items.all()) or [None]
        for i in items:
            ws.append([plan.unit.name, plan.period, plan.get_status_display(), i.planned_on if i else None,
                       i.get_kind_display() if i else "", i.topic if i else "", filed, plan.comment])
    wb.save(out)


def heatmap_xlsx(batches: Iterable[list[Any]], out: IO[bytes], *, year: int) -> None:
    """The heat map: one row per unit, the compliance rate (%) of each month and of the year, and
    the requirements met / missed / at risk."""
    wb = _workbook()
    months = [(f"{year}-{m:02d}", 9) for m in range(1, 13)]
    ws = _sheet(wb, _("Compliance %(year)s") % {"year": year}, [
        (_("Unit"), 26), (_("Code"), 12), *months, (_("Year (%)"), 9), (_("Met"), 8), (_("Missed"), 8),
        (_("At risk now"), 10)])
    for rows in batches:
        for row in rows:
            ws.append([row.unit.name, row.unit.code, *[c.rate for c in row.cells], row.rate, row.met, row.missed,
                       row.at_risk_now])
    wb.save(out)


def participation_xlsx(member: Any, data: Any, out: IO[bytes]) -> None:
    """A member's activities in the year, present or absent with the reason, and the rate."""
    wb = _workbook()
    ws = _sheet(wb, _("Participation %(year)s") % {"year": data.year}, [
        (_("Date"), 12), (_("Unit"), 22), (_("Activity"), 18), (_("Topic"), 40), (_("Present"), 8),
        (_("Reason for absence"), 24)])
    yes, no = _("yes"), _("no")
    for a in data.rows:
        ws.append([a.record.held_on, a.record.unit.name, a.record.get_kind_display(), a.record.topic,
                   _("attended without a vote") if not a.counted else yes if a.present else no, a.absence_reason])
    ws.append([])
    ws.append([_("%(name)s: %(present)d of %(total)d attended (%(rate)s%%)") % {
        "name": member.name, "present": data.present, "total": data.total,
        "rate": data.rate if data.rate is not None else "—"}])
    wb.save(out)


def calendar_xlsx(unit: Any, data: dict[str, Any], out: IO[bytes]) -> None:
    """The calendar's month: its records, its planned items and the requirements of its periods."""
    wb = _workbook()
    ws = _sheet(wb, _("Activity records"), [(_("Date"), 12), (_("Unit"), 22), (_("Activity"), 18), (_("Topic"), 40),
                                   (_("Present"), 8), (_("Expected"), 8)])
    for r in data["records"]:
        ws.append([r.held_on, r.unit.name, r.get_kind_display(), r.topic, r.present, r.expected])
    ws = _sheet(wb, _("Planned activities"), [(_("Planned date"), 12), (_("Unit"), 22), (_("Activity"), 18),
                                              (_("Topic"), 40), (_("Held"), 8)])
    yes, no = _("yes"), _("no")
    for p in data["planned"]:
        ws.append([p.planned_on, p.unit.name, p.get_kind_display(), p.topic, yes if p.held else no])
    ws = _sheet(wb, _("Requirements"), [(_("Unit"), 22), (_("Rule"), 32), (_("Period"), 10), (_("Held"), 8),
                                        (_("Required"), 8), (_("State"), 10), (_("Source"), 40)])
    for q in data["requirements"]:
        ws.append([q.unit.name, q.rule.name, q.label, q.state.done, q.state.required, q.state.get_status_display(),
                   q.rule.citation])
    wb.save(out)
