"""Reading the audit trail: a record's history, and the admins' search."""

from __future__ import annotations

from django.db.models import Model, QuerySet

from .models import AuditEntry


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
