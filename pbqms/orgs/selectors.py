"""Scoped reads of the organisation tree. Each function costs a fixed number of queries."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from pbqms import scope
from pbqms.members.models import Member, MemberState, PartyStatus

from .models import Unit, UnitKind


def ancestors(unit: Unit) -> list[Unit]:
    """Root first; one query, read off the materialised path."""
    ids = unit.ancestor_ids()
    if not ids:
        return []
    by_id = {u.pk: u for u in Unit.objects.filter(pk__in=ids)}
    return [by_id[i] for i in ids if i in by_id]


def subtree(unit: Unit, include_self: bool = True) -> QuerySet[Unit]:
    qs = Unit.objects.filter(path__startswith=unit.path)
    return qs if include_self else qs.exclude(pk=unit.pk)


def children(user: Any, unit: Unit) -> QuerySet[Unit]:
    return scope.units(user).filter(parent=unit).order_by("order", "code")


def unit_counts(unit_path: str | None, user: Any) -> dict[str, int]:
    """Active units in the subtree (or the user's whole scope) by kind: one query."""
    qs = scope.units(user).filter(dissolved_on__isnull=True)
    if unit_path is not None:
        qs = qs.filter(path__startswith=unit_path)
    counts = {k: 0 for k in UnitKind.values}
    for row in qs.values("kind").annotate(n=Count("id")).order_by():
        counts[row["kind"]] = row["n"]
    return counts


def member_counts(unit_path: str | None, user: Any) -> dict[str, int]:
    """People in the subtree (or the user's scope) by party status: one query."""
    qs = scope.members(user).filter(state=MemberState.ACTIVE)
    if unit_path is not None:
        qs = qs.filter(org_path__startswith=unit_path)
    counts = {k: 0 for k in PartyStatus.values}
    for row in qs.values("status").annotate(n=Count("id")).order_by():
        counts[row["status"]] = row["n"]
    return counts


def direct_member_counts(unit_ids: list[int]) -> dict[int, int]:
    """Active people attached to each unit (for tree rows), one query."""
    rows = (Member.objects.filter(unit_id__in=unit_ids, state=MemberState.ACTIVE)
            .values("unit_id").annotate(n=Count("id")).order_by())
    return {r["unit_id"]: r["n"] for r in rows}


def roots(user: Any) -> list[Unit]:
    """The top units of the user's scope (each readable unit whose parent is not readable)."""
    s = scope.get_scope(user)
    if s.is_superuser:
        return list(Unit.objects.filter(parent__isnull=True).order_by("order", "code"))
    tops = Q(pk__in=[])
    if s.read_paths:
        tops |= Q(path__in=list(s.read_paths))
    if s.own_unit_ids:
        tops |= Q(pk__in=s.own_unit_ids)
    return list(Unit.objects.filter(tops).order_by("path"))


def search(user: Any, text: str, limit: int = 50) -> QuerySet[Unit]:
    text = text.strip()
    return scope.units(user).filter(Q(name__icontains=text) | Q(code__icontains=text)).order_by("path")[:limit]
