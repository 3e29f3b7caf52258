"""Organisational-life metrics for auto-scored assessment items (registered in pbqms.core.metrics)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Avg, Count, Q

from pbqms.core.figures import figure

from .models import ActivityRecord, ComplianceState, ComplianceStatus


def compliance_rate(unit_ids: Iterable[int], start: dt.date, end: dt.date) -> dict[int, Decimal | None]:
    """Share of the requirements decided in [start, end] (periods ending inside it) that were met,
    for each unit's whole subtree (a branch's rate includes its groups' meetings)."""
    from pbqms.orgs.models import Unit

    units = list(Unit.objects.filter(pk__in=list(unit_ids)).values_list("pk", "path"))
    out: dict[int, Decimal | None] = {}
    for pk, path in units:
        row = ComplianceState.objects.filter(org_path__startswith=path, period_end__gte=start,
                                             period_end__lte=end).aggregate(
            met=Count("id", filter=Q(status=ComplianceStatus.MET)),
            missed=Count("id", filter=Q(status=ComplianceStatus.MISSED)))
        decided = row["met"] + row["missed"]
        out[pk] = Decimal(figure(100 * row["met"] / decided)) if decided else None
    return out


def attendance_rate(unit_ids: Iterable[int], start: dt.date, end: dt.date) -> dict[int, Decimal | None]:
    """Mean attendance rate of the unit's own activities held in [start, end]."""
    ids = list(unit_ids)
    rows = (ActivityRecord.objects.filter(unit_id__in=ids, held_on__gte=start, held_on__lte=end)
            .values("unit_id").annotate(rate=Avg("attendance_rate")).order_by())
    found = {r["unit_id"]: Decimal(figure(r["rate"])) if r["rate"] is not None else None for r in rows}
    return {pk: found.get(pk) for pk in ids}
