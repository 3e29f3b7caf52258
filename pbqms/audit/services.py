"""Writing the audit trail — 操作日志. Services call these explicitly inside their transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.db import models

from .context import current_ip
from .models import AuditAction, AuditEntry

Changes = dict[str, list[Any]]


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The values of `fields` on `obj`, foreign keys as their display text."""
    result: dict[str, Any] = {}
    for name in fields:
        field = obj._meta.get_field(name)
        if isinstance(field, models.ForeignKey) or not isinstance(field, models.Field):
            result[name] = _plain(getattr(obj, name))
        else:
            result[name] = _plain(getattr(obj, field.attname))
    return result


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> Changes:
    """Each field whose value changed, as [before, after]."""
    return {k: [before.get(k), after.get(k)] for k in after if before.get(k) != after.get(k)}


def created(after: Mapping[str, Any]) -> Changes:
    return {k: [None, v] for k, v in after.items() if v not in (None, "")}


def _entry(actor: Any, action: str, obj: models.Model, changes: Changes, note: str) -> AuditEntry:
    return AuditEntry(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=(str(actor) if actor is not None and getattr(actor, "pk", None) else "system")[:150],
        ip=current_ip.get(),
        action=action,
        model=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        changes=changes,
        note=note[:255],
        org_path=getattr(obj, "org_path", None) or getattr(obj, "path", None) or "",
    )


def record(actor: Any, action: AuditAction | str, obj: models.Model, changes: Changes | None = None,
           note: str = "") -> AuditEntry:
    entry = _entry(actor, action, obj, changes or {}, note)
    entry.save()
    return entry


def record_many(actor: Any, action: AuditAction | str, items: Iterable[tuple[models.Model, Changes]],
                note: str = "", batch_size: int = 2000) -> int:
    """Bulk form for imports: one entry per record, inserted in batches."""
    entries = [_entry(actor, action, obj, changes, note) for obj, changes in items]
    AuditEntry.objects.bulk_create(entries, batch_size=batch_size)
    return len(entries)
