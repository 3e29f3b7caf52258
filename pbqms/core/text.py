"""User text and dates — the one validator every service that takes user text calls (#21.3).

Refused, with a clear translated message naming the field:

- control characters: C0 (U+0000-U+001F, U+007F) except tab and newline (and carriage return)
  in multi-line text, and C1 (U+0080-U+009F). They break exports (an .xlsx cannot hold them),
  terminals and log files;
- bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069), which make text read
  differently from what it holds ("Trojan source");
- a name, title or other one-line required text made of invisible characters only (zero-width
  spaces, joiners, BOM) or of blanks;
- text longer than its limit (a 5,000,000-character description was accepted before);
- dates a person cannot have: a birth date in the future or before 1900.

`clean()` removes what `check()` refuses; the data migration `core.0002_clean_user_text` ran it
over the text already stored.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# Limits that fit the forms (the form fields carry the same maxlength).
NAME = 60  # a person's name (Member.name)
SHORT = 200  # titles, topics, places, unit names, one-line fields
TEXT = 20_000  # descriptions, minutes, reasons, measures: multi-line text

CONTROL = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # C0 but tab, LF, CR; DEL; C1
BIDI = "\u202a-\u202e\u2066-\u2069"
INVISIBLE = "\u200b-\u200f\u2060-\u2064\ufeff\u00ad\u034f\u180e"  # zero-width, joiners, marks, BOM, soft hyphen
_BAD_MULTI = re.compile(f"[{CONTROL}{BIDI}]")
_BAD_LINE = re.compile(f"[{CONTROL}\t\n\r\u2028\u2029{BIDI}]")  # line/paragraph separators break a line too
_EMPTY = re.compile(f"^[\\s{INVISIBLE}]*$")
_CLEAN = re.compile(f"[{CONTROL}{BIDI}]")

EARLIEST_BIRTH = dt.date(1900, 1, 1)

FIELD = gettext_lazy("This field")


def _label(label: Any) -> str:
    return capfirst(str(label or FIELD))


def _describe(ch: str) -> str:
    return f"U+{ord(ch):04X}"


def check(value: Any, label: Any = None, *, max_length: int = SHORT, multiline: bool = False,
          required: bool = False) -> str:
    """`value` as text if it is acceptable, else ValidationError saying why. None counts as ""."""
    text = "" if value is None else str(value)
    bad = (_BAD_MULTI if multiline else _BAD_LINE).search(text)
    if bad is not None:
        if bad.group() in "\t\n\r\u2028\u2029":
            raise ValidationError(_("%(field)s must be on one line.") % {"field": _label(label)}, code="one_line")
        if "\u202a" <= bad.group() <= "\u2069":
            raise ValidationError(
                _("%(field)s holds a character that reverses the reading direction (%(char)s); remove it.")
                % {"field": _label(label), "char": _describe(bad.group())}, code="bidi")
        raise ValidationError(
            _("%(field)s holds an invisible control character (%(char)s); remove it.")
            % {"field": _label(label), "char": _describe(bad.group())}, code="control")
    if len(text) > max_length:
        raise ValidationError(
            _("%(field)s is too long: %(length)s characters, at most %(max)s.")
            % {"field": _label(label), "length": len(text), "max": max_length}, code="too_long")
    if required and _EMPTY.match(text):
        raise ValidationError(_("%(field)s is empty or made of invisible characters only.")
                              % {"field": _label(label)}, code="blank")
    return text


def check_many(values: Mapping[str, Any], spec: Mapping[str, tuple[Any, int, bool]]) -> None:
    """Check each key of `values` named in `spec` (key → (label, max_length, multiline))."""
    for key, (label, max_length, multiline) in spec.items():
        if key in values and values[key] is not None:
            check(values[key], label, max_length=max_length, multiline=multiline)


def check_model(obj: models.Model, fields: tuple[str, ...] | list[str], *, names: tuple[str, ...] = (),
                limits: Mapping[str, int] | None = None) -> None:
    """Check the text `fields` of a record about to be saved, each under its verbose name: a
    CharField one line up to its max_length, a TextField multi-line up to TEXT; `names` must not
    be empty or invisible."""
    for f in fields:
        field: Any = obj._meta.get_field(f)
        value = getattr(obj, f)
        if value is None:
            continue
        multiline = isinstance(field, models.TextField)
        limit = (limits or {}).get(f) or getattr(field, "max_length", None) or TEXT
        check(value, field.verbose_name, max_length=min(limit, TEXT) if multiline else limit, multiline=multiline,
              required=f in names)


def name(value: Any, label: Any = None, *, max_length: int = SHORT) -> str:
    """A required one-line name or title, trimmed."""
    return check(value, label, max_length=max_length, required=True).strip()


def birth_date(value: dt.date | None, today: dt.date | None = None) -> dt.date | None:
    """A birth date a person can have: not in the future, not before 1900."""
    if value is None:
        return None
    today = today or dt.date.today()
    if value > today:
        raise ValidationError(_("The birth date %(date)s lies in the future.") % {"date": value.isoformat()},
                              code="birth_future")
    if value < EARLIEST_BIRTH:
        raise ValidationError(_("The birth date %(date)s is before 1900.") % {"date": value.isoformat()},
                              code="birth_too_early")
    return value


def date(value: dt.date | None, label: Any = None) -> dt.date | None:
    """Any date of the party's records: from 1900 to the year 2100."""
    if value is not None and not dt.date(1900, 1, 1) <= value <= dt.date(2100, 12, 31):
        raise ValidationError(_("%(field)s: %(date)s is not a plausible date.")
                              % {"field": _label(label), "date": value.isoformat()}, code="date_range")
    return value


def clean(value: str, *, multiline: bool = True) -> str:
    """`value` without what `check` refuses (control characters, direction overrides)."""
    if not value:
        return value
    if not multiline:
        value = re.sub(r"[\t\n\r]+", " ", value)
    return _CLEAN.sub("", value)


def is_blank(value: str) -> bool:
    return bool(_EMPTY.match(value or ""))


def check_into(errors: dict[str, Any], values: Any, spec: Mapping[str, tuple[Any, int, bool]]) -> None:
    """Like `check_many` for a form-shaped service: each refusal goes into `errors[key]` (the first
    message a key has stays). `values` is a mapping or an object with those attributes."""
    for key, (label, max_length, multiline) in spec.items():
        value = values.get(key) if isinstance(values, Mapping) else getattr(values, key, None)
        if value is None:
            continue
        try:
            check(value, label, max_length=max_length, multiline=multiline)
        except ValidationError as err:
            errors.setdefault(key, err.messages[0])


def limits_of(model: type[models.Model], *fields: str) -> dict[str, tuple[Any, int, bool]]:
    """A `check_into` spec from a model's fields: verbose name, max_length (TEXT for a TextField)
    and whether it is multi-line."""
    out: dict[str, tuple[Any, int, bool]] = {}
    for f in fields:
        field: Any = model._meta.get_field(f)
        multi = isinstance(field, models.TextField)
        out[f] = (field.verbose_name, TEXT if multi else (getattr(field, "max_length", None) or SHORT), multi)
    return out


def check_values(model: type[models.Model], values: Any, *fields: str) -> None:
    """Check the text `fields` of `values` (a mapping or object) against `model`'s fields; raise one
    ValidationError with a message per refused field."""
    errors: dict[str, Any] = {}
    check_into(errors, values, limits_of(model, *fields))
    if errors:
        raise ValidationError(errors)


def label(model: type[models.Model], field: str) -> Any:
    """A model field's verbose name, the label a message names it by."""
    f: Any = model._meta.get_field(field)
    return f.verbose_name
