"""Organisational-life metrics for auto-scored assessment items (registered in pbqms.core.metrics)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Avg, Count, Q
from django.utils import timezone

from pbqms.core.figures import figure

from .models import ActivityKind, ActivityRecord, ComplianceState, ComplianceStatus


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
    """Mean attendance rate of the unit's own meetings held in [start, end]: each by the roster of
    its kind (a committee meeting's committee; attendees without a vote are not counted). Talks
    have participants, not attendance, and count for nothing here."""
    ids = list(unit_ids)
    rows = (ActivityRecord.objects.filter(unit_id__in=ids, held_on__gte=start, held_on__lte=end, expected__gt=0)
            .exclude(kind=ActivityKind.HEART_TALK)
            .values("unit_id").annotate(rate=Avg("attendance_rate")).order_by())
    found = {r["unit_id"]: Decimal(figure(r["rate"])) if r["rate"] is not None else None for r in rows}
    return {pk: found.get(pk) for pk in ids}


def filed_in_advance(unit_ids: Iterable[int], start: dt.date, end: dt.date) -> dict[int, Decimal | None]:
    """Share of the unit's own activities held in [start, end] that were filed in a plan in advance
    (活动计划报备, "由事后检查变为事前监督"): a record counts when a line of the unit's plan for a
    period holding its day, of its kind, was filed on or before the day it was held, not late
    (补报) and not dropped from the plan by that day. Each line answers for one record (the earliest
    filed first), so one line filed in advance does not cover a second meeting. None: nothing held.
    For an item like 会前未报备."""
    from .models import PlannedActivity

    ids = list(unit_ids)
    recs = list(ActivityRecord.objects.filter(unit_id__in=ids, held_on__gte=start, held_on__lte=end)
                .values_list("unit_id", "kind", "held_on").order_by("held_on", "id"))
    lines = list(PlannedActivity.every_version.filter(
        plan__unit_id__in=ids, plan__period_end__gte=start, plan__period_start__lte=end, late=False)
        .values_list("plan__unit_id", "kind", "plan__period_start", "plan__period_end", "filed_at",
                     "superseded_at", "pk")
        .order_by("filed_at", "pk"))
    by_key: dict[tuple[int, str], list[tuple[dt.date, dt.date, dt.date, dt.date | None, int]]] = {}
    for unit_id, kind, p_start, p_end, filed_at, dropped_at, pk in lines:
        by_key.setdefault((unit_id, kind), []).append(
            (p_start, p_end, timezone.localdate(filed_at), timezone.localdate(dropped_at) if dropped_at else None, pk))
    held: dict[int, int] = {}
    ahead: dict[int, int] = {}
    used: set[int] = set()
    for unit_id, kind, day in recs:
        held[unit_id] = held.get(unit_id, 0) + 1
        for p_start, p_end, filed_on, dropped_on, pk in by_key.get((unit_id, kind), []):
            # a line dropped on or before the day no longer announced the meeting
            if pk not in used and p_start <= day <= p_end and filed_on <= day and (dropped_on is None
                                                                                  or dropped_on > day):
                used.add(pk)
                ahead[unit_id] = ahead.get(unit_id, 0) + 1
                break
    return {pk: Decimal(str(round(100 * ahead.get(pk, 0) / held[pk], 1))) if held.get(pk) else None for pk in ids}
