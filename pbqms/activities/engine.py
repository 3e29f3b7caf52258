"""The compliance engine — 过程控制引擎: every rule, for every unit it applies to, for every period,
has a state: met, in time, at risk (the period ends within the rule's warning days and the
requirement is not met yet) or missed.

Evaluation is set-based (decisions 0005, 0008, 0010): one INSERT … SELECT for all rules and
periods of the window counts the records of all units at once (the same statement on PostgreSQL
and SQLite), compares with the stored states and writes only what changed; then the heat map's
subtree totals are rebuilt bottom-up for the months in which a state changed. A record's change
re-evaluates its own unit for its period; the nightly run re-evaluates everything for the current
year and turns missed requirements into findings exactly once (services.raise_missed_findings).

A requirement counts occurrences, not days: each record is one occurrence of its kind (four
one-to-one talks held on one day are four talks; a lecture given to two groups on one day, two
lectures). Kinds other than talks, lectures and "other" are held once a day per unit (a
database constraint), so for them records and days coincide.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

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


def _month_starts(p: Period) -> list[dt.date]:
    out, m = [], p.start.replace(day=1)
    while m <= p.end:
        out.append(m)
        m = (m + dt.timedelta(days=32)).replace(day=1)
    return out


def _window_rows(chosen: list[ComplianceRule], windows: dict[int, list[Period]],
                 today: dt.date) -> tuple[str, list[Any], str, list[Any]]:
    """The rules' periods as two VALUES lists: one row per rule and period, carrying everything
    the statement needs to decide (whom it applies to, threshold, warning day); and one row per
    rule, period and month, so a record finds its periods by equality on (kind, month) — a hash
    join — instead of a date-range test against every period of its kind."""
    values, params, months, mparams = [], [], [], []
    for rule in chosen:
        prefix = rule.unit.path if rule.unit_id else ""  # type: ignore[union-attr]
        for p in windows[rule.pk]:
            values.append("(%s, %s, %s, %s, %s, %s, %s, %s)")
            params += [rule.pk, TARGET_KINDS[RuleTarget(rule.target)][0], prefix, p.start, p.end, p.month,
                       p.end - dt.timedelta(days=rule.remind_days), rule.min_count]
            for m in _month_starts(p):
                months.append("(%s, %s, %s, %s, %s, %s)")
                mparams += [rule.pk, p.start, rule.kind, m, rule.host == "secretary", rule.min_attendance or 0]
    return ", ".join(values), params, ", ".join(months), mparams


def _states_sql(values: str, months: str, unit_filter: str, *, fresh: bool = False) -> str:
    """One statement for every rule and period of the window: the records are read once and
    counted per unit, rule and period; each unit's state is decided; the result is compared with
    the stored states in one join, and only what is new or changed is written (ON CONFLICT for
    the changed ones), in the unique key's order so a large write appends to the index instead of
    touching its pages at random. A nightly run that changes little writes little. (A unit's move re-paths
    its states with every other record: orgs.services.move_unit.)"""
    state, rec, unit = ComplianceState._meta.db_table, ActivityRecord._meta.db_table, Unit._meta.db_table
    compare, conflict = ("", "") if fresh else (
        """LEFT JOIN stored o ON o.unit_id = c.unit_id AND o.rule_id = c.rule_id AND o.period_start = c.p_start
        WHERE o.unit_id IS NULL OR o.done <> c.done OR o.status <> c.status OR o.required <> c.need""",
        """ON CONFLICT (unit_id, rule_id, period_start) DO UPDATE SET
            done = excluded.done, status = excluded.status, required = excluded.required,
            org_path = excluded.org_path, period_end = excluded.period_end, month = excluded.month,
            evaluated_at = excluded.evaluated_at""")
    month_of = ("r.held_on - CAST(EXTRACT(DAY FROM r.held_on) AS INTEGER) + 1" if connection.vendor == "postgresql"
                else "STRFTIME('%%Y-%%m-01', r.held_on)")
    return f"""
        WITH w (rule_id, target, prefix, p_start, p_end, p_month, p_risk, need) AS (VALUES {values}),
        wm (rule_id, p_start, kind, r_month, by_sec, min_att) AS (VALUES {months}),
        counts AS (
            SELECT r.unit_id AS unit_id, wm.rule_id AS rule_id, wm.p_start AS p_start, COUNT(*) AS n
            FROM {rec} r JOIN wm ON r.kind = wm.kind AND {month_of} = wm.r_month
            WHERE r.held_on >= %s AND r.held_on <= %s{unit_filter.replace('u.id', 'r.unit_id')}
              AND (NOT wm.by_sec OR r.host_is_secretary) AND r.attendance_rate >= wm.min_att
            GROUP BY r.unit_id, wm.rule_id, wm.p_start),
        computed AS (
            SELECT w.rule_id AS rule_id, u.id AS unit_id, u.path AS org_path, w.p_start AS p_start,
                   w.p_end AS p_end, w.p_month AS p_month, w.need AS need, COALESCE(c.n, 0) AS done,
                   CASE WHEN COALESCE(c.n, 0) >= w.need THEN 'met'
                        WHEN w.p_end < %s THEN 'missed'
                        WHEN w.p_risk <= %s THEN 'at_risk'
                        ELSE 'open' END AS status
            FROM {unit} u JOIN w ON u.kind = w.target AND (w.prefix = '' OR u.path LIKE w.prefix || '%%')
            LEFT JOIN counts c ON c.unit_id = u.id AND c.rule_id = w.rule_id AND c.p_start = w.p_start
            WHERE u.dissolved_on IS NULL{unit_filter}),
        stored AS (
            SELECT s.unit_id, s.rule_id, s.period_start, s.done, s.status, s.required
            FROM {state} s
            WHERE s.period_start >= %s AND s.period_start <= %s{unit_filter.replace('u.id', 's.unit_id')})
        INSERT INTO {state} AS s (rule_id, unit_id, org_path, period_start, period_end, month, required, done,
                                  status, finding_raised, evaluated_at)
        SELECT c.rule_id, c.unit_id, c.org_path, c.p_start, c.p_end, c.p_month, c.need, c.done, c.status, %s, %s
        FROM computed c {compare}
        ORDER BY c.unit_id, c.rule_id, c.p_start
        {conflict}
    """


def evaluate(*, start: dt.date, end: dt.date, unit: Unit | None = None,
             only: Iterable[ComplianceRule] | None = None) -> int:
    """(Re)compute the states of every period overlapping [start, end] that has begun, for every
    unit (or just `unit`), and bring the heat map's totals of the months touched up to date.
    Returns the number of states written (a state that did not change is not rewritten)."""
    today = clock.today()
    unit_filter, extra = "", []
    if unit is not None:
        unit_filter, extra = " AND u.id = %s", [unit.pk]
    chosen = list(only) if only is not None else rules()
    windows = {r.pk: [p for p in periods(r.frequency, start, end) if p.start <= today] for r in chosen}
    chosen = [r for r in chosen if windows[r.pk]]
    if not chosen:
        return 0
    months = sorted({p.month for r in chosen for p in windows[r.pk]})
    first = min(p.start for r in chosen for p in windows[r.pk])
    last = max(p.end for r in chosen for p in windows[r.pk])
    values, params, month_rows, month_params = _window_rows(chosen, windows, today)
    now = clock.now()
    with transaction.atomic(), connection.cursor() as cur:
        before = _unit_counts(unit, months) if unit is not None else None
        if connection.vendor == "postgresql" and unit is None:
            # A full evaluation joins millions of rows: room for the hash joins in memory, and no
            # nested loops (the planner cannot see through the VALUES lists and guesses few rows).
            cur.execute("SET LOCAL work_mem = '256MB'")
            cur.execute("SET LOCAL enable_nestloop = off")
            cur.execute("SET LOCAL enable_mergejoin = off")
        # The first full evaluation ever (no state stored at all, which is instant to tell): a plain
        # insert with nothing to compare, a third cheaper than comparing with an empty table. Other
        # writers of states wait for it (on SQLite writers wait anyway), so the table stays empty
        # until it has inserted, and tallies likewise (rebuild_tallies, under the same lock).
        fresh = unit is None and not ComplianceState.objects.exists()
        if fresh and connection.vendor == "postgresql":
            cur.execute(f"LOCK TABLE {ComplianceState._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")
            fresh = not ComplianceState.objects.exists()  # a unit's evaluation may have committed first
        cur.execute(_states_sql(values, month_rows, unit_filter, fresh=fresh),
                    params + month_params + [first, last] + extra + [today, today] + extra + [first, last] + extra
                    + [False, now])
        written = max(cur.rowcount, 0)
        if connection.vendor == "sqlite":  # its rowcount misses a statement that starts WITH
            cur.execute("SELECT changes()")
            written = (cur.fetchone() or [0])[0]
        if unit is None:
            if written:  # only the months in which a state changed
                cur.execute(f"SELECT DISTINCT month FROM {ComplianceState._meta.db_table} WHERE evaluated_at = %s "
                            "AND period_start >= %s AND period_start <= %s", [now, first, last])
                rebuild_tallies(sorted({row[0] for row in cur.fetchall()}))
        elif before is not None:
            _apply_delta(unit, before, _unit_counts(unit, months))
    return written


STATUSES = ("met", "open", "at_risk", "missed")


def _unit_counts(unit: Unit, months: list[dt.date] | None) -> dict[tuple[dt.date, str], int]:
    """The unit's own states per (month, status), in `months` or in all months (None)."""
    from django.db.models import Count

    states = ComplianceState.objects.filter(unit=unit)
    rows = ((states if months is None else states.filter(month__in=months)).values("month", "status")
            .annotate(n=Count("id")).order_by())
    return {(r["month"], r["status"]): r["n"] for r in rows}


def _apply_delta(unit: Unit, before: dict[tuple[dt.date, str], int],
                 after: dict[tuple[dt.date, str], int]) -> None:
    """One unit's states changed: add the difference to the totals of the unit and its ancestors."""
    delta: dict[dt.date, dict[str, int]] = {}
    for key in set(before) | set(after):
        d = after.get(key, 0) - before.get(key, 0)
        if d:
            delta.setdefault(key[0], {})[key[1]] = d
    ancestors = [int(p) for p in unit.path.strip("/").split("/") if p]
    if unit.kind == UnitKind.GROUP:  # a group keeps no tally of its own (see rebuild_tallies)
        ancestors = [a for a in ancestors if a != unit.pk]
    for month, changes in delta.items():
        _add(ancestors, month, changes)


def _add(unit_ids: list[int], month: dt.date, changes: dict[str, int]) -> None:
    from django.db.models import F

    for uid in unit_ids:
        row, _created = ComplianceTally.objects.select_for_update().get_or_create(unit_id=uid, month=month)
        ComplianceTally.objects.filter(pk=row.pk).update(**{k: F(k) + v for k, v in changes.items()})


def unit_moved(unit: Unit, old_path: str) -> None:
    """A unit moved (orgs.services.move_unit, which re-paths its states): its subtree's totals leave
    its old ancestors and join its new ones. Call inside the move's transaction."""
    if unit.kind == UnitKind.GROUP:  # no tally: its own states are its totals
        totals: dict[dt.date, dict[str, int]] = {}
        for (month, status), n in _unit_counts(unit, None).items():
            totals.setdefault(month, {})[status] = n
    else:
        totals = {t.month: {k: getattr(t, k) for k in STATUSES}
                  for t in ComplianceTally.objects.filter(unit=unit)}
    old = [int(p) for p in old_path.strip("/").split("/") if p][:-1]
    new = [int(p) for p in unit.path.strip("/").split("/") if p][:-1]
    for month, counts in totals.items():
        _add([a for a in old if a not in new], month, {k: -n for k, n in counts.items() if n})
        _add([a for a in new if a not in old], month, {k: n for k, n in counts.items() if n})


def rebuild_tallies(months: list[dt.date]) -> None:
    """Subtree totals per month for the heat map, rebuilt from the states bottom-up: the states
    counted once per unit and month (integer keys), then each tree level's sums added to its
    parents', so the states are read once whatever the depth of the tree."""
    state, tally = ComplianceState._meta.db_table, ComplianceTally._meta.db_table
    seg = SEGMENT + 1
    month_ph = ", ".join(["%s"] * len(months))
    sums = "SUM(met), SUM(open), SUM(at_risk), SUM(missed)"
    # A party group's states are its own (it has no children), so groups — two thirds of all
    # units — keep no tallies: the heat map counts a group's few states itself, and here a group's
    # states are counted straight into its branch (the parent's id is the path's last but one
    # segment). A state's unit is a group exactly when its rule targets groups.
    group_rules = [str(pk) for pk in
                   ComplianceRule.objects.filter(target=RuleTarget.GROUP).values_list("pk", flat=True)]
    is_group = f"s.rule_id IN ({', '.join(group_rules)})" if group_rules else "1 = 0"
    owner = (f"CASE WHEN {is_group} THEN CAST(SUBSTR(s.org_path, LENGTH(s.org_path) - {2 * seg - 1}, {SEGMENT}) "
             f"AS BIGINT) ELSE s.unit_id END")
    depth = f"LENGTH(s.org_path) / {seg} - CASE WHEN {is_group} THEN 2 ELSE 1 END"
    # The first rebuild ever: nothing to compare with; other writers of tallies wait meanwhile.
    fresh = not ComplianceTally.objects.exists()
    with connection.cursor() as cur:
        if fresh and connection.vendor == "postgresql":
            cur.execute(f"LOCK TABLE {tally} IN SHARE ROW EXCLUSIVE MODE")
            fresh = not ComplianceTally.objects.exists()
        cur.execute("DROP TABLE IF EXISTS cs_roll")
        cur.execute("CREATE TEMPORARY TABLE cs_roll (unit_id BIGINT, depth INTEGER, month DATE, met INTEGER, "
                    "open INTEGER, at_risk INTEGER, missed INTEGER)")
        cur.execute(f"""
            INSERT INTO cs_roll (unit_id, depth, month, met, open, at_risk, missed)
            SELECT {owner}, {depth}, s.month,
                   SUM(CASE WHEN s.status = 'met' THEN 1 ELSE 0 END),
                   SUM(CASE WHEN s.status = 'open' THEN 1 ELSE 0 END),
                   SUM(CASE WHEN s.status = 'at_risk' THEN 1 ELSE 0 END),
                   SUM(CASE WHEN s.status = 'missed' THEN 1 ELSE 0 END)
            FROM {state} s WHERE s.month IN ({month_ph})
            GROUP BY {owner}, {depth}, s.month
        """, months)
        cur.execute("SELECT MAX(depth) FROM cs_roll")
        top = (cur.fetchone() or [0])[0] or 0
        for d in range(top, 0, -1):
            cur.execute(f"""
                INSERT INTO cs_roll (unit_id, depth, month, met, open, at_risk, missed)
                SELECT u.parent_id, {d - 1}, r.month, SUM(r.met), SUM(r.open), SUM(r.at_risk), SUM(r.missed)
                FROM cs_roll r JOIN {Unit._meta.db_table} u ON u.id = r.unit_id
                WHERE r.depth = {d} AND u.parent_id IS NOT NULL GROUP BY u.parent_id, r.month
            """)
        cur.execute("DROP TABLE IF EXISTS cs_new")
        cur.execute("CREATE TEMPORARY TABLE cs_new (unit_id BIGINT, month DATE, met INTEGER, open INTEGER, "
                    "at_risk INTEGER, missed INTEGER)")
        cur.execute(f"""
            INSERT INTO cs_new (unit_id, month, met, open, at_risk, missed)
            SELECT unit_id, month, {sums} FROM cs_roll GROUP BY unit_id, month
        """)
        if fresh:
            cur.execute(f"INSERT INTO {tally} (unit_id, month, met, open, at_risk, missed) SELECT unit_id, month, "
                        "met, open, at_risk, missed FROM cs_new ORDER BY unit_id, month")
            cur.execute("DROP TABLE cs_new")
            cur.execute("DROP TABLE cs_roll")
            return
        # Only what changed is written: a nightly run that moves a few states rewrites a few
        # totals, and no deleted rows are left for the unique key to step over.
        cur.execute(f"""
            INSERT INTO {tally} AS t (unit_id, month, met, open, at_risk, missed)
            SELECT n.unit_id, n.month, n.met, n.open, n.at_risk, n.missed
            FROM cs_new n LEFT JOIN {tally} o ON o.unit_id = n.unit_id AND o.month = n.month
            WHERE o.id IS NULL OR o.met <> n.met OR o.open <> n.open OR o.at_risk <> n.at_risk
               OR o.missed <> n.missed
            ORDER BY n.unit_id, n.month
            ON CONFLICT (unit_id, month) DO UPDATE SET met = excluded.met, open = excluded.open,
                at_risk = excluded.at_risk, missed = excluded.missed
        """)
        cur.execute(f"""
            DELETE FROM {tally} WHERE month IN ({month_ph}) AND NOT EXISTS (
                SELECT 1 FROM cs_new n WHERE n.unit_id = {tally}.unit_id AND n.month = {tally}.month)
        """, months)
        cur.execute("DROP TABLE cs_new")
        cur.execute("DROP TABLE cs_roll")


def evaluate_record_change(unit: Unit, day: dt.date) -> int:
    """A record of `unit` dated `day` changed: re-evaluate that unit for the periods holding the day."""
    return evaluate(start=day, end=day, unit=unit)


def evaluate_year(year: int) -> int:
    """The nightly run: every rule, every unit, every period of `year` begun so far."""
    return evaluate(start=dt.date(year, 1, 1), end=dt.date(year, 12, 31))
