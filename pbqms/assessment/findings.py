"""Deductions → findings — 扣分转问题: any deduction of an assessment becomes a rectification finding in
one action, exactly once (the seam is pbqms.rectification.services.raise_finding with the key
``assess:<score id>``).

The finding carries the item's code, the standard applied, the period, the reason and the number
(五不放过), and links back to the unit's scorecard. Only someone who may record findings for the
unit acts (scope.can_record_finding: the committee and its department, never for a unit they
belong to), and only for a deduction on a submitted sheet that counts for the period's result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from pbqms import scope
from pbqms.assessment import stats
from pbqms.assessment.models import ItemKind, Period, Score, SheetStatus
from pbqms.audit.models import AuditAction
from pbqms.audit.services import record
from pbqms.core import clock


@dataclass
class Raised:
    """What one call raised: the findings made now and those that existed already."""

    created: list[Any]
    existing: list[Any]

    @property
    def count(self) -> int:
        return len(self.created)


def scorecard_link(period: Period, unit_code: str) -> str:
    return reverse("assessment:scorecard", kwargs={"period_pk": period.pk, "code": unit_code})


def _describe(score: Score) -> str:
    item = score.item
    head = f"{item.code} {item.title}"
    if score.vetoed:
        return _("%(item)s: veto item triggered. %(reason)s") % {"item": head, "reason": score.reason}
    lost = stats.lost_points(item, score.points)
    count = _(" (%(n)s times)") % {"n": score.occurrences} if score.occurrences else ""
    return _("%(item)s: %(lost)s points deducted%(count)s. %(reason)s") % {
        "item": head, "lost": format(lost.normalize(), "f"), "count": count, "reason": score.reason}


def _finding_input(score: Score, period: Period) -> Any:
    from pbqms.rectification.models import FindingSource, Severity
    from pbqms.rectification.services import FindingInput

    unit = score.sheet.unit
    return FindingInput(
        unit=unit, description=_describe(score).strip(), found_on=clock.today(), source=FindingSource.ASSESSMENT,
        item_code=score.item.code, standard=(score.standard_applied or score.item.standard)[:4000],
        severity=Severity.MAJOR if score.vetoed or score.item.kind == ItemKind.VETO else Severity.GENERAL,
        period=score.sheet.period.key,
        source_ref=(_("Assessment %(period)s, item %(item)s") % {"period": score.sheet.period.key,
                                                                  "item": score.item.code})[:200],
        source_link=scorecard_link(period, unit.code)[:300])


def _counting_deductions(period: Period, unit_id: int, score_ids: Sequence[int] | None) -> list[Score]:
    periods = stats.source_periods(period)
    qs = (Score.objects.filter(stats.counting_q(periods, period.plan.panel_rule), deducted=True,
                               sheet__unit_id=unit_id, sheet__member__isnull=True)
          .select_related("item", "sheet__period", "sheet__unit").order_by("item__code", "sheet_id"))
    if score_ids is not None:
        qs = qs.filter(pk__in=list(score_ids))
    return list(qs)


@transaction.atomic
def raise_findings(actor: Any, period: Period, unit: Any, score_ids: Sequence[int] | None = None) -> Raised:
    """Raise a finding for each named deduction (all of the unit's, when `score_ids` is None) of
    `unit` behind `period`'s result. A deduction already raised returns its finding, untouched."""
    from pbqms.rectification.services import raise_finding

    if not scope.can_record_finding(actor, unit):
        raise PermissionDenied
    if period.scheme.target_kind != "branch":
        raise ValidationError(_("Deductions of members' points are not rectified as findings of a unit."))
    wanted = None if score_ids is None else sorted({int(i) for i in score_ids})
    scores = _counting_deductions(period, unit.pk, wanted)
    if wanted is not None and len(scores) != len(wanted):
        raise ValidationError(_("That deduction is not part of this unit's result for %(period)s.")
                              % {"period": period.key})
    if not scores:
        raise ValidationError(_("%(unit)s lost no points in %(period)s: there is nothing to raise.")
                              % {"unit": unit.name, "period": period.key})
    if any(s.sheet.status != SheetStatus.SUBMITTED for s in scores):  # counting_q already insists
        raise ValidationError(_("Only deductions on submitted sheets become findings."))
    created: list[Any] = []
    existing: list[Any] = []
    for score in scores:
        finding, new = raise_finding(_finding_input(score, period), source_key=stats.source_key(score.pk),
                                     actor=actor)
        (created if new else existing).append(finding)
    if created:
        record(actor, AuditAction.UPDATE, period,
               {"findings": [None, ", ".join(f"{f.item_code}#{f.pk}" for f in created)]},
               note=_("deductions of %(unit)s raised as findings") % {"unit": unit.name})
    return Raised(created, existing)
