"""Scoped reads of people: the member list with search, filters and pinyin order."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from pbqms import scope
from pbqms.orgs.models import Unit

from .models import Member, MemberState

SORTS = {
    "name": ("name_pinyin", "id"),
    "-name": ("-name_pinyin", "-id"),
    "status": ("status", "name_pinyin", "id"),
    "unit": ("org_path", "name_pinyin", "id"),
    "birth": ("birth_date", "id"),
    "-birth": ("-birth_date", "-id"),
}


def member_list(user: Any, *, unit: Unit | None = None, q: str = "", status: str = "", state: str = "active",
                gender: str = "", education: str = "", sort: str = "name") -> QuerySet[Member]:
    """People the user may read, filtered. `unit` covers its subtree. Names match by characters,
    full pinyin or pinyin initials (e.g. 'zs' finds 张三)."""
    qs = scope.members(user)
    if unit is not None:
        qs = qs.filter(org_path__startswith=unit.path)
    if q := q.strip():
        low = q.lower()
        if low.isascii():
            qs = qs.filter(Q(name_initials__startswith=low) | Q(name_pinyin__startswith=low))
        else:
            qs = qs.filter(name__contains=q)
    if status:
        qs = qs.filter(status=status)
    if state:
        qs = qs.filter(state=state if state in MemberState.values else MemberState.ACTIVE)
    if gender:
        qs = qs.filter(gender=gender)
    if education:
        qs = qs.filter(education=education)
    return qs.select_related("unit", "group").order_by(*SORTS.get(sort, SORTS["name"]))


# ---- reads for the web UI -------------------------------------------------------------------

def filtered_members(user: Any, *, unit: Unit | None = None, **filters: Any) -> QuerySet[Member]:
    """member_list, where a party group as `unit` means the people of that group."""
    from pbqms.orgs.models import UnitKind

    if unit is not None and unit.kind == UnitKind.GROUP:
        return member_list(user, **filters).filter(group=unit)
    return member_list(user, unit=unit, **filters)


def next_status(member: Member) -> str | None:
    """The one step the development ladder allows next, or None (full members, the masses' only
    step is to apply)."""
    from .models import next_status

    return next_status(member.status)


def status_steps(member: Member) -> QuerySet[Any]:
    return member.status_steps.order_by("date", "id")


def committee_posts(member: Member) -> QuerySet[Any]:
    """Every post the person holds or held, current first."""
    return member.committee_roles.select_related("unit").order_by("ended_on", "-started_on", "-id")


def transfers(member: Member) -> QuerySet[Any]:
    return member.transfers.select_related("from_unit", "to_unit").order_by("-date", "-id")


def member_unit_choices(user: Any, limit: int = 300) -> tuple[list[Unit], bool]:
    """Units the user may add people to (branches, general branches, committees); (rows, more)."""
    from .services import MEMBER_UNIT_KINDS

    rows = list(scope.member_write_units(user).filter(kind__in=list(MEMBER_UNIT_KINDS)).order_by("path")
                [:limit + 1])
    return rows[:limit], len(rows) > limit


def member_group_choices(user: Any, limit: int = 300) -> tuple[list[Unit], bool]:
    """Active party groups in the units the user may add people to, with their branch; (rows, more)."""
    from pbqms.orgs.models import UnitKind

    rows = list(scope.member_write_units(user).filter(kind=UnitKind.GROUP).select_related("parent")
                .order_by("path")[:limit + 1])
    return rows[:limit], len(rows) > limit


def known_total(user: Any, *, unit: Unit | None = None, q: str = "", status: str = "", state: str = "active",
                gender: str = "", education: str = "", sort: str = "name") -> int | None:
    """How many rows filtered_members would return, read from the stored subtree totals when the
    filters are ones the totals answer (a unit or the whole scope, active people, optionally one
    status); None when the list must be counted."""
    from pbqms.orgs import selectors as org_selectors

    if q or gender or education or state != MemberState.ACTIVE:
        return None
    counts = org_selectors.stored_member_counts(unit.path if unit is not None else None, user)
    if counts is None:
        return None
    return counts.get(status, 0) if status else sum(counts.values())
