"""Reads of the notify app: a user's inbox and unread count, a unit's robots, and whom to notify."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Count, Q, QuerySet

from pbqms import scope
from pbqms.accounts.models import Role, RoleAssignment, User
from pbqms.orgs.models import Unit

from .models import ChatWebhook, Delivery, Kind, Notification

SECRETARY_ROLES = (Role.COMMITTEE_SECRETARY, Role.BRANCH_SECRETARY)


# ---- whom to notify ---------------------------------------------------------------------------

def _holders(unit_ids: list[int], roles: Iterable[str]) -> QuerySet[User]:
    assignments = RoleAssignment.objects.filter(unit_id__in=unit_ids, role__in=list(roles),
                                                unit__dissolved_on__isnull=True)
    return User.objects.filter(is_active=True, pk__in=assignments.values("user_id")).order_by("pk")


def role_holders(unit: Unit, roles: Iterable[str]) -> QuerySet[User]:
    """Active users holding any of `roles` on exactly `unit` (not on its ancestors)."""
    return _holders([unit.pk], roles)


def secretaries_above(unit: Unit, levels: int = 1) -> QuerySet[User]:
    """The committee or branch secretaries of the unit `levels` steps up the tree (the escalation
    target: a branch's overdue item goes to its committee's secretary). None above the root."""
    ancestors = unit.ancestor_ids()
    if levels < 1 or levels > len(ancestors):
        return User.objects.none()
    return _holders([ancestors[-levels]], SECRETARY_ROLES)


def holders_by_unit(unit_ids: Iterable[int], roles: Iterable[str]) -> dict[int, list[User]]:
    """role_holders() for many units in one query: {unit id: active users holding any of `roles`
    on exactly that unit, by pk} (an empty list for a unit without any)."""
    ids = set(unit_ids)
    out: dict[int, list[User]] = {uid: [] for uid in ids}
    if not ids:
        return out
    seen: set[tuple[int, int]] = set()
    rows = (RoleAssignment.objects.filter(unit_id__in=ids, role__in=list(roles), unit__dissolved_on__isnull=True,
                                          user__is_active=True)
            .select_related("user").order_by("user_id", "pk"))
    for a in rows:
        if (a.unit_id, a.user_id) not in seen:  # one person may hold several of the roles there
            seen.add((a.unit_id, a.user_id))
            out[a.unit_id].append(a.user)
    return out


def secretaries_above_each(paths: Mapping[int, str], levels: int = 1) -> dict[int, list[User]]:
    """secretaries_above() for many units in one query: {unit id: the secretaries `levels` steps
    up}, for units given as {unit id: Unit.path} (the ancestors are read from the paths)."""
    target: dict[int, int] = {}
    for pk, path in paths.items():
        ancestors = [int(p) for p in path.strip("/").split("/") if p][:-1]  # as Unit.ancestor_ids()
        if 1 <= levels <= len(ancestors):
            target[pk] = ancestors[-levels]
    holders = holders_by_unit(target.values(), SECRETARY_ROLES)
    return {pk: list(holders[target[pk]]) if pk in target else [] for pk in paths}


# ---- the inbox --------------------------------------------------------------------------------

def unread_count(user: Any) -> int:
    """How many of the user's messages are unread (0 for an anonymous visitor)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return 0
    return scope.notifications(user).filter(read_at__isnull=True).count()


def inbox(user: Any, *, unread: bool = False, kind: str = "") -> QuerySet[Notification]:
    """The user's own messages, newest first (only unread ones with `unread`, of one Kind with `kind`)."""
    qs = scope.notifications(user)
    if unread:
        qs = qs.filter(read_at__isnull=True)
    if kind in Kind.values:
        qs = qs.filter(kind=kind)
    return qs.order_by("-id")


def kinds(user: Any) -> list[dict[str, Any]]:
    """The user's messages grouped by kind, with how many there are and how many unread (one
    query): [{"kind", "label", "total", "unread"}] in Kind order, only kinds with messages."""
    rows = {r["kind"]: r for r in scope.notifications(user).order_by().values("kind").annotate(
        total=Count("id"), unread=Count("id", filter=Q(read_at__isnull=True)))}
    return [{"kind": k.value, "label": k.label, "total": rows[k.value]["total"], "unread": rows[k.value]["unread"]}
            for k in Kind if k.value in rows]


# ---- robots -----------------------------------------------------------------------------------

def webhooks(unit: Unit) -> QuerySet[ChatWebhook]:
    """A unit's robots; callers check scope.can_manage_webhooks first."""
    return ChatWebhook.objects.filter(unit=unit).order_by("id")


def recent_chat_deliveries(unit: Unit, limit: int = 10) -> list[Delivery]:
    """The latest group-chat messages queued for the unit's robots."""
    return list(Delivery.objects.filter(webhook__unit=unit).select_related("webhook").order_by("-id")[:limit])
