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
