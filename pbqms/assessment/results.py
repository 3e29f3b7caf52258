"""Results — 考核结果: one period's totals, category subtotals, vetoes, ranks and change.

Each counting sheet keeps what it departs from full points (its tally, decision 0007). A scored
period's results are folded from those tallies, totalled, capped, vetoed and ranked in one SQL
statement, and only the results that changed are written (`assembly.py`, decision 0009).

Which sheets count:

- a monthly self-check: the units' submitted self sheets;
- a quarter (and the annual-only items of the year): the submitted assessor sheets — the mean of
  the panel's sheets, or the lead assessor's alone, as the plan says;
- the half-year analysis: the mean of its two quarters' results;
- the year: the quarterly items' mean over the quarters + the year-end items at their own points, or
  both parts weighted on the full mark, as the plan says (`marks.py`, decision 0012).

A month's or quarter's total is rescaled to the full mark when the scheme says so (its category
subtotals stay on their own points; `assembly.scale_of`).

Vetoes override the sum (the total becomes 0, a fixed deduction, or stars blocked/capped).
Published periods are locked: `compute` refuses them unless the publishing step itself calls it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _

from pbqms import scope
from pbqms.assessment import assembly, marks, tallies
from pbqms.assessment.models import (
    ItemResult,
    PanelMember,
    PanelRule,
    PeerGroupMember,
    Period,
    PeriodKind,
    PeriodStatus,
    Result,
    Sheet,
    SheetKind,
    SheetStatus,
    TargetKind,
    format_subtotals,
    parse_subtotals,
)
from pbqms.assessment.stars import (  # noqa: F401 — the star services live beside the results
    change_stars,
    confirm_stars,
    propose_stars,
    publicise_stars,
    star_proposals,
)
from pbqms.audit.models import AuditAction
from pbqms.audit.services import record
from pbqms.core import clock
from pbqms.demo.bulk import copy_payload, insert_rows
from pbqms.orgs.models import SEGMENT

CENT = Decimal("0.01")
NULL = "\\N"  # NULL in COPY text
ZERO = Decimal(0)
T_SHEET = Sheet._meta.db_table
RESULT_FIELDS = ("period", "unit", "member", "org_path", "total", "base", "bonus", "penalty", "vetoed", "veto_items",
                 "star_cap", "rank", "peer_rank", "peer_size", "peer_key", "previous_total", "assessors", "subtotals",
                 "quarter_part", "annual_part")


@dataclass
class Tally:
    """One unit's (or member's) figures while a period is assembled."""

    unit_id: int
    member_id: int | None
    org_path: str
    sheets: int = 0
    base: Decimal = ZERO
    bonus: Decimal = ZERO
    penalty: Decimal = ZERO
    categories: dict[int, Decimal] = field(default_factory=dict)
    vetoes: list[tuple[str, str, Decimal | None, int | None]] = field(default_factory=list)
    carried_codes: list[str] = field(default_factory=list)
    carried_cap: int | None = None
    subtotals: str = ""  # the annual items' subtotals as the fold wrote them (Result.subtotals text)
    quarter_part: Decimal | None = None  # the year's parts (decision 0012)
    annual_part: Decimal | None = None


def _subject(period: Period) -> str:
    """The column that names who is assessed: the unit, or the member for quantified points."""
    return "member_id" if period.scheme.target_kind == TargetKind.MEMBER else "unit_id"


def _counting_sheets(period: Period) -> tuple[str, list[Any]]:
    """SQL condition (on alias sh) and parameters choosing the sheets that count for `period`."""
    if period.kind == PeriodKind.MONTH:
        return ("sh.period_id = %s AND sh.kind = %s AND sh.status = %s",
                [period.pk, SheetKind.SELF, SheetStatus.SUBMITTED])
    cond = "sh.period_id = %s AND sh.kind = %s AND sh.status = %s"
    params: list[Any] = [period.pk, SheetKind.ASSESSOR, SheetStatus.SUBMITTED]
    if period.plan.panel_rule == PanelRule.LEAD:
        lead = PanelMember.objects.filter(period=period, is_lead=True).values_list("user_id", flat=True).first()
        if lead is not None:
            cond += " AND sh.assessor_id = %s"
            params.append(lead)
    return cond, params


def _dec(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value or 0))


def _apply(t: Tally, bonus_cap: Decimal, penalty_cap: Decimal) -> tuple[Decimal, bool, str, int | None]:
    """Caps, then vetoes: (total, vetoed, veto item codes, star cap)."""
    if bonus_cap > 0 and t.bonus > bonus_cap:
        t.bonus = bonus_cap
    if penalty_cap > 0 and t.penalty < -penalty_cap:
        t.penalty = -penalty_cap
    zero, deduct, cap = assembly.veto_effect(t.vetoes, t.carried_cap)
    total = ZERO if zero else t.base + t.bonus + t.penalty - Decimal(deduct) / 100
    codes = list(t.carried_codes) + [v[0] for v in t.vetoes]
    return max(ZERO, total), bool(codes), assembly.veto_codes(codes), cap


def _previous_period(period: Period) -> Period | None:
    earlier = Period.objects.filter(plan=period.plan, kind=period.kind, starts_on__lt=period.starts_on)
    found = earlier.order_by("-starts_on").first()
    if found:
        return found
    # the same kind in an earlier plan of the same committee and target kind
    return (Period.objects.filter(plan__owner_id=period.plan.owner_id, kind=period.kind,
                                  scheme__target_kind=period.scheme.target_kind, starts_on__lt=period.starts_on)
            .exclude(plan=period.plan).order_by("-starts_on").first())


def _ranks(values: Iterable[tuple[Any, Decimal]]) -> dict[Any, int]:
    """Competition ranking (1, 2, 2, 4) by total, highest first."""
    ordered = sorted(values, key=lambda kv: -kv[1])
    out: dict[Any, int] = {}
    last: Decimal | None = None
    rank = 0
    for position, (key, total) in enumerate(ordered, start=1):
        if total != last:
            rank, last = position, total
        out[key] = rank
    return out


def _write(period: Period, tallies: dict[int, Tally]) -> int:
    """The half-year's and the year's results (combinations of quarter results, in Python):
    totals, ranks, peers and change for every subject, then one bulk insert."""
    scheme = period.scheme
    member_kind = scheme.target_kind == TargetKind.MEMBER
    subj = _subject(period)
    rows: dict[int, tuple[Decimal, bool, str, int | None]] = {
        key: _apply(t, scheme.bonus_cap, scheme.penalty_cap) for key, t in tallies.items()}
    totals = {key: r[0].quantize(CENT, ROUND_HALF_UP) for key, r in rows.items()}
    peers: dict[int, str] = {}
    if member_kind:
        peers = {key: f"u{t.unit_id}" for key, t in tallies.items()}
    else:
        groups = dict(PeerGroupMember.objects.filter(plan_id=period.plan_id).values_list("unit_id", "group_id"))
        # the parent's id is the last but one segment of the unit's tree path: no query for 50,000 units
        step = SEGMENT + 1
        peers = {key: (f"g{groups[t.unit_id]}" if t.unit_id in groups
                       else f"p{int(t.org_path[-2 * step:-step - 1]) if len(t.org_path) > step else 0}")
                 for key, t in tallies.items()}
    overall = _ranks(totals.items())
    by_peer: dict[str, list[tuple[int, Decimal]]] = defaultdict(list)
    for key, total in totals.items():
        by_peer[peers[key]].append((key, total))
    peer_rank: dict[int, int] = {}
    peer_size: dict[str, int] = {}
    for peer, members in by_peer.items():
        peer_rank.update(_ranks(members))
        peer_size[peer] = len(members)
    prev = _previous_period(period)
    previous = dict(Result.objects.filter(period=prev).values_list(subj, "total")) if prev else {}

    def q(value: Decimal) -> Decimal:
        return value.quantize(CENT, ROUND_HALF_UP)

    def part(value: Decimal | None) -> Decimal | None:
        return None if value is None else q(value)

    def out() -> Iterable[tuple[Any, ...]]:
        for key, t in tallies.items():
            _total, vetoed, codes, cap = rows[key]
            yield (period.pk, t.unit_id, t.member_id, t.org_path, totals[key], q(t.base), q(t.bonus), q(t.penalty),
                   vetoed, codes, cap, overall[key], peer_rank[key], peer_size[peers[key]], peers[key],
                   previous.get(key), t.sheets,
                   format_subtotals(t.categories), part(t.quarter_part), part(t.annual_part))
    if connection.vendor == "postgresql":
        copy_payload(Result, RESULT_FIELDS, _copy_lines(out()))
        return len(tallies)
    return insert_rows(Result, RESULT_FIELDS, out(), batch_size=2000)


def _copy_lines(rows: Iterable[tuple[Any, ...]]) -> bytes:
    """Result rows as COPY text. Every value is a number, a tree path (digits and slashes), item
    codes, a peer key or the subtotals (digits, ":" and ";") — nothing that needs escaping except the
    codes, which are checked; so formatting is direct, far cheaper than generic adaptation."""
    lines = []
    for (period, unit, member, path, total, base, bonus, penalty, vetoed, codes, cap, rank, prank, psize, peer,
         prev, sheets, cats, q_part, a_part) in rows:
        if any(c in codes for c in "\\\t\n\r"):
            codes = codes.replace("\\", "\\\\").replace("\t", " ").replace("\n", " ").replace("\r", " ")
        lines.append(
            f"{period}\t{unit}\t{NULL if member is None else member}\t{path}\t{total}\t{base}\t{bonus}\t{penalty}\t"
            f"{'t' if vetoed else 'f'}\t{codes}\t{NULL if cap is None else cap}\t{rank}\t{prank}\t{psize}\t{peer}\t"
            f"{NULL if prev is None else prev}\t{sheets}\t{cats}\t{NULL if q_part is None else q_part}\t"
            f"{NULL if a_part is None else a_part}\n")
    return "".join(lines).encode()


def _quarters_of(period: Period) -> list[Period]:
    qs = Period.objects.filter(plan=period.plan, kind=PeriodKind.QUARTER, starts_on__gte=period.starts_on,
                               ends_on__lte=period.ends_on).order_by("starts_on")
    return [q for q in qs if Result.objects.filter(period=q).exists()]


def _shares(values: dict[int, Decimal], scored: set[int], base: Decimal) -> dict[int, Decimal]:
    """The category subtotals in whole cents, the scored ones adding up exactly to the indicator
    points rounded (largest remainder), so the year's subtotals add up to its total to the cent."""
    out = {c: v.quantize(CENT, ROUND_HALF_UP) for c, v in values.items() if c not in scored}
    parts = {c: v for c, v in values.items() if c in scored}
    if not parts:
        return out
    floors = {c: (v * 100).to_integral_value(rounding="ROUND_FLOOR") for c, v in parts.items()}
    left = max(0, int((base * 100).quantize(Decimal(1), ROUND_HALF_UP) - sum(floors.values())))
    order = sorted(parts, key=lambda c: (-(parts[c] * 100 - floors[c]), c))
    for i, c in enumerate(order):
        out[c] = (floors[c] + (1 if i < left else 0)) / 100
    return out


def _combined_tallies(period: Period) -> dict[int, Tally]:
    """Half-year and year (decision 0012). The half-year: the mean of the quarters' results (a
    quarter the subject was not assessed in does not count against it), vetoes carried. The year:
    the quarterly items' mean over the quarters + the year-end items at their own points (or each
    part weighted, as the plan says), bonus and penalty added; its category subtotals are the same
    parts, so they add up to the total."""
    from pbqms.assessment.services import sheet_items

    subj = _subject(period)
    quarters = _quarters_of(period)
    m = marks.marks(period.scheme)
    year = period.kind == PeriodKind.YEAR
    f = marks.year_factors(period.plan, m)
    seen: dict[int, list[tuple[Decimal, dict[int, Decimal], str, int | None, Decimal, Decimal]]] = defaultdict(list)
    info: dict[int, tuple[int, int | None, str]] = {}
    for row in Result.objects.filter(period__in=quarters).values_list(
            subj, "unit_id", "member_id", "org_path", "total", "subtotals", "veto_items", "star_cap", "bonus",
            "penalty").iterator():
        key, unit_id, member_id, path, total, stored, codes, cap, bonus, penalty = row
        cats = parse_subtotals(stored)
        if codes and total == 0:  # a quarter a veto made 0 counts as 0 in every part
            cats, bonus, penalty = {}, ZERO, ZERO
        seen[key].append((total, cats, codes, cap, bonus, penalty))
        info[key] = (unit_id, member_id, path)
    annual: dict[int, Tally] = {}
    annual_items = sheet_items(period) if year else []
    if annual_items:
        cond, params = _counting_sheets(period)
        tallies.fill(cond, params)  # sheets submitted by a bulk load carry no tally yet
        for key, unit_id, member_id, path, n, base, bonus, penalty, text, vetoes in assembly.subtotals(
                period, cond, params, annual_items):
            annual[key] = Tally(unit_id, member_id, path, sheets=n, base=base, bonus=bonus, penalty=penalty,
                                vetoes=vetoes, subtotals=text)
    out: dict[int, Tally] = {}
    for key in set(seen) | set(annual):
        quarter_rows = seen.get(key, [])
        n = len(quarter_rows)
        unit_id, member_id, path = info.get(key) or (annual[key].unit_id, annual[key].member_id, annual[key].org_path)
        t = Tally(unit_id, member_id, path, sheets=n)
        q_cats: dict[int, Decimal] = defaultdict(Decimal)
        for _total, qcats, codes, cap, _b, _p in quarter_rows:
            for c, v in qcats.items():
                q_cats[c] += v / n
            t.carried_codes += [c for c in codes.split(",") if c]
            if cap is not None:
                t.carried_cap = cap if t.carried_cap is None else min(t.carried_cap, cap)
        if not year:
            t.base = (sum((r[0] for r in quarter_rows), ZERO) / n) if n else ZERO
            t.categories = dict(q_cats)
            out[key] = t
            continue
        a = annual.get(key)
        year_cats: dict[int, Decimal] = defaultdict(Decimal)
        q_points = ZERO
        for c, v in q_cats.items():  # the quarterly items' categories carry the quarters' factor
            if c in m.quarter_cats:
                q_points += v
                year_cats[c] += v * f.quarter
            else:  # a bonus or penalty category
                year_cats[c] += v
        a_points = a.base if a is not None else ZERO
        if a is not None:
            for c, v in parse_subtotals(a.subtotals).items():
                year_cats[c] += v * f.annual if c in m.annual_cats else v
            t.vetoes = a.vetoes
        t.bonus = (sum((r[4] for r in quarter_rows), ZERO) / n if n else ZERO) + (a.bonus if a else ZERO)
        t.penalty = (sum((r[5] for r in quarter_rows), ZERO) / n if n else ZERO) + (a.penalty if a else ZERO)
        t.base = q_points * f.quarter + a_points * f.annual
        t.quarter_part, t.annual_part = q_points, a_points
        t.categories = _shares(year_cats, set(m.quarter_cats) | set(m.annual_cats), t.base)
        out[key] = t
    return out


def _analyse() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Result._meta.db_table}")


@transaction.atomic
def compute(period: Period, *, actor: Any = None, allow_published: bool = True) -> int:
    """(Re)compute one period's results; returns the number of results."""
    from pbqms.assessment.services import sheet_items

    period = Period.objects.select_related("plan", "scheme").get(pk=period.pk)
    if actor is not None and not scope.can_manage_assessment(actor, period.plan.owner):
        raise PermissionDenied
    if period.status == PeriodStatus.PUBLISHED and not allow_published:
        raise ValidationError(_("Period %(key)s is published: its results are locked. Reopen it to recompute.")
                              % {"key": period.key})
    ItemResult.objects.filter(period=period).delete()
    items = sheet_items(period)
    if period.kind in (PeriodKind.HALF, PeriodKind.YEAR) or not items:
        Result.objects.filter(period=period).delete()
        count = _write(period, _combined_tallies(period)) if period.kind in (PeriodKind.HALF, PeriodKind.YEAR) else 0
    else:
        cond, params = _counting_sheets(period)
        tallies.fill(cond, params)  # sheets submitted by a bulk load carry no tally yet
        count, _written = assembly.write_results(period, cond, params, items, _previous_period(period))
        assembly.item_results(period, items, cond, params)
    before = period.result_count or 0
    period.computed_at, period.result_count = clock.now(), count
    period.save(update_fields=["computed_at", "result_count"])
    if connection.vendor == "postgresql" and abs(count - before) > max(1000, before // 10):
        # fresh statistics when the rows change in number, or the planner misjudges them; a
        # recomputation of the same units leaves the statistics right
        transaction.on_commit(_analyse)
    if actor is not None:
        record(actor, AuditAction.UPDATE, period, {"results": [None, count]}, note=_("results computed"))
    return count
