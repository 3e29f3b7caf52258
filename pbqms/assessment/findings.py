"""Deductions → findings — 扣分转问题: any deduction of an assessment becomes a rectification finding in
one action, exactly once: one finding per unit, item and period, however many assessors' sheets
deducted, carrying the deduction the result used — the panel's mean or the lead's (issue 22.3; the
seam is pbqms.rectification.services.raise_finding with the key ``assess:<period>:<unit>:<item>``).

The finding carries the item's code, the standard applied, the period, the reason and the number
(五不放过), and links back to the unit's scorecard. Only someone who may record findings for the
unit acts (scope.can_record_finding: the committee and its department, never for a unit they
belong to), and only for a deduction on a submitted sheet that counts for the period's result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.urls import reverse
from django.utils.translation import gettext as _

from pbqms import scope
from pbqms.assessment import stats
from pbqms.assessment.models import ItemKind, Period, Score, Sheet, SheetStatus
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


@dataclass
class Group:
    """One unit's deduction on one item in one period: the counting sheets' scores behind it and
    the deduction the result used (the mean over the counting sheets, or the lead's alone)."""

    scores: list[Score]
    sheets: int  # the unit's counting sheets in the period (a sheet that did not deduct counts as 0)

    @property
    def first(self) -> Score:
        return self.scores[0]

    @property
    def lost(self) -> Decimal:
        total = sum((stats.lost_points(s.item, s.points) for s in self.scores), Decimal(0))
        return (total / max(1, self.sheets)).quantize(Decimal("0.01"), ROUND_HALF_UP)

    @property
    def vetoed(self) -> bool:
        return any(s.vetoed for s in self.scores)

    @property
    def key(self) -> str:
        s = self.first
        return stats.source_key(s.sheet.period_id, s.sheet.unit_id, s.item_id)


def _describe(group: Group) -> str:
    score = group.first
    item = score.item
    head = f"{item.code} {item.title}"
    reasons = "；".join(dict.fromkeys(s.reason.strip() for s in group.scores if s.reason.strip()))
    if group.vetoed:
        return _("%(item)s: veto item triggered. %(reason)s") % {"item": head, "reason": reasons}
    times = {s.occurrences for s in group.scores if s.occurrences}
    count = _(" (%(n)s times)") % {"n": score.occurrences} if len(times) == 1 and len(group.scores) == 1 else ""
    text = _("%(item)s: %(lost)s points deducted%(count)s. %(reason)s") % {
        "item": head, "lost": format(group.lost.normalize(), "f"), "count": count, "reason": reasons}
    if group.sheets > 1:
        each = "、".join(format(stats.lost_points(s.item, s.points).normalize(), "f") for s in group.scores)
        text += " " + _("(the mean of %(n)s assessors' sheets; deducted on each: %(each)s)") % {
            "n": group.sheets, "each": each}
    return text


def _finding_input(group: Group, period: Period) -> Any:
    from pbqms.rectification.models import FindingSource, Severity
    from pbqms.rectification.services import FindingInput

    score = group.first
    unit = score.sheet.unit
    return FindingInput(
        unit=unit, description=_describe(group).strip(), found_on=clock.today(), source=FindingSource.ASSESSMENT,
        item_code=score.item.code, standard=(score.standard_applied or score.item.standard)[:4000],
        severity=Severity.MAJOR if group.vetoed or score.item.kind == ItemKind.VETO else Severity.GENERAL,
        period=score.sheet.period.key,
        source_ref=(_("Assessment %(period)s, item %(item)s") % {"period": score.sheet.period.key,
                                                                  "item": score.item.code})[:200],
        source_link=scorecard_link(period, unit.code)[:300])


def _counting_deductions(period: Period, unit_id: int) -> list[Group]:
    """The unit's deductions behind the period's result, one group per item and period."""
    periods = stats.source_periods(period)
    rule = period.plan.panel_rule
    qs = (Score.objects.filter(stats.counting_q(periods, rule), deducted=True,
                               sheet__unit_id=unit_id, sheet__member__isnull=True)
          .select_related("item", "sheet__period", "sheet__unit").order_by("item__code", "sheet__period__starts_on",
                                                                            "sheet_id"))
    sheets = dict(Sheet.objects.filter(stats.counting_q(periods, rule, prefix=""), unit_id=unit_id,
                                       member__isnull=True).values("period_id").annotate(n=Count("id"))
                  .values_list("period_id", "n"))
    groups: dict[tuple[int, int], Group] = {}
    for score in qs:
        key = (score.sheet.period_id, score.item_id)
        if key not in groups:
            groups[key] = Group([], sheets.get(score.sheet.period_id, 1))
        groups[key].scores.append(score)
    return list(groups.values())


@transaction.atomic
def raise_findings(actor: Any, period: Period, unit: Any, score_ids: Sequence[int] | None = None) -> Raised:
    """Raise one finding for each of `unit`'s deductions behind `period`'s result — one per item and
    period, however many assessors' sheets deducted (issue 22.3) — or for those holding the named
    scores. A deduction already raised returns its finding, untouched."""
    from pbqms.rectification.models import Finding
    from pbqms.rectification.services import raise_finding

    if not scope.can_record_finding(actor, unit):
        raise PermissionDenied
    if period.scheme.target_kind != "branch":
        raise ValidationError(_("Deductions of members' points are not rectified as findings of a unit."))
    groups = _counting_deductions(period, unit.pk)
    if score_ids is not None:
        wanted = {int(i) for i in score_ids}
        groups = [g for g in groups if wanted & {s.pk for s in g.scores}]
        held = {s.pk for g in groups for s in g.scores}
        if not wanted or wanted - held:
            raise ValidationError(_("That deduction is not part of this unit's result for %(period)s.")
                                  % {"period": period.key})
    if not groups:
        raise ValidationError(_("%(unit)s lost no points in %(period)s: there is nothing to raise.")
                              % {"unit": unit.name, "period": period.key})
    if any(s.sheet.status != SheetStatus.SUBMITTED for g in groups for s in g.scores):  # counting_q insists
        raise ValidationError(_("Only deductions on submitted sheets become findings."))
    # a finding raised per sheet before issue 22.3 stands for its deduction: not raised again
    legacy = {f.source_key: f for f in Finding.objects.filter(
        source_key__in=[stats.legacy_key(s.pk) for g in groups for s in g.scores])}
    created: list[Any] = []
    existing: list[Any] = []
    for group in groups:
        old = next((legacy[k] for k in (stats.legacy_key(s.pk) for s in group.scores) if k in legacy), None)
        if old is not None:
            existing.append(old)
            continue
        finding, new = raise_finding(_finding_input(group, period), source_key=group.key, actor=actor)
        (created if new else existing).append(finding)
    if created:
        record(actor, AuditAction.UPDATE, period,
               {"findings": [None, ", ".join(f"{f.item_code}#{f.pk}" for f in created)]},
               note=_("deductions of %(unit)s raised as findings") % {"unit": unit.name})
    return Raised(created, existing)
