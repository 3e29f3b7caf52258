"""The compliance engine — 过程控制引擎: every rule, for every unit it applies to, for every period,
has a state: met, in time, at risk (the period ends within the rule's warning days and the
requirement is not met yet) or missed.

Evaluation is set-based: one INSERT … SELECT … ON CONFLICT DO UPDATE per rule counts the records
of all periods of the window for all units at once (the same statement on PostgreSQL and SQLite),
then the heat map's subtree totals are rebuilt for the months touched with one INSERT … SELECT per
tree depth. A record's change re-evaluates its own unit for its period; the nightly run
re-evaluates everything for the current year and turns missed requirements into findings
exactly once (services.raise_missed_findings).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction

from pbqms.core import clock
from pbqms.orgs.models import SEGMENT, Unit, UnitKind

from .models import ActivityRecord, ComplianceRule, ComplianceState, ComplianceTally, Frequency, RuleTarget

TARGET_KINDS = {RuleTarget.BRANCH: (UnitKind.BRANCH,), RuleTarget.GROUP: (UnitKind.GROUP,)}


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date

    @property
    def month(self) -> dt.date:
        return self.end.replace(day=1)

    def label(self, frequency: str) -> str:
        if frequency == Frequency.MONTH:
            return f"{self.start:%Y-%m}"
        if frequency == Frequency.QUARTER:
            return f"{self.start.year}Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start.year}"


def _month_end(d: dt.date) -> dt.date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def period_of(frequency: str, day: dt.date) -> Period:
    """The period of `frequency` that holds `day`."""
    if frequency == Frequency.MONTH:
        return Period(day.replace(day=1), _month_end(day))
    if frequency == Frequency.QUARTER:
        first = ((day.month - 1) // 3) * 3 + 1
        return Period(dt.date(day.year, first, 1), _month_end(dt.date(day.year, first + 2, 1)))
    return Period(dt.date(day.year, 1, 1), dt.date(day.year, 12, 31))


def periods(frequency: str, start: dt.date, end: dt.date) -> list[Period]:
    """Every period of `frequency` overlapping [start, end]."""
    out: list[Period] = []
    p = period_of(frequency, start)
    while p.start <= end:
        out.append(p)
        p = period_of(frequency, p.end + dt.timedelta(days=1))
    return out


def rules() -> list[ComplianceRule]:
    return list(ComplianceRule.objects.filter(active=True).select_related("unit").order_by("code"))


def _rule_sql(rule: ComplianceRule, window: list[Period], today: dt.date, unit_filter: str) -> tuple[str, list]:
    state, rec = ComplianceState._meta.db_table, ActivityRecord._meta.db_table
    params: list = []
    values = []
    for p in window:
        risk_from = p.end - dt.timedelta(days=rule.remind_days)
        values.append("(%s, %s, %s, %s)")
        params += [p.start, p.end, p.month, risk_from]
    record_filter = ""
    if rule.host == "secretary":
        record_filter += " AND r.host_is_secretary"
    if rule.min_attendance:
        record_filter += " AND r.attendance_rate >= %s"
    kinds = TARGET_KINDS[RuleTarget(rule.target)]
    unit_where = f"u.kind IN ({', '.join(['%s'] * len(kinds))}) AND u.dissolved_on IS NULL"
    unit_params: list = list(kinds)
    if rule.unit_id:
        unit_where += " AND u.path LIKE %s"
        unit_params.append(rule.unit.path + "%")  # type: ignore[union-attr]
    sql = f"""
        WITH periods (p_start, p_end, p_month, p_risk) AS (VALUES {', '.join(values)}),
        counts AS (
            SELECT r.unit_id AS unit_id, p.p_start AS p_start, COUNT(*) AS n
            FROM {rec} r JOIN periods p ON r.held_on >= p.p_start AND r.held_on <= p.p_end
            WHERE r.kind = %s{record_filter}
            GROUP BY r.unit_id, p.p_start)
        INSERT INTO {state} (rule_id, unit_id, org_path, period_start, period_end, month, required, done, status,
                             finding_raised, evaluated_at)
        SELECT %s, u.id, u.path, p.p_start, p.p_end, p.p_month, %s, COALESCE(c.n, 0),
               CASE WHEN COALESCE(c.n, 0) >= %s THEN 'met'
                    WHEN p.p_end < %s THEN 'missed'
                    WHEN p.p_risk <= %s THEN 'at_risk'
                    ELSE 'open' END,
               %s, %s
        FROM {Unit._meta.db_table} u CROSS JOIN periods p
        LEFT JOIN counts c ON c.unit_id = u.id AND c.p_start = p.p_start
        WHERE {unit_where}{unit_filter}
        ON CONFLICT (unit_id, rule_id, period_start) DO UPDATE SET
            done = excluded.done, status = excluded.status, required = excluded.required,
            org_path = excluded.org_path, evaluated_at = excluded.evaluated_at
    """
    head = [rule.kind] + ([rule.min_attendance] if rule.min_attendance else [])
    tail = [rule.pk, rule.min_count, rule.min_count, today, today, False, clock.now()] + unit_params
    return sql, params + head + tail


def evaluate(*, start: dt.date, end: dt.date, unit: Unit | None = None,
             only: Iterable[ComplianceRule] | None = None) -> int:
    """(Re)compute the states of every period overlapping [start, end] that has begun, for every
    unit (or just `unit`), and bring the heat map's totals of the months touched up to date."""
    today = clock.today()
    touched: set[dt.date] = set()
    written = 0
    unit_filter, extra = "", []
    if unit is not None:
        unit_filter, extra = " AND u.id = %s", [unit.pk]
    with transaction.atomic(), connection.cursor() as cur:
        chosen = list(only) if only is not None else rules()
        windows = {r.pk: [p for p in periods(r.frequency, start, end) if p.start <= today] for r in chosen}
        months = sorted({p.month for w in windows.values() for p in w})
        before = _unit_counts(unit, months) if unit is not None else None
        for rule in chosen:
            window = windows[rule.pk]
            if not window:
                continue
            sql, params = _rule_sql(rule, window, today, unit_filter)
            cur.execute(sql, params + extra)
            written += max(cur.rowcount, 0)
            touched |= {p.month for p in window}
        if touched and unit is None:
            rebuild_tallies(sorted(touched))
        elif touched and unit is not None and before is not None:
            _apply_delta(unit, before, _unit_counts(unit, months))
    return written


STATUSES = ("met", "open", "at_risk", "missed")


def _unit_counts(unit: Unit, months: list[dt.date]) -> dict[tuple[dt.date, str], int]:
    from django.db.models import Count

    rows = (ComplianceState.objects.filter(unit=unit, month__in=months).values("month", "status")
            .annotate(n=Count("id")).order_by())
    return {(r["month"], r["status"]): r["n"] for r in rows}


def _apply_delta(unit: Unit, before: dict[tuple[dt.date, str], int],
                 after: dict[tuple[dt.date, str], int]) -> None:
    """One unit's states changed: add the difference to the totals of the unit and its ancestors."""
    from django.db.models import F

    delta: dict[dt.date, dict[str, int]] = {}
    for key in set(before) | set(after):
        d = after.get(key, 0) - before.get(key, 0)
        if d:
            delta.setdefault(key[0], {})[key[1]] = d
    ancestors = [int(p) for p in unit.path.strip("/").split("/") if p]
    for month, changes in delta.items():
        for uid in ancestors:
            row, _created = ComplianceTally.objects.select_for_update().get_or_create(unit_id=uid, month=month)
            ComplianceTally.objects.filter(pk=row.pk).update(**{k: F(k) + v for k, v in changes.items()})


def rebuild_tallies(months: list[dt.date]) -> None:
    """Subtree totals per month for the heat map, rebuilt from the states: for each depth, the
    states grouped by their ancestor at that depth (its id is a fixed slice of the path)."""
    state, tally = ComplianceState._meta.db_table, ComplianceTally._meta.db_table
    seg = SEGMENT + 1
    month_ph = ", ".join(["%s"] * len(months))
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {tally} WHERE month IN ({month_ph})", months)
        cur.execute(f"SELECT MAX(depth) FROM {Unit._meta.db_table}")
        depth = (cur.fetchone() or [0])[0] or 0
        for d in range(depth + 1):
            ancestor = f"CAST(SUBSTR(s.org_path, {d * seg + 1}, {SEGMENT}) AS INTEGER)"
            cur.execute(f"""
                INSERT INTO {tally} (unit_id, month, met, open, at_risk, missed)
                SELECT {ancestor}, s.month,
                       SUM(CASE WHEN s.status = 'met' THEN 1 ELSE 0 END),
                       SUM(CASE WHEN s.status = 'open' THEN 1 ELSE 0 END),
                       SUM(CASE WHEN s.status = 'at_risk' THEN 1 ELSE 0 END),
                       SUM(CASE WHEN s.status = 'missed' THEN 1 ELSE 0 END)
                FROM {state} s
                WHERE s.month IN ({month_ph}) AND LENGTH(s.org_path) >= {(d + 1) * seg}
                GROUP BY {ancestor}, s.month
            """, months)


def evaluate_record_change(unit: Unit, day: dt.date) -> int:
    """A record of `unit` dated `day` changed: re-evaluate that unit for the periods holding the day."""
    return evaluate(start=day, end=day, unit=unit)


def evaluate_year(year: int) -> int:
    """The nightly run: every rule, every unit, every period of `year` begun so far."""
    return evaluate(start=dt.date(year, 1, 1), end=dt.date(year, 12, 31))
