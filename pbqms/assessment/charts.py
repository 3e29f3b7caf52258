"""Charts of the assessment results, drawn as inline SVG on the server — 图表.

No script and no chart library: each function returns markup the template drops in as it is, so
the charts render on an intranet without any outside resource, print, and scale with the page.
Numbers in coordinates are formatted here (never by the template's localisation); every mark
carries a <title> so a pointer or a screen reader gets the figure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

# Series colours: the house red, then colours that stay apart for common colour blindness.
PALETTE = ["#b71c1c", "#1d4f91", "#d4a017", "#1b7f3b", "#5b3a99", "#0f766e", "#c2410c", "#6b7280"]
AVERAGE_COLOUR = "#6b7280"


def _n(x: float | Decimal) -> str:
    return f"{float(x):.1f}".rstrip("0").rstrip(".") if x is not None else "0"


def _fmt(x: Decimal | float | None, places: int = 1) -> str:
    if x is None:
        return "—"
    value = round(float(x), places)
    return f"{value:.{places}f}".rstrip("0").rstrip(".") if places else str(int(value))


def _text_width(text: str, size: float = 12) -> float:
    """Rough width of a label: CJK characters are about a font size wide, Latin ones half."""
    return sum(size if ord(c) > 0x2E80 else size * 0.58 for c in str(text))


def _svg(width: float, height: float, title: str, body: str, css: str = "") -> SafeString:
    return mark_safe(
        f'<svg class="assess-chart {css}" viewBox="0 0 {_n(width)} {_n(height)}" width="{_n(width)}" '
        f'role="img" aria-label="{escape(title)}" preserveAspectRatio="xMinYMin meet">'
        f"<title>{escape(title)}</title>{body}</svg>")


@dataclass
class Series:
    name: str
    values: list[Any]  # numbers or None (no figure)
    colour: str = ""
    dashed: bool = False


def legend(series: Sequence[Series]) -> SafeString:
    # swatches are SVG (fill is no style attribute): the page's Content-Security-Policy allows no inline style
    items = "".join(format_html(
        '<li><svg class="swatch" width="14" height="4" aria-hidden="true"><rect width="14" height="4" rx="2" '
        'fill="{}"{}/></svg>{}</li>', s.colour, mark_safe(' stroke="#fff" stroke-dasharray="3 3"') if s.dashed
        else "", s.name) for s in series)
    return mark_safe(f'<ul class="chart-legend">{items}</ul>') if series else mark_safe("")


def colour_series(series: list[Series]) -> list[Series]:
    for i, s in enumerate(series):
        s.colour = s.colour or PALETTE[i % len(PALETTE)]
    return series


# ---- histogram -----------------------------------------------------------------------------------

def histogram(bins: Sequence[tuple[str, int]], title: str, unit_label: str = "") -> SafeString:
    """Vertical bars: how many units fall in each band of totals."""
    width, height, left, bottom, top = 560, 230, 40, 36, 18
    plot_w, plot_h = width - left - 8, height - bottom - top
    peak = max((c for _label, c in bins), default=0)
    step_v = max(1, math.ceil(_nice(max(1, peak) / 4)))  # whole units per gridline
    scale_top = step_v * max(1, math.ceil(peak / step_v)) if peak else 4
    ticks = int(scale_top // step_v)
    step = plot_w / max(1, len(bins))
    parts = []
    for i in range(ticks + 1):
        v = step_v * i
        y = top + plot_h - plot_h * v / scale_top
        parts.append(f'<line class="grid" x1="{left}" x2="{width - 8}" y1="{_n(y)}" y2="{_n(y)}"/>'
                     f'<text class="axis" x="{left - 6}" y="{_n(y + 4)}" text-anchor="end">{v}</text>')
    for i, (label, count) in enumerate(bins):
        h = plot_h * count / scale_top if count else 0
        x = left + i * step + step * 0.12
        y = top + plot_h - h
        parts.append(
            f'<g><title>{escape(label)}: {count}{escape(unit_label)}</title>'
            f'<rect class="bar" x="{_n(x)}" y="{_n(y)}" width="{_n(step * 0.76)}" height="{_n(max(h, 0))}" rx="2"/>'
            + (f'<text class="value" x="{_n(x + step * 0.38)}" y="{_n(y - 4)}" text-anchor="middle">{count}</text>'
               if count else "")
            + f'<text class="axis" x="{_n(x + step * 0.38)}" y="{_n(top + plot_h + 16)}" text-anchor="middle">'
            f'{escape(label)}</text></g>')
    return _svg(width, height, title, "".join(parts), "histogram")


def _nice(value: float) -> float:
    """A round axis top at or above `value` (1, 2, 5 × 10^n)."""
    if value <= 0:
        return 1
    exp = 10 ** math.floor(math.log10(value))
    for m in (1, 2, 2.5, 5, 10):
        if value <= m * exp:
            return m * exp
    return 10 * exp


# ---- line chart ----------------------------------------------------------------------------------

def line_chart(labels: Sequence[str], series: Sequence[Series], title: str, *, y_max: float | None = None,
               width: int = 560, height: int = 240) -> SafeString:
    """Lines over periods (a gap where a unit has no result). The y axis runs from a round figure
    below the lowest total (0 when totals spread widely) to 100, or above when bonuses pass it."""
    left, right, top, bottom = 36, 28, 14, 30
    inset = 18  # room for the first and last period's label
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [float(v) for s in series for v in s.values if v is not None]
    top_value = y_max if y_max is not None else max([100.0, *values])
    top_value = math.ceil(top_value / 10) * 10 if top_value > 100 else max(top_value, 1)
    low = min(values, default=0.0)
    floor = max(0.0, math.floor((low - 5) / 10) * 10) if low >= 40 else 0.0
    span = max(1.0, top_value - floor)
    n = max(1, len(labels) - 1)

    def x_at(i: int) -> float:
        return left + inset + ((plot_w - 2 * inset) * i / n if len(labels) > 1 else (plot_w - 2 * inset) / 2)

    def y_at(v: float) -> float:
        return top + plot_h - plot_h * (max(floor, v) - floor) / span

    parts = []
    tick = 10.0 if span <= 60 else 20.0 if span <= 120 else _nice(span / 5)
    v = floor
    while v <= top_value + 1e-9:
        y = y_at(v)
        parts.append(f'<line class="grid" x1="{left}" x2="{width - right}" y1="{_n(y)}" y2="{_n(y)}"/>'
                     f'<text class="axis" x="{left - 6}" y="{_n(y + 4)}" text-anchor="end">{_fmt(v, 0)}</text>')
        v += tick
    for i, label in enumerate(labels):
        parts.append(f'<text class="axis" x="{_n(x_at(i))}" y="{height - 10}" text-anchor="middle">'
                     f'{escape(label)}</text>')
    for s in series:
        dash = ' stroke-dasharray="5 4"' if s.dashed else ""
        segment: list[str] = []
        segments: list[list[str]] = []
        for i, v in enumerate(s.values):
            if v is None:
                if segment:
                    segments.append(segment)
                segment = []
                continue
            segment.append(f"{_n(x_at(i))},{_n(y_at(float(v)))}")
        if segment:
            segments.append(segment)
        for seg in segments:
            if len(seg) > 1:
                parts.append(f'<polyline class="line" points="{" ".join(seg)}" stroke="{s.colour}"{dash}/>')
        for i, v in enumerate(s.values):
            if v is not None:
                parts.append(f'<circle cx="{_n(x_at(i))}" cy="{_n(y_at(float(v)))}" r="3.5" fill="{s.colour}">'
                             f'<title>{escape(s.name)} · {escape(labels[i] if i < len(labels) else "")}: '
                             f'{_fmt(v, 2)}</title></circle>')
    return _svg(width, height, title, "".join(parts), "lines")


# ---- radar ---------------------------------------------------------------------------------------

def radar(axes: Sequence[str], series: Sequence[Series], title: str) -> SafeString:
    """One axis per category, each series' share of the category's points (0–100 %)."""
    n = len(axes)
    if n < 3:
        return _svg(10, 10, title, "")
    label_room = max(_text_width(a) for a in axes) + 12
    radius = 120
    cx, cy = radius + label_room, radius + 26
    width, height = 2 * (radius + label_room), 2 * radius + 52

    def point(i: int, share: float) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * i / n
        r = radius * max(0.0, min(1.1, share))
        return cx + r * math.cos(angle), cy + r * math.sin(angle)

    parts = []
    for ring in (0.25, 0.5, 0.75, 1.0):
        ring_pts = " ".join(f"{_n(x)},{_n(y)}" for x, y in (point(i, ring) for i in range(n)))
        parts.append(f'<polygon class="ring" points="{ring_pts}"/>')
    for i, label in enumerate(axes):
        x, y = point(i, 1.0)
        parts.append(f'<line class="spoke" x1="{_n(cx)}" y1="{_n(cy)}" x2="{_n(x)}" y2="{_n(y)}"/>')
        lx, ly = point(i, 1.12)
        anchor = "middle" if abs(lx - cx) < 8 else ("start" if lx > cx else "end")
        parts.append(f'<text class="axis-label" x="{_n(lx)}" y="{_n(ly + 4)}" text-anchor="{anchor}">'
                     f'{escape(label)}</text>')
    parts.append(f'<text class="axis" x="{_n(cx + 3)}" y="{_n(cy - radius * 0.5 + 4)}">50%</text>'
                 f'<text class="axis" x="{_n(cx + 3)}" y="{_n(cy - radius + 4)}">100%</text>')
    for s in series:
        pts = [point(i, float(v or 0)) for i, v in enumerate(s.values)]
        dash = ' stroke-dasharray="5 4"' if s.dashed else ""
        parts.append(f'<polygon class="area" points="{" ".join(f"{_n(x)},{_n(y)}" for x, y in pts)}" '
                     f'stroke="{s.colour}" fill="{s.colour}"{dash}><title>{escape(s.name)}</title></polygon>')
        for i, (x, y) in enumerate(pts):
            v = s.values[i]
            parts.append(f'<circle cx="{_n(x)}" cy="{_n(y)}" r="3" fill="{s.colour}"><title>{escape(s.name)} · '
                         f'{escape(axes[i])}: {_fmt(100 * float(v or 0), 0)}%</title></circle>')
    return _svg(width, height, title, "".join(parts), "radar")


# ---- heat map ------------------------------------------------------------------------------------

@dataclass
class HeatRow:
    label: str
    link: str
    cells: list[tuple[float | None, str]]  # (share 0..1 or None, tooltip)


def heat_colour(share: float | None) -> str:
    """Red (nothing) → amber (half) → green (full marks); grey when there is no score."""
    if share is None:
        return "#eef0f3"
    share = max(0.0, min(1.0, share))
    stops = [(0.0, (183, 28, 28)), (0.6, (224, 160, 48)), (1.0, (46, 125, 50))]
    for (a, ca), (b, cb) in zip(stops, stops[1:], strict=False):
        if share <= b:
            t = (share - a) / (b - a) if b > a else 0
            rgb = [round(ca[k] + (cb[k] - ca[k]) * t) for k in range(3)]
            return "#{:02x}{:02x}{:02x}".format(*rgb)
    return "#2e7d32"


def heatmap(columns: Sequence[tuple[str, str]], rows: Sequence[HeatRow], title: str) -> SafeString:
    """Units down, items across (column = (code, tooltip)); each cell coloured by the unit's share
    of the item's points. A row label links to the unit's scorecard."""
    cell, gap = 16, 2
    label_w = min(220, max([80] + [_text_width(r.label, 12) + 10 for r in rows]))
    head = max([30] + [_text_width(code, 10) * 0.75 + 14 for code, _tip in columns])
    width = label_w + len(columns) * (cell + gap) + 6
    height = head + len(rows) * (cell + gap) + 4
    parts = []
    for j, (code, tip) in enumerate(columns):
        x = label_w + j * (cell + gap) + cell / 2
        parts.append(f'<text class="col" transform="translate({_n(x + 3)},{_n(head - 4)}) rotate(-60)">'
                     f'<title>{escape(tip)}</title>{escape(code)}</text>')
    for i, row in enumerate(rows):
        y = head + i * (cell + gap)
        label = escape(row.label)
        text = f'<text class="row" x="{_n(label_w - 6)}" y="{_n(y + cell - 4)}" text-anchor="end">{label}</text>'
        parts.append(f'<a href="{escape(row.link)}">{text}</a>' if row.link else text)
        for j, (share, tip) in enumerate(row.cells):
            x = label_w + j * (cell + gap)
            parts.append(f'<rect x="{_n(x)}" y="{_n(y)}" width="{cell}" height="{cell}" rx="2" '
                         f'fill="{heat_colour(share)}"><title>{escape(tip)}</title></rect>')
    return _svg(width, height, title, "".join(parts), "heat")


def heat_scale(labels: Sequence[tuple[float | None, str]]) -> SafeString:
    """The colour key under the heat map."""
    items = "".join(format_html('<li><svg class="swatch" width="14" height="14" aria-hidden="true"><rect width="14" '
                                'height="14" rx="3" fill="{}"/></svg>{}</li>', heat_colour(s), label)
                    for s, label in labels)
    return mark_safe(f'<ul class="chart-legend heat-key">{items}</ul>')
