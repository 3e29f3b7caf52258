"""Result assembly — 结果汇总: a scored period's results from its sheets' tallies, in SQL.

Decision 0009. Every counting sheet carries its tally (decision 0007: whole cents it departs from
full points). One statement folds them per unit (or member), applies the scheme's caps and the
vetoes, ranks overall and among peers and joins the previous period's total; the results that
differ from those stored are then replaced, so a recomputation of unchanged sheets writes nothing.
Nothing passes through Python but the rare vetoes. The same fold, as a plain SELECT, gives the
year's annual-only subtotals to `results._combined_tallies`.

All arithmetic is in integer cents summed over a subject's n sheets; a mean is rounded half away
from zero once, at the end (the same as Decimal's ROUND_HALF_UP on the exact mean), so both
databases give the same figures to the cent. The SQL is the same on PostgreSQL and SQLite but for
the JSON and number fragments below.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection

from pbqms.assessment.models import (
    SCORED_KINDS,
    ItemKind,
    ItemResult,
    PeerGroupMember,
    Period,
    Result,
    SchemeItem,
    Sheet,
    TargetKind,
    VetoEffect,
)
from pbqms.orgs.models import Unit

T_SHEET, T_RESULT, T_UNIT = Sheet._meta.db_table, Result._meta.db_table, Unit._meta.db_table
T_PEER = PeerGroupMember._meta.db_table
VetoRow = tuple[str, str, Decimal | None, int | None]  # code, effect, deduction, star cap


# --- the vendor fragments -------------------------------------------------------------------------

def _pg() -> bool:
    return connection.vendor == "postgresql"


def _num(*keys: str) -> str:
    """An integer in the sheet's tally (0 when absent). int, not bigint: PostgreSQL sums ints in
    bigint but bigints in numeric, several times slower (cents of one sheet are far below 2³¹)."""
    if _pg():
        return f"COALESCE((sh.tally{''.join(f' -> {k!r}' for k in keys[:-1])} ->> '{keys[-1]}')::int, 0)"
    return "COALESCE(json_extract(sh.tally, '$." + ".".join(f'"{k}"' for k in keys) + "'), 0)"


def _has(*keys: str) -> str:
    if _pg():
        return f"(sh.tally #> '{{{','.join(keys)}}}') IS NOT NULL"
    return "json_type(sh.tally, '$." + ".".join(f'"{k}"' for k in keys) + "') IS NOT NULL"


def _mean(x: str, n: str) -> str:
    """Integer cents: the mean of `x` cents over `n` sheets, rounded half away from zero."""
    return f"(CASE WHEN ({x}) >= 0 THEN (2 * ({x}) + {n}) / (2 * {n}) ELSE -((-2 * ({x}) + {n}) / (2 * {n})) END)"


def _dec(cents: str) -> str:
    return f"(({cents})::numeric / 100)" if _pg() else f"(({cents}) / 100.0)"


def _subtotals(required: Sequence[tuple[int, str]], optional: Sequence[tuple[int, str]]) -> str:
    """The category subtotals as `Result.subtotals` text ("3:3800;4:1450", ascending category id),
    by concatenation: cheap, and no function-argument limit however many categories; an optional
    pair is left out when its value is NULL."""
    pairs = sorted([(k, v, False) for k, v in required] + [(k, v, True) for k, v in optional])
    parts = [f"COALESCE(';{k}:' || {v}, '')" if opt else f"';{k}:' || {v}" for k, v, opt in pairs]
    return f"ltrim({' || '.join(parts)}, ';')" if parts else "''"


def _fence() -> str:
    """Ends a subquery the planner must not merge into the one above, so that what it computes is
    computed once per row, not again wherever the query above refers to it."""
    return "OFFSET 0" if _pg() else "LIMIT -1 OFFSET 0"


def _greatest(a: str, b: str) -> str:
    return f"GREATEST({a}, {b})" if _pg() else f"MAX({a}, {b})"


def _veto_table() -> str:
    if _pg():
        return "jsonb_to_recordset(%s::jsonb) AS v(k bigint, zero int, ded bigint, codes text, cap int)"
    return ("(SELECT json_extract(value, '$.k') AS k, json_extract(value, '$.zero') AS zero, "
            "json_extract(value, '$.ded') AS ded, json_extract(value, '$.codes') AS codes, "
            "json_extract(value, '$.cap') AS cap FROM json_each(%s)) AS v")


def _each(key: str) -> str:
    """The members of one object of the tally, as rows (key, value)."""
    return f"jsonb_each_text(sh.tally -> '{key}') AS e" if _pg() else f"json_each(sh.tally, '$.{key}') AS e"


# --- vetoes: few, so summarised in Python -----------------------------------------------------------

def vetoes(subj: str, cond: str, params: Sequence[Any], items: Sequence[SchemeItem]) -> dict[int, list[VetoRow]]:
    """Per subject, the veto items its counting sheets triggered, in item order."""
    by_id = {i.pk: i for i in items}
    found: dict[int, set[int]] = defaultdict(set)
    with connection.cursor() as cursor:
        has_v = "sh.tally ? 'v'" if _pg() else _has("v")  # ? — the jsonb operator, not a placeholder
        cursor.execute(f"SELECT sh.{subj}, sh.tally FROM {T_SHEET} sh WHERE {cond} AND {has_v}", list(params))
        for key, raw in cursor.fetchall():
            tally = json.loads(raw) if isinstance(raw, str) else raw
            found[key].update(tally.get("v", ()))
    return {key: [(it.code, it.veto_effect, it.veto_deduction, it.veto_star_cap)
                  for it in (by_id[i] for i in sorted(ids) if i in by_id)]
            for key, ids in found.items()}


def veto_effect(rows: Sequence[VetoRow], carried_cap: int | None = None) -> tuple[bool, int, int | None]:
    """What the vetoes do: (total made zero, cents deducted, star cap). Every triggered veto makes
    the unit ineligible for stars and awards in the period (cap 0), whatever its points (seed 001:
    否决指标; issue 22.5); the scheme may also zero the total. A fixed deduction is read only in
    schemes stored before that (new ones carry it as a penalty item)."""
    zero, deduct, cap = False, 0, carried_cap
    for _code, effect, deduction, _star_cap in rows:
        cap = 0
        if effect == VetoEffect.ZERO:
            zero = True
        elif effect == VetoEffect.DEDUCT:
            deduct += int((deduction or 0) * 100)
    return zero, deduct, cap


def veto_codes(codes: Sequence[str]) -> str:
    return ",".join(dict.fromkeys(codes))[:200]


# --- the fold ---------------------------------------------------------------------------------------

@dataclass
class Fold:
    """The per-subject fold of a period's counting sheets as SQL (a CTE body named `t`)."""

    sql: str
    params: list[Any]
    vetoes: dict[int, list[VetoRow]]
    subtotals: Callable[[str], str]  # `Result.subtotals` text from the fold's columns under an alias
    # base_x and total_x are scaled by full mark / scored maximum (decision 0012): both are then
    # multiplied by `den` (the scored maximum in cents; 1 when not rescaled), so a mean divides by n × den.
    den: int = 1


def scale_of(period: Period, items: Sequence[SchemeItem]) -> tuple[int, int]:
    """(full mark, scored maximum) in cents when the period's results are rescaled to the full mark
    — a month or quarter that leaves out the year-end items, under a scheme that rescales — else (1, 1)."""
    from pbqms.assessment.models import PeriodKind, QuarterMark

    scheme = period.scheme
    if period.kind not in (PeriodKind.MONTH, PeriodKind.QUARTER) or scheme.quarter_mark != QuarterMark.RESCALE:
        return 1, 1
    scored = sum(int(i.max_points * 100) for i in items if i.kind in SCORED_KINDS)
    full = int(scheme.full_mark * 100)
    return (full, scored) if scored and full and scored != full else (1, 1)


def _fold(period: Period, cond: str, params: Sequence[Any], items: Sequence[SchemeItem]) -> Fold:
    scheme = period.scheme
    subj = "member_id" if scheme.target_kind == TargetKind.MEMBER else "unit_id"
    max_c: dict[int, int] = defaultdict(int)
    others: set[int] = set()
    for item in items:
        if item.kind in SCORED_KINDS:
            max_c[item.category_id] += int(item.max_points * 100)
        else:
            others.add(item.category_id)
    others -= set(max_c)
    cats = sorted(max_c) + sorted(others)
    full_c = sum(max_c.values())
    found = vetoes(subj, cond, params, items)
    effects = [{"k": key, "zero": int(z), "ded": d, "codes": veto_codes([r[0] for r in rows]), "cap": cap}
               for key, rows in found.items() for z, d, cap in [veto_effect(rows)]]
    bonus_cap, penalty_cap = int(scheme.bonus_cap * 100), int(scheme.penalty_cap * 100)
    per_sheet = ", ".join([f"{_num(k)} AS {k}" for k in "lbp"]
                          + [f"{_num('c', str(c))} AS c{c}" for c in cats]
                          + [f"CASE WHEN {_has('c', str(c))} THEN 1 ELSE 0 END AS h{c}" for c in sorted(others)])
    sums = ", ".join([f"SUM({k}) AS {k}" for k in "lbp"] + [f"SUM(c{c}) AS c{c}" for c in cats]
                     + [f"MAX(h{c}) AS h{c}" for c in sorted(others)])
    bonus = f"CASE WHEN {bonus_cap} > 0 AND u.b > {bonus_cap} * u.n THEN {bonus_cap} * u.n ELSE u.b END"
    penalty = f"CASE WHEN {penalty_cap} > 0 AND u.p < -{penalty_cap} * u.n THEN -{penalty_cap} * u.n ELSE u.p END"
    full, den = scale_of(period, items)
    if den == 1:
        base_x = f"{full_c} * u.n - u.l"
        rest = f"({bonus}) + ({penalty}) - COALESCE(v.ded, 0) * u.n"
    else:  # rescaled: the indicator points × full / scored maximum, the rest × 1 (all × den)
        base_x = f"({full_c} * u.n - u.l) * {full}"
        rest = f"(({bonus}) + ({penalty}) - COALESCE(v.ded, 0) * u.n) * {den}"

    def subtotals_of(a: str) -> str:
        return _subtotals([(c, f"{a}.m{c}") for c in max_c],
                          [(c, f"CASE WHEN {a}.h{c} > 0 THEN {a}.m{c} END") for c in others])

    if subj == "unit_id":  # the unit's path and parent from the tree, not a MIN over its sheets
        facts = ("u.k AS unit_id, CAST(NULL AS BIGINT) AS member_id, ou.path AS org_path, "
                 "COALESCE(ou.parent_id, 0) AS parent_id")
        facts_agg, facts_join = "", f"LEFT JOIN {T_UNIT} ou ON ou.id = u.k"
    else:
        facts = "u.unit_id AS unit_id, u.k AS member_id, u.org_path AS org_path, CAST(NULL AS BIGINT) AS parent_id"
        facts_agg, facts_join = "MIN(s.unit_id) AS unit_id, MIN(s.org_path) AS org_path, ", ""
    sql = f"""
        SELECT u.k, {facts}, u.n,
               {base_x} AS base_x, {bonus} AS bonus_x, {penalty} AS penalty_x,
               v.k IS NOT NULL AS vetoed, COALESCE(v.codes, '') AS codes, v.cap AS cap,
               CASE WHEN v.zero = 1 THEN 0 ELSE {_greatest(f"{base_x} + {rest}", "0")} END AS total_x,
               {", ".join([f"{_mean(f'{max_c.get(c, 0)} * u.n + u.c{c}', 'u.n')} AS m{c}" for c in cats]
                          + [f"u.h{c}" for c in sorted(others)] or ["0 AS no_categories"])}
        FROM (SELECT s.k, {facts_agg}COUNT(*) AS n, {sums}
              FROM (SELECT sh.{subj} AS k, sh.unit_id, sh.org_path, {per_sheet}
                    FROM {T_SHEET} sh WHERE {cond}) s
              GROUP BY s.k) u
        {facts_join}
        LEFT JOIN {_veto_table()} ON v.k = u.k
    """
    return Fold(sql, [*params, json.dumps(effects)], found, subtotals_of, den)


def subtotals(period: Period, cond: str, params: Sequence[Any],
              items: Sequence[SchemeItem]) -> list[tuple[Any, ...]]:
    """Per subject: (key, unit, member, path, sheets, mean base, bonus, penalty as Decimal, the
    categories' subtotals as text, the vetoes)."""
    fold = _fold(period, cond, params, items)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT t.k, t.unit_id, t.member_id, t.org_path, t.n, t.base_x, t.bonus_x, t.penalty_x, "
                       f"{fold.subtotals('t')} FROM ({fold.sql}) t", fold.params)
        rows = cursor.fetchall()
    return [(k, unit, member, path, n, Decimal(base) / (100 * n * fold.den), Decimal(bonus) / (100 * n),
             Decimal(penalty) / (100 * n), cats, fold.vetoes.get(k, []))
            for k, unit, member, path, n, base, bonus, penalty, cats in rows]


def _same(a: str, b: str) -> str:
    """Null-safe equality."""
    return f"{a} IS NOT DISTINCT FROM {b}" if _pg() else f"{a} IS {b}"


COMPARED = ("total", "base", "bonus", "penalty", "vetoed", "veto_items", "star_cap", "rank", "peer_rank", "peer_size",
            "peer_key", "previous_total", "assessors", "subtotals", "org_path")
NEW = "pbqms_new_results"  # a temporary table, dropped again at once


def write_results(period: Period, cond: str, params: Sequence[Any], items: Sequence[SchemeItem],
                  previous: Period | None) -> tuple[int, int]:
    """Fold, total and rank one scored period's results in one statement, then write only the
    results that changed (a recomputation of unchanged sheets writes nothing). Returns (results,
    results written)."""
    fold = _fold(period, cond, params, items)
    subj = "member_id" if period.scheme.target_kind == TargetKind.MEMBER else "unit_id"
    if period.scheme.target_kind == TargetKind.MEMBER:  # members rank within their unit
        peer_g, peer_p, peer_join, peer_args = "CAST(NULL AS BIGINT)", "t.unit_id", "", []
    else:  # units within a peer group of the plan, or else among the siblings under the same parent
        peer_g, peer_p = "pg.group_id", "CASE WHEN pg.group_id IS NULL THEN t.parent_id END"
        peer_join, peer_args = f"LEFT JOIN {T_PEER} pg ON pg.plan_id = %s AND pg.unit_id = t.unit_id", [period.plan_id]
    peer_key = "'u' || r.peer_p" if period.scheme.target_kind == TargetKind.MEMBER else \
        "COALESCE('g' || r.peer_g, 'p' || r.peer_p)"
    unchanged = " AND ".join(_same(f"cur.{c}", f"x.{c}") for c in COMPARED)
    nd = "t.n" if fold.den == 1 else f"(t.n * {fold.den})"
    new_rows = f"""
        SELECT r.k AS k, r.unit_id AS unit_id, r.member_id AS member_id, r.org_path AS org_path,
               {_dec("r.total_c")} AS total, {_dec("r.base_c")} AS base, {_dec("r.bonus_c")} AS bonus,
               {_dec("r.penalty_c")} AS penalty,
               r.vetoed AS vetoed, r.codes AS veto_items, r.cap AS star_cap,
               RANK() OVER (ORDER BY r.total_c DESC) AS rank,
               RANK() OVER (PARTITION BY r.peer_g, r.peer_p ORDER BY r.total_c DESC) AS peer_rank,
               COUNT(*) OVER (PARTITION BY r.peer_g, r.peer_p) AS peer_size, {peer_key} AS peer_key,
               prev.total AS previous_total, r.n AS assessors, {fold.subtotals("r")} AS subtotals
        FROM (SELECT t.*, {_mean("t.total_x", nd)} AS total_c, {_mean("t.base_x", nd)} AS base_c,
                     {_mean("t.bonus_x", "t.n")} AS bonus_c, {_mean("t.penalty_x", "t.n")} AS penalty_c,
                     {peer_g} AS peer_g, {peer_p} AS peer_p
              FROM ({fold.sql}) t {peer_join} {_fence()}) r
        LEFT JOIN {T_RESULT} prev ON prev.period_id = %s AND prev.{subj} = r.k
    """
    new_args = [*fold.params, *peer_args, previous.pk if previous else None]
    # The new results beside the stored ones; the scratch table keeps only those that differ
    build = f"""
        CREATE TEMP TABLE {NEW} AS
        SELECT * FROM (
            SELECT x.*, cur.id AS cur_id, CASE WHEN {unchanged} THEN 0 ELSE 1 END AS changed
            FROM ({new_rows}) x LEFT JOIN {T_RESULT} cur ON cur.period_id = %s AND cur.{subj} = x.k
        ) y WHERE y.changed = 1
    """
    columns = ", ".join(("unit_id", "member_id", *COMPARED))
    insert = f"INSERT INTO {T_RESULT} (period_id, {columns}) SELECT %s, {columns}"
    with connection.cursor() as cursor:
        if _pg():
            # the sorts for the ranks stay in memory; JIT compiling costs more than it saves here
            cursor.execute("SET LOCAL work_mem = '64MB'")
            cursor.execute("SET LOCAL jit = off")
        cursor.execute(f"SELECT 1 FROM {T_RESULT} WHERE period_id = %s LIMIT 1", [period.pk])
        if cursor.fetchone() is None:  # the first computation: nothing to compare with
            cursor.execute(f"{insert} FROM ({new_rows}) x", [period.pk, *new_args])
            return cursor.rowcount, cursor.rowcount
        cursor.execute(f"DROP TABLE IF EXISTS {NEW}")
        cursor.execute(build, [*new_args, period.pk])
        cursor.execute(f"DELETE FROM {T_RESULT} WHERE id IN (SELECT cur_id FROM {NEW})")
        # and the results of subjects with no counting sheet any more (a submission withdrawn)
        cursor.execute(f"DELETE FROM {T_RESULT} WHERE period_id = %s AND NOT EXISTS "
                       f"(SELECT 1 FROM {T_SHEET} sh WHERE {cond} AND sh.{subj} = {T_RESULT}.{subj})",
                       [period.pk, *params])
        cursor.execute(f"{insert} FROM {NEW}", [period.pk])
        written = cursor.rowcount
        cursor.execute(f"DROP TABLE {NEW}")
        cursor.execute(f"SELECT COUNT(*) FROM {T_RESULT} WHERE period_id = %s", [period.pk])
        count = cursor.fetchone()[0]
    return count, written


def item_figures(cond: str, params: Sequence[Any], subj: str = "unit_id"
                 ) -> tuple[dict[int, tuple[int, Decimal]], int]:
    """Per item: (units — or members — that lost points on it, points lost in all, each subject's
    loss being the mean over its counting sheets, as its result takes it); and the number of
    subjects. A panel's two sheets are one unit's deduction, not two (issue 22.3)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*), COUNT(DISTINCT sh.{subj}) FROM {T_SHEET} sh WHERE {cond}", list(params))
        sheets, subjects = cursor.fetchone()
        if sheets == subjects:  # one counting sheet per subject (the usual case): a sheet is a subject
            cursor.execute(f"SELECT e.key, COUNT(*), SUM(CAST(e.value AS BIGINT)) FROM {T_SHEET} sh, {_each('i')} "
                           f"WHERE {cond} GROUP BY e.key", list(params))
            return {int(k): (n, Decimal(c) / 100) for k, n, c in cursor.fetchall()}, subjects
        cursor.execute(f"""
            SELECT x.key, COUNT(*), SUM(x.lost * 1.0 / c.n)
            FROM (SELECT sh.{subj} AS k, e.key AS key, SUM(CAST(e.value AS BIGINT)) AS lost
                  FROM {T_SHEET} sh, {_each('i')} WHERE {cond} GROUP BY sh.{subj}, e.key) x
            JOIN (SELECT sh.{subj} AS k, COUNT(*) AS n FROM {T_SHEET} sh WHERE {cond} GROUP BY sh.{subj}) c
              ON c.k = x.k
            GROUP BY x.key""", [*params, *params])
        return {int(k): (n, (Decimal(str(c)) / 100).quantize(Decimal("0.01"))) for k, n, c in cursor.fetchall()}, \
            subjects


def item_results(period: Period, items: Sequence[SchemeItem], cond: str, params: Sequence[Any]) -> None:
    subj = "member_id" if period.scheme.target_kind == TargetKind.MEMBER else "unit_id"
    lost, sheets = item_figures(cond, params, subj)
    zero = (0, Decimal(0))
    ItemResult.objects.bulk_create([
        ItemResult(period=period, item=item, units_deducted=lost.get(item.pk, zero)[0],
                   points_deducted=lost.get(item.pk, zero)[1],
                   average=(item.max_points - lost.get(item.pk, zero)[1] / sheets).quantize(Decimal("0.01"))
                   if sheets and item.kind in SCORED_KINDS else None)
        for item in items if item.kind != ItemKind.VETO
    ])
