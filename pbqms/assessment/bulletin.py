"""The bulletin of a period — 考核结果通报 (.docx and PDF), and the performance linkage workbook (.xlsx).

The bulletin is what the committee reads out at the quarterly meeting: the overall figures, the
ranking, the units that did best and improved most, the items that cost the most points and the
units that triggered a veto, then what comes next. The .docx follows the look of an official
document (GB/T 9704: A4, title in 二号 bold serif — 小标宋-like —, headings in 黑体-like sans,
body in 三号 serif — 仿宋-like — with a two-character first-line indent and fixed 28 pt lines),
using Debian's Noto CJK fonts so what is printed matches what the PDF shows. The PDF is the same
text drawn from an HTML template by WeasyPrint. Only readers of the whole period get a bulletin.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from pbqms import scope
from pbqms.assessment import stats
from pbqms.assessment.models import Period, Result
from pbqms.core import clock, officedocs
from pbqms.core import xlsx as core_xlsx

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = core_xlsx.XLSX
RANK_CAP = 200  # rows of the ranking in the bulletin; the ranking page and its export hold them all
HIGHLIGHTS = 5

# Noto stands in for the fonts of official documents: 方正小标宋 (title), 黑体 (headings), 仿宋 (body).
TITLE_FONT = "Noto Serif CJK SC"
HEAD_FONT = "Noto Sans CJK SC"
BODY_FONT = "Noto Serif CJK SC"
BODY_PT = 16  # 三号
TITLE_PT = 22  # 二号
TABLE_PT = 10.5  # 五号
LINE_PT = 28


def day(d: dt.date) -> str:
    if (translation.get_language() or "").startswith("zh"):
        return f"{d.year}年{d.month}月{d.day}日"
    return d.isoformat()


def num(value: Decimal | float | None) -> str:
    if value is None:
        return "—"
    text = f"{Decimal(str(value)).quantize(Decimal('0.01'))}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def signed(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return ("+" if value > 0 else "") + num(value)


@dataclass
class Bulletin:
    period: Period
    title: str
    label: str
    issued_on: str
    overview: stats.Overview
    categories: list[stats.Category]
    ranking: list[Result]
    points: dict[int, dict[int, Decimal]]
    more: int
    top: list[Result]
    improvers: list[Result]
    items: list[stats.ItemFigure]
    vetoes: list[Result]
    ranked: bool
    member: bool
    paragraphs: dict[str, str] = field(default_factory=dict)
    unassessed: Any = None  # coverage.Unassessed: units of the plan without a result (issue 20.6)

    @property
    def owner(self) -> Any:
        return self.period.plan.owner

    def name(self, r: Result) -> str:
        return r.member.name if self.member and r.member is not None else r.unit.name

    def rows(self) -> list[list[str]]:
        """The ranking table as text: rank, name, total, category subtotals, change, veto."""
        out = []
        for r in self.ranking:
            cats = [num(self.points.get(r.pk, {}).get(c.id, Decimal(0))) for c in self.categories]
            out.append([str(r.rank or "") if self.ranked else "", self.name(r), num(r.total), *cats,
                        signed(r.change), r.veto_items.replace(",", "、") if r.vetoed else ""])
        return out

    def headers(self) -> list[str]:
        return [_("Rank"), _("Unit") if not self.member else _("Member"), _("Total"),
                *[c.name for c in self.categories], pgettext("results", "Change"), _("Veto")]


def _may_issue(user: Any, period: Period) -> None:
    if not scope.assessment_reads_whole(user, period.org_path):
        raise PermissionDenied


def bulletin_data(user: Any, period: Period) -> Bulletin:
    """Everything the bulletin says, read through the user's scope (a bounded number of queries)."""
    _may_issue(user, period)
    member = stats.is_member_scheme(period)
    ranked = not member or stats.may_rank_members(user, period)
    ov = stats.overview(user, period)
    cats = [c for c in stats.categories(period) if c.max_points]
    qs = stats.ranking(user, period, ranked=ranked)
    ranking = list(qs[:RANK_CAP])
    points = stats.category_points(period, ranking)
    top = ranking[:HIGHLIGHTS] if ranked else []
    improvers = stats.improvers(user, period, HIGHLIGHTS) if ranked else []
    items = stats.most_deducted(user, period)
    vetoes = stats.veto_units(user, period)
    label = stats.period_label(period)
    title = _("Bulletin on the results of the %(period)s party-building assessment") % {"period": label}
    b = Bulletin(period=period, title=title, label=label, issued_on=day(clock.today()), overview=ov,
                 categories=cats, ranking=ranking, points=points, more=max(0, ov.count - len(ranking)), top=top,
                 improvers=improvers, items=items, vetoes=vetoes, ranked=ranked, member=member)
    from pbqms.assessment import coverage

    b.unassessed = coverage.unassessed(user, period)
    b.paragraphs = _paragraphs(b)
    return b


def _paragraphs(b: Bulletin) -> dict[str, str]:
    ov = b.overview
    subjects = _("members") if b.member else _("party organisations")
    p = {
        "intro": _("In accordance with “%(scheme)s”, %(owner)s assessed %(n)s %(subjects)s for %(period)s. "
                   "The results are announced as follows.") % {
            "scheme": b.period.scheme.name, "owner": b.owner.name, "n": ov.count, "subjects": subjects,
            "period": b.label},
        "overview": _("The average total was %(avg)s points, the highest %(hi)s and the lowest %(lo)s. "
                      "Compared with the previous period %(up)s improved and %(down)s declined; "
                      "%(veto)s triggered a veto item.") % {
            "avg": num(ov.average), "hi": num(ov.highest), "lo": num(ov.lowest), "up": ov.improved,
            "down": ov.declined, "veto": ov.vetoed},
        "top": "、".join(f"{b.name(r)}（{num(r.total)}）" for r in b.top),
        "improvers": "、".join(f"{b.name(r)}（{signed(r.change)}）" for r in b.improvers),
        "items": "；".join(_("%(code)s %(title)s: %(units)s units lost %(points)s points in all")
                          % {"code": f.item.code, "title": f.item.title, "units": f.units,
                             "points": num(f.points)} for f in b.items),
        "vetoes": "、".join(f"{b.name(r)}（{r.veto_items.replace(',', '、')}）" for r in b.vetoes),
        "next": b.period.analysis or _(
            "Each unit is to check its deductions item by item against the standard, find the causes and "
            "rectify them within the set time; the party-work department will check the rectification "
            "in the next assessment."),
    }
    if b.unassessed is not None and b.unassessed.count:
        p["unassessed"] = _("%(n)s %(subjects)s of the plan were not assessed this period: %(units)s.") % {
            "n": b.unassessed.count, "subjects": subjects,
            "units": b.unassessed.text() + ("…" if b.unassessed.more else "")}
    if b.more:
        p["more"] = _("The table lists the first %(n)s; the full ranking of %(total)s is on the results page.") % {
            "n": len(b.ranking), "total": b.overview.count}
    return p


def headings() -> dict[str, str]:
    return {"overview": _("1. Overview"), "ranking": _("2. Ranking"), "highlights": _("3. Best and most improved"),
            "items": _("4. Items that cost the most points"), "vetoes": _("5. Units with a veto item"),
            "next": _("6. Next steps")}


def filename(b: Bulletin, ext: str) -> str:
    return f"{b.period.key}-{_('bulletin')}.{ext}"


def attachment(content: bytes, name: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = core_xlsx.content_disposition(name)
    return response


# ---- PDF -----------------------------------------------------------------------------------------

def bulletin_html(b: Bulletin) -> str:
    return render_to_string("assessment/bulletin_print.html", {"b": b, "h": headings(), "rows": b.rows(),
                                                               "headers": b.headers()})


def bulletin_pdf(b: Bulletin) -> bytes:
    from weasyprint import HTML

    return HTML(string=bulletin_html(b)).write_pdf()  # type: ignore[no-any-return]


# ---- .docx ---------------------------------------------------------------------------------------

def _para(doc: Any, text: str = "", *, font: str = BODY_FONT, size: float = BODY_PT, bold: bool = False,
          align: str = "justify", indent: bool = True, after: float = 0, before: float = 0) -> Any:
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
    from docx.shared import Pt

    p = doc.add_paragraph()
    p.alignment = {"left": WD_ALIGN_PARAGRAPH.LEFT, "center": WD_ALIGN_PARAGRAPH.CENTER,
                   "right": WD_ALIGN_PARAGRAPH.RIGHT, "justify": WD_ALIGN_PARAGRAPH.JUSTIFY}[align]
    fmt = p.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(max(LINE_PT, size * 1.3))
    fmt.space_after, fmt.space_before = Pt(after), Pt(before)
    if indent:
        fmt.first_line_indent = Pt(size * 2)  # 首行缩进两字
    if text:
        officedocs.font(p.add_run(text), font, size, bold)
    return p


def _cell(cell: Any, text: str, *, bold: bool = False, center: bool = False, shade: str = "") -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn

    cell.text = ""
    p = cell.paragraphs[0]
    if center:
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    officedocs.font(p.add_run(text), HEAD_FONT if bold else BODY_FONT, TABLE_PT, bold)
    if shade:
        tc_pr = cell._element.get_or_add_tcPr()
        tc_pr.append(tc_pr.makeelement(qn("w:shd"), {qn("w:val"): "clear", qn("w:color"): "auto",
                                                     qn("w:fill"): shade}))


def _rule(paragraph: Any) -> None:
    """The red line under the issuer (红线), as a bottom border of its paragraph."""
    from docx.oxml.ns import qn

    p_pr = paragraph._element.get_or_add_pPr()
    borders = p_pr.makeelement(qn("w:pBdr"), {})
    borders.append(borders.makeelement(qn("w:bottom"), {qn("w:val"): "single", qn("w:sz"): "18", qn("w:space"): "6",
                                                        qn("w:color"): "B71C1C"}))
    # schema order: pBdr comes before shd, tabs, spacing, ind, jc …
    p_pr.insert_element_before(borders, "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap",
                               "w:overflowPunct", "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi",
                               "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing",
                               "w:mirrorIndents", "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment",
                               "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr",
                               "w:pPrChange")


def _table(doc: Any, headers: Sequence[str], rows: Iterable[Sequence[str]], widths: Sequence[float]) -> Any:
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.shared import Cm

    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, head in zip(table.rows[0].cells, headers, strict=True):
        _cell(cell, head, bold=True, center=True, shade="F2F2F2")
    for row in rows:
        cells = table.add_row().cells
        for i, value in enumerate(row):
            _cell(cells[i], value, center=i != 1)
    for row in table.rows:
        for cell, w in zip(row.cells, widths, strict=False):
            cell.width = Cm(w)
    return table


def bulletin_docx(b: Bulletin) -> bytes:
    from docx import Document
    from docx.shared import Cm, Pt, RGBColor

    doc = Document()
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    normal = doc.styles["Normal"]
    normal.font.name = BODY_FONT
    normal.font.size = Pt(BODY_PT)
    doc.core_properties.title = b.title
    doc.core_properties.subject = b.period.scheme.name
    h = headings()
    issuer = _para(doc, b.owner.name, font=TITLE_FONT, size=TITLE_PT + 4, bold=True, align="center", indent=False,
                   after=4)
    issuer.runs[0].font.color.rgb = RGBColor(0xB7, 0x1C, 0x1C)  # 红头
    _rule(issuer)
    _para(doc, b.title, font=TITLE_FONT, size=TITLE_PT, bold=True, align="center", indent=False, before=12,
          after=16)
    _para(doc, b.paragraphs["intro"])
    if b.paragraphs.get("unassessed"):
        _para(doc, b.paragraphs["unassessed"])
    _para(doc, h["overview"], font=HEAD_FONT, size=BODY_PT, indent=True, before=6)
    _para(doc, b.paragraphs["overview"])
    _para(doc, h["ranking"], font=HEAD_FONT, size=BODY_PT, indent=True, before=6, after=4)
    cats = len(b.categories)
    rest = 15.6 - 1.2 - 3.6 - 1.5 - 1.5 - 1.6
    widths = [1.2, 3.6, 1.5, *([rest / cats] * cats), 1.5, 1.6]
    _table(doc, b.headers(), b.rows(), widths)
    if b.paragraphs.get("more"):
        _para(doc, b.paragraphs["more"], size=12, indent=False, before=4)
    _para(doc, h["highlights"], font=HEAD_FONT, size=BODY_PT, indent=True, before=10)
    if b.top:
        _para(doc, _("Best results: %(list)s.") % {"list": b.paragraphs["top"]})
    if b.improvers:
        _para(doc, _("Most improved since the previous period: %(list)s.") % {"list": b.paragraphs["improvers"]})
    if not (b.top or b.improvers):
        _para(doc, _("None this period."))
    _para(doc, h["items"], font=HEAD_FONT, size=BODY_PT, indent=True, before=6)
    _para(doc, (b.paragraphs["items"] + "。") if b.items else _("No item cost points this period."))
    _para(doc, h["vetoes"], font=HEAD_FONT, size=BODY_PT, indent=True, before=6)
    _para(doc, _("%(list)s triggered a veto item; their totals and star ratings follow the scheme's veto rules.")
          % {"list": b.paragraphs["vetoes"]} if b.vetoes else _("No unit triggered a veto item this period."))
    _para(doc, h["next"], font=HEAD_FONT, size=BODY_PT, indent=True, before=6)
    for line in [x for x in b.paragraphs["next"].splitlines() if x.strip()]:
        _para(doc, line.strip())
    _para(doc, "", indent=False, after=12)
    _para(doc, b.owner.name, align="right", indent=False)
    _para(doc, b.issued_on, align="right", indent=False)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


# ---- workbooks -----------------------------------------------------------------------------------

def xlsx(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """A write-only workbook through the one writer (pbqms.core.xlsx); numbers stay numbers."""
    return core_xlsx.table_bytes(title, [str(h) for h in headers], (
        [float(v) if isinstance(v, Decimal) else ("" if v is None else v) for v in row] for row in rows))
