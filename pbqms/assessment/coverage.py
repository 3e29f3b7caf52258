"""Units of a plan without a result — 未参加考核的单位, and why (issue 20.6).

The ranking, the bulletin and the publisher's confirmation show every unit the plan assesses:
those with a result are ranked, the others are listed here with the reason the system can tell
(no assessor scored it, every panel member belongs to it, the sheet was never submitted...).
Reads start from pbqms.scope (selectors.period_units); a page costs a fixed number of queries: one
count, one capped list, one query for the listed units' sheets and one per panel member.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from pbqms import scope
from pbqms.assessment import selectors
from pbqms.assessment.models import (
    PanelMember,
    PanelRule,
    Period,
    PeriodKind,
    Result,
    Sheet,
    SheetKind,
    SheetStatus,
    TargetKind,
)
from pbqms.orgs.models import Unit

CAP = 200  # units listed by name (all are counted)


@dataclass
class Missing:
    unit: Unit
    reason: str


@dataclass
class Unassessed:
    count: int = 0
    rows: list[Missing] = field(default_factory=list)

    @property
    def more(self) -> int:
        return max(0, self.count - len(self.rows))

    def text(self) -> str:
        """B11（reason）、Z01（reason） — as the bulletin and the confirmation name them."""
        return "、".join(f"{m.unit.name}（{m.reason}）" for m in self.rows)


def _has_result(period: Period) -> Q:
    """Whether a unit (OuterRef pk) has — or, before the results are computed, will have — a result."""
    if period.computed_at is not None:
        return Q(Exists(Result.objects.filter(period_id=period.pk, unit_id=OuterRef("pk"), member__isnull=True)))
    if period.kind in (PeriodKind.HALF, PeriodKind.YEAR):
        quarters = Period.objects.filter(plan_id=period.plan_id, kind=PeriodKind.QUARTER,
                                         starts_on__gte=period.starts_on, ends_on__lte=period.ends_on)
        return Q(Exists(Result.objects.filter(period__in=quarters, unit_id=OuterRef("pk"), member__isnull=True))) | Q(
            Exists(Sheet.objects.filter(period_id=period.pk, unit_id=OuterRef("pk"), member__isnull=True,
                                        kind=SheetKind.ASSESSOR, status=SheetStatus.SUBMITTED)))
    kind = SheetKind.SELF if period.kind == PeriodKind.MONTH else SheetKind.ASSESSOR
    sheets = Sheet.objects.filter(period_id=period.pk, unit_id=OuterRef("pk"), member__isnull=True, kind=kind,
                                  status=SheetStatus.SUBMITTED)
    if kind == SheetKind.ASSESSOR and period.plan.panel_rule == PanelRule.LEAD:
        lead = PanelMember.objects.filter(period=period, is_lead=True).values_list("user_id", flat=True).first()
        if lead is not None:
            sheets = sheets.filter(assessor_id=lead)
    return Q(Exists(sheets))


def unassessed_units(user: Any, period: Period) -> QuerySet[Unit]:
    """The units the period assesses (in the user's scope) that have no result."""
    return selectors.period_units(user, period).exclude(_has_result(period))


def unassessed(user: Any, period: Period, cap: int = CAP) -> Unassessed:
    """How many units of the plan have no result in `period`, and the first `cap` with the reason."""
    if period.scheme.target_kind != TargetKind.BRANCH:
        return Unassessed()
    qs = unassessed_units(user, period)
    units = list(qs.order_by("path")[:cap])
    if not units:
        return Unassessed()
    count = len(units) if len(units) < cap else qs.count()
    states: dict[int, set[str]] = {}
    for unit_id, kind, status in Sheet.objects.filter(period=period, unit__in=units, member__isnull=True).values_list(
            "unit_id", "kind", "status"):
        states.setdefault(unit_id, set()).add(f"{kind}_{status}")
    panel = [m.user for m in PanelMember.objects.filter(period=period).select_related("user")]
    # who of the panel may score each unit (one query per panel member, whatever the number of units)
    may = {u.pk: False for u in units}
    for person in panel:
        for unit_id, (_self, assess) in scope.assessment_unit_rights(person, units).items():
            may[unit_id] = may[unit_id] or assess
    rows = []
    for u in units:
        rows.append(Missing(u, _reason(period, states.get(u.pk, set()), bool(panel), may[u.pk])))
    return Unassessed(count, rows)


def _reason(period: Period, states: set[str], has_panel: bool, panel_may: bool) -> str:
    if period.kind == PeriodKind.MONTH:
        if "self_draft" in states:
            return _("self-check begun but not submitted")
        return _("no self-check filed")
    if period.kind in (PeriodKind.HALF, PeriodKind.YEAR) and "assessor_submitted" not in states:
        return _("not assessed in any quarter of the period")
    if has_panel and not panel_may:
        return _("every member of the panel belongs to this unit, and nobody scores their own unit")
    if "assessor_draft" in states:
        return _("the assessor's sheet was not submitted")
    if period.plan.panel_rule == PanelRule.LEAD and "assessor_submitted" in states:
        return _("the lead assessor's sheet was not submitted")
    return _("no assessor scored this unit")
