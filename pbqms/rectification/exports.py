"""Printed and exported forms of the loop: the two-part form (二联单: 整改通知书 + 整改反馈单) as
.docx and PDF, the ledger (整改台账) and the dashboard as .xlsx.

The .docx is built with python-docx in the look of an official document (title centred, the
number line 党纠〔2026〕017号, the issuing unit and date at the right); the PDF is the same form
drawn from an HTML template by WeasyPrint with the Noto CJK fonts. Workbooks stream through
openpyxl's write-only mode, so a ledger of a million rows holds one batch in memory at a time.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import IO, Any

from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from pbqms.core import clock, officedocs, xlsx
from pbqms.core.codes import name_rows, names

from .models import Finding, Notice, NoticeStatus

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = xlsx.XLSX
CHUNK = 2000

# Fonts of Chinese official documents, with what a Linux desktop has as the fallback.
TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
HEAD_FONT = "黑体"


def day(d: dt.date | dt.datetime | None) -> str:
    """2026年7月1日 in Chinese, 2026-07-01 otherwise; empty for no date."""
    if d is None:
        return ""
    if isinstance(d, dt.datetime):
        d = timezone.localtime(d).date()
    if (translation.get_language() or "").startswith("zh"):
        return f"{d.year}年{d.month}月{d.day}日"
    return d.isoformat()


def form_facts(notice: Notice, detail: dict[str, Any]) -> dict[str, Any]:
    """What both printed forms show, computed once."""
    steps = detail["steps"]

    def last(action: str) -> Any:
        found = [s for s in steps if s.action == action]
        return found[-1] if found else None

    received = last("receive")
    submitted = last("submit")
    closed = last("close")
    for f in name_rows(detail["findings"]):
        f.shown_item = f.item_label or "—"
    return {
        "notice": notice,
        "findings": detail["findings"],
        "number": notice.number or _("(draft, not yet numbered)"),
        "is_draft": notice.status == NoticeStatus.DRAFT,
        "issued_on": day(notice.issued_at) or day(notice.created_at),
        "deadline": day(notice.deadline),
        "received": received, "received_on": day(received.at) if received else "",
        "submitted": submitted, "submitted_on": day(submitted.at) if submitted else "",
        "closed": closed, "closed_on": day(closed.at) if closed else "",
        "printed_on": day(clock.today()),
    }


_font = officedocs.font


# ---- .docx -------------------------------------------------------------------------------------

def _para(doc: Any, text: str = "", *, font: str = BODY_FONT, size: float = 14, bold: bool = False,
          align: str = "left", indent: bool = False, space_after: float = 4) -> Any:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    p = doc.add_paragraph()
    p.alignment = {"left": WD_ALIGN_PARAGRAPH.LEFT, "center": WD_ALIGN_PARAGRAPH.CENTER,
                   "right": WD_ALIGN_PARAGRAPH.RIGHT, "justify": WD_ALIGN_PARAGRAPH.JUSTIFY}[align]
    p.paragraph_format.space_after = Pt(space_after)
    p.paragraph_format.line_spacing = 1.35
    if indent:
        p.paragraph_format.first_line_indent = Pt(size * 2)
    if text:
        _font(p.add_run(text), font, size, bold)
    return p


def _cell(cell: Any, text: str, *, bold: bool = False, size: float = 11, center: bool = False,
          shade: str = "") -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn

    cell.text = ""
    lines = str(text).split("\n") or [""]
    p = cell.paragraphs[0]
    for i, line in enumerate(lines):
        if i:
            p = cell.add_paragraph()
        if center:
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _font(p.add_run(line), HEAD_FONT if bold else BODY_FONT, size, bold)
    if shade:
        tc_pr = cell._element.get_or_add_tcPr()
        shd = tc_pr.makeelement(qn("w:shd"), {qn("w:val"): "clear", qn("w:color"): "auto", qn("w:fill"): shade})
        tc_pr.append(shd)


def _widths(table: Any, cm: list[float]) -> None:
    from docx.shared import Cm

    for row in table.rows:
        for cell, w in zip(row.cells, cm, strict=False):
            cell.width = Cm(w)


def _signature(doc: Any, left: str, right: str) -> None:
    _para(doc, f"{left}：＿＿＿＿＿＿＿＿　　{right}：＿＿＿＿年＿＿月＿＿日", size=12, space_after=10)


def notice_docx(notice: Notice, detail: dict[str, Any]) -> bytes:
    """The two-part form as a Word document: part one the notice, part two the feedback."""
    from docx import Document
    from docx.enum.section import WD_SECTION
    from docx.shared import Cm, Pt

    f = form_facts(notice, detail)
    doc = Document()
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    normal = doc.styles["Normal"]
    normal.font.name = BODY_FONT
    normal.font.size = Pt(14)
    doc.core_properties.title = f"{_('Rectification notice')} {f['number']}"
    doc.core_properties.subject = notice.title

    # ---- part one: 整改通知书
    _para(doc, _("(Part one: rectification notice)"), size=10.5, align="right", space_after=2)
    _para(doc, notice.issuing_unit.name, font=TITLE_FONT, size=22, bold=True, align="center", space_after=0)
    _para(doc, _("Rectification notice"), font=TITLE_FONT, size=22, bold=True, align="center", space_after=6)
    _para(doc, f["number"], size=14, align="center", space_after=12)
    _para(doc, f"{notice.unit.name}：", size=14, space_after=4)
    _para(doc, _("In our inspection we found the following problems in your unit. Please rectify them as "
                 "required below."), indent=True)
    table = doc.add_table(rows=1, cols=5)
    table.style = "Table Grid"
    for cell, head in zip(table.rows[0].cells, [_("Seq"), _("Item"), _("Standard applied"), _("Problem found"),
                                                  _("Severity")], strict=True):
        _cell(cell, head, bold=True, center=True, shade="F2F2F2")
    for i, finding in enumerate(f["findings"], 1):
        row = table.add_row().cells
        _cell(row[0], str(i), center=True)
        _cell(row[1], finding.shown_item, center=True)
        _cell(row[2], finding.standard or "—")
        _cell(row[3], finding.description)
        _cell(row[4], finding.get_severity_display(), center=True)
    _widths(table, [1.2, 2.2, 4.6, 6.0, 1.6])
    _para(doc, "", space_after=2)
    p = _para(doc, indent=True)
    _font(p.add_run(_("Requirement: ")), HEAD_FONT, 14, True)
    _font(p.add_run(notice.requirement), BODY_FONT, 14)
    p = _para(doc, indent=True)
    _font(p.add_run(_("Deadline: ")), HEAD_FONT, 14, True)
    _font(p.add_run(_("submit the rectification feedback (part two) by %(date)s.") % {"date": f["deadline"]}),
          BODY_FONT, 14)
    _para(doc, "", space_after=10)
    _para(doc, notice.issuing_unit.name, align="right", space_after=0)
    _para(doc, f["issued_on"], align="right", space_after=14)
    received = f["received"]
    _para(doc, _("Received by: %(who)s    Date: %(date)s") % {
        "who": received.actor_name if received else "＿＿＿＿＿＿", "date": f["received_on"] or "＿＿＿＿＿＿"},
        size=12)

    # ---- part two: 整改反馈单
    doc.add_section(WD_SECTION.NEW_PAGE)
    _para(doc, _("(Part two: rectification feedback)"), size=10.5, align="right", space_after=2)
    _para(doc, _("Rectification feedback"), font=TITLE_FONT, size=22, bold=True, align="center", space_after=6)
    _para(doc, _("On notice %(number)s") % {"number": f["number"]}, align="center", space_after=10)
    _para(doc, _("Unit: %(unit)s    Submitted on: %(date)s") % {
        "unit": notice.unit.name, "date": f["submitted_on"] or "＿＿＿＿＿＿"}, size=12, space_after=8)
    for i, finding in enumerate(f["findings"], 1):
        fb = finding.latest
        check = finding.last_check
        t = doc.add_table(rows=0, cols=2)
        t.style = "Table Grid"
        rows = [
            (_("Problem %(n)d") % {"n": i}, f"{finding.shown_item}　{finding.description}"),
            (_("Cause category"), fb.cause_category.name if fb else ""),
            (_("Cause"), fb.cause if fb else ""),
            (_("Measures taken"), fb.measures if fb else ""),
            (_("Completed on"), day(fb.completed_on) if fb else ""),
            (_("Evidence"), "；".join(e.original_name for e in fb.evidence.all()) if fb else ""),
            (_("Verification"), _verdict(check)),
        ]
        if fb and fb.round > 1:
            rows.insert(1, (_("Round"), str(fb.round)))
        for label, value in rows:
            cells = t.add_row().cells
            _cell(cells[0], label, bold=True, center=True, shade="F2F2F2")
            _cell(cells[1], value or "　")
        _widths(t, [3.2, 12.4])
        _para(doc, "", space_after=6)
    _signature(doc, _("Head of the rectifying unit (signature)"), _("Date"))
    _signature(doc, _("Verified by (signature)"), _("Date"))
    if f["closed"]:
        _para(doc, _("Closed by %(who)s on %(date)s: every fix verified effective.") % {
            "who": f["closed"].actor_name, "date": f["closed_on"]}, size=12)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _verdict(check: Any) -> str:
    if check is None:
        return ""
    verdict = _("Effective") if check.effective else _("Not effective")
    who = str(check.verified_by) if check.verified_by else ""  # the person's name, not the login (#22.11)
    return f"{verdict}：{check.note}（{who} {day(check.verified_at)}）"


# ---- PDF ---------------------------------------------------------------------------------------

def notice_print(notice: Notice, detail: dict[str, Any]) -> Any:
    """The two-part form laid out on A4 pages by WeasyPrint (a weasyprint Document)."""
    from weasyprint import HTML

    facts = form_facts(notice, detail)
    for finding in facts["findings"]:
        finding.verdict = _verdict(finding.last_check)
        finding.completed = day(finding.latest.completed_on) if finding.latest else ""
    return HTML(string=render_to_string("rectification/print.html", facts)).render()


def notice_pdf(notice: Notice, detail: dict[str, Any]) -> bytes:
    """The two-part form as an A4 PDF (WeasyPrint, Noto CJK fonts embedded)."""
    return notice_print(notice, detail).write_pdf()  # type: ignore[no-any-return]


# ---- .xlsx -------------------------------------------------------------------------------------

_sheet = xlsx.sheet  # the one writer (pbqms.core.xlsx): user text stays text


def ledger_xlsx(rows: QuerySet[Finding], out: IO[bytes], *, unit: Any, year: int | None) -> None:
    """整改台账 as a workbook: one row per finding, in the page's order and filters."""
    wb = xlsx.Workbook()
    ws = _sheet(wb, _("Rectification ledger"), [
        (_("Found on"), 12), (_("Unit"), 20), (_("Source"), 14), (_("Item"), 12), (_("Problem found"), 50),
        (_("Severity"), 8), (_("Status"), 16), (_("Notice"), 20), (_("Deadline"), 12), (_("Overdue"), 8),
        (_("Closed on"), 12)])
    yes, no = _("yes"), _("no")
    known: dict[str, str] = {}  # item code → name, looked up once per code

    def item(code: str) -> str:
        if code and code not in known:
            known[code] = names([code]).get(code, code)
        return known.get(code, "")

    for f in rows.iterator(chunk_size=CHUNK):
        ws.append([f.found_on, f.unit.name, f.get_source_display(), item(f.item_code), f.description,
                   f.get_severity_display(), f.get_status_display(), (f.notice.number or f.notice.title)
                   if f.notice else "", f.deadline, yes if f.overdue else no, f.closed_on])
    wb.save(out)


def dashboard_xlsx(data: dict[str, Any], out: IO[bytes], *, unit: Any, year: int) -> None:
    """The dashboard's table (one row per child unit and the total) and the recurring items."""
    wb = xlsx.Workbook()
    ws = _sheet(wb, _("Rectification dashboard"), [
        (_("Unit"), 24), (_("Findings"), 10), (_("Not closed"), 10), (_("Overdue"), 10), (_("Closed"), 10),
        (_("On-time rectification rate (%)"), 16), (_("Mean days to close"), 14)])
    for r in data["rows"]:
        ws.append([r.unit.name, r.total, r.live, r.overdue, r.closed, r.ontime_rate, r.mean_days])
    t = data["totals"]
    ws.append([_("%(unit)s (total, %(year)s)") % {"unit": unit.name, "year": year}, t["total"], t["live"],
               t["overdue"], t["closed"], t["ontime_rate"], t["mean_days"]])
    items = _sheet(wb, _("Most recurring items"), [(_("Item"), 16), (_("Findings"), 10)])
    found = names(code for code, _n in data["items"])
    for code, n in data["items"]:
        items.append([found.get(code, code), n])
    wb.save(out)
