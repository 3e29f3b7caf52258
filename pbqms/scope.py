"""Scope and permission — 权限范围. The one module that decides every read and every write.

Views, the API, exports and the CLI ask here; none filters by organisation on its own.
A role assignment on a unit covers the unit's subtree (its path prefix). Reading outside one's
scope answers 404 (the record does not exist for the caller); reading inside but writing
without the right role answers 403.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import reduce
from operator import or_
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from pbqms.accounts.models import Role
from pbqms.members.models import Member
from pbqms.orgs.models import Unit, UnitKind

if TYPE_CHECKING:
    from pbqms.accounts.models import User

# Which roles read a subtree, which may change units and people in it, and which may read
# ID numbers in clear. Each is a setting so a committee can narrow or widen it.
SUBTREE_READ_ROLES = {
    Role.COMMITTEE_SECRETARY, Role.COMMITTEE_ADMIN, Role.DEPARTMENT_STAFF, Role.INTERNAL_AUDITOR,
    Role.BRANCH_SECRETARY, Role.BRANCH_COMMITTEE,
}
UNIT_WRITE_ROLES = set(getattr(settings, "PBQMS_UNIT_WRITE_ROLES", {
    Role.COMMITTEE_SECRETARY, Role.COMMITTEE_ADMIN, Role.DEPARTMENT_STAFF,
}))
MEMBER_WRITE_ROLES = set(getattr(settings, "PBQMS_MEMBER_WRITE_ROLES", UNIT_WRITE_ROLES | {
    Role.BRANCH_SECRETARY, Role.BRANCH_COMMITTEE,
}))
ID_NUMBER_ROLES = set(getattr(settings, "PBQMS_ID_NUMBER_ROLES", {
    Role.COMMITTEE_ADMIN, Role.DEPARTMENT_STAFF,
}))
AUDIT_LOG_ROLES = {Role.COMMITTEE_SECRETARY, Role.COMMITTEE_ADMIN}


@dataclass(frozen=True)
class Scope:
    """What one user may see and change, computed once per request from their assignments."""

    user_id: int | None
    is_superuser: bool = False
    read_paths: tuple[str, ...] = ()
    unit_write_paths: tuple[str, ...] = ()
    member_write_paths: tuple[str, ...] = ()
    id_paths: tuple[str, ...] = ()
    group_ids: tuple[int, ...] = ()  # 党小组长: the groups they lead
    own_unit_ids: tuple[int, ...] = ()  # units readable on their own (a member's branch, a leader's group)
    self_member_id: int | None = None
    self_covered: bool = False  # one's own record lies inside one's read subtrees
    roles: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_empty(self) -> bool:
        return not (self.is_superuser or self.read_paths or self.group_ids or self.own_unit_ids
                    or self.self_member_id)


def _minimal(paths: set[str]) -> tuple[str, ...]:
    """Drop paths covered by another path, so queries carry as few prefixes as possible."""
    kept = sorted(paths)
    out: list[str] = []
    for p in kept:
        if not any(p.startswith(q) for q in out):
            out.append(p)
    return tuple(out)


def get_scope(user: Any) -> Scope:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Scope(user_id=None)
    cached = getattr(user, "_pbqms_scope", None)
    if cached is not None:
        return cached
    if user.is_superuser:
        scope = Scope(user_id=user.pk, is_superuser=True, read_paths=("",), unit_write_paths=("",),
                      member_write_paths=("",), id_paths=("",), roles=frozenset())
        user._pbqms_scope = scope
        return scope
    read: set[str] = set()
    unit_write: set[str] = set()
    member_write: set[str] = set()
    id_paths: set[str] = set()
    groups: list[int] = []
    own_units: list[int] = []
    roles: set[str] = set()
    rows = user.role_assignments.filter(unit__dissolved_on__isnull=True).values_list(
        "role", "unit_id", "unit__path", "unit__kind")
    for role, unit_id, path, kind in rows:
        roles.add(role)
        if role in SUBTREE_READ_ROLES:
            read.add(path)
        if role in UNIT_WRITE_ROLES:
            unit_write.add(path)
        if role in MEMBER_WRITE_ROLES:
            member_write.add(path)
        if role in ID_NUMBER_ROLES:
            id_paths.add(path)
        if role == Role.GROUP_LEADER and kind == UnitKind.GROUP:
            groups.append(unit_id)
            own_units.append(unit_id)
        if role == Role.MEMBER:
            own_units.append(unit_id)
    read_paths = _minimal(read)
    self_covered = False
    if user.member_id and read_paths:
        own_path = Member.objects.filter(pk=user.member_id).values_list("org_path", flat=True).first() or ""
        self_covered = _covers(read_paths, own_path)
    scope = Scope(
        user_id=user.pk,
        self_covered=self_covered,
        read_paths=read_paths,
        unit_write_paths=_minimal(unit_write),
        member_write_paths=_minimal(member_write),
        id_paths=_minimal(id_paths),
        group_ids=tuple(groups),
        own_unit_ids=tuple(own_units),
        self_member_id=user.member_id,
        roles=frozenset(roles),
    )
    user._pbqms_scope = scope
    return scope


def _prefix_q(field_name: str, paths: tuple[str, ...]) -> Q:
    if "" in paths:
        return Q()
    if not paths:
        return Q(pk__in=[])
    return reduce(or_, (Q(**{f"{field_name}__startswith": p}) for p in paths))


def _covers(paths: tuple[str, ...], path: str) -> bool:
    return any(path.startswith(p) for p in paths)


# ---- units -------------------------------------------------------------------------------

def units(user: Any) -> QuerySet[Unit]:
    """Every unit the user may read."""
    s = get_scope(user)
    if s.is_superuser:
        return Unit.objects.all()
    q = _prefix_q("path", s.read_paths) if s.read_paths else Q(pk__in=[])
    if s.own_unit_ids:
        q |= Q(pk__in=s.own_unit_ids)
    return Unit.objects.filter(q)


def can_read_unit(user: Any, unit: Unit) -> bool:
    s = get_scope(user)
    return s.is_superuser or _covers(s.read_paths, unit.path) or unit.pk in s.own_unit_ids


def covers_path(user: Any, path: str) -> bool:
    """Whether the user reads the whole subtree at `path` (so its stored totals are theirs to see)."""
    s = get_scope(user)
    return s.is_superuser or _covers(s.read_paths, path)


def subtree_read_paths(user: Any) -> tuple[str, ...] | None:
    """The disjoint subtree paths making up the user's whole scope, or None when the scope also
    holds single records (a group, one's own unit or record) that no subtree total describes."""
    s = get_scope(user)
    if s.is_superuser:
        return ("",)
    if s.group_ids or s.own_unit_ids or not s.read_paths:
        return None
    return s.read_paths


def can_write_unit(user: Any, unit: Unit) -> bool:
    """Change or dissolve `unit`, or create units under it."""
    return _covers(get_scope(user).unit_write_paths, unit.path)


def can_create_root(user: Any) -> bool:
    return get_scope(user).is_superuser


def unit_or_404(user: Any, code: str) -> Unit:
    unit = Unit.objects.filter(code=code).select_related("parent").first()
    if unit is None or not can_read_unit(user, unit):
        raise Http404
    return unit


def require_unit_write(user: Any, unit: Unit) -> None:
    if not can_write_unit(user, unit):
        raise PermissionDenied


def unit_write_choices(user: Any) -> QuerySet[Unit]:
    """Units the user may create under or move into."""
    return Unit.objects.filter(_prefix_q("path", get_scope(user).unit_write_paths), dissolved_on__isnull=True)


# ---- people ------------------------------------------------------------------------------

def members(user: Any) -> QuerySet[Member]:
    """Every person the user may read."""
    s = get_scope(user)
    if s.is_superuser:
        return Member.objects.all()
    q = _prefix_q("org_path", s.read_paths) if s.read_paths else Q(pk__in=[])
    if s.group_ids:
        q |= Q(group_id__in=s.group_ids)
    if s.self_member_id and not s.self_covered:
        # only when one's own record lies outside one's subtrees: the extra OR keeps PostgreSQL
        # from answering counts from an index alone
        q |= Q(pk=s.self_member_id)
    return Member.objects.filter(q)


def can_read_member(user: Any, member: Member) -> bool:
    s = get_scope(user)
    return (s.is_superuser or _covers(s.read_paths, member.org_path) or member.group_id in s.group_ids
            or (s.self_member_id is not None and member.pk == s.self_member_id))


def can_write_member(user: Any, member: Member) -> bool:
    return _covers(get_scope(user).member_write_paths, member.org_path)


def can_write_members_in(user: Any, unit: Unit) -> bool:
    return _covers(get_scope(user).member_write_paths, unit.path)


def member_write_units(user: Any) -> QuerySet[Unit]:
    """Units where the user may add or move people to."""
    return Unit.objects.filter(_prefix_q("path", get_scope(user).member_write_paths),
                               dissolved_on__isnull=True)


def can_see_id_number(user: Any, member: Member) -> bool:
    return _covers(get_scope(user).id_paths, member.org_path)


def member_or_404(user: Any, pk: int | str) -> Member:
    try:
        member = Member.objects.select_related("unit", "group").get(pk=int(pk))
    except (Member.DoesNotExist, ValueError, TypeError):
        raise Http404
    if not can_read_member(user, member):
        raise Http404
    return member


def require_member_write(user: Any, member: Member) -> None:
    if not can_write_member(user, member):
        raise PermissionDenied


def require_member_write_in(user: Any, unit: Unit) -> None:
    if not can_write_members_in(user, unit):
        raise PermissionDenied


# ---- everything else ---------------------------------------------------------------------

def can_read_audit_log(user: Any) -> bool:
    s = get_scope(user)
    return s.is_superuser or bool(s.roles & AUDIT_LOG_ROLES)


def audit_entries(user: Any) -> QuerySet[Any]:
    """The audit log an admin may search: entries about records in their subtree."""
    from pbqms.audit.models import AuditEntry

    s = get_scope(user)
    if s.is_superuser:
        return AuditEntry.objects.all()
    if not can_read_audit_log(user):
        return AuditEntry.objects.none()
    paths = tuple(p for p in s.read_paths)
    return AuditEntry.objects.filter(_prefix_q("org_path", paths))


def can_manage_accounts(user: Any) -> bool:
    return bool(get_scope(user).unit_write_paths)


def accounts(user: Any) -> QuerySet[Any]:
    """Accounts an administrator manages: those holding a role, or linked to a person, in their subtree."""
    from pbqms.accounts.models import User

    paths = get_scope(user).unit_write_paths
    if not paths:
        return User.objects.none()
    if "" in paths:
        return User.objects.all()
    q = _prefix_q("role_assignments__unit__path", paths) | _prefix_q("member__org_path", paths)
    return User.objects.filter(pk__in=User.objects.filter(q).values("pk"))


def account_or_404(user: Any, pk: int | str) -> Any:
    try:
        return accounts(user).get(pk=int(pk))
    except (ValueError, TypeError, ObjectDoesNotExist):
        raise Http404


def can_import_roster(user: Any) -> bool:
    return bool(get_scope(user).member_write_paths)


def role_codes(user: User) -> frozenset[str]:
    return get_scope(user).roles
