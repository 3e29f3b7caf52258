"""Sheet tallies — 评分表小计: what a submitted sheet departs from full points, kept on the sheet.

Decision 0007. A submitted sheet is locked (changing a score needs the submission withdrawn), so
what it departs from full points — per category, per item, the bonus, the penalty and the vetoes
it triggers — is fixed at submission. `fill` writes it then (`Sheet.tally`), and withdrawing a
submission clears it. The results engine reads one small tally per counting sheet instead of the
score rows; it fills any counting sheet still without a tally first (sheets submitted by bulk
loads), so a tally is a cache that can always be rebuilt from the scores and never a second truth.

The tally is compact JSON in whole cents, zeros left out:
    {"l": points lost on work and interactive items, "b": bonus, "p": penalty (≤ 0),
     "c": {category id: change against full points}, "i": {item id: points lost on the item},
     "v": [ids of the veto items triggered]}
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import connection

from pbqms.assessment.models import SCORED_KINDS, ItemKind, SchemeItem, Score, Sheet

SCORED_VALUES = frozenset(k.value for k in SCORED_KINDS)
T_SCORE, T_SHEET, T_ITEM = Score._meta.db_table, Sheet._meta.db_table, SchemeItem._meta.db_table


def _cents(value: Any) -> int:
    return int(round((value if isinstance(value, Decimal) else Decimal(str(value))) * 100))


def _fold(rows: Sequence[tuple[Any, ...]]) -> dict[int, dict[str, Any]]:
    """The departing score rows (sheet, category, kind, item, max points, points, vetoed) folded per sheet."""
    out: dict[int, dict[str, Any]] = {}
    for sheet_id, category_id, kind, item_id, max_points, points, vetoed in rows:
        t = out.get(sheet_id)
        if t is None:
            t = out[sheet_id] = {}
        if kind == ItemKind.VETO:
            if vetoed:
                t.setdefault("v", []).append(item_id)
            continue
        pts = _cents(points)
        if kind in SCORED_VALUES:
            change = pts - _cents(max_points)
            t["l"] = t.get("l", 0) - change
            t.setdefault("i", {})[str(item_id)] = -change
        elif kind == ItemKind.BONUS:
            change = pts
            t["b"] = t.get("b", 0) + change
        elif kind == ItemKind.PENALTY:
            change = pts
            t["p"] = t.get("p", 0) + change
            t.setdefault("i", {})[str(item_id)] = -change
        else:
            continue
        cats = t.setdefault("c", {})
        cats[str(category_id)] = cats.get(str(category_id), 0) + change
    return out


def fill(cond: str, params: Sequence[Any], *, only_missing: bool = True) -> int:
    """Write the tally of every sheet matching `cond` (SQL on alias sh) — only those without one,
    unless `only_missing` is False. One read of their departing score rows (partial index), one
    write. Returns the number of sheets written."""
    missing = " AND sh.tally IS NULL" if only_missing else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT sh.id FROM {T_SHEET} sh WHERE {cond}{missing}", list(params))
        ids = [row[0] for row in cursor.fetchall()]
        if not ids:
            return 0
        cursor.execute(f"""
            SELECT sc.sheet_id, it.category_id, it.kind, sc.item_id, it.max_points, sc.points, sc.vetoed
            FROM {T_SCORE} sc JOIN {T_SHEET} sh ON sh.id = sc.sheet_id JOIN {T_ITEM} it ON it.id = sc.item_id
            WHERE {cond}{missing} AND sc.departs = %s
        """, [*params, True])
        folded = _fold(cursor.fetchall())
        texts = [json.dumps(folded.get(i, {}), separators=(",", ":")) for i in ids]
        if connection.vendor == "postgresql":
            cursor.execute(f"""
                UPDATE {T_SHEET} AS s SET tally = v.t::jsonb
                FROM (SELECT UNNEST(%s::bigint[]) AS id, UNNEST(%s::text[]) AS t) v WHERE s.id = v.id
            """, [ids, texts])
        else:
            cursor.executemany(f"UPDATE {T_SHEET} SET tally = %s WHERE id = %s", list(zip(texts, ids, strict=True)))
    return len(ids)


def fill_sheet(sheet: Sheet) -> None:
    """The tally of one sheet, at submission."""
    fill("sh.id = %s", [sheet.pk], only_missing=False)


def read(value: Any) -> dict[str, Any]:
    """A tally as stored (a dict on PostgreSQL, text elsewhere)."""
    if value is None:
        return {}
    return json.loads(value) if isinstance(value, str) else value
