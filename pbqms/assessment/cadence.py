"""The branches' half of the cadence — 一月一自查、一季一考核、半年一分析、年底一总结 (issue 22.7).

- A monthly self-check closes at the month's end: `close_months` (a daily job through
  pbqms.core.schedule, idempotent) publishes every month whose last day has passed, so its
  self-checks are locked and a month closed without one counts as missed
  (metric "assessment.self_checks_missed", pbqms/assessment/metrics.py).
- The quarter's self-check starts from the months' answers (`carry_months`): what the branch
  answered in the quarter's monthly self-checks is carried into the quarter's sheet, so the
  60-item sheet is not filled in again (重复填报); the branch corrects what changed.
- Each branch files its half-year analysis (a self sheet of the half-year period, whose text is
  the analysis; nothing is scored) and its annual summary (the self sheet of the year).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from pbqms.assessment.models import (
    ItemKind,
    Method,
    Period,
    PeriodKind,
    PeriodStatus,
    PeriodStep,
    Score,
    Sheet,
    SheetKind,
    SheetStatus,
    TargetKind,
)
from pbqms.assessment.schemes import departs, is_deduction, magnitude, signed
from pbqms.audit.models import AuditAction
from pbqms.audit.services import record
from pbqms.core import clock

FACT_CAP = 300  # characters of carried reasons / evidence per score


def close_months(today: dt.date | None = None) -> int:
    """Close (publish) every branch monthly self-check whose month has ended; returns how many
    closed. Running it again the same day, or on any later day, closes nothing twice. A month once
    closed and then reopened (a recorded correction) is left to the person who reopened it: the
    job never undoes a reopening. Members' points plans keep their own pace."""
    from pbqms.assessment import results

    today = today or clock.today()
    closed = 0
    due = list(Period.objects.filter(kind=PeriodKind.MONTH, ends_on__lt=today, scheme__target_kind=TargetKind.BRANCH)
               .exclude(status=PeriodStatus.PUBLISHED).exclude(steps__to_status=PeriodStatus.PUBLISHED)
               .values_list("pk", flat=True).order_by("ends_on", "pk"))
    for pk in due:
        with transaction.atomic():
            period = Period.objects.select_for_update(of=("self",)).get(pk=pk)
            if period.status == PeriodStatus.PUBLISHED:
                continue
            note = _("closed at the end of the month")
            PeriodStep.objects.create(period=period, from_status=period.status, to_status=PeriodStatus.PUBLISHED,
                                      actor=None, actor_name=_("system"), reason=note)
            record(None, AuditAction.UPDATE, period, {"status": [period.status, PeriodStatus.PUBLISHED]}, note=note)
            period.status, period.published_at = PeriodStatus.PUBLISHED, clock.now()
            period.save(update_fields=["status", "published_at"])
            results.compute(period)
            closed += 1
    return closed


def carry_months(sheet: Sheet) -> int:
    """Fill a new quarterly self sheet from the quarter's submitted monthly self-checks: a
    per-occurrence item adds up the months' occurrences, any other item takes the latest month's
    answer; items already filled (computed from the records) stay. Returns the rows made."""
    period = sheet.period
    if sheet.kind != SheetKind.SELF or sheet.member_id or period.kind != PeriodKind.QUARTER:
        return 0
    months = Sheet.objects.filter(period__plan_id=period.plan_id, period__kind=PeriodKind.MONTH,
                                  period__starts_on__gte=period.starts_on, period__ends_on__lte=period.ends_on,
                                  unit_id=sheet.unit_id, member__isnull=True, kind=SheetKind.SELF,
                                  status=SheetStatus.SUBMITTED)
    taken = set(sheet.scores.values_list("item_id", flat=True))
    by_item: dict[int, list[Score]] = defaultdict(list)
    for s in (Score.objects.filter(sheet__in=months).exclude(item_id__in=taken)
              .select_related("item", "sheet__period").order_by("sheet__period__starts_on", "pk")):
        by_item[s.item_id].append(s)
    made = []
    for rows in by_item.values():
        item, last = rows[-1].item, rows[-1]
        keys = "、".join(dict.fromkeys(r.sheet.period.key for r in rows))
        note = _("Carried from the monthly self-checks: %(months)s.") % {"months": keys}
        if item.method == Method.DEDUCT:
            n = sum(r.occurrences or 0 for r in rows)
            amount = magnitude(item, occurrences=n)
            points = signed(item, amount if amount is not None else Decimal(0))
            lost = [r for r in rows if r.deducted or (r.occurrences or 0) > 0]
            reason = "；".join(dict.fromkeys(r.reason for r in lost if r.reason))[:FACT_CAP]
            evidence = "；".join(dict.fromkeys(r.evidence_ref for r in lost if r.evidence_ref))[:FACT_CAP]
            vetoed = False
            score = Score(sheet=sheet, item=item, points=points, occurrences=n, reason=reason,
                          standard_applied=(lost[-1].standard_applied if lost else ""), evidence_ref=evidence)
        else:
            vetoed = item.kind == ItemKind.VETO and last.vetoed
            points = last.points
            score = Score(sheet=sheet, item=item, points=points, level=last.level, measured=last.measured,
                          vetoed=last.vetoed, reason=last.reason, standard_applied=last.standard_applied,
                          evidence_ref=last.evidence_ref)
        score.deducted = is_deduction(item, points, vetoed)
        score.departs = departs(item, points, vetoed)
        score.note = note
        made.append(score)
    Score.objects.bulk_create(made)
    return len(made)
