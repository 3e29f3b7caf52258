"""Template filters of the scoring pages."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import template

register = template.Library()


@register.filter
def pts(value: Any) -> str:
    """Points without trailing zeros: 40, 2.5, 0.25 (never 40.00 or 4E+1)."""
    if value is None or value == "":
        return ""
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    text = format(d, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
