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


# Id windows searched newest first: a scope far down a big tree finds its latest entries without
# PostgreSQL walking the whole log backwards (append-only ids follow time).
RECENT_WINDOWS = (5_000, 100_000, 2_000_000)


def recent(user: object, limit: int = 10) -> list[AuditEntry]:
    """The latest entries within the user's scope: at most 1 + len(RECENT_WINDOWS) queries."""
    from pbqms import scope

    qs = scope.audit_entries(user)
    top = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first()
    if top is None:
        return []
    found: list[AuditEntry] = []
    for window in RECENT_WINDOWS:
        found = list(qs.filter(id__gt=top - window).order_by("-id")[:limit])
        if len(found) >= limit:
            break
    return found
