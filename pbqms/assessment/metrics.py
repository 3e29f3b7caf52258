"""Assessment's own figures for auto-scored items (registered in pbqms.core.metrics) — issue 22.7.

"一月一自查": a branch's monthly self-check closes at the month's end (services.close_months, a
daily job); a month closed without a submitted self-check is a miss, counted here so an item such
as "未按月自查的，每发现1项扣0.5分" is scored from the records, not typed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal


def self_checks_missed(unit_ids: Iterable[int], start: dt.date, end: dt.date) -> dict[int, Decimal | None]:
    """For each unit: the monthly self-checks of [start, end] that closed (the month has ended)
    without its submitted self-check, over every branch plan running above the unit; None when
    no month of the range has closed (nothing to count yet). Two queries whatever the range."""
    from pbqms.assessment.models import Period, PeriodKind, Sheet, SheetKind, SheetStatus, TargetKind
    from pbqms.core import clock
    from pbqms.orgs.models import Unit

    today = clock.today()
    units = list(Unit.objects.filter(pk__in=list(unit_ids)).values_list("pk", "path"))
    out: dict[int, Decimal | None] = {pk: None for pk, _path in units}
    if not units:
        return out
    months = list(Period.objects.filter(kind=PeriodKind.MONTH, scheme__target_kind=TargetKind.BRANCH,
                                        starts_on__gte=start, ends_on__lte=end, ends_on__lt=today)
                  .values_list("pk", "org_path"))
    if not months:
        return out
    filed = set(Sheet.objects.filter(period_id__in=[pk for pk, _p in months], unit_id__in=[pk for pk, _p in units],
                                     member__isnull=True, kind=SheetKind.SELF, status=SheetStatus.SUBMITTED)
                .values_list("period_id", "unit_id"))
    for unit_id, path in units:
        due = [pk for pk, org_path in months if path.startswith(org_path)]
        if due:
            out[unit_id] = Decimal(sum(1 for pk in due if (pk, unit_id) not in filed))
    return out
