"""Scoped reads of the assessment results — 考核结果查询: rankings, scorecards and the committee dashboard.

Every read starts from pbqms.scope: periods through `scope.assessment_runs` (a branch opens the
periods of the committee that assesses it), results through `scope.assessment_readable` (a user
sees only the units of their scope), findings through `scope.rect_readable`. Each page costs a
fixed number of queries whatever the number of units: lists are paged or capped, the figures over
all units are aggregates in SQL, and the per-unit details read one unit's rows through indexes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Avg, Case, Count, DecimalField, F, Max, Min, Q, QuerySet, Sum, When
from django.http import Http404
from django.utils.translation import gettext as _

from pbqms import scope
from pbqms.assessment import marks
from pbqms.assessment.models import (
    SCORED_KINDS,
    ItemKind,
    ItemResult,
    PanelMember,
    PanelRule,
    PeerGroup,
    Period,
    PeriodKind,
    PeriodStatus,
    Plan,
    Result,
    SchemeCategory,
    SchemeItem,
    Score,
    Sheet,
    SheetKind,
    SheetStatus,
    StarRating,
    StarStatus,
    TargetKind,
    YearRule,
    parse_subtotals,
)
from pbqms.orgs.models import Unit

PER_PAGE = 50
TOP_N = 5  # rows of the dashboard's top and bottom tables
ITEMS_N = 10  # most-deducted items listed
VETO_CAP = 30  # units with a veto listed by name (all are counted)
PEER_CHOICES_CAP = 300
TREND_CAP = 8  # lines on the trend chart
MODELS_CAP = 4  # model branches on the radar (对标)
HEAT_CAP = 50  # units on the heat map
CHILDREN_CAP = 5000  # direct children of a committee looked at for the heat map
FIX_NEXT = 5
FINDINGS_CAP = 200
BINS = 10  # histogram bins of 10 points; totals of 100 and more share the last


# ---- periods -------------------------------------------------------------------------------------

def open_period(user: Any, pk: Any) -> Period:
    """The period whose results the user opens: outside their reach → 404; not yet published and
    not theirs to check → 403."""
    try:
        period = (scope.assessment_runs(user, Period).select_related("plan__owner", "scheme").get(pk=int(pk)))
    except (Period.DoesNotExist, ValueError, TypeError):
        raise Http404
    if period.status != PeriodStatus.PUBLISHED and not scope.can_see_unpublished_results(user, period):
        raise PermissionDenied
    return period


def open_plan(user: Any, pk: Any) -> Plan:
    try:
        return scope.assessment_runs(user, Plan).select_related("owner", "scheme").get(pk=int(pk))
    except (Plan.DoesNotExist, ValueError, TypeError):
        raise Http404


def is_member_scheme(period: Period) -> bool:
    return period.scheme.target_kind == TargetKind.MEMBER


def may_rank_members(user: Any, period: Period, path: str | None = None) -> bool:
    """Individual members' ranks show only where the scheme or the user's role allows (减负)."""
    return scope.can_see_member_ranking(user, period.scheme, path if path is not None else period.org_path)


def result_periods(user: Any, plan_id: int) -> list[Period]:
    """The plan's periods that have results, for the period switcher (one query). The caller has
    opened a period of the plan through scope.assessment_runs; every period of a plan lies on the
    plan's own path, so the user reads them all."""
    return list(Period.objects.filter(plan_id=plan_id, computed_at__isnull=False).order_by("starts_on", "kind"))


def visible_periods(user: Any, periods: Iterable[Period]) -> list[Period]:
    return [p for p in periods if p.status == PeriodStatus.PUBLISHED or scope.can_see_unpublished_results(user, p)]


def period_label(period: Period) -> str:
    """2026年第一季度 / 2026 Q1 — the period as a bulletin names it."""
    year = period.key[:4]
    if period.kind == PeriodKind.QUARTER:
        return _("%(year)s quarter %(n)s") % {"year": year, "n": period.key[-1]}
    if period.kind == PeriodKind.HALF:
        return _("%(year)s first half") % {"year": year} if period.key.endswith("1") else \
            _("%(year)s second half") % {"year": year}
    if period.kind == PeriodKind.MONTH:
        return _("%(year)s month %(n)s") % {"year": year, "n": int(period.key[5:7])}
    return _("%(year)s annual") % {"year": year}


# ---- categories ----------------------------------------------------------------------------------

@dataclass
class Category:
    id: int
    code: str
    name: str
    max_points: Decimal


def categories(period: Period) -> list[Category]:
    """The scheme's categories with the points they weigh in this period (one query): a quarter
    weighs the quarterly items, the year every scored item; bonus/penalty categories weigh 0."""
    items = Q(items__kind__in=SCORED_KINDS)
    if period.kind != PeriodKind.YEAR:
        items &= Q(items__annual_only=False)
    rows = (SchemeCategory.objects.filter(scheme_id=period.scheme_id)
            .annotate(mx=Sum("items__max_points", filter=items)).order_by("order", "id"))
    weighed: dict[int, Decimal] = {}
    if period.kind == PeriodKind.YEAR and period.plan.year_rule == YearRule.WEIGHTED:
        weighed = marks.category_max(period)  # each part carries its factor (decision 0012)
    return [Category(c.pk, c.code, c.name, (weighed.get(c.pk, Decimal(0)) if weighed else c.mx) or Decimal(0))
            for c in rows]


def category_points(period: Period, results: Sequence[Result]) -> dict[int, dict[int, Decimal]]:
    """Result id → category id → points, for a page of results (no query: results carry their
    category subtotals, `Result.subtotals` — decisions 0006, 0009)."""
    out: dict[int, dict[int, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for r in results:
        out[r.pk].update(parse_subtotals(r.subtotals))
    return out


# ---- the ranking ---------------------------------------------------------------------------------

def results_in_scope(user: Any, period: Period) -> QuerySet[Result]:
    """The period's results the user may read. A reader of the whole period reads them all: every
    result lies under the committee running the period, so the prefix test is left out."""
    if scope.assessment_reads_whole(user, period.org_path):
        return Result.objects.filter(period=period)
    return scope.assessment_readable(user, Result).filter(period=period)


def _related(period: Period) -> tuple[str, ...]:
    return ("unit", "member") if is_member_scheme(period) else ("unit",)


def ranking(user: Any, period: Period, *, peer: str = "", ranked: bool = True) -> QuerySet[Result]:
    """The period's results the user may see, best first (within a peer group when `peer` is given);
    unranked (by name) for members' points when ranking members is not allowed."""
    qs = results_in_scope(user, period).select_related(*_related(period))
    if peer:
        qs = qs.filter(peer_key=peer)
    if not ranked:
        return qs.order_by("member__name_pinyin", "id")
    return qs.order_by("peer_rank", "id") if peer else qs.order_by("rank", "id")


def peer_choices(period: Period, rows: Sequence[Result], current: str = "") -> list[tuple[str, str]]:
    """Peer groups to filter by, named: the plan's own groups, and those of the units shown (and
    the one chosen). Never a scan of all results: two small queries whatever the size."""
    keys = {r.peer_key for r in rows if r.peer_key} | ({current} if current else set())
    groups = dict(PeerGroup.objects.filter(plan_id=period.plan_id).values_list("pk", "name")[:PEER_CHOICES_CAP])
    keys |= {f"g{pk}" for pk in groups}
    unit_ids = [int(k[1:]) for k in keys if k[:1] in ("p", "u") and k[1:].isdigit()]
    units = dict(Unit.objects.filter(pk__in=unit_ids).values_list("pk", "name")) if unit_ids else {}
    out = []
    for k in keys:
        kind, num = k[:1], int(k[1:]) if k[1:].isdigit() else -1
        if kind == "g" and num in groups:
            label = groups[num]
        elif kind == "p" and num in units:
            label = _("Units under %(unit)s") % {"unit": units[num]}
        elif kind == "p" and num == 0:
            label = _("Top level")
        elif kind == "u" and num in units:
            label = units[num]
        else:
            continue  # a key that names nothing the user may filter by
        out.append((k, label))
    return sorted(out, key=lambda kv: kv[1])


def num(value: Any) -> str:
    """A figure as the tables show it (like floatformat:"-2", without its cost per cell):
    87, 87.50, −3.14; "—" for none."""
    if value is None or value == "":
        return "—"
    d = Decimal(str(value)).quantize(Decimal("0.01"))
    return str(int(d)) if d == d.to_integral_value() else f"{d:.2f}"


def movement(change: Decimal | None) -> str:
    if change is None:
        return ""
    return "up" if change > 0 else "down" if change < 0 else "same"


# ---- counting sheets and deductions --------------------------------------------------------------

def source_periods(period: Period) -> list[Period]:
    """The periods whose sheets stand behind a period's results: itself, or for the half-year its
    quarters, for the year its quarters and itself (annual-only items and vetoes)."""
    if period.kind in (PeriodKind.MONTH, PeriodKind.QUARTER):
        return [period]
    quarters = list(Period.objects.filter(plan_id=period.plan_id, kind=PeriodKind.QUARTER,
                                          starts_on__gte=period.starts_on, ends_on__lte=period.ends_on)
                    .order_by("starts_on"))
    return quarters + ([period] if period.kind == PeriodKind.YEAR else [])


def counting_q(periods: Sequence[Period], rule: str, prefix: str = "sheet__") -> Q:
    """The submitted sheets that count (the same choice as results.compute): self sheets for a
    month, assessor sheets otherwise — only the lead's when the plan lets the lead decide."""
    leads: dict[int, int] = {}
    if rule == PanelRule.LEAD:
        leads = dict(PanelMember.objects.filter(period__in=[p.pk for p in periods], is_lead=True)
                     .values_list("period_id", "user_id"))
    q = Q(pk__in=[])
    for p in periods:
        kind = SheetKind.SELF if p.kind == PeriodKind.MONTH else SheetKind.ASSESSOR
        part = Q(**{f"{prefix}period_id": p.pk, f"{prefix}status": SheetStatus.SUBMITTED, f"{prefix}kind": kind})
        if p.pk in leads:
            part &= Q(**{f"{prefix}assessor_id": leads[p.pk]})
        q |= part
    return q


def lost_points(item: SchemeItem, points: Decimal) -> Decimal:
    """Points a score takes away: the shortfall of a scored item, the size of a penalty."""
    if item.kind in SCORED_KINDS:
        return max(Decimal(0), item.max_points - points)
    if item.kind == ItemKind.PENALTY:
        return -points if points < 0 else Decimal(0)
    return Decimal(0)


LOST = Case(When(item__kind__in=list(SCORED_KINDS), then=F("item__max_points") - F("points")),
            When(item__kind=ItemKind.PENALTY, then=-F("points")), default=0,
            output_field=DecimalField(max_digits=9, decimal_places=2))


@dataclass
class Deduction:
    """One deduction on a counting sheet (a veto included), with its five facts."""

    score: Score
    period_key: str
    lost: Decimal
    assessor: str
    finding: Any = None  # the finding raised from it, if any

    @property
    def item(self) -> SchemeItem:
        return self.score.item

    @property
    def source_key(self) -> str:
        return source_key(self.score.sheet.period_id, self.score.sheet.unit_id, self.score.item_id)

    @property
    def legacy_key(self) -> str:
        return legacy_key(self.score.pk)


def source_key(period_id: int, unit_id: int, item_id: int) -> str:
    """One finding per unit, item and period, however many assessors' sheets deducted (issue 22.3)."""
    return f"assess:{period_id}:{unit_id}:{item_id}"


def legacy_key(score_pk: int) -> str:
    """The key of a finding raised per sheet before issue 22.3 (still recognised, never raised again)."""
    return f"assess:{score_pk}"


def deductions(period: Period, *, unit_id: int | None = None, member_id: int | None = None,
               periods: Sequence[Period] | None = None) -> list[Deduction]:
    """A unit's (or member's) deductions behind a period's result, largest first within each item."""
    periods = list(periods) if periods is not None else source_periods(period)
    if not periods:
        return []
    qs = Score.objects.filter(counting_q(periods, period.plan.panel_rule), deducted=True)
    if member_id:
        qs = qs.filter(sheet__member_id=member_id)
    else:
        qs = qs.filter(sheet__unit_id=unit_id or 0, sheet__member__isnull=True)
    qs = qs.select_related("item__category", "sheet__period", "sheet__assessor").order_by(
        "item__category__order", "item__order", "item_id", "sheet__period__starts_on", "sheet_id")
    out = []
    for s in qs:
        who = s.sheet.assessor
        assessor = (getattr(who, "display_name", "") or getattr(who, "username", "")) if who else (
            _("Self-check") if s.sheet.kind == SheetKind.SELF else _("Assessment panel"))
        out.append(Deduction(score=s, period_key=s.sheet.period.key, lost=lost_points(s.item, s.points),
                             assessor=assessor))
    return out


# ---- the scorecard -------------------------------------------------------------------------------

@dataclass
class CategoryRow:
    category: Category
    points: Decimal
    share: int | None  # % of the category's points; None for bonus/penalty categories

    @property
    def lost(self) -> Decimal:
        return max(Decimal(0), self.category.max_points - self.points) if self.category.max_points else Decimal(0)


@dataclass
class FixItem:
    item: SchemeItem
    lost: Decimal
    times: int
    vetoed: bool
    reasons: list[str]
    finding: Any = None


@dataclass
class Scorecard:
    period: Period
    result: Result
    categories: list[CategoryRow]
    deductions: list[Deduction]
    trend: list[Result]  # this subject's results in the plan's periods of the chart's kind
    all_results: list[Result]  # every period of the plan with a result for this subject
    rating: StarRating | None
    fix_next: list[FixItem]
    open_findings: list[Any]
    can_raise: bool
    may_rank: bool
    lost_total: Decimal = Decimal(0)
    unraised: int = 0

    @property
    def chart_kind(self) -> str:
        return PeriodKind.QUARTER if self.period.kind in (PeriodKind.HALF, PeriodKind.YEAR) else self.period.kind


def open_result(user: Any, period_pk: Any, *, code: str = "", member_pk: Any = None) -> Result:
    """A unit's (or member's) result with its period, for the scorecard: one query. Whoever reads
    the result reads its period; outside → 404, not yet published and not theirs to check → 403."""
    qs = scope.assessment_readable(user, Result).select_related("unit", "member", "period__plan__owner",
                                                                "period__scheme")
    try:
        if member_pk is not None:
            result = qs.get(period_id=int(period_pk), member_id=int(member_pk))
        else:
            result = qs.get(period_id=int(period_pk), unit__code=code, member__isnull=True)
    except (Result.DoesNotExist, ValueError, TypeError):
        result = _model_result(user, period_pk, code) if member_pk is None else None
        if result is None:
            raise Http404
    if result.period.status != PeriodStatus.PUBLISHED and not scope.can_see_unpublished_results(user, result.period):
        raise PermissionDenied
    return result


def _model_result(user: Any, period_pk: Any, code: str) -> Result | None:
    """A model branch's result, read through the narrow grant of scope.can_read_model_scorecard (22.9)."""
    try:
        result = (Result.objects.select_related("unit", "member", "period__plan__owner", "period__scheme")
                  .filter(period_id=int(period_pk), unit__code=code, member__isnull=True).first())
    except (ValueError, TypeError):
        return None
    if result is None or not scope.can_read_model_scorecard(user, result):
        return None
    result.as_model = True  # type: ignore[attr-defined]
    return result


def model_results(user: Any, period: Period, codes: Iterable[str]) -> dict[str, Result]:
    """The period's results of the plan's model branches among `codes` (one query)."""
    from pbqms.assessment.models import ModelBranch

    models = ModelBranch.objects.filter(plan_id=period.plan_id).values("unit_id")
    rows = (Result.objects.filter(period=period, unit_id__in=models, unit__code__in=list(codes)[:HEAT_CAP],
                                  member__isnull=True).select_related("unit"))
    return {r.unit.code: r for r in rows}


def scorecard_result(user: Any, period: Period, *, code: str = "", member_pk: Any = None) -> Result:
    qs = results_in_scope(user, period).select_related(*_related(period))
    try:
        if member_pk is not None:
            return qs.get(member_id=int(member_pk))
        return qs.get(unit__code=code, member__isnull=True)
    except (Result.DoesNotExist, ValueError, TypeError):
        raise Http404


def _fix_next(found: list[Deduction], sheets: dict[str, int]) -> list[FixItem]:
    """The items that cost most: each period's loss is the mean over its counting sheets."""
    by_item: dict[int, FixItem] = {}
    for d in found:
        fix = by_item.get(d.item.pk)
        if fix is None:
            fix = by_item[d.item.pk] = FixItem(item=d.item, lost=Decimal(0), times=0, vetoed=False, reasons=[])
        fix.lost += d.lost / max(1, sheets.get(d.period_key, 1))
        fix.times += d.score.occurrences or 1
        fix.vetoed = fix.vetoed or d.score.vetoed
        if d.score.reason and d.score.reason not in fix.reasons:
            fix.reasons.append(d.score.reason)
        fix.finding = fix.finding or d.finding
    ordered = sorted(by_item.values(), key=lambda f: (not f.vetoed, -f.lost, f.item.code))
    return [f for f in ordered if f.lost > 0 or f.vetoed][:FIX_NEXT]


def scorecard(user: Any, period: Period, result: Result) -> Scorecard:
    """Everything the branch view shows, in a fixed number of queries."""
    from pbqms.rectification.models import LIVE_FINDING, Finding

    member_id = result.member_id
    cats = categories(period)
    points = category_points(period, [result]).get(result.pk, {})
    rows = [CategoryRow(c, points.get(c.id, Decimal(0)),
                        round(100 * points.get(c.id, Decimal(0)) / c.max_points) if c.max_points else None)
            for c in cats if c.max_points or points.get(c.id)]  # a veto category has no points
    subject = {"member_id": member_id} if member_id else {"unit_id": result.unit_id, "member__isnull": True}
    every = list(Result.objects.filter(period__plan_id=period.plan_id, **subject)
                 .select_related("period").order_by("period__starts_on", "period__kind"))
    # the half-year's and the year's deductions are those of the quarters the subject was assessed in
    sources = [period] if period.kind in (PeriodKind.MONTH, PeriodKind.QUARTER) else [
        r.period for r in every if r.period.kind == PeriodKind.QUARTER
        and period.starts_on <= r.period.starts_on and r.period.ends_on <= period.ends_on
    ] + ([period] if period.kind == PeriodKind.YEAR else [])
    found = deductions(period, unit_id=result.unit_id, member_id=member_id, periods=sources)
    all_results = [r for r in every if r.period.status == PeriodStatus.PUBLISHED or r.period_id == period.pk
                   or scope.can_see_unpublished_results(user, r.period)]
    sheets = {r.period.key: r.assessors for r in all_results}
    chart_kind = PeriodKind.QUARTER if period.kind in (PeriodKind.HALF, PeriodKind.YEAR) else period.kind
    trend = [r for r in all_results if r.period.kind == chart_kind]
    manager = scope.can_manage_assessment(user, period.plan.owner)
    rating = None
    if not member_id:
        rating = StarRating.objects.filter(plan_id=period.plan_id, unit_id=result.unit_id).first()
        if rating is not None and rating.status == StarStatus.PROPOSED and not manager:
            rating = None
    open_findings: list[Any] = []
    can_raise = not member_id and scope.can_record_finding(user, result.unit)
    if not member_id:
        keys = [d.source_key for d in found] + [d.legacy_key for d in found]
        live = list(scope.rect_readable(user, Finding).filter(unit_id=result.unit_id)
                    .filter(Q(status__in=LIVE_FINDING) | Q(source_key__in=keys))
                    .order_by("deadline", "-found_on", "-id")[:FINDINGS_CAP])
        by_key = {f.source_key: f for f in live if f.source_key}
        for d in found:
            d.finding = by_key.get(d.source_key) or by_key.get(d.legacy_key)
        open_findings = [f for f in live if f.status in LIVE_FINDING][:10]
    fix = _fix_next(found, sheets)
    return Scorecard(period=period, result=result, categories=rows, deductions=found, trend=trend,
                     all_results=all_results, rating=rating, fix_next=fix, open_findings=open_findings,
                     can_raise=can_raise, may_rank=not member_id or may_rank_members(user, period, result.org_path),
                     lost_total=sum((r.lost for r in rows), Decimal(0)),
                     unraised=len({d.source_key for d in found if d.finding is None}))


# ---- the committee dashboard ---------------------------------------------------------------------

@dataclass
class Overview:
    count: int = 0
    average: Decimal | None = None
    highest: Decimal | None = None
    lowest: Decimal | None = None
    vetoed: int = 0
    improved: int = 0
    declined: int = 0
    bins: list[tuple[str, int]] = field(default_factory=list)


def overview(user: Any, period: Period) -> Overview:
    """Count, average, extremes, vetoes, movement and the histogram of totals: one aggregate query."""
    qs = results_in_scope(user, period)
    cuts = [Decimal(10 * i) for i in range(BINS + 1)]
    aggs: dict[str, Any] = {
        "n": Count("id"), "avg": Avg("total"), "hi": Max("total"), "lo": Min("total"),
        "veto": Count("id", filter=Q(vetoed=True)),
        "up": Count("id", filter=Q(previous_total__isnull=False, total__gt=F("previous_total"))),
        "down": Count("id", filter=Q(previous_total__isnull=False, total__lt=F("previous_total"))),
    }
    for i in range(BINS):
        if i == 0:
            cond = Q(total__lt=cuts[1])
        elif i == BINS - 1:
            cond = Q(total__gte=cuts[i])
        else:
            cond = Q(total__gte=cuts[i], total__lt=cuts[i + 1])
        aggs[f"b{i}"] = Count("id", filter=cond)
    row = qs.aggregate(**aggs)
    labels = [f"{10 * i}–{10 * i + 10}" if i < BINS - 1 else f"≥{10 * i}" for i in range(BINS)]
    avg = row["avg"]
    return Overview(count=row["n"], average=Decimal(str(round(avg, 2))) if avg is not None else None,
                    highest=row["hi"], lowest=row["lo"], vetoed=row["veto"], improved=row["up"],
                    declined=row["down"], bins=[(labels[i], row[f"b{i}"]) for i in range(BINS)])


def top_bottom(user: Any, period: Period, n: int = TOP_N) -> tuple[list[Result], list[Result]]:
    qs = results_in_scope(user, period).select_related(*_related(period))
    top = list(qs.order_by("rank", "id")[:n])
    bottom = list(qs.order_by("-rank", "-id")[:n])
    return top, [r for r in bottom if r.pk not in {t.pk for t in top}]


def veto_units(user: Any, period: Period) -> list[Result]:
    return list(results_in_scope(user, period).filter(vetoed=True).select_related(*_related(period))
                .order_by("rank", "id")[:VETO_CAP])


@dataclass
class ItemFigure:
    item: SchemeItem
    units: int
    points: Decimal


def most_deducted(user: Any, period: Period, n: int = ITEMS_N, periods: Sequence[Period] | None = None
                  ) -> list[ItemFigure]:
    """Items that cost the most points. A reader of the whole period gets the stored item figures
    of months and quarters (ItemResult: a few rows each); what has none (the year's own sheets) and
    a reader of part of the tree get the deductions on the counting sheets they may read, summed."""
    periods = list(periods) if periods is not None else source_periods(period)
    if not periods:
        return []
    units: dict[int, int] = defaultdict(int)
    points: dict[int, Decimal] = defaultdict(Decimal)
    whole = scope.assessment_reads_whole(user, period.org_path)
    stored = [p for p in periods if whole and p.kind in (PeriodKind.MONTH, PeriodKind.QUARTER)]
    if stored:
        for item_id, u, pts in (ItemResult.objects.filter(period__in=[p.pk for p in stored], points_deducted__gt=0)
                                .values_list("item_id", "units_deducted", "points_deducted")):
            units[item_id] += u
            points[item_id] += pts
    rest = [p for p in periods if p not in stored]
    if rest:
        sheets = scope.assessment_readable(user, Sheet).filter(period__in=[p.pk for p in rest])
        # per unit and period, the mean over its counting sheets (a panel's sheets are one deduction)
        counts = dict(((p, u), n) for p, u, n in sheets.filter(counting_q(rest, period.plan.panel_rule, prefix=""))
                      .values("period_id", "unit_id").annotate(n=Count("id")).values_list("period_id", "unit_id", "n"))
        rows = (Score.objects.filter(counting_q(rest, period.plan.panel_rule), sheet__in=sheets, deducted=True)
                .exclude(item__kind=ItemKind.VETO).values("item_id", "sheet__period_id", "sheet__unit_id")
                .annotate(pts=Sum(LOST)))
        for r in rows:
            units[r["item_id"]] += 1
            n_sheets = counts.get((r["sheet__period_id"], r["sheet__unit_id"]), 1)
            points[r["item_id"]] += (r["pts"] or Decimal(0)) / n_sheets
    best = sorted((i for i in points if points[i] > 0), key=lambda i: (-points[i], i))[:n]
    items = SchemeItem.objects.in_bulk(best)
    return [ItemFigure(items[i], units[i], points[i]) for i in best if i in items]


def pick_results(user: Any, period: Period, codes: Iterable[str]) -> dict[str, Result]:
    """The user's results of the named units in this period (unknown or outside codes drop out)."""
    wanted = [c for c in dict.fromkeys(c.strip() for c in codes) if c][:HEAT_CAP]
    if not wanted:
        return {}
    rows = results_in_scope(user, period).filter(unit__code__in=wanted, member__isnull=True).select_related("unit")
    found = {r.unit.code: r for r in rows}
    return {c: found[c] for c in wanted if c in found}


def category_averages(user: Any, period: Period) -> dict[int, Decimal]:
    """Category id → the average points over the user's units. A committee reading the whole of a
    month or quarter adds up the stored item averages (ItemResult: ~70 rows, one query); otherwise
    the category subtotals the results carry (`Result.subtotals`) are averaged over the user's
    units (one query, its rows streamed)."""
    if period.kind in (PeriodKind.MONTH, PeriodKind.QUARTER) and scope.assessment_reads_whole(user, period.org_path):
        rows = (ItemResult.objects.filter(period=period, average__isnull=False, item__kind__in=list(SCORED_KINDS))
                .values("item__category_id").annotate(total=Sum("average")))
        found = {r["item__category_id"]: r["total"] for r in rows}
        if found:
            return found
    qs = results_in_scope(user, period).filter(member__isnull=True)
    totals: dict[int, Decimal] = defaultdict(Decimal)
    n = 0
    for cats in qs.order_by().values_list("subtotals", flat=True).iterator(chunk_size=5000):
        n += 1
        for cat, points in parse_subtotals(cats).items():
            totals[cat] += points
    return {c: v / max(1, n) for c, v in totals.items()}


def trend_lines(period: Period, results: Sequence[Result]) -> tuple[list[Period], dict[int, dict[int, Decimal]]]:
    """The plan's periods of the chart's kind and, per unit, its total in each (two queries)."""
    kind = PeriodKind.QUARTER if period.kind in (PeriodKind.HALF, PeriodKind.YEAR) else period.kind
    periods = [p for p in Period.objects.filter(plan_id=period.plan_id, kind=kind, computed_at__isnull=False)
               .order_by("starts_on")]
    unit_ids = [r.unit_id for r in results]
    values: dict[int, dict[int, Decimal]] = defaultdict(dict)
    if unit_ids and periods:
        for unit_id, period_id, total in Result.objects.filter(
                period__in=[p.pk for p in periods], unit_id__in=unit_ids, member__isnull=True).values_list(
                "unit_id", "period_id", "total"):
            values[unit_id][period_id] = total
    return periods, values


def heat_units(user: Any, period: Period, root: Unit | None) -> list[Result]:
    """Default rows of the heat map: the results of `root`'s direct children, best first; when
    those are committees without results, the best-ranked units under `root` (capped)."""
    qs = results_in_scope(user, period).filter(member__isnull=True).select_related("unit")
    if root is None:
        return list(qs.order_by("rank", "id")[:HEAT_CAP])
    children = list(Unit.objects.filter(parent_id=root.pk).values_list("pk", flat=True)[:CHILDREN_CAP])
    rows = list(qs.filter(unit_id__in=children).order_by("rank", "id")[:HEAT_CAP]) if children else []
    if rows:
        return rows
    return list(qs.filter(org_path__startswith=root.path).order_by("rank", "id")[:HEAT_CAP])


def heat_cells(period: Period, unit_ids: Sequence[int], periods: Sequence[Period] | None = None
               ) -> dict[tuple[int, int], Decimal]:
    """(unit id, item id) → the mean points over the counting sheets (one query)."""
    periods = list(periods) if periods is not None else source_periods(period)
    if not unit_ids or not periods:
        return {}
    rows = (Score.objects.filter(counting_q(periods, period.plan.panel_rule), sheet__unit_id__in=list(unit_ids),
                                 sheet__member__isnull=True, item__kind__in=list(SCORED_KINDS))
            .values("sheet__unit_id", "item_id").annotate(avg=Avg("points")))
    return {(r["sheet__unit_id"], r["item_id"]): Decimal(str(r["avg"])) for r in rows}


def scored_items(period: Period) -> list[SchemeItem]:
    qs = SchemeItem.objects.filter(scheme_id=period.scheme_id, kind__in=list(SCORED_KINDS)).select_related("category")
    if period.kind != PeriodKind.YEAR:
        qs = qs.filter(annual_only=False)
    return list(qs.order_by("category__order", "order", "id"))


def improvers(user: Any, period: Period, n: int = 5) -> list[Result]:
    """The biggest improvers since the previous period."""
    return list(results_in_scope(user, period).filter(previous_total__isnull=False, total__gt=F("previous_total"))
                .annotate(gain=F("total") - F("previous_total")).select_related(*_related(period))
                .order_by("-gain", "rank", "id")[:n])
