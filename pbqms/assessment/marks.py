"""Full marks — 满分: what each period's results are out of, and how the year is made (decision 0012).

- A month or a quarter scores every item but the year-end ones (annual_only). Under a scheme that
  rescales (`Scheme.quarter_mark`), its total is the indicator points × full mark / the points it
  scores (六考一评: 89 of 93.5 → 95.19 of 100); its category subtotals stay on their own points, and
  the scorecard shows the step. A scheme that does not rescale must make the full mark with its
  quarterly items alone (publishing refuses it otherwise).
- The year (`Plan.year_rule`): by default the quarterly items' mean over the quarters plus the
  year-end items at their own points — one 100-point whole, whose category subtotals add up to the
  total. A committee may weigh instead: the quarters on the full mark × their weight + the year-end
  items on the full mark × theirs; then every category subtotal carries its part's factor, so the
  subtotals still add up to the total, and the scorecard states the formula with each part.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from pbqms.assessment.models import SCORED_KINDS, Period, PeriodKind, Plan, QuarterMark, Scheme, SchemeItem, YearRule

ZERO = Decimal(0)
ONE = Decimal(1)


@dataclass
class Marks:
    """One scheme's points: the full mark, what the quarters score, what the year-end items score."""

    full: Decimal
    quarter_max: Decimal
    annual_max: Decimal
    quarter_cats: dict[int, Decimal]  # category id → quarterly items' points
    annual_cats: dict[int, Decimal]  # category id → year-end items' points
    rescale: bool

    @property
    def quarter_scale(self) -> Decimal:
        """What a quarter's indicator points are multiplied by to stand on the full mark."""
        if self.rescale and self.quarter_max and self.quarter_max != self.full:
            return self.full / self.quarter_max
        return ONE


def marks(scheme: Scheme, items: Iterable[SchemeItem] | None = None) -> Marks:
    q: dict[int, Decimal] = defaultdict(Decimal)
    a: dict[int, Decimal] = defaultdict(Decimal)
    for item in (items if items is not None else scheme.items.all()):
        if item.kind in SCORED_KINDS:
            (a if item.annual_only else q)[item.category_id] += item.max_points
    return Marks(scheme.full_mark, sum(q.values(), ZERO), sum(a.values(), ZERO), dict(q), dict(a),
                 scheme.quarter_mark == QuarterMark.RESCALE)


@dataclass
class YearFactors:
    """The year's total = quarterly part × quarter + year-end part × annual (+ bonus, penalty)."""

    quarter: Decimal
    annual: Decimal
    weighted: bool


def year_factors(plan: Plan, m: Marks) -> YearFactors:
    if plan.year_rule != YearRule.WEIGHTED or not m.quarter_max:
        return YearFactors(ONE, ONE, False)
    if not m.annual_max:  # nothing at the year's end: the quarters alone, on the full mark
        return YearFactors(m.full / m.quarter_max, ZERO, True)
    return YearFactors(m.full / m.quarter_max * plan.quarter_weight / 100,
                       m.full / m.annual_max * plan.annual_weight / 100, True)


def category_max(period: Period, m: Marks | None = None) -> dict[int, Decimal]:
    """Category id → the points it weighs in the period's results (as its subtotals are stored):
    a month or quarter its quarterly items, the year both parts with their factors."""
    m = m or marks(period.scheme)
    if period.kind != PeriodKind.YEAR:
        return dict(m.quarter_cats)
    f = year_factors(period.plan, m)
    out: dict[int, Decimal] = defaultdict(Decimal)
    for c, v in m.quarter_cats.items():
        out[c] += v * f.quarter
    for c, v in m.annual_cats.items():
        out[c] += v * f.annual
    return dict(out)


@dataclass
class Step:
    """One line of how a total is made, as the scorecard states it."""

    label: str
    figure: str
    strong: bool = False


def _n(value: Decimal | None) -> str:
    if value is None:
        return "—"
    d = Decimal(value).quantize(Decimal("0.01"))
    return str(int(d)) if d == d.to_integral_value() else f"{d:.2f}"


def composition(period: Period, result: Any) -> list[Step]:
    """How `result`'s total is made, line by line: the parts, the formula with its weights or
    scale, bonus, penalty, veto and the total — so the figures on the scorecard can be checked."""
    from pbqms.assessment.models import parse_subtotals

    m = marks(period.scheme)
    full = _n(m.full)
    steps: list[Step] = []
    if period.kind == PeriodKind.YEAR:
        f = year_factors(period.plan, m)
        qp, ap = result.quarter_part or ZERO, result.annual_part or ZERO
        if not f.weighted:
            steps.append(Step(_("Quarterly items: mean over the quarters (of %(max)s)") % {"max": _n(m.quarter_max)},
                              _n(qp)))
            if m.annual_max:
                steps.append(Step(_("Year-end items at their own points (of %(max)s)") % {"max": _n(m.annual_max)},
                                  _n(ap)))
        else:
            steps.append(Step(_("Formula"), _("quarters %(q)s%% + year-end items %(a)s%%, each on %(full)s")
                              % {"q": _n(period.plan.quarter_weight), "a": _n(period.plan.annual_weight),
                                 "full": full}))
            steps.append(Step(_("Quarterly items: mean over the quarters"),
                              f"{_n(qp)} ÷ {_n(m.quarter_max)} × {full} × {_n(period.plan.quarter_weight)}% = "
                              f"{_n(qp * f.quarter)}"))
            if m.annual_max:
                steps.append(Step(_("Year-end items"),
                                  f"{_n(ap)} ÷ {_n(m.annual_max)} × {full} × {_n(period.plan.annual_weight)}% = "
                                  f"{_n(ap * f.annual)}"))
    elif period.kind == PeriodKind.HALF:
        steps.append(Step(_("Mean of the quarters' totals"), _n(result.base)))
    else:
        points = parse_subtotals(result.subtotals)
        raw = sum((v for c, v in points.items() if c in m.quarter_cats), ZERO)
        scale = m.quarter_scale
        if scale != ONE:
            steps.append(Step(_("Indicator points (the period scores %(max)s of %(full)s)")
                              % {"max": _n(m.quarter_max), "full": full}, _n(raw)))
            steps.append(Step(_("On the full mark"), f"{_n(raw)} × {full} ÷ {_n(m.quarter_max)} = {_n(result.base)}"))
        else:
            steps.append(Step(_("Indicator points"), _n(result.base)))
    if result.bonus:
        steps.append(Step(_("Bonus"), "+" + _n(result.bonus)))
    if result.penalty:
        steps.append(Step(_("Penalty"), _n(result.penalty)))
    if result.vetoed:
        steps.append(Step(_("Veto"), _("%(items)s: not eligible for stars or awards") % {"items": result.veto_items}))
    steps.append(Step(_("Total (full mark %(full)s)") % {"full": full}, _n(result.total), strong=True))
    return steps
