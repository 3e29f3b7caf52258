"""Reading the audit trail: a record's history, and the admins' search."""

from __future__ import annotations

from django.db.models import Model, QuerySet
from django.db.models.functions import Substr

from .models import INDEXED_DEPTHS, SCOPE_SEGMENT, AuditEntry


def history_of(obj: Model) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(model=obj._meta.label_lower, object_id=str(obj.pk)).order_by("-at", "-id")


def search(user: object, q: str = "", model: str = "", action: str = "", actor: str = "") -> QuerySet[AuditEntry]:
    from pbqms import scope

    qs = scope.audit_entries(user)
    if q:
        qs = qs.filter(object_repr__icontains=q)
    if model:
        qs = qs.filter(model=model)
    if action:
        qs = qs.filter(action=action)
    if actor:
        qs = qs.filter(actor_name__icontains=actor)
    return qs.order_by("-at", "-id")


def recent(user: object, limit: int = 10) -> list[AuditEntry]:
    """The latest entries within the user's scope, newest first.

    A scope at tree depth < INDEXED_DEPTHS reads its own prefix index (one query per subtree of
    the scope); deeper or irregular scopes filter the log, which is small for them.
    """
    from pbqms import scope

    if not scope.can_read_audit_log(user):
        return []
    paths = ("",) if scope.get_scope(user).is_superuser else scope.audit_log_paths(user)
    if paths == ("",):
        return list(AuditEntry.objects.order_by("-id")[:limit])
    if paths and all(len(p) <= SCOPE_SEGMENT * INDEXED_DEPTHS for p in paths):
        found: list[AuditEntry] = []
        for p in paths:
            found += list(AuditEntry.objects.annotate(prefix=Substr("org_path", 1, len(p)))
                          .filter(prefix=p).order_by("-id")[:limit])
        return sorted(found, key=lambda e: e.pk, reverse=True)[:limit]
    return list(scope.audit_entries(user).order_by("-id")[:limit])
