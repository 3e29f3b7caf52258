"""Resident ID numbers — 公民身份号码 (GB 11643-1999): validation and masking."""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
_PATTERN = re.compile(r"^\d{17}[\dX]$")


def check_digit(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of GB 11643."""
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def birth_date_of(number: str) -> dt.date:
    return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def gender_of(number: str) -> str:
    """'M' or 'F' from the order code's last digit (odd = male)."""
    return "M" if int(number[16]) % 2 else "F"


def normalise(number: str) -> str:
    return number.strip().upper().replace(" ", "")


def validate(number: str, birth_date: dt.date | None = None, gender: str | None = None) -> str:
    """Return the normalised number or raise ValidationError saying what is wrong with it."""
    number = normalise(number)
    if not _PATTERN.match(number):
        raise ValidationError(_("An ID number has 17 digits followed by a digit or X."), code="format")
    if check_digit(number[:17]) != number[17]:
        raise ValidationError(_("The ID number's check digit is wrong."), code="check_digit")
    try:
        born = birth_date_of(number)
    except ValueError:
        raise ValidationError(_("The ID number holds an impossible birth date."), code="birth_date")
    if not dt.date(1900, 1, 1) <= born <= dt.date.today():
        raise ValidationError(_("The ID number holds an impossible birth date."), code="birth_date")
    if birth_date is not None and birth_date != born:
        raise ValidationError(
            _("The birth date %(birth)s does not match the ID number (%(id_birth)s).")
            % {"birth": birth_date.isoformat(), "id_birth": born.isoformat()},
            code="birth_mismatch",
        )
    if gender and gender != gender_of(number):
        raise ValidationError(_("The gender does not match the ID number."), code="gender_mismatch")
    return number


def mask(number: str) -> str:
    """3****************4: the first and the last character only (decision 0011).

    Roles that may not read ID numbers still see the birth date (digits 7-14) and the gender
    (the parity of digit 17) in the clear, so the mask must leave enough of the rest unknown: with
    the first and last characters shown, digits 2-6, 15-16 and 17 (parity known) stay hidden and
    about 4.5 million numbers fit everything such a role sees.
    """
    if not number:
        return ""
    return number[:1] + "*" * (len(number) - 2) + number[-1:]


def remask(masked: str) -> str:
    """The mask of a number known only by an older, wider mask (3201**********1234 → 3****************4).

    Used by the data migration that rewrites stored masked copies and by the roster import, which
    compares a masked number of an old export with the stored one.
    """
    masked = (masked or "").strip().upper()
    if len(masked) < 2:
        return masked
    return masked[:1] + "*" * (len(masked) - 2) + masked[-1:]


def mask_phone(phone: str) -> str:
    if len(phone) < 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
