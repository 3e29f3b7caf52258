"""Notice numbers — 通知书编号: a pattern per issuing unit, a sequence per issuing unit and year."""

from __future__ import annotations

import string

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from pbqms.orgs.models import Unit

from .models import NoticeSequence, RectificationSettings

DEFAULT_PATTERN = "党纠〔{year}〕{seq:03d}号"
FIELDS = {"year", "seq"}


def validate_pattern(pattern: str) -> str:
    """Refuse a pattern that names unknown fields, lacks {seq}, or does not format."""
    pattern = (pattern or "").strip()
    try:
        names = {name for _text, name, _spec, _conv in string.Formatter().parse(pattern) if name is not None}
    except ValueError:
        raise ValidationError(_("The number pattern is malformed: check its braces."))
    if "seq" not in names:
        raise ValidationError(_("The number pattern must contain {seq}."))
    unknown = names - FIELDS
    if unknown:
        raise ValidationError(_("The number pattern may only use {year} and {seq}, not: %(names)s.")
                              % {"names": ", ".join(sorted(unknown))})
    try:
        pattern.format(year=2026, seq=1)
    except (ValueError, TypeError, IndexError, KeyError):
        raise ValidationError(_("The number pattern is malformed: check its format specifications."))
    return pattern


def settings_for(unit: Unit) -> RectificationSettings:
    """The issuing unit's own settings, else its nearest ancestor's, else the defaults (unsaved)."""
    ids = [int(p) for p in unit.path.strip("/").split("/") if p]
    found = {s.unit_id: s for s in RectificationSettings.objects.filter(unit_id__in=ids)}
    for uid in reversed(ids):
        if uid in found:
            return found[uid]
    return RectificationSettings(unit=unit)


def next_number(issuing_unit: Unit, year: int) -> tuple[str, int]:
    """Allocate the next number; call inside the issuing transaction (the row lock orders issuers)."""
    seq_row, _created = NoticeSequence.objects.get_or_create(issuing_unit=issuing_unit, year=year)
    seq_row = NoticeSequence.objects.select_for_update().get(pk=seq_row.pk)
    seq_row.last += 1
    seq_row.save(update_fields=["last"])
    pattern = settings_for(issuing_unit).number_pattern or DEFAULT_PATTERN
    return pattern.format(year=year, seq=seq_row.last), seq_row.last
