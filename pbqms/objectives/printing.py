"""The responsibility letter on paper — 责任书打印: .docx (python-docx) and PDF (WeasyPrint, HTML →
PDF with Debian's Noto CJK fonts). Both show the title, the two parties, the preamble, the targets
table with the five fixes, and both signatures with name and time."""

from __future__ import annotations

import io
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import ResponsibilityLetter

SERIF = "Noto Serif CJK SC"


def columns() -> list[tuple[str, str]]:
    return [("no", _("Seq")), ("objective", _("Objective")), ("task", _("Task (定任务)")),
            ("person", _("Responsible person (定人员)")), ("indicator", _("Indicator (定指标)")),
            ("value", _("Target value")), ("quality", _("Quality standard (定质量)")),
            ("deadline", _("Deadline (定时限)"))]


def table_rows(letter: ResponsibilityLetter) -> list[list[str]]:
    keys = [k for k, _label in columns()]
    return [[str(i) if k == "no" else str(row.get(k, "") or "") for k in keys]
            for i, row in enumerate(letter.rows, start=1)]


def _when(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def context(letter: ResponsibilityLetter) -> dict[str, Any]:
    return {"letter": letter, "columns": columns(), "rows": table_rows(letter),
            "committee_signed": _when(letter.committee_signed_at), "branch_signed": _when(letter.branch_signed_at)}


def letter_html(letter: ResponsibilityLetter) -> str:
    return render_to_string("objectives/letter_print.html", context(letter))


def letter_pdf(letter: ResponsibilityLetter) -> bytes:
    from weasyprint import HTML

    return HTML(string=letter_html(letter)).write_pdf()  # type: ignore[no-any-return]


def _font(run: Any, size: float | None = None, bold: bool = False) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

    run.font.name = SERIF
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), SERIF)
    if size:
        run.font.size = Pt(size)
    run.bold = bold


def _para(doc: Any, text: str, *, size: float = 12, bold: bool = False, align: Any = None,
          space_after: float = 6) -> Any:
    from docx.shared import Pt

    p = doc.add_paragraph()
    _font(p.add_run(text), size, bold)
    if align is not None:
        p.alignment = align
    p.paragraph_format.space_after = Pt(space_after)
    return p


def letter_docx(letter: ResponsibilityLetter) -> bytes:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, RGBColor

    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Cm(2.0))
    section.top_margin = section.bottom_margin = Cm(1.8)
    title = _para(doc, letter.title, size=20, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=4)
    title.runs[0].font.color.rgb = RGBColor(0xB7, 0x1C, 0x1C)
    _para(doc, _("Version %(v)s · %(year)s") % {"v": letter.version, "year": letter.year}, size=10,
          align=WD_ALIGN_PARAGRAPH.CENTER, space_after=12)
    _para(doc, _("Party A (committee): %(name)s") % {"name": letter.committee.name}, size=12)
    _para(doc, _("Party B (branch): %(name)s") % {"name": letter.unit.name}, size=12, space_after=10)
    if letter.preamble:
        p = _para(doc, letter.preamble, size=12, space_after=10)
        p.paragraph_format.first_line_indent = Cm(0.85)
    cols = columns()
    table = doc.add_table(rows=1, cols=len(cols))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    widths = [1.0, 4.0, 5.0, 2.6, 3.0, 2.4, 4.6, 2.6]
    for i, (_key, label) in enumerate(cols):
        cell = table.rows[0].cells[i]
        cell.text = ""
        _font(cell.paragraphs[0].add_run(label), 10.5, True)
        cell.width = Cm(widths[i])
    for row in table_rows(letter):
        cells = table.add_row().cells
        for i, value in enumerate(row):
            cells[i].text = ""
            _font(cells[i].paragraphs[0].add_run(value), 10.5)
            cells[i].width = Cm(widths[i])
    _para(doc, "", space_after=12)
    sig = doc.add_table(rows=3, cols=2)
    sig.alignment = WD_TABLE_ALIGNMENT.CENTER
    labels = [(_("Party A: committee secretary (signed)"), letter.committee_signer_name,
               _when(letter.committee_signed_at)),
              (_("Party B: branch secretary (signed)"), letter.branch_signer_name, _when(letter.branch_signed_at))]
    for col, (label, name, when) in enumerate(labels):
        _font(sig.cell(0, col).paragraphs[0].add_run(label), 12, True)
        _font(sig.cell(1, col).paragraphs[0].add_run(name or _("(not signed yet)")), 14)
        _font(sig.cell(2, col).paragraphs[0].add_run(
            _("Signed in the system at %(t)s") % {"t": when} if when else ""), 10)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
