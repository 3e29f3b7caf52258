"""Exports of documents: tables to .xlsx (openpyxl, write-only) and a unit's work-instruction book
to one PDF with a table of contents (WeasyPrint; page numbers by CSS target-counter)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import groupby
from typing import Any

from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from pbqms.core import xlsx

from .models import TIER_ORDER, Acknowledgement, Document, Tier

XLSX = xlsx.XLSX


def xlsx_response(rows: Iterable[list[Any]], filename: str, title: str = "") -> HttpResponse:
    """The rows (the first is the header) through the one writer (pbqms.core.xlsx); named by the
    translated `title` where given, `filename` being the ASCII fallback."""
    it = iter(rows)
    heads = [str(h) for h in next(it)]
    content = xlsx.table_bytes(title or filename.rsplit(".", 1)[0], heads, it)
    return xlsx.xlsx_response(content, f"{title}.xlsx" if title else filename,  # type: ignore[return-value]
                              fallback=filename)


def document_rows(qs: Iterable[Document]) -> Iterator[list[Any]]:
    yield [_("Number"), _("Title"), _("Tier"), _("Owning unit"), _("Part of the book"), _("Version in force"),
           _("In force from"), _("State"), _("Review interval (months)"), _("Assessment items")]
    for d in qs:
        v = d.current
        state = _("Abolished") if d.is_abolished else (_("In force") if v else _("Being drafted"))
        yield [d.number, d.title, d.get_tier_display(), d.unit.name, d.book_part, v.number if v else None,
               v.effective_from if v else None, state, d.review_interval_months, d.assessment_items]


def acknowledgement_rows(qs: Iterable[Acknowledgement]) -> Iterator[list[Any]]:
    yield [_("Recipient"), _("Account"), _("Unit"), _("Sent at"), _("Read at")]
    tz = timezone.get_current_timezone()
    for a in qs:
        yield [str(a.user), a.user.username, a.unit.name if a.unit else "",
               timezone.localtime(a.sent_at, tz).replace(tzinfo=None),
               timezone.localtime(a.acknowledged_at, tz).replace(tzinfo=None) if a.acknowledged_at else _("Not read")]


def book_chapters(documents: list[Document]) -> list[dict[str, Any]]:
    """The book's chapters: the manual and procedures first, then each part's regulations and work
    instructions, then the record forms."""
    def part_key(d: Document) -> tuple[int, str]:
        return TIER_ORDER.index(Tier(d.tier)), d.book_part

    chapters = []
    for (tier_index, part), docs in groupby(sorted(documents, key=lambda d: (*part_key(d), d.order, d.number)),
                                            key=part_key):
        tier = TIER_ORDER[tier_index]
        chapters.append({"title": f"{Tier(tier).label}" + (f" · {part}" if part else ""), "documents": list(docs)})
    return chapters


def book_html(unit: Any, documents: list[Document]) -> str:
    return render_to_string("documents/book.html", {
        "unit": unit, "chapters": book_chapters(documents), "today": timezone.localdate()})


def book_pdf(unit: Any, documents: list[Document]) -> bytes:
    from weasyprint import HTML

    return HTML(string=book_html(unit, documents)).write_pdf()
