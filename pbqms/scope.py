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
# The audit trail is read by the committee and by internal auditors (内审员), each over their subtree.
AUDIT_LOG_ROLES = set(getattr(settings, "PBQMS_AUDIT_LOG_ROLES", {
    Role.COMMITTEE_SECRETARY, Role.COMMITTEE_ADMIN, Role.INTERNAL_AUDITOR,
}))
# Internal auditors read their subtree but write nothing through the capabilities built so far:
# they record audit findings through audits (an app still to come), never directly; they run no
# assessment, upload no file and build no bulletin (DOMAIN.md). Roles that read a subtree AND
# record work in it:
SUBTREE_WORK_ROLES: set[str] = set(SUBTREE_READ_ROLES - {Role.INTERNAL_AUDITOR})


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
    # role -> the subtrees where the user holds it, and the units where they hold any role
    role_paths: dict[str, tuple[str, ...]] = field(default_factory=dict)
    role_unit_ids: tuple[int, ...] = ()

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
                      member_write_paths=("",), id_paths=("",), roles=frozenset(),
                      role_unit_ids=tuple(user.role_assignments.values_list("unit_id", flat=True))
                      if hasattr(user, "role_assignments") else ())
        user._pbqms_scope = scope
        return scope
    read: set[str] = set()
    unit_write: set[str] = set()
    member_write: set[str] = set()
    id_paths: set[str] = set()
    groups: list[int] = []
    own_units: list[int] = []
    roles: set[str] = set()
    by_role: dict[str, set[str]] = {}
    rows = user.role_assignments.filter(unit__dissolved_on__isnull=True).values_list(
        "role", "unit_id", "unit__path", "unit__kind")
    for role, unit_id, path, kind in rows:
        roles.add(role)
        by_role.setdefault(role, set()).add(path)
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
        role_paths={r: _minimal(p) for r, p in by_role.items()},
        role_unit_ids=tuple(sorted({uid for _r, uid, _p, _k in rows})),
    )
    user._pbqms_scope = scope
    return scope


def paths_for(user: Any, roles: set[str] | frozenset[str]) -> tuple[str, ...]:
    """The subtrees where the user holds any of `roles` (superuser: everything)."""
    s = get_scope(user)
    if s.is_superuser:
        return ("",)
    return _minimal({p for r in roles for p in s.role_paths.get(r, ())})


def belongs_to(user: Any, unit: Unit) -> bool:
    """The user holds a role on `unit` itself or is one of its people: they may not judge it."""
    s = get_scope(user)
    if unit.pk in s.role_unit_ids:
        return True
    if s.self_member_id:
        return Member.objects.filter(pk=s.self_member_id, unit_id=unit.pk).exists()
    return False


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


def audit_log_paths(user: Any) -> tuple[str, ...]:
    """The subtrees whose audit trail the user reads: where they hold an audit-log role."""
    return paths_for(user, AUDIT_LOG_ROLES)


def audit_entries(user: Any) -> QuerySet[Any]:
    """The audit log a committee member or an internal auditor may search: entries about records
    in the subtrees where they hold that role."""
    from pbqms.audit.models import AuditEntry

    s = get_scope(user)
    if s.is_superuser:
        return AuditEntry.objects.all()
    paths = audit_log_paths(user)
    if not paths:
        return AuditEntry.objects.none()
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


# ---- rectification -------------------------------------------------------------------------
# Who takes which step of the loop (纠错整改). Issuers raise findings, issue notices, verify fixes
# and close notices over their subtree, never for a unit they belong to; responders (the unit's
# branch committee) receive notices and answer them. Each set is a setting.

RECT_ISSUE_ROLES = set(getattr(settings, "PBQMS_RECT_ISSUE_ROLES", {
    Role.COMMITTEE_SECRETARY, Role.COMMITTEE_ADMIN, Role.DEPARTMENT_STAFF,
}))
# Internal auditors are not among them: their findings will come through audits (DOMAIN.md).
RECT_FINDING_ROLES = set(getattr(settings, "PBQMS_RECT_FINDING_ROLES", RECT_ISSUE_ROLES))
RECT_RESPOND_ROLES = set(getattr(settings, "PBQMS_RECT_RESPOND_ROLES", {
    Role.BRANCH_SECRETARY, Role.BRANCH_COMMITTEE,
}))


def rect_readable(user: Any, model: Any) -> QuerySet[Any]:
    """Findings, notices or preventive actions (anything with org_path) in the user's subtrees."""
    s = get_scope(user)
    if s.is_superuser:
        return model.objects.all()
    return model.objects.filter(_prefix_q("org_path", s.read_paths))


def rect_record_or_404(user: Any, model: Any, pk: int | str) -> Any:
    try:
        return rect_readable(user, model).get(pk=int(pk))
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise Http404


def can_record_finding(user: Any, unit: Unit) -> bool:
    return _covers(paths_for(user, RECT_FINDING_ROLES), unit.path) and not belongs_to(user, unit)


def can_issue_to(user: Any, unit: Unit) -> bool:
    """Draft, issue, verify, return and close notices for `unit`."""
    return _covers(paths_for(user, RECT_ISSUE_ROLES), unit.path) and not belongs_to(user, unit)


def can_manage_preventive(user: Any, unit: Unit) -> bool:
    """Accept, dismiss or verify preventive actions of `unit` — a committee's own systemic actions
    included, so no 'own unit' exclusion here (verification still excludes the action's owner)."""
    return _covers(paths_for(user, RECT_ISSUE_ROLES), unit.path)


def can_respond_for(user: Any, unit: Unit) -> bool:
    """Receive and answer notices addressed to `unit`."""
    return _covers(paths_for(user, RECT_RESPOND_ROLES), unit.path)


def rect_issue_units(user: Any) -> QuerySet[Unit]:
    """Units the user may raise findings for and issue notices to."""
    return Unit.objects.filter(_prefix_q("path", paths_for(user, RECT_FINDING_ROLES)), dissolved_on__isnull=True)


def rect_is_issuer(user: Any) -> bool:
    return bool(paths_for(user, RECT_FINDING_ROLES))


def rect_reads_ledger(user: Any) -> bool:
    """Issuers, responders and internal auditors (who read the loop without taking a step in it)."""
    return rect_is_issuer(user) or rect_is_responder(user) or bool(paths_for(user, {str(Role.INTERNAL_AUDITOR)}))


def rect_is_responder(user: Any) -> bool:
    return bool(paths_for(user, RECT_RESPOND_ROLES))


# ---- files -------------------------------------------------------------------------------

def can_read_file(user: Any, stored: Any) -> bool:
    """Download an attachment: its unit lies in one's read subtrees or is one's own unit (a member's
    branch, a leader's group). An upload still waiting for its record (no owner yet) is its
    uploader's alone, whoever else reads the unit: a link to it is no licence."""
    s = get_scope(user)
    if not stored.owner:
        return s.user_id is not None and stored.uploaded_by_id == s.user_id
    return s.is_superuser or _covers(s.read_paths, stored.org_path) or stored.unit_id in s.own_unit_ids


def file_or_404(user: Any, token: Any) -> Any:
    """The attachment with this token, when the user may read it; 404 otherwise."""
    import uuid

    from pbqms.files.models import StoredFile

    try:
        stored = StoredFile.objects.get(token=uuid.UUID(str(token)))
    except (ValueError, TypeError, StoredFile.DoesNotExist):
        raise Http404
    if not can_read_file(user, stored):
        raise Http404
    return stored


def can_upload_in(user: Any, unit: Unit) -> bool:
    """Upload a file for a record of `unit` ahead of the record (files:upload): the unit lies in a
    subtree where one records work (every subtree reader but the internal auditor, who only reads)
    or is a group one leads."""
    s = get_scope(user)
    return (s.is_superuser or _covers(paths_for(user, SUBTREE_WORK_ROLES), unit.path)
            or unit.pk in s.group_ids)


def pending_files(user: Any, tokens: Any) -> QuerySet[Any]:
    """The user's own uploads, not yet attached to a record, among `tokens` (bad tokens ignored):
    what a form may hand to files.services.attach()."""
    import uuid

    from pbqms.files.models import StoredFile

    wanted = []
    for t in tokens or ():
        try:
            wanted.append(uuid.UUID(str(t)))
        except (ValueError, TypeError):
            continue
    if not wanted or get_scope(user).user_id is None:
        return StoredFile.objects.none()
    return StoredFile.objects.filter(token__in=wanted, uploaded_by_id=user.pk, owner="")


# ---- documents ---------------------------------------------------------------------------
# Controlled documents (体系文件): a unit's documents are read by whoever reads the unit, and
# also by everybody holding a role on a unit the document applies to (a mine regulation applies
# to every branch below the mine: its secretaries and members must read it). Drafts are seen
# only by those who write, review or approve the owning unit's documents. Each role set is a
# setting.

DOCUMENT_WRITE_ROLES = set(getattr(settings, "PBQMS_DOCUMENT_WRITE_ROLES", UNIT_WRITE_ROLES))
DOCUMENT_REVIEW_ROLES = set(getattr(settings, "PBQMS_DOCUMENT_REVIEW_ROLES", {
    Role.COMMITTEE_SECRETARY, Role.COMMITTEE_ADMIN, Role.DEPARTMENT_STAFF,
}))
DOCUMENT_APPROVE_ROLES = set(getattr(settings, "PBQMS_DOCUMENT_APPROVE_ROLES", {
    Role.COMMITTEE_SECRETARY, Role.COMMITTEE_ADMIN,
}))


@dataclass(frozen=True)
class DocumentReach:
    """The paths a user's document rights hang on, computed once per request."""

    held: tuple[str, ...] = ()  # paths of the units the user holds any role on
    above: tuple[str, ...] = ()  # those paths and all their ancestors' paths
    write: tuple[str, ...] = ()
    review: tuple[str, ...] = ()
    approve: tuple[str, ...] = ()
    roles_by_path: tuple[tuple[str, str], ...] = ()  # (role, path) of every assignment


def document_reach(user: Any) -> DocumentReach:
    cached = getattr(user, "_pbqms_document_reach", None)
    if cached is not None:
        return cached
    s = get_scope(user)
    if s.user_id is None:
        return DocumentReach()
    if s.is_superuser:
        reach = DocumentReach(write=("",), review=("",), approve=("",))
    else:
        rows = list(user.role_assignments.filter(unit__dissolved_on__isnull=True).values_list("role", "unit__path"))
        held = {path for _, path in rows}
        above = {path[:i + 1] for path in held for i, ch in enumerate(path) if ch == "/"}
        reach = DocumentReach(
            held=tuple(sorted(held)), above=tuple(sorted(above)),
            write=_minimal({p for r, p in rows if r in DOCUMENT_WRITE_ROLES}),
            review=_minimal({p for r, p in rows if r in DOCUMENT_REVIEW_ROLES}),
            approve=_minimal({p for r, p in rows if r in DOCUMENT_APPROVE_ROLES}),
            roles_by_path=tuple(sorted(rows)),
        )
    user._pbqms_document_reach = reach
    return reach


def _document_reader_q(user: Any, within: Any = None) -> Q | None:
    """Q over Document for what the user reads (None: everything). `within`: document ids the
    caller will restrict to anyway, so the applicability test looks at those alone."""
    from pbqms.documents.models import Applicability

    s = get_scope(user)
    if s.is_superuser:
        return None
    r = document_reach(user)
    q = _prefix_q("org_path", s.read_paths) if s.read_paths else Q(pk__in=[])
    if s.own_unit_ids:
        q |= Q(unit_id__in=s.own_unit_ids)
    reach_q = Q(path__in=r.held) | Q(path__in=r.above, subtree=True)
    if s.read_paths:
        reach_q |= _prefix_q("path", s.read_paths)
    if r.held or s.read_paths:
        reach = Applicability.objects.filter(reach_q)
        if within is not None:
            reach = reach.filter(document_id__in=within)
        q |= Q(pk__in=reach.values("document_id"))
    # A document with no version in force yet (drafts only) is seen by its editors alone.
    editors = _prefix_q("org_path", r.write + r.review + r.approve) if (r.write or r.review or r.approve) \
        else Q(pk__in=[])
    return q & (Q(current__isnull=False) | Q(abolished_on__isnull=False) | editors)


def documents(user: Any) -> QuerySet[Any]:
    """Every document the user may read."""
    from pbqms.documents.models import Document

    q = _document_reader_q(user)
    if get_scope(user).user_id is None:
        return Document.objects.none()
    return Document.objects.all() if q is None else Document.objects.filter(q)


def readable_document_ids(user: Any, ids: Any) -> set[int]:
    """Which of the document ids `ids` the user reads (one query, however many documents exist)."""
    from pbqms.documents.models import Document

    ids = list(ids)
    if get_scope(user).user_id is None or not ids:
        return set()
    q = _document_reader_q(user, within=ids)
    qs = Document.objects.filter(pk__in=ids).order_by()
    return set((qs if q is None else qs.filter(q)).values_list("pk", flat=True))


def reads_every_document(user: Any) -> bool:
    """The user's scope covers every root of the tree, so every document is theirs to read."""
    s = get_scope(user)
    if s.is_superuser:
        return True
    roots = list(Unit.objects.filter(parent__isnull=True).values_list("path", flat=True))
    return bool(roots) and all(_covers(s.read_paths, p) for p in roots)


def document_or_404(user: Any, pk: int | str) -> Any:
    try:
        return documents(user).select_related("unit", "current").get(pk=int(pk))
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise Http404


def can_write_documents_of(user: Any, unit_or_path: Any) -> bool:
    """Create and edit drafts, publish approved versions, record periodic reviews."""
    path = getattr(unit_or_path, "path", unit_or_path)
    return _covers(document_reach(user).write, path)


def can_review_documents_of(user: Any, unit_or_path: Any) -> bool:
    path = getattr(unit_or_path, "path", unit_or_path)
    return _covers(document_reach(user).review, path)


def can_approve_documents_of(user: Any, unit_or_path: Any) -> bool:
    """Approve versions and abolish documents."""
    path = getattr(unit_or_path, "path", unit_or_path)
    return _covers(document_reach(user).approve, path)


def can_see_drafts(user: Any, document: Any) -> bool:
    r = document_reach(user)
    return _covers(r.write + r.review + r.approve, document.org_path)


def require_document_write(user: Any, unit_or_path: Any) -> None:
    if not can_write_documents_of(user, unit_or_path):
        raise PermissionDenied


def document_write_units(user: Any) -> QuerySet[Unit]:
    """Units whose documents the user may write."""
    return Unit.objects.filter(_prefix_q("path", document_reach(user).write), dissolved_on__isnull=True) \
        if document_reach(user).write else Unit.objects.none()


def document_role_on(user: Any, path: str, roles: set[str]) -> str:
    """The first of the user's roles among `roles` whose unit covers `path` (for the approval record)."""
    if get_scope(user).is_superuser:
        return "superuser"
    for role, p in document_reach(user).roles_by_path:
        if role in roles and path.startswith(p):
            return role
    return ""


# ---- objectives ----
# Policy, objectives, targets, member targets and responsibility letters (pbqms.objectives).
# Reading: a unit's records are read by whoever reads its subtree; objectives, unit targets and
# letters of one's own unit and of its ancestors are read as context (a member sees the
# committee's objectives and their branch's targets). Member targets follow the person.
# Writing: committee/department roles manage objectives, common targets and letters in their
# subtree; branch roles manage their branch's targets and review their members' individual
# targets (never their own: refused by the services); a member proposes only their own.

OBJECTIVE_SIGN_ROLES = {"committee": Role.COMMITTEE_SECRETARY, "branch": Role.BRANCH_SECRETARY}


def _path_prefixes(path: str) -> list[str]:
    from pbqms.orgs.models import SEGMENT

    step = SEGMENT + 1  # one segment: 10 digits and a slash
    return [path[:i] for i in range(step, len(path) + 1, step)]


def objective_context_paths(user: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(subtree paths the user reads, paths of the units read as context: every ancestor-or-self
    of the user's subtrees and own units). One query for own units, cached on the user."""
    cached = getattr(user, "_pbqms_objective_ctx", None)
    if cached is not None:
        return cached
    s = get_scope(user)
    roots = list(s.read_paths)
    if s.own_unit_ids:
        roots += list(Unit.objects.filter(pk__in=s.own_unit_ids).values_list("path", flat=True))
    context = sorted({p for r in roots if r for p in _path_prefixes(r)})
    result = (s.read_paths, tuple(context))
    if user is not None and getattr(user, "is_authenticated", False):
        user._pbqms_objective_ctx = result
    return result


def _objective_q(user: Any, field_name: str = "org_path") -> Q:
    s = get_scope(user)
    if s.is_superuser:
        return Q()
    subtree, context = objective_context_paths(user)
    q = _prefix_q(field_name, subtree) if subtree else Q(pk__in=[])
    if context:
        q |= Q(**{f"{field_name}__in": context})
    return q


def objectives(user: Any) -> QuerySet[Any]:
    """Quality objectives the user reads: their subtree's and their own and ancestor committees'."""
    from pbqms.objectives.models import Objective

    return Objective.objects.filter(_objective_q(user))


def objective_or_404(user: Any, pk: int | str) -> Any:
    try:
        return objectives(user).select_related("unit").get(pk=int(pk))
    except (ValueError, TypeError, ObjectDoesNotExist):
        raise Http404


def quality_policies(user: Any) -> QuerySet[Any]:
    from pbqms.objectives.models import QualityPolicy

    return QualityPolicy.objects.filter(_objective_q(user))


def can_manage_objectives(user: Any, unit: Unit) -> bool:
    """Write the policy, objectives, common targets and letters of `unit` (a committee)."""
    return _covers(get_scope(user).unit_write_paths, unit.path)


def objective_committees(user: Any) -> QuerySet[Unit]:
    """Committees whose objectives the user may write."""
    return Unit.objects.filter(_prefix_q("path", get_scope(user).unit_write_paths), kind=UnitKind.COMMITTEE,
                               dissolved_on__isnull=True)


def objective_targets(user: Any) -> QuerySet[Any]:
    """Unit targets the user reads (subtree, or own/ancestor units as context)."""
    from pbqms.objectives.models import Target

    return Target.objects.filter(_objective_q(user))


def objective_target_or_404(user: Any, pk: int | str) -> Any:
    try:
        return objective_targets(user).select_related("unit", "objective", "member", "parent").get(pk=int(pk))
    except (ValueError, TypeError, ObjectDoesNotExist):
        raise Http404


def can_manage_targets_in(user: Any, unit: Unit) -> bool:
    """Set and change targets on `unit` and report their progress (branch roles on their branch,
    committee roles in their subtree)."""
    return _covers(get_scope(user).member_write_paths, unit.path)


def objective_target_units(user: Any) -> QuerySet[Unit]:
    """Units where the user may set targets (no party groups)."""
    return Unit.objects.filter(_prefix_q("path", get_scope(user).member_write_paths), dissolved_on__isnull=True
                               ).exclude(kind=UnitKind.GROUP)


def member_targets(user: Any) -> QuerySet[Any]:
    """Member targets the user reads: those of the people scope.members lets them read."""
    from pbqms.objectives.models import MemberTarget

    s = get_scope(user)
    if s.is_superuser:
        return MemberTarget.objects.all()
    q = _prefix_q("org_path", s.read_paths) if s.read_paths else Q(pk__in=[])
    if s.group_ids:
        q |= Q(member__group_id__in=s.group_ids)
    if s.self_member_id:
        q |= Q(member_id=s.self_member_id)
    return MemberTarget.objects.filter(q)


def member_target_or_404(user: Any, pk: int | str) -> Any:
    try:
        return member_targets(user).select_related("member", "unit", "reviewed_by").get(pk=int(pk))
    except (ValueError, TypeError, ObjectDoesNotExist):
        raise Http404


def can_review_member_targets_in(user: Any, path: str) -> bool:
    """Approve, return and evaluate member targets under `path` (own targets: refused by the services)."""
    return _covers(get_scope(user).member_write_paths, path)


def is_self_member(user: Any, member_id: int | None) -> bool:
    s = get_scope(user)
    return s.self_member_id is not None and s.self_member_id == member_id


def responsibility_letters(user: Any) -> QuerySet[Any]:
    """Responsibility letters the user reads: their subtree's, and their own branch's."""
    from pbqms.objectives.models import ResponsibilityLetter

    return ResponsibilityLetter.objects.filter(_objective_q(user))


def letter_or_404(user: Any, pk: int | str) -> Any:
    try:
        return responsibility_letters(user).select_related("unit", "committee").get(pk=int(pk))
    except (ValueError, TypeError, ObjectDoesNotExist):
        raise Http404


def can_sign_letter(user: Any, letter: Any, side: str) -> bool:
    """Sign for the committee (a committee secretary above the branch) or for the branch (its
    secretary). The signature is the person's own, so a superuser signs only with such a role."""
    from pbqms.accounts.models import RoleAssignment

    role = OBJECTIVE_SIGN_ROLES.get(side)
    if role is None or user is None or not getattr(user, "is_authenticated", False):
        return False
    paths = _path_prefixes(letter.org_path)
    if side == "committee":
        paths = paths[:-1]  # a committee above the branch, never the branch itself
    else:
        paths = paths[-1:]
    return RoleAssignment.objects.filter(user=user, role=role, unit__path__in=paths,
                                         unit__dissolved_on__isnull=True).exists()


# ---- notify ----
# Each user reads only their own messages (superusers too); a unit's group-chat robots are managed
# by those who may change the unit (UNIT_WRITE_ROLES over it).

def notifications(user: Any) -> QuerySet[Any]:
    """The user's own in-app messages."""
    from pbqms.notify.models import Notification

    s = get_scope(user)
    if s.user_id is None:
        return Notification.objects.none()
    return Notification.objects.filter(recipient_id=s.user_id)


def notification_or_404(user: Any, pk: int | str) -> Any:
    try:
        return notifications(user).select_related("unit").get(pk=int(pk))
    except (ValueError, TypeError, ObjectDoesNotExist):
        raise Http404


def can_manage_webhooks(user: Any, unit: Unit) -> bool:
    """Add, change, test or remove the unit's group-chat robots."""
    return can_write_unit(user, unit)


# ---- organisational life -------------------------------------------------------------------
# A branch's committee records its activities and files its plans; a group leader records their
# group's meetings; the party-work department may record and reviews plans.

def can_record_activity(user: Any, unit: Unit) -> bool:
    s = get_scope(user)
    if unit.kind == UnitKind.GROUP and unit.pk in s.group_ids:
        return True
    return _covers(paths_for(user, RECT_RESPOND_ROLES | RECT_ISSUE_ROLES), unit.path)


def can_review_activity_plans(user: Any, unit: Unit) -> bool:
    return _covers(paths_for(user, RECT_ISSUE_ROLES), unit.path) and not belongs_to(user, unit)


def activity_records(user: Any) -> QuerySet[Any]:
    """Records the user may read: their subtrees, their own groups, the units they belong to."""
    from pbqms.activities.models import ActivityRecord

    s = get_scope(user)
    if s.is_superuser:
        return ActivityRecord.objects.all()
    q = _prefix_q("org_path", s.read_paths) if s.read_paths else Q(pk__in=[])
    if s.group_ids or s.own_unit_ids:
        q |= Q(unit_id__in=set(s.group_ids) | set(s.own_unit_ids))
    return ActivityRecord.objects.filter(q)


# ---- assessment ----------------------------------------------------------------------------
# Who runs the assessment (考核评价): the committee and its department manage schemes, plans and
# periods of units in their subtree and score as assessors — never a unit they belong to; a
# branch's secretary and committee self-check their branch; for member points (党员量化积分) the
# branch committee assesses its members, never themselves. Each set is a setting.

ASSESS_MANAGE_ROLES = set(getattr(settings, "PBQMS_ASSESS_MANAGE_ROLES", {
    Role.COMMITTEE_SECRETARY, Role.COMMITTEE_ADMIN, Role.DEPARTMENT_STAFF,
}))
ASSESS_SCORE_ROLES = set(getattr(settings, "PBQMS_ASSESS_SCORE_ROLES", ASSESS_MANAGE_ROLES))
ASSESS_SELF_ROLES = set(getattr(settings, "PBQMS_ASSESS_SELF_ROLES", {
    Role.BRANCH_SECRETARY, Role.BRANCH_COMMITTEE,
}))


def can_manage_assessment(user: Any, unit: Unit) -> bool:
    """Write schemes, plans and periods owned by `unit`, compute and publish its results."""
    return _covers(paths_for(user, ASSESS_MANAGE_ROLES), unit.path)


def can_assess_unit(user: Any, unit: Unit) -> bool:
    """Score `unit` as an assessor: inside the subtree, not one's own unit (nobody scores their own)."""
    return _covers(paths_for(user, ASSESS_SCORE_ROLES), unit.path) and not belongs_to(user, unit)


def can_self_check(user: Any, unit: Unit) -> bool:
    return _covers(paths_for(user, ASSESS_SELF_ROLES), unit.path)


def can_assess_member(user: Any, member: Member) -> bool:
    """Score a member's quantified points: their branch committee (or the department), not themselves."""
    if get_scope(user).self_member_id == member.pk:
        return False
    return _covers(paths_for(user, ASSESS_SELF_ROLES | ASSESS_SCORE_ROLES), member.org_path)


def assessment_manage_units(user: Any) -> QuerySet[Unit]:
    return Unit.objects.filter(_prefix_q("path", paths_for(user, ASSESS_MANAGE_ROLES)), dissolved_on__isnull=True)


def assessment_readable(user: Any, model: Any, field_name: str = "org_path") -> QuerySet[Any]:
    """Schemes, plans, periods, sheets or results the user may read: their subtrees, plus the
    records of the unit they belong to (a branch reads its own scorecard) and a member's own."""
    s = get_scope(user)
    if s.is_superuser:
        return model.objects.all()
    q = _prefix_q(field_name, s.read_paths) if s.read_paths else Q(pk__in=[])
    if hasattr(model, "unit_id") and s.own_unit_ids:
        q |= Q(unit_id__in=s.own_unit_ids, member__isnull=True) if hasattr(model, "member_id") else Q(
            unit_id__in=s.own_unit_ids)
    if hasattr(model, "member_id") and s.self_member_id:
        q |= Q(member_id=s.self_member_id)
    return model.objects.filter(q)


def schemes_readable(user: Any) -> QuerySet[Any]:
    """Schemes are published rules: readable by everyone under the owner (to know how they are
    judged) and by the owner's subtree readers; drafts only by those who manage them."""
    from pbqms.assessment.models import Scheme, SchemeStatus

    s = get_scope(user)
    if s.is_superuser:
        return Scheme.objects.all()
    own_paths: set[str] = set(s.read_paths)
    own_paths |= set(Unit.objects.filter(pk__in=s.own_unit_ids).values_list("path", flat=True))
    if s.self_member_id:
        own_paths |= set(Member.objects.filter(pk=s.self_member_id).values_list("org_path", flat=True))
    above: set[str] = set()
    for p in own_paths:
        above |= set(_path_prefixes(p))
    published = Q(status=SchemeStatus.PUBLISHED) & (Q(org_path__in=above) | _prefix_q("org_path", s.read_paths))
    managed = _prefix_q("org_path", paths_for(user, ASSESS_MANAGE_ROLES)) if paths_for(
        user, ASSESS_MANAGE_ROLES) else Q(pk__in=[])
    return Scheme.objects.filter(published | managed)


def assessment_record_or_404(user: Any, model: Any, pk: int | str) -> Any:
    try:
        return assessment_readable(user, model).get(pk=int(pk))
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise Http404


def scheme_or_404(user: Any, pk: int | str) -> Any:
    try:
        return schemes_readable(user).get(pk=int(pk))
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise Http404


def can_see_member_ranking(user: Any, scheme: Any, unit_path: str) -> bool:
    """Ranking individual members publicly is off by default (减负); managers always see it."""
    return bool(scheme.public_member_ranking) or _covers(
        paths_for(user, ASSESS_MANAGE_ROLES | ASSESS_SELF_ROLES), unit_path)


# assessment web pages (added with the scoring screens): periods a unit takes part in, the rights
# shown on a period's list of units, and who may sit on a panel.

def assessment_runs(user: Any, model: Any) -> QuerySet[Any]:
    """Plans or periods the user takes part in: those run in their subtrees, and those run by a
    committee above the units they belong to or read (a branch self-checks in its committee's
    periods; a member reads the periods of their own points)."""
    s = get_scope(user)
    if s.is_superuser:
        return model.objects.all()
    subtree, context = objective_context_paths(user)
    above = set(context)
    if s.self_member_id:
        own = Member.objects.filter(pk=s.self_member_id).values_list("org_path", flat=True).first() or ""
        above |= set(_path_prefixes(own))
    q = _prefix_q("org_path", subtree) if subtree else Q(pk__in=[])
    if above:
        q |= Q(org_path__in=sorted(above))
    return model.objects.filter(q)


def assessment_run_or_404(user: Any, model: Any, pk: int | str) -> Any:
    try:
        return assessment_runs(user, model).get(pk=int(pk))
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise Http404


def assessment_unit_rights(user: Any, units: Any) -> dict[int, tuple[bool, bool]]:
    """For each unit: (may self-check it, may assess it), in at most one query whatever the number
    of units — the same rules as can_self_check / can_assess_unit."""
    s = get_scope(user)
    self_paths = paths_for(user, ASSESS_SELF_ROLES)
    score_paths = paths_for(user, ASSESS_SCORE_ROLES)
    own = set(s.role_unit_ids)
    if s.self_member_id:
        own |= set(Member.objects.filter(pk=s.self_member_id).values_list("unit_id", flat=True))
    return {u.pk: (_covers(self_paths, u.path), _covers(score_paths, u.path) and u.pk not in own) for u in units}


def assessment_self_units(user: Any) -> QuerySet[Unit]:
    """Branches the user self-checks (支部自查)."""
    paths = paths_for(user, ASSESS_SELF_ROLES)
    if not paths:
        return Unit.objects.none()
    return Unit.objects.filter(_prefix_q("path", paths), kind__in=[UnitKind.BRANCH, UnitKind.GENERAL_BRANCH],
                               dissolved_on__isnull=True)


def assessment_panel_candidates(unit: Unit) -> QuerySet[Any]:
    """Users who may sit on an assessment panel of `unit`: assessor roles on it or above it."""
    from pbqms.accounts.models import User

    return User.objects.filter(is_active=True, role_assignments__role__in=ASSESS_SCORE_ROLES,
                               role_assignments__unit__path__in=_path_prefixes(unit.path)).distinct()


# assessment results (added with the results screens): who reads a period's results whole, and
# who sees them before they are published.

def assessment_reads_whole(user: Any, path: str) -> bool:
    """The user reads every unit under `path` (a committee-level reader): the bulletin, the
    linkage export and the period's item figures over all units are theirs."""
    s = get_scope(user)
    return s.is_superuser or _covers(s.read_paths, path)


def can_issue_bulletin(user: Any, period: Any) -> bool:
    """Build (queue) a period's bulletin: those who manage the assessment of the period's owner —
    not a reader such as an internal auditor."""
    s = get_scope(user)
    return s.is_superuser or _covers(paths_for(user, ASSESS_MANAGE_ROLES), period.org_path)


def can_read_model_scorecard(user: Any, result: Any) -> bool:
    """A model branch's scorecard (标杆支部, 22.9): readable — its scores only, not its people — by
    everyone taking part in the plan that names it, beyond their own scope. Two small queries."""
    from pbqms.assessment.models import ModelBranch, Period

    if result.member_id or not ModelBranch.objects.filter(plan_id=result.period.plan_id,
                                                          unit_id=result.unit_id).exists():
        return False
    return assessment_runs(user, Period).filter(pk=result.period_id).exists()


def can_see_unpublished_results(user: Any, period: Any) -> bool:
    """Results of a period not yet published are read only by those who read the whole period
    (the committee, its department and auditors checking them); branches see them once published."""
    return assessment_reads_whole(user, period.org_path)
