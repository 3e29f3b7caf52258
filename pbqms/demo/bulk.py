"""Fast inserts for the demo builds: reserved primary keys, COPY on PostgreSQL, bulk_create elsewhere.

Reserving keys first lets a build compute tree paths and foreign keys before anything is
written, so each table is loaded in one pass without a follow-up UPDATE.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import connection, models

from pbqms.roster.bulk import is_postgres, reserve_ids

# One implementation of key reservation for every bulk path (roster import and demo builds).
__all__ = ["is_postgres", "reserve_ids", "insert_rows", "copy_text", "copy_payload", "DeferredIndexes"]


def insert_rows(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]],
                batch_size: int = 5000) -> int:
    """Insert rows given as tuples of the model's attribute values in `fields` order.

    JSON fields take Python values. Every auto_now field must be given explicitly.
    """
    opts = model._meta
    json_idx = [i for i, f in enumerate(fields) if isinstance(opts.get_field(f), models.JSONField)]
    count = 0
    if is_postgres():
        columns = ", ".join(f'"{opts.get_field(f).column}"' for f in fields)  # type: ignore[union-attr]
        with connection.cursor() as cur, cur.cursor.copy(
                f'COPY "{opts.db_table}" ({columns}) FROM STDIN') as copy:
            for row in rows:
                if json_idx:
                    row = list(row)
                    for i in json_idx:
                        row[i] = json.dumps(row[i], ensure_ascii=False)
                copy.write_row(row)
                count += 1
        return count
    attnames = [opts.get_field(f).attname for f in fields]  # type: ignore[union-attr]
    batch: list[models.Model] = []
    for row in rows:
        batch.append(model(**dict(zip(attnames, row, strict=True))))
        if len(batch) >= batch_size:
            model._default_manager.bulk_create(batch)
            count += len(batch)
            batch = []
    if batch:
        model._default_manager.bulk_create(batch)
        count += len(batch)
    return count


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_NEEDS_ESCAPE = re.compile(r"[\\\t\n\r]").search


def _copy_str(value: str) -> str:
    return value.translate(_COPY_ESCAPES) if _NEEDS_ESCAPE(value) else value


def _copy_json(value: Any) -> str:
    return _copy_str(json.dumps(value, ensure_ascii=False))


_COPY_BY_TYPE: dict[type, Callable[[Any], str]] = {
    str: _copy_str, int: str, dict: _copy_json, list: _copy_json, bool: lambda v: "t" if v else "f",
    type(None): lambda v: "\\N", dt.date: dt.date.isoformat, dt.datetime: dt.datetime.isoformat,
}


def _copy_value(value: Any) -> str:
    """One value in COPY text format (dates and aware datetimes as ISO 8601, which PostgreSQL reads)."""
    convert = _COPY_BY_TYPE.get(type(value))
    if convert is None:  # subclasses: str enums (TextChoices), Decimal, …
        return _copy_str(str(value)) if not isinstance(value, bool | int) else str(value)
    return convert(value)


def copy_text(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """Rows as PostgreSQL COPY text, so a worker process can prepare them for `copy_payload`."""
    del model, fields  # the column order is the caller's; kept for symmetry with insert_rows
    return "".join("\t".join(map(_copy_value, row)) + "\n" for row in rows).encode()


def copy_payload(model: type[models.Model], fields: Sequence[str], payload: bytes) -> None:
    opts = model._meta
    columns = ", ".join(f'"{opts.get_field(f).column}"' for f in fields)  # type: ignore[union-attr]
    sql = f'COPY "{opts.db_table}" ({columns}) FROM STDIN'
    with connection.cursor() as cur, cur.cursor.copy(sql) as copy:
        chunk = 8 << 20
        for start in range(0, len(payload), chunk):
            copy.write(payload[start:start + chunk])


class DeferredIndexes:
    """Drop a table's plain indexes and foreign-key constraints for a bulk load and put the very
    same definitions back afterwards (PostgreSQL only; a no-op elsewhere).

    Building an index once over loaded rows is several times faster than maintaining it row by
    row. Use inside the load's transaction: PostgreSQL's DDL is transactional, so a failed
    build rolls the definitions back with the rows.
    """

    def __init__(self, *tables: str) -> None:
        self.tables = tables
        self.restore: list[str] = []

    def __enter__(self) -> DeferredIndexes:
        if not is_postgres():
            return self
        with connection.cursor() as cur:
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # a table with pending checks cannot be altered
            for table in self.tables:
                cur.execute(
                    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid = %s::regclass AND contype IN ('f', 'u')", [table])
                for name, definition in cur.fetchall():
                    cur.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
                    self.restore.append(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
                cur.execute(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname "
                    "NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
                    [table, table])
                for name, definition in cur.fetchall():
                    cur.execute(f'DROP INDEX "{name}"')
                    self.restore.insert(0, definition)
        return self

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        if exc_type is not None or not self.restore:
            return
        with connection.cursor() as cur:
            cur.execute("SET LOCAL maintenance_work_mem = '512MB'")
            for statement in self.restore:
                cur.execute(statement)
