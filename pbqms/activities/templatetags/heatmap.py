"""The heat map's cells — 热力图单元格, built in Python: a page of 50 units has 650 cells, and the
template engine would spend most of the page's time on them (185 → 58 ms at 2,000 branches)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from pbqms.activities.selectors import HeatRow, heat_class, near_months

register = template.Library()


@register.simple_tag
def heat_cells(row: HeatRow) -> SafeString:
    """The row's twelve <td> cells: the share met, the month's counts in the title, and the
    requirements at risk in the current month."""
    title_format = gettext("met %(met)s, missed %(missed)s, at risk %(risk)s, in time %(open)s")
    risk_label = gettext("at risk")
    cells = []
    near = near_months(row.cells[0].month.year) if row.cells else set()
    for c in row.cells:
        rate = c.rate
        title = title_format % {"met": c.met, "missed": c.missed, "risk": c.at_risk, "open": c.open}
        text = f"{rate:.0f}" if rate is not None else ("" if c.is_future else "·")
        risk = (format_html('<span class="heat-risk" aria-label="{}">!{}</span>', risk_label, c.at_risk)
                if c.is_current and c.at_risk else "")
        css = heat_class(rate) + (" heat-now" if c.is_current else "") + ("" if c.month in near else " heat-far")
        cells.append((css, f"{c.month:%Y-%m}：{title}", text, risk))
    return format_html_join("", '<td class="heat-cell {}" title="{}">{}{}</td>', cells)
