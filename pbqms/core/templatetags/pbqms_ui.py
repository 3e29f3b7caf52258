"""Template helpers shared by the web pages: the server-drawn bar chart and audit-change rows."""

from __future__ import annotations

from typing import Any

from django import template
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext as _

register = template.Library()

# Geometry of the horizontal bar chart, in SVG user units (the SVG scales to its box).
BAR_SPAN = 200
VALUE_WIDTH = 44
ROW_HEIGHT = 26
BAR_HEIGHT = 16


@register.inclusion_tag("core/_bar_chart.html")
def bar_chart(rows: list[tuple[str, int]], title: str = "") -> dict[str, Any]:
    """A horizontal bar chart drawn as inline SVG on the server: no script, no chart library."""
    top = max((v for _label, v in rows), default=0) or 1
    # The label column fits the longest label (CJK characters are about twice as wide as Latin).
    label_width = max([60] + [sum(13 if ord(c) > 0x2E80 else 7 for c in str(label)) + 14 for label, _v in rows])
    span = BAR_SPAN
    LABEL_WIDTH = label_width  # noqa: N806 - kept for the geometry below
    CHART_WIDTH = label_width + BAR_SPAN + VALUE_WIDTH  # noqa: N806
    bars = []
    for i, (label, value) in enumerate(rows):
        width = round(span * value / top, 1) if value else 0
        y = i * ROW_HEIGHT
        # Coordinates as strings so the template's number localisation never touches them.
        bars.append({"label": label, "value": value, "bar_y": f"{y + (ROW_HEIGHT - BAR_HEIGHT) / 2:g}",
                     "text_y": f"{y + ROW_HEIGHT / 2 + 4:g}", "width": f"{width:g}",
                     "value_x": f"{LABEL_WIDTH + width + 6:g}"})
    return {"bars": bars, "title": title, "width": CHART_WIDTH, "height": max(1, len(rows)) * ROW_HEIGHT,
            "label_x": LABEL_WIDTH - 8, "bar_x": LABEL_WIDTH, "bar_height": BAR_HEIGHT}


def _model(label: str) -> Any:
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


@register.filter
def record_type(label: str) -> str:
    """'members.member' → the model's verbose name."""
    from pbqms.core.codes import model_name

    model = _model(label)
    return model_name(model) if model else label


def _show(field: Any, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if field is not None and getattr(field, "choices", None):
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return str(value)


def _pseudo_fields() -> dict[str, str]:
    # Entries may name facts that are not model fields (a committee post, a password change).
    return {"committee_role": _("Committee post"), "password": _("Password"), "role": _("Role"),
            "locked_until": _("Locked until"), "findings": _("Findings"), "panel": _("Assessment panel"),
            "standard": _("Standard applied"), "review": _("Review"), "common_targets": _("Common targets"),
            "number_pattern": _("Notice number pattern"),
            "recurrence_units": _("Units with the same problem that call for preventive action")}


@register.filter
def change_rows(entry: Any) -> list[dict[str, str]]:
    """Each changed field of an audit entry as {label, before, after}, choice codes as their labels."""
    model = _model(entry.model)
    rows = []
    for name, pair in (entry.changes or {}).items():
        before, after = (list(pair) + [None, None])[:2] if isinstance(pair, list | tuple) else (None, pair)
        field = None
        label = _pseudo_fields().get(name, name)
        if model is not None and name not in _pseudo_fields():
            try:
                field = model._meta.get_field(name)
                label = str(getattr(field, "verbose_name", name))
            except FieldDoesNotExist:
                field = None
        rows.append({"label": label, "before": _show(field, before), "after": _show(field, after),
                     "added": before in (None, ""), "removed": after in (None, "")})
    return rows


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    try:
        return mapping.get(key)
    except AttributeError:
        return None


# ---- printed forms (#20.10) -------------------------------------------------------------------

@register.filter
def keep_tail(value: Any) -> str:
    """The text with its last two characters joined, so it never wraps leaving one alone."""
    from pbqms.core.officedocs import keep_tail as join_tail

    return join_tail(str(value if value is not None else ""))


@register.filter
def title_lines(value: Any, per_line: Any = 19) -> list[str]:
    """A printed title as balanced lines of at most about `per_line` ems (broken between words)."""
    from pbqms.core.officedocs import balanced_lines

    return balanced_lines(str(value or ""), float(per_line))


# ---- auth (#21.7): widths without style attributes, so pages pass the Content-Security-Policy ----

@register.filter
def wcls(value: Any) -> str:
    """A width in percent (a number, or text such as "37.5%") as the class app.css sizes it:
    "w-0" … "w-100", rounded and kept within 0..100."""
    try:
        pct = float(str(value).strip().rstrip("%") or 0)
    except (TypeError, ValueError):
        pct = 0.0
    return f"w-{max(0, min(100, round(pct)))}"


@register.filter(name="figure")
def figure_filter(value: Any, places: Any = None) -> str:
    """{{ rate|figure }} → "91.4"; {{ rate|figure:2 }} → "91.40" (core.figures.figure)."""
    from pbqms.core.figures import PLACES, figure

    try:
        n = PLACES if places in (None, "") else int(places)
    except (TypeError, ValueError):
        n = PLACES
    return figure(value, n)


@register.filter
def with_code_names(rows: Any) -> list[Any]:
    """{% for f in findings|with_code_names %} … {{ f.item_label }}: each row's item code named
    (core.codes; two queries for the whole list)."""
    from pbqms.core.codes import name_rows

    return name_rows(rows or [])


@register.filter
def code_name(code: Any) -> str:
    """{{ finding.item_code|code_name }}: one code's name (a rule's name, an item's code and title)."""
    from pbqms.core.codes import label

    return label(str(code or ""))


@register.filter
def evidence_link(ref: Any) -> str:
    """A score's evidence: a path on this site becomes a link titled with what it opens (the
    calendar of B01 …); any other text stays text."""
    from django.urls import Resolver404, resolve
    from django.utils.html import format_html

    text = str(ref or "").strip()
    if not text:
        return "—"
    if not text.startswith("/") or text.startswith("//"):
        return text
    try:
        match = resolve(text.split("?", 1)[0])
    except Resolver404:
        return text
    code = match.kwargs.get("code", "")
    titles = {
        "activities:calendar": _("Organisational-life calendar of %(code)s"),
        "activities:records": _("Activity records of %(code)s"),
        "objectives:member_targets": _("Member targets of %(code)s"),
        "objectives:unit_targets": _("Targets of %(code)s"),
    }
    title = titles.get(match.view_name, _("The records behind this figure"))
    return format_html('<a href="{}" class="evidence-link">{}</a>', text,
                       title % {"code": code} if "%(code)s" in title else title)
