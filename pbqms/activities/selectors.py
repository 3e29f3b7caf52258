"""Scoped reads of organisational life — 组织生活: records, plans, compliance states, the branch's
month calendar, the committee's heat map and each member's participation.

Every read starts from pbqms.scope (activity_records, units, get_scope); each function costs a
fixed number of queries whatever the number of units or records, so the calendar and the heat
map stay within their query budget at 50,000 branches (the heat map reads ComplianceTally, and
a branch's party groups' own states).
"""

from __future__ import annotations

import calendar as cal
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, Q, QuerySet
from django.http import Http404

from pbqms import scope
from pbqms.core import clock
from pbqms.orgs.models import Unit, UnitKind

from . import engine
from .models import (
    ActivityPlan,
    ActivityRecord,
    Attendance,
    ComplianceRule,
    ComplianceState,
    ComplianceStatus,
    ComplianceTally,
    PlannedActivity,
)

# The order a branch reads its requirements in: what was missed, what is about to be, what is
# still open, what is done.
STATUS_ORDER: dict[str, int] = {ComplianceStatus.MISSED: 0, ComplianceStatus.AT_RISK: 1, ComplianceStatus.OPEN: 2,
                ComplianceStatus.MET: 3}


# ---- what a user reads -----------------------------------------------------------------------

def _unit_scope_q(user: Any) -> Q | None:
    """The rows (with org_path and unit_id) of the user's subtrees, groups and own units; None: all."""
    s = scope.get_scope(user)
    if s.is_superuser:
        return None
    q = scope._prefix_q("org_path", s.read_paths) if s.read_paths else Q(pk__in=[])
    ids = set(s.group_ids) | set(s.own_unit_ids)
    if ids:
        q |= Q(unit_id__in=sorted(ids))
    return q


def records(user: Any) -> QuerySet[ActivityRecord]:
    return scope.activity_records(user)


def plans(user: Any) -> QuerySet[ActivityPlan]:
    """Plans read like records: the user's subtrees, their own groups, the units they belong to."""
    q = _unit_scope_q(user)
    return ActivityPlan.objects.all() if q is None else ActivityPlan.objects.filter(q)


def states(user: Any) -> QuerySet[ComplianceState]:
    q = _unit_scope_q(user)
    return ComplianceState.objects.all() if q is None else ComplianceState.objects.filter(q)


def can_read_record(user: Any, record: ActivityRecord) -> bool:
    """The same test as scope.activity_records, on one row already loaded (no query)."""
    s = scope.get_scope(user)
    return (s.is_superuser or scope._covers(s.read_paths, record.org_path) or record.unit_id in s.group_ids
            or record.unit_id in s.own_unit_ids)


def record_or_404(user: Any, pk: int | str) -> ActivityRecord:
    try:
        return records(user).select_related("unit", "unit__parent", "host", "recorder", "created_by").get(pk=int(pk))
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise Http404


def plan_or_404(user: Any, pk: int | str) -> ActivityPlan:
    try:
        return plans(user).select_related("unit", "submitted_by", "reviewed_by").get(pk=int(pk))
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise Http404


def attendance_of(record: ActivityRecord) -> list[Attendance]:
    """Who was there and who was not, absentees first (their reasons matter), then by pinyin."""
    return list(record.attendance.select_related("member", "member__group")
                .order_by("present", "member__name_pinyin", "member_id"))


def record_files(record: ActivityRecord) -> list[Any]:
    return list(record.files.order_by("uploaded_at", "pk"))


def home_unit(user: Any, *, board: bool = False) -> Unit | None:
    """Where the user's organisational life opens: a branch role's branch, a leader's group, a
    member's own unit; for the heat map (`board`), the top of the user's first readable subtree."""
    s = scope.get_scope(user)
    if not board:
        mine = scope.paths_for(user, scope.RECT_RESPOND_ROLES)
        if mine and "" not in mine:
            return Unit.objects.filter(path=mine[0]).first()
        if s.group_ids:
            return Unit.objects.filter(pk=s.group_ids[0]).first()
        if s.own_unit_ids and not s.read_paths:
            return Unit.objects.filter(pk=s.own_unit_ids[0]).first()
    if s.is_superuser or "" in s.read_paths:
        return Unit.objects.filter(parent__isnull=True, dissolved_on__isnull=True).order_by("order", "code").first()
    if s.read_paths:
        return Unit.objects.filter(path__in=s.read_paths).order_by("path").first()
    return None


def readable_crumbs(user: Any, unit: Unit) -> list[Unit]:
    """The unit's ancestors the user reads (one query), root first, then the unit itself."""
    ids = unit.ancestor_ids()
    by_id = {u.pk: u for u in Unit.objects.filter(pk__in=ids)} if ids else {}
    chain = [by_id[i] for i in ids if i in by_id]
    return [u for u in chain if scope.can_read_unit(user, u)] + [unit]


def life_units(user: Any, unit: Unit) -> list[Unit]:
    """The unit and, for a branch, its party groups the user reads: whose records its calendar shows."""
    if unit.kind != UnitKind.BRANCH:
        return [unit]
    groups = list(Unit.objects.filter(parent=unit, kind=UnitKind.GROUP, dissolved_on__isnull=True)
                  .order_by("order", "code"))
    return [unit] + [g for g in groups if scope.can_read_unit(user, g)]


# ---- lists -----------------------------------------------------------------------------------

def year_bounds(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def record_list(user: Any, unit: Unit, *, year: int | None = None, kind: str = "") -> QuerySet[ActivityRecord]:
    """Records of the unit's subtree (a branch: its groups' too), newest first."""
    qs = records(user).filter(org_path__startswith=unit.path)
    if year:
        start, end = year_bounds(year)
        qs = qs.filter(held_on__gte=start, held_on__lte=end)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.select_related("unit", "host").order_by("-held_on", "-id")


def plan_history(plan: ActivityPlan) -> list[PlannedActivity]:
    """The lines earlier filings of the plan held and a later one dropped, newest filing first."""
    return list(PlannedActivity.every_version.filter(plan=plan, superseded_at__isnull=False)
                .order_by("-version", "planned_on", "id"))


def plan_list(user: Any, *, unit: Unit | None = None, status: str = "", period: str = "",
              year: int | None = None) -> QuerySet[ActivityPlan]:
    """Plans in the user's scope (the department's review list), newest period first."""
    qs = plans(user)
    if unit is not None:
        qs = qs.filter(org_path__startswith=unit.path)
    if status:
        qs = qs.filter(status=status)
    if period:
        qs = qs.filter(period=period.strip().upper())
    if year:
        start, end = year_bounds(year)
        qs = qs.filter(period_start__gte=start, period_start__lte=end)
    return (qs.select_related("unit", "submitted_by", "reviewed_by").prefetch_related("items")
            .order_by("-period_start", "org_path", "id"))


def state_list(user: Any, *, unit: Unit | None = None, start: dt.date | None = None, end: dt.date | None = None,
               status: str = "", subtree: bool = False) -> QuerySet[ComplianceState]:
    """Compliance states overlapping [start, end] of the unit (or its subtree, or the whole scope)."""
    qs = states(user)
    if unit is not None:
        qs = qs.filter(org_path__startswith=unit.path) if subtree else qs.filter(unit=unit)
    if start is not None:
        qs = qs.filter(period_end__gte=start)
    if end is not None:
        qs = qs.filter(period_start__lte=end)
    if status:
        qs = qs.filter(status=status)
    return qs.select_related("rule", "unit").order_by("period_start", "unit_id", "rule__code")


def period_label(state: ComplianceState) -> str:
    return engine.Period(state.period_start, state.period_end).label(state.rule.frequency)


# ---- the calendar --------------------------------------------------------------------------------

@dataclass
class CalendarDay:
    day: dt.date
    in_month: bool
    is_today: bool
    records: list[ActivityRecord] = field(default_factory=list)
    planned: list[PlannedActivity] = field(default_factory=list)


@dataclass
class Requirement:
    """One rule's state for one unit in a period holding the month, as the calendar's side shows it."""

    state: ComplianceState
    unit: Unit
    label: str
    days_left: int | None  # days until the period ends, while it is open

    @property
    def rule(self) -> ComplianceRule:
        return self.state.rule

    @property
    def status(self) -> str:
        return self.state.status


def month_start(text: str | None, today: dt.date | None = None) -> dt.date:
    """'2026-05' → 2026-05-01; anything else → the current month."""
    today = today or clock.today()
    try:
        year, month = (int(p) for p in (text or "").strip().split("-"))
        if 1900 < year < 2200 and 1 <= month <= 12:
            return dt.date(year, month, 1)
    except ValueError:
        pass
    return today.replace(day=1)


def shift_month(first: dt.date, n: int) -> dt.date:
    m = first.month - 1 + n
    return dt.date(first.year + m // 12, m % 12 + 1, 1)


def calendar(user: Any, unit: Unit, first: dt.date) -> dict[str, Any]:
    """The month grid (records and planned items on their days) and the requirements of the periods
    holding the month, for the unit and its groups: four queries whatever the size."""
    today = clock.today()
    last = first.replace(day=cal.monthrange(first.year, first.month)[1])
    units = life_units(user, unit)
    by_id = {u.pk: u for u in units}
    ids = list(by_id)
    recs = list(records(user).filter(unit_id__in=ids, held_on__gte=first, held_on__lte=last)
                .select_related("host").order_by("held_on", "start_time", "id"))
    planned = list(PlannedActivity.objects.filter(plan__in=plans(user).filter(unit_id__in=ids).values("pk"),
                                                  planned_on__gte=first, planned_on__lte=last)
                   .select_related("plan").order_by("planned_on", "id"))
    held = {(r.unit_id, r.kind) for r in recs}
    for r in recs:
        r.unit = by_id[r.unit_id]
    for p in planned:
        p.unit = by_id.get(p.plan.unit_id, unit)  # type: ignore[attr-defined]
        p.held = (p.plan.unit_id, p.kind) in held  # type: ignore[attr-defined]
    days: dict[dt.date, CalendarDay] = {}
    weeks = []
    for week in cal.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month):
        row = []
        for d in week:
            cell = CalendarDay(d, d.month == first.month, d == today)
            days[d] = cell
            row.append(cell)
        weeks.append(row)
    for r in recs:
        days[r.held_on].records.append(r)
    for p in planned:
        days[p.planned_on].planned.append(p)
    found = list(states(user).filter(unit_id__in=ids, period_start__lte=last, period_end__gte=first)
                 .select_related("rule"))
    reqs = [Requirement(s, by_id[s.unit_id], period_label(s),
                        (s.period_end - today).days if s.period_end >= today and s.status != ComplianceStatus.MET
                        else None) for s in found]
    reqs.sort(key=lambda r: (STATUS_ORDER.get(r.status, 9), r.state.period_end, r.unit.path, r.rule.code))
    counts = {s: sum(1 for r in reqs if r.status == s) for s in STATUS_ORDER}
    return {"weeks": weeks, "records": recs, "planned": planned, "requirements": reqs, "counts": counts,
            "units": units, "first": first, "last": last, "today": today,
            "evaluated": bool(found), "future": first > today}


# ---- the heat map ----------------------------------------------------------------------------------

HEAT_STEPS = ((100, "hm5"), (90, "hm4"), (75, "hm3"), (50, "hm2"), (0, "hm1"))


def heat_class(rate: float | None) -> str:
    if rate is None:
        return "hm0"
    for bound, css in HEAT_STEPS:
        if rate >= bound:
            return css
    return "hm1"


@dataclass
class HeatCell:
    month: dt.date
    met: int = 0
    missed: int = 0
    at_risk: int = 0
    open: int = 0
    is_current: bool = False
    is_future: bool = False

    @property
    def rate(self) -> float | None:
        total = self.met + self.missed
        return round(100 * self.met / total, 1) if total else None

    @property
    def css(self) -> str:
        return heat_class(self.rate)

    @property
    def tracked(self) -> bool:
        return bool(self.met or self.missed or self.at_risk or self.open)


@dataclass
class HeatRow:
    unit: Unit
    cells: list[HeatCell]
    total: bool = False

    @property
    def met(self) -> int:
        return sum(c.met for c in self.cells)

    @property
    def missed(self) -> int:
        return sum(c.missed for c in self.cells)

    @property
    def at_risk_now(self) -> int:
        return sum(c.at_risk for c in self.cells if c.is_current)

    @property
    def rate(self) -> float | None:
        total = self.met + self.missed
        return round(100 * self.met / total, 1) if total else None

    @property
    def css(self) -> str:
        return heat_class(self.rate)


def heat_children(user: Any, unit: Unit) -> QuerySet[Unit]:
    """The rows of the unit's heat map: its active children, in the tree's order."""
    return scope.units(user).filter(parent=unit, dissolved_on__isnull=True).order_by("order", "code")


def months_of(year: int) -> list[dt.date]:
    return [dt.date(year, m, 1) for m in range(1, 13)]


def near_months(year: int, today: dt.date | None = None) -> set[dt.date]:
    """The three months a phone shows of the year's heat map: the current month and the two before
    it (a past year: its last three months; a year to come: its first three)."""
    today = today or clock.today()
    anchor = today.month if year == today.year else (12 if year < today.year else 3)
    return {dt.date(year, m, 1) for m in range(max(1, anchor - 2), max(3, anchor) + 1)}


def heat_rows(units: list[Unit], year: int, *, total: Unit | None = None) -> list[HeatRow]:
    """One row per unit (the stored subtree totals per month): one query for all of them."""
    today = clock.today()
    current = today.replace(day=1)
    wanted = ([total] if total is not None else []) + list(units)
    months = {"month__gte": dt.date(year, 1, 1), "month__lte": dt.date(year, 12, 1)}
    tallies = ComplianceTally.objects.filter(unit_id__in=[u.pk for u in wanted if u.kind != UnitKind.GROUP], **months)
    found: dict[tuple[int, dt.date], Any] = {(t.unit_id, t.month): t for t in tallies}
    groups = [u.pk for u in wanted if u.kind == UnitKind.GROUP]
    if groups:  # a party group keeps no tally (engine.rebuild_tallies): its few states are counted
        counted = (ComplianceState.objects.filter(unit_id__in=groups, **months).values("unit_id", "month", "status")
                   .annotate(n=Count("id")).order_by())
        for row in counted:
            t = found.setdefault((row["unit_id"], row["month"]), ComplianceTally(unit_id=row["unit_id"],
                                                                                month=row["month"]))
            setattr(t, row["status"], row["n"])
    rows = []
    for u in wanted:
        cells = []
        for m in months_of(year):
            t = found.get((u.pk, m))
            cell = HeatCell(m, is_current=m == current, is_future=m > current)
            if t is not None:
                cell.met, cell.missed, cell.at_risk, cell.open = t.met, t.missed, t.at_risk, t.open
            cells.append(cell)
        rows.append(HeatRow(u, cells, total=u is total))
    return rows


# ---- a member's participation -------------------------------------------------------------------

@dataclass
class Participation:
    rows: list[Attendance]
    by_kind: list[dict[str, Any]]
    year: int

    @property
    def total(self) -> int:
        """Activities the member was expected at (a committee meeting attended without a vote is not)."""
        return sum(1 for r in self.rows if r.counted)

    @property
    def present(self) -> int:
        return sum(1 for r in self.rows if r.present and r.counted)

    @property
    def guest(self) -> int:
        return sum(1 for r in self.rows if not r.counted)

    @property
    def absent(self) -> int:
        return self.total - self.present

    @property
    def rate(self) -> float | None:
        return round(100 * self.present / self.total, 1) if self.total else None


def participation(user: Any, member: Any, year: int) -> Participation:
    """The member's activities in `year` (present or absent, with the reason) and their rate: one
    query. The caller has checked that the user reads the member; a record's page is linked only
    when the user also reads the record."""
    start, end = year_bounds(year)
    rows = list(Attendance.objects.filter(member=member, record__held_on__gte=start, record__held_on__lte=end)
                .select_related("record", "record__unit").order_by("-record__held_on", "-record_id"))
    kinds: dict[str, dict[str, Any]] = {}
    for r in rows:
        r.readable = can_read_record(user, r.record)  # type: ignore[attr-defined]
        if not r.counted:
            continue
        k = kinds.setdefault(r.record.kind, {"label": r.record.get_kind_display(), "total": 0, "present": 0})
        k["total"] += 1
        k["present"] += int(r.present)
    by_kind = sorted(kinds.values(), key=lambda k: -k["total"])
    for k in by_kind:
        k["rate"] = round(100 * k["present"] / k["total"], 1)
    return Participation(rows, by_kind, year)


# ---- the home page's work list ----------------------------------------------------------------

UPCOMING_DAYS = 14
DUE_DAYS = 31  # requirements whose period ends within a month are on the work list


def work_items(user: Any) -> list[Any]:
    """Home-page lines (core.work): for a branch or group, the requirements not yet met whose period
    ends within a month (one query); for a member, the meetings planned in the next two weeks (one query); for the
    committee and the department, this month's states of their subtree beside last month's, from
    the stored heat-map totals (one query)."""
    from django.urls import reverse
    from django.utils.translation import gettext as _
    from django.utils.translation import ngettext

    from pbqms.core.work import FIGURE, SOON, WorkItem
    from pbqms.orgs import tally

    from .models import ComplianceStatus, ComplianceTally, PlannedActivity

    today = clock.today()
    s = scope.get_scope(user)
    out: list[WorkItem] = []
    # a branch's requirements and its groups', a leader's group's (on the states' unique key, by unit)
    branch_ids = [tally.unit_id_of(p) for p in scope.paths_for(user, scope.RECT_RESPOND_ROLES) if p]
    unit_ids = branch_ids + list(s.group_ids)
    if unit_ids:
        owed = list(ComplianceState.objects.filter(
            Q(unit_id__in=unit_ids) | Q(unit__parent_id__in=branch_ids),
            status__in=[ComplianceStatus.AT_RISK, ComplianceStatus.OPEN], period_end__gte=today,
            period_end__lte=today + dt.timedelta(days=DUE_DAYS))
            .select_related("unit").order_by("period_end", "pk")[:100])
        if owed:
            first = owed[0]
            risky = sum(1 for st in owed if st.status == ComplianceStatus.AT_RISK)
            out.append(WorkItem("life.due", ngettext(
                "%(n)d meeting requirement still to meet: its period ends in %(days)d days",
                "%(n)d meeting requirements still to meet: the first period ends in %(days)d days",
                len(owed)) % {"n": len(owed), "days": (first.period_end - today).days} + (
                ngettext(" (%(n)d at risk)", " (%(n)d at risk)", risky) % {"n": risky} if risky else ""),
                reverse("activities:calendar", args=[first.unit.code]), SOON, len(owed)))
    if not unit_ids and s.self_member_id and s.own_unit_ids:
        planned = list(PlannedActivity.objects.filter(
            plan__unit_id__in=s.own_unit_ids, planned_on__gte=today,
            planned_on__lte=today + dt.timedelta(days=UPCOMING_DAYS)).order_by("planned_on", "pk")[:20])
        if planned:
            nxt = planned[0]
            out.append(WorkItem("life.upcoming", ngettext(
                "%(n)d meeting planned in the next %(within)d days: %(kind)s on %(date)s",
                "%(n)d meetings planned in the next %(within)d days, the next: %(kind)s on %(date)s",
                len(planned)) % {"n": len(planned), "within": UPCOMING_DAYS, "kind": nxt.get_kind_display(),
                                 "date": nxt.planned_on.isoformat()},
                reverse("activities:my"), SOON, len(planned)))
    board_paths = [p for p in scope.paths_for(user, scope.RECT_ISSUE_ROLES) if p]
    if board_paths:
        this = today.replace(day=1)
        last, earlier = shift_month(this, -1), shift_month(this, -2)
        rows = {t.month: t for t in ComplianceTally.objects.filter(unit_id=tally.unit_id_of(board_paths[0]),
                                                                  month__in=[this, last, earlier])}
        now, before = rows.get(this), rows.get(last)
        if now is not None and now.at_risk:
            out.append(WorkItem("life.at_risk_units", ngettext(
                "%(n)d meeting requirement at risk in your units this month",
                "%(n)d meeting requirements at risk in your units this month", now.at_risk) % {"n": now.at_risk},
                reverse("activities:heatmap_home"), SOON, now.at_risk))
        if before is not None and (before.met or before.missed):
            rate = 100 * before.met / (before.met + before.missed)
            prior = rows.get(earlier)
            if prior is not None and (prior.met or prior.missed):
                change = rate - 100 * prior.met / (prior.met + prior.missed)
                moved = _("%(change)+.1f points on the month before") % {"change": change}
            else:
                moved = _("no figure for the month before")
            out.append(WorkItem("life.figures", _(
                "Organisational life last month: %(rate).1f%% of requirements met (%(moved)s), %(missed)d missed") % {
                "rate": rate, "moved": moved, "missed": before.missed}, reverse("activities:heatmap_home"), FIGURE))
    return out
