"""Fast inserts for imports: reserved primary keys, then COPY on PostgreSQL (bulk_create elsewhere).

Django's bulk_create on PostgreSQL sends each column as an array that psycopg escapes value by
value in Python; for 100,000 people, their status steps and their audit entries that alone took
longer than the whole import may. COPY streams the same rows at C speed. Keys are reserved
first, so tree paths, status steps and audit entries can refer to rows before they are written.
Call inside the import's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, models

_reserved: dict[str, int] = {}  # SQLite: keys handed out in this process but maybe not inserted yet


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def reserve_ids(model: type[models.Model], n: int) -> list[int]:
    """`n` fresh primary keys for `model`: from its sequence on PostgreSQL; elsewhere above the
    largest key ever used (the import's transaction holds SQLite's write lock)."""
    if n <= 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cur:
        if is_postgres():
            cur.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                        [table, n])
            return [row[0] for row in cur.fetchall()]
        cur.execute(f'SELECT COALESCE(MAX("id"), 0) FROM "{table}"')
        start = cur.fetchone()[0]
        if connection.vendor == "sqlite":
            cur.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cur.fetchone()
            start = max(start, row[0] if row else 0)
    start = max(start, _reserved.get(table, 0)) + 1
    _reserved[table] = start + n - 1
    return list(range(start, start + n))


def _copy(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    cols = ", ".join(connection.ops.quote_name(c) for c in columns)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cur, cur.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def insert_objects(model: type[models.Model], objs: Sequence[models.Model], batch_size: int = 2000) -> None:
    """Insert model instances whose primary keys are already set (see reserve_ids)."""
    if not objs:
        return
    opts = model._meta
    fields = [f for f in opts.concrete_fields]
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            for obj in objs:
                if getattr(obj, f.attname) is None:
                    f.pre_save(obj, add=True)
    if not is_postgres():
        model._default_manager.bulk_create(objs, batch_size=batch_size)
    else:
        attnames = [f.attname for f in fields]
        json_at = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]

        def row(obj: models.Model) -> list[Any]:
            values = [getattr(obj, a) for a in attnames]
            for i in json_at:
                values[i] = json.dumps(values[i], ensure_ascii=False, default=str)
            return values

        _copy(model, [f.column for f in fields], (row(o) for o in objs))
    for obj in objs:
        obj._state.adding = False


def _dump_json(row: Sequence[Any], at: list[int]) -> list[Any]:
    values = list(row)
    for i in at:
        values[i] = json.dumps(values[i], ensure_ascii=False, default=str)
    return values


def insert_rows(model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence[Any]],
                batch_size: int = 2000) -> None:
    """Insert plain tuples of attribute values in `fields` order (no model instances on PostgreSQL)."""
    if not rows:
        return
    concrete = [model._meta.get_field(f) for f in fields]
    assert all(isinstance(f, models.Field) for f in concrete)
    if is_postgres():
        json_at = [i for i, f in enumerate(concrete) if isinstance(f, models.JSONField)]
        if json_at:
            rows = [_dump_json(r, json_at) for r in rows]
        _copy(model, [f.column for f in concrete if isinstance(f, models.Field)], rows)
        return
    attnames = [f.attname for f in concrete if isinstance(f, models.Field)]
    model._default_manager.bulk_create([model(**dict(zip(attnames, r, strict=True))) for r in rows],
                                       batch_size=batch_size)
