"""Figures as people read them — 数值显示: one fixed precision for every computed figure.

A rate computed in floating point and turned into a Decimal keeps the float's binary expansion
(Decimal(91.4) is 91.400000000000005684…); every text that quotes a figure goes through
`figure`, and the template filter of the same name (pbqms_ui) does the same on pages.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

PLACES = 1  # percentages and points are shown with one decimal place

# a number with more decimal places than any figure of the system has (a float's expansion)
LONG_DECIMAL = re.compile(r"\d+\.\d{4,}")


def figure(value: Any, places: int = PLACES, *, trim: bool = False) -> str:
    """`value` (Decimal, float, int or numeric text) with exactly `places` decimals, rounded half
    up; with `trim`, trailing zeros (and a bare point) dropped: 90.0 → "90". None and text that
    is not a number come back as given ("" for None)."""
    if value is None or value == "":
        return ""
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
        text = format(number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP), "f")
    except (InvalidOperation, ValueError, TypeError):
        return str(value)
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    # a negative figure that rounds to zero is shown as zero ("0.0", never "-0.0" or "0" for "-0.04")
    return text.lstrip("-") if Decimal(text) == 0 else text


def tidy(text: str, places: int = PLACES) -> str:
    """`text` with every over-long decimal (a float's expansion quoted verbatim) rounded to `places`."""
    return LONG_DECIMAL.sub(lambda m: figure(m.group(0), places), text)
