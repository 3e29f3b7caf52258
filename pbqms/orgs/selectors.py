"""Scoped reads of the organisation tree. Each function costs a fixed number of queries."""

from __future__ import annotations

from functools import reduce
from operator import or_
from typing import Any, cast

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Substr

from pbqms import scope
from pbqms.members.models import Member, MemberState, PartyStatus

from . import tally
from .models import Unit, UnitKind, path_segment


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


def _scope_tally_ids(unit_path: str | None, user: Any) -> list[int] | None:
    """Units whose stored totals answer a count for this scope, or None to count live."""
    if unit_path is not None:
        return [tally.unit_id_of(unit_path)] if scope.covers_path(user, unit_path) else None
    paths = scope.subtree_read_paths(user)
    if paths is None:
        return None
    if paths == ("",):
        return list(Unit.objects.filter(parent__isnull=True).values_list("pk", flat=True))
    return [tally.unit_id_of(p) for p in paths]


def _summed(ids: list[int], prefix: str, keys: list[str]) -> dict[str, int]:
    counts = {k: 0 for k in keys}
    for per_unit in tally.read(ids, prefix).values():
        for k, n in per_unit.items():
            if k in counts:
                counts[k] += n
    return counts


def unit_counts(unit_path: str | None, user: Any) -> dict[str, int]:
    """Active units in the subtree (or the user's whole scope) by kind: read from the stored
    totals when the user reads the whole subtree, else one counting query."""
    ids = _scope_tally_ids(unit_path, user)
    if ids is not None:
        return _summed(ids, tally.UNIT, list(UnitKind.values))
    qs = scope.units(user).filter(dissolved_on__isnull=True)
    if unit_path is not None:
        qs = qs.filter(path__startswith=unit_path)
    counts = {k: 0 for k in UnitKind.values}
    for row in qs.values("kind").annotate(n=Count("id")).order_by():
        counts[row["kind"]] = row["n"]
    return counts


def stored_member_counts(unit_path: str | None, user: Any) -> dict[str, int] | None:
    """member_counts from the stored totals, or None when this scope has to count live."""
    ids = _scope_tally_ids(unit_path, user)
    return None if ids is None else _summed(ids, tally.PERSON, list(PartyStatus.values))


def member_counts(unit_path: str | None, user: Any) -> dict[str, int]:
    """Active people in the subtree (or the user's scope) by party status, as unit_counts."""
    ids = _scope_tally_ids(unit_path, user)
    if ids is not None:
        return _summed(ids, tally.PERSON, list(PartyStatus.values))
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


# ---- reads for the web UI (tree browser, unit page, forms) --------------------------------

def child_rows(user: Any, parent: Unit, offset: int = 0, limit: int = 200) -> tuple[list[Unit], bool]:
    """One level of the tree under `parent`, each row knowing whether it has readable sub-units.

    One query whatever the level's size; a level larger than `limit` is read page by page.
    Returns (rows, more).
    """
    # Below a unit the user reads whole, every child is readable: no scope filter in the subquery.
    readable = Unit.objects.all() if scope.covers_path(user, parent.path) else scope.units(user)
    qs = children(user, parent).annotate(has_children=Exists(readable.filter(parent=OuterRef("pk"))))
    rows = cast(list[Unit], list(qs[offset:offset + limit + 1]))
    return rows[:limit], len(rows) > limit


def mark_has_children(user: Any, units: list[Unit]) -> list[Unit]:
    """Set `has_children` on a short list of units (scope roots, search hits): one query."""
    if units:
        readable = scope.units(user).filter(parent__in=units)
        parents = set(readable.order_by().values_list("parent_id", flat=True).distinct())
        for u in units:
            u.has_children = u.pk in parents  # type: ignore[attr-defined]
    return units


def subtree_member_counts(user: Any, units: list[Unit]) -> dict[int, int]:
    """Active people the user may read in each unit's subtree (a party group: its own members).

    Siblings cost one query (grouped by their path segment); a mixed short list (roots, search
    hits) costs one query with one filtered count per unit, plus one for party groups.
    """
    counts = {u.pk: 0 for u in units}
    if units and all(scope.covers_path(user, u.path) for u in units):
        # stored totals: one small query however many people sit below
        for uid, per_status in tally.read([u.pk for u in units], tally.PERSON).items():
            counts[uid] = sum(per_status.values())
        return counts
    people = scope.members(user).filter(state=MemberState.ACTIVE)
    groups = [u for u in units if u.kind == UnitKind.GROUP]
    others = [u for u in units if u.kind != UnitKind.GROUP]
    if groups:
        rows = people.filter(group_id__in=[g.pk for g in groups]).values("group_id").annotate(n=Count("id"))
        for r in rows.order_by():
            counts[r["group_id"]] = r["n"]
    if not others:
        return counts
    parent_ids = {u.parent_id for u in others}
    if len(parent_ids) == 1 and len(others) > 1 and others[0].parent_id is not None:
        # Siblings: the segment after the parent's path names the child the person sits under.
        cut = len(others[0].path)
        prefix = others[0].path[:cut - len(path_segment(others[0].pk))]
        by_path = {u.path: u.pk for u in others}
        rows = (people.filter(org_path__startswith=prefix).exclude(org_path=prefix)
                .annotate(seg=Substr("org_path", 1, cut)).values("seg").annotate(n=Count("id")).order_by())
        for r in rows:
            if r["seg"] in by_path:
                counts[by_path[r["seg"]]] = r["n"]
        return counts
    wanted = reduce(or_, (Q(org_path__startswith=u.path) for u in others))
    agg = people.filter(wanted).aggregate(
        **{f"u{u.pk}": Count("id", filter=Q(org_path__startswith=u.path)) for u in others})
    for u in others:
        counts[u.pk] = agg[f"u{u.pk}"] or 0
    return counts


def unit_member_counts(user: Any, unit: Unit) -> dict[str, int]:
    """People by party status in the unit's subtree; for a party group, its own members."""
    if unit.kind != UnitKind.GROUP or scope.covers_path(user, unit.path):
        return member_counts(unit.path, user)  # a group's stored totals count its own members
    counts = {k: 0 for k in PartyStatus.values}
    rows = (scope.members(user).filter(state=MemberState.ACTIVE, group=unit)
            .values("status").annotate(n=Count("id")).order_by())
    for row in rows:
        counts[row["status"]] = row["n"]
    return counts


def current_committee(unit: Unit) -> list[Any]:
    """The posts now held on the unit's committee (书记 first), with their holders: one query."""
    from pbqms.members.models import CommitteeRole, CommitteeRoleKind

    order = {code: i for i, code in enumerate(CommitteeRoleKind.values)}
    rows = list(CommitteeRole.objects.filter(unit=unit, ended_on__isnull=True).select_related("member"))
    return sorted(rows, key=lambda r: (order.get(r.role, 99), r.started_on, r.pk))


def unit_moves(unit: Unit) -> QuerySet[Any]:
    from .models import UnitMove

    return UnitMove.objects.filter(unit=unit).select_related("from_parent", "to_parent", "moved_by")


def unit_choices(user: Any, limit: int = 300) -> tuple[list[Unit], bool]:
    """Active units the user may read, tree order, for a filter's drop-down; (rows, more)."""
    rows = list(scope.units(user).filter(dissolved_on__isnull=True).order_by("path")
                .only("pk", "code", "name", "kind", "depth", "path", "parent_id")[:limit + 1])
    return rows[:limit], len(rows) > limit


def move_targets(user: Any, unit: Unit, limit: int = 200) -> list[Unit]:
    """Units `unit` may move under: writable, of an allowed kind, not inside its own subtree."""
    from .models import ALLOWED_PARENTS

    kinds = [k for k in ALLOWED_PARENTS.get(unit.kind, set()) if k]
    qs = scope.unit_write_choices(user).filter(kind__in=kinds).exclude(path__startswith=unit.path)
    if unit.parent_id is not None:
        qs = qs.exclude(pk=unit.parent_id)
    qs = qs.order_by("path")
    return list(qs[:limit])


def groups_of(unit: Unit) -> QuerySet[Unit]:
    """The unit's active party groups."""
    return Unit.objects.filter(parent=unit, kind=UnitKind.GROUP, dissolved_on__isnull=True).order_by(
        "order", "code")


def attach_parents(units: list[Unit]) -> list[Unit]:
    """Fill each unit's `parent` (names shown beside search hits) with one query."""
    ids = {u.parent_id for u in units if u.parent_id}
    by_id = {p.pk: p for p in Unit.objects.filter(pk__in=ids)} if ids else {}
    for u in units:
        if u.parent_id in by_id:
            u.parent = by_id[u.parent_id]
    return units
