"""A synthetic group for benchmarks — `pbqms demo --scale N`: a group committee, subsidiaries of up
to 2,000 branches each, N branches of about 30 people, two or three party groups per branch.

Written by bulk insert (COPY on PostgreSQL). Keys are reserved first, so tree paths and foreign
keys are known before anything is written; subsidiaries are generated in worker processes while
the main process streams the previous one into the database. Every row is what the services would
write: encrypted, hashed and masked ID numbers and phones, pinyin, org paths, dated status steps,
committee posts and group leaders, one 'create' audit entry per unit and person.
At N = 50,000 that is about 1.5 million people.
"""

from __future__ import annotations

import datetime as dt
import gc
import math
import multiprocessing
import os
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from pbqms.accounts import services as accounts
from pbqms.accounts.models import Role, User
from pbqms.audit.models import AuditAction, AuditEntry
from pbqms.core import crypto, pinyin
from pbqms.members import idnumber
from pbqms.members import services as member_services
from pbqms.members.models import (
    CommitteeRole,
    CommitteeRoleKind,
    Member,
    MemberState,
    PartyStatus,
    StatusStep,
)
from pbqms.orgs import services as orgs
from pbqms.orgs import tally
from pbqms.orgs.models import Unit, UnitKind, path_segment

from . import bulk, names
from .builder import DEMO_PASSWORD, FEMALE_SHARE, BuildResult
from .people import Generator

ROOT_CODE = "JT"
PER_SUBSIDIARY = 2000
SEED = 50
NAME_POOL = {"M": 30_000, "F": 12_000}

Log = Callable[[str], None]
Rows = list[tuple[Any, ...]]

# Username → (role, unit code, what the person does). Branch codes: S01B0001, …; groups add G1, G2.
ACCOUNTS: list[tuple[str, str, str, str]] = [
    ("admin", Role.COMMITTEE_ADMIN, ROOT_CODE, "系统管理员（超级用户）"),
    ("committee", Role.COMMITTEE_SECRETARY, ROOT_CODE, "集团党委书记"),
    ("assessor", Role.DEPARTMENT_STAFF, ROOT_CODE, "集团党群工作部干事"),
    ("auditor", Role.INTERNAL_AUDITOR, ROOT_CODE, "内审员"),
    ("subsidiary01", Role.COMMITTEE_SECRETARY, "S01", "S01 分公司党委书记（2,000 个支部）"),
    ("branch01", Role.BRANCH_SECRETARY, "S01B0001", "S01B0001 党支部书记"),
    ("organiser01", Role.BRANCH_COMMITTEE, "S01B0001", "S01B0001 组织委员"),
    ("group01", Role.GROUP_LEADER, "S01B0001G1", "S01B0001 第一党小组组长"),
    ("member01", Role.MEMBER, "S01B0001", "S01B0001 党员"),
]

TABLES: list[tuple[str, type[Any], tuple[str, ...]]] = [
    ("units", Unit, ("id", "code", "name", "kind", "variant", "parent", "path", "depth", "order",
                     "founded_on", "department", "dissolved_on", "dissolution_reason", "created_at",
                     "updated_at")),
    ("members", Member, ("id", "name", "name_pinyin", "name_initials", "gender", "ethnicity", "birth_date",
                         "education", "id_number_encrypted", "id_number_hash", "id_number_masked",
                         "phone_encrypted", "phone_masked", "post", "status", "state", "unit", "group",
                         "org_path", "joined_on", "created_at", "updated_at")),
    ("steps", StatusStep, ("member", "status", "date", "note")),
    ("roles", CommitteeRole, ("member", "unit", "role", "started_on", "ended_on")),
    ("audit", AuditEntry, ("at", "actor", "actor_name", "ip", "action", "model", "object_id", "object_repr",
                           "changes", "note", "org_path")),
]


class ScaleConflict(Exception):
    """The database holds something other than this build; `--reset` replaces it."""


def scale_exists(n: int) -> bool:
    root = Unit.objects.filter(code=ROOT_CODE).first()
    return (root is not None and User.objects.filter(username="committee").exists()
            and Unit.objects.filter(kind=UnitKind.BRANCH, path__startswith=root.path).count() == n)


def _counts() -> dict[str, int]:
    return {"branches": Unit.objects.filter(kind=UnitKind.BRANCH).count(),
            "groups": Unit.objects.filter(kind=UnitKind.GROUP).count(),
            "people": Member.objects.count()}


@dataclass
class _Plan:
    """One subsidiary's share of the build, with its keys reserved: all a worker needs."""

    s: int
    subsidiaries: int
    sub: tuple[int, str, str, str, int]  # pk, code, name, path, depth
    n_groups: list[int]
    sizes: list[int]
    unit_ids: list[int]
    member_ids: list[int]
    now: dt.datetime


def build_scale(n: int, *, log: Log = print, workers: int | None = None) -> BuildResult:
    if scale_exists(n):
        log(f"The synthetic group of {n} branches is already built; use --reset to rebuild it.")
        return BuildResult(built=False, counts=_counts())
    if Unit.objects.exists() or User.objects.filter(username__in=[a[0] for a in ACCOUNTS]).exists():
        raise ScaleConflict("The database holds other data; run with --reset to replace it.")
    subsidiaries = math.ceil(n / PER_SUBSIDIARY)
    if subsidiaries > 500:  # each subsidiary needs its own slice of ID order codes
        raise ScaleConflict("At most 1,000,000 branches.")
    started = time.perf_counter()
    _warm_name_pool(n)
    log(f"  name pool ready ({time.perf_counter() - started:.1f} s)")
    with transaction.atomic():
        root = orgs.create_unit(None, code=ROOT_CODE, name="示范能源集团党委", kind=UnitKind.COMMITTEE,
                                parent=None, founded_on=dt.date(1998, 7, 1),
                                department="示范能源集团有限公司")
        subs = []
        for s in range(1, subsidiaries + 1):
            place = names.SUBSIDIARY_PLACES[(s - 1) % len(names.SUBSIDIARY_PLACES)]
            place += "" if s <= len(names.SUBSIDIARY_PLACES) else str(s)
            subs.append(orgs.create_unit(None, code=f"S{s:02d}", name=f"{place}分公司党委", order=s,
                                         kind=UnitKind.COMMITTEE, parent=root, founded_on=dt.date(2001, 1, 1),
                                         department=f"{place}分公司"))
        base = timezone.now()
        plans = [_plan(sub, s, min(PER_SUBSIDIARY, n - (s - 1) * PER_SUBSIDIARY), subsidiaries,
                       base + dt.timedelta(milliseconds=100 * (s - 1)))
                 for s, sub in enumerate(subs, 1)]
        tables = [model._meta.db_table for _, model, _ in TABLES]
        with bulk.DeferredIndexes(*tables):
            for plan, payloads in zip(plans, _generated(plans, workers), strict=True):
                for (_key, model, fields), payload in zip(TABLES, payloads, strict=True):
                    if isinstance(payload, bytes):
                        bulk.copy_payload(model, fields, payload)
                    else:
                        bulk.insert_rows(model, fields, payload)
                log(f"  {plan.sub[1]}: {len(plan.sizes)} branches, {sum(plan.sizes)} people "
                    f"({time.perf_counter() - started:.0f} s)")
            log(f"  rebuilding indexes and constraints… ({time.perf_counter() - started:.0f} s)")
        _accounts(root, subs[0])
        log(f"  subtree totals… ({time.perf_counter() - started:.0f} s)")
        tally.recount()
    if bulk.is_postgres():
        # Fresh statistics for the planner, and a visibility map for index-only scans (VACUUM
        # cannot run inside a caller's transaction, e.g. a test's: ANALYZE then).
        log(f"  vacuum analyse… ({time.perf_counter() - started:.0f} s)")
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
        with connection.cursor() as cur:
            for table in tables:
                cur.execute(f'{command} "{table}"')
    result = BuildResult(built=True, seconds=time.perf_counter() - started, counts=_counts())
    log(f"Built the synthetic group in {result.seconds:.1f} s: {result.counts}")
    return result


def _plan(sub: Unit, s: int, count: int, subsidiaries: int, now: dt.datetime) -> _Plan:
    rng = random.Random(SEED * 7919 + s)
    n_groups = [2 if rng.random() < 0.7 else 3 for _ in range(count)]
    sizes = [rng.randint(24, 36) for _ in range(count)]
    return _Plan(s=s, subsidiaries=subsidiaries, sub=(sub.pk, sub.code, sub.name, sub.path, sub.depth),
                 n_groups=n_groups, sizes=sizes, unit_ids=bulk.reserve_ids(Unit, count + sum(n_groups)),
                 member_ids=bulk.reserve_ids(Member, sum(sizes)), now=now)


def _generated(plans: list[_Plan], workers: int | None) -> Iterator[list[Any]]:
    """Each plan's rows, in order: as COPY payloads from worker processes on PostgreSQL (at most a
    few subsidiaries ahead, to bound memory), as row lists in this process elsewhere."""
    if not bulk.is_postgres() or len(plans) == 1:
        for plan in plans:
            rows = _generate(plan)
            yield [rows[key] for key, _, _ in TABLES]
        return
    workers = workers or max(1, min(4, os.cpu_count() or 1))
    ctx = multiprocessing.get_context("fork")  # the workers only compute; they never touch the database
    gc.freeze()  # keep the inherited heap out of the workers' collections (and their pages shared)
    try:
        with ctx.Pool(workers) as pool:
            pending: list[Any] = [pool.apply_async(_generate_copy, (plan,)) for plan in plans[:workers + 1]]
            for i in range(len(plans)):
                payloads = pending[i].get()
                if i + workers + 1 < len(plans):
                    pending.append(pool.apply_async(_generate_copy, (plans[i + workers + 1],)))
                pending[i] = None  # free the payload once written
                yield payloads
    finally:
        gc.unfreeze()


def _generate_copy(plan: _Plan) -> list[bytes]:
    rows = _generate(plan)
    return [bulk.copy_text(model, fields, rows[key]) for key, model, fields in TABLES]


_POOL: dict[str, list[str]] = {}


def _warm_name_pool(branches: int | None = None) -> dict[str, list[str]]:
    """A fixed pool of names with their pinyin computed once (the services' cached functions);
    smaller for small builds, where computing 42,000 names' pinyin would dominate."""
    if branches is not None:
        share = min(1.0, branches / 1000)
        sizes = {g: max(100, int(size * share)) for g, size in NAME_POOL.items()}
        if {g: len(v) for g, v in _POOL.items()} != sizes:
            _POOL.clear()
            gen = Generator(SEED, unique_names=True)
            for g, size in sizes.items():
                _POOL[g] = [gen.name(g) for _ in range(size)]
                for name in _POOL[g]:
                    pinyin.full(name)
                    pinyin.initials(name)
    return _POOL


def _unit_audit(unit_id: int, code: str, name: str, kind: str, parent_name: str, order: int,
                founded: dt.date, dept: str, path: str, now: dt.datetime) -> tuple[Any, ...]:
    changes: dict[str, list[Any]] = {
        "code": [None, code], "name": [None, name], "kind": [None, kind], "variant": [None, "regular"],
        "parent": [None, parent_name], "order": [None, order], "founded_on": [None, founded.isoformat()]}
    if dept:
        changes["department"] = [None, dept]
    return (now, None, "system", None, AuditAction.CREATE, "orgs.unit", str(unit_id), name, changes, "", path)


def _generate(plan: _Plan) -> dict[str, Rows]:
    """Branches, groups, people, status steps, posts and audit entries of one subsidiary."""
    # Millions of small containers and no cycles among them: the cyclic collector would only
    # rescan them again and again (a third of the time).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _generate_rows(plan)
    finally:
        if enabled:
            gc.enable()


def _generate_rows(plan: _Plan) -> dict[str, Rows]:
    sub_pk, sub_code, sub_name, sub_path, sub_depth = plan.sub
    width = 500 // plan.subsidiaries
    gen = Generator(SEED * 1000 + plan.s, order_slice=((plan.s - 1) * width, plan.s * width),
                    name_pool=_warm_name_pool())
    rng, now = gen.rng, plan.now
    out: dict[str, Rows] = {key: [] for key, _, _ in TABLES}
    units, members, steps, roles, audit = (out[k] for k in ("units", "members", "steps", "roles", "audit"))
    unit_ids, member_ids = iter(plan.unit_ids), iter(plan.member_ids)
    encrypt, lookup_hash = crypto.encrypt, crypto.lookup_hash
    mask, mask_phone, full_pinyin, initials = idnumber.mask, idnumber.mask_phone, pinyin.full, pinyin.initials
    party_statuses = (PartyStatus.FULL, PartyStatus.PROBATIONARY)
    others = (PartyStatus.APPLICANT, PartyStatus.ACTIVIST, PartyStatus.CANDIDATE, PartyStatus.MASSES)
    for b, (n_groups, size) in enumerate(zip(plan.n_groups, plan.sizes, strict=True), 1):
        bid = next(unit_ids)
        dept_tpl, kind = names.SCALE_DEPARTMENTS[(b - 1) % len(names.SCALE_DEPARTMENTS)]
        dept = dept_tpl.format(n=(b - 1) // len(names.SCALE_DEPARTMENTS) + 1)
        code, bname = f"{sub_code}B{b:04d}", f"{dept}党支部"
        path = sub_path + path_segment(bid)
        founded = gen.date_between(dt.date(2002, 1, 1), dt.date(2020, 12, 31))
        units.append((bid, code, bname, UnitKind.BRANCH, "regular", sub_pk, path, sub_depth + 1, b, founded,
                      dept, None, "", now, now))
        audit.append(_unit_audit(bid, code, bname, UnitKind.BRANCH, sub_name, b, founded, dept, path, now))
        groups: list[tuple[int | None, str]] = []
        for g in range(1, n_groups + 1):
            group_id = next(unit_ids)
            gcode, gname = f"{code}G{g}", f"{bname}第{names.GROUP_ORDINALS[g - 1]}党小组"
            gpath = path + path_segment(group_id)
            units.append((group_id, gcode, gname, UnitKind.GROUP, "regular", bid, gpath, sub_depth + 2, g,
                          founded, "", None, "", now, now))
            audit.append(_unit_audit(group_id, gcode, gname, UnitKind.GROUP, bname, g, founded, "", gpath,
                                     now))
            groups.append((group_id, gname))
        share = FEMALE_SHARE[kind]
        term = gen.date_between(dt.date(2023, 1, 1), dt.date(2025, 12, 31))
        committee: list[int] = []
        leaders: dict[int, int] = {}
        for k in range(size):
            r = rng.random()
            if k < 3 or r >= 0.12:
                status = PartyStatus.PROBATIONARY if k >= 3 and rng.random() < 0.045 else PartyStatus.FULL
            else:
                status = others[min(3, int(r / 0.03))]
            p = gen.person(status, kind, female_share=share)
            mid = next(member_ids)
            gid, gname = groups[k % n_groups] if status in party_statuses else (None, "")
            number, joined = p.id_number, p.joined_on
            masked, phone_masked = mask(number), mask_phone(p.phone)
            members.append((mid, p.name, full_pinyin(p.name), initials(p.name), p.gender, p.ethnicity,
                            p.birth_date, p.education, encrypt(number), lookup_hash(number), masked,
                            encrypt(p.phone), phone_masked, p.post, status, MemberState.ACTIVE, bid, gid,
                            path, joined, now, now))
            steps.extend((mid, st.status, st.date, "") for st in p.steps)
            changes: dict[str, list[Any]] = {
                "name": [None, p.name], "gender": [None, p.gender], "ethnicity": [None, p.ethnicity],
                "birth_date": [None, p.birth_date.isoformat()], "education": [None, p.education],
                "id_number_masked": [None, masked], "phone_masked": [None, phone_masked],
                "post": [None, p.post], "status": [None, status], "state": [None, MemberState.ACTIVE],
                "unit": [None, bname]}
            if gname:
                changes["group"] = [None, gname]
            if joined:
                changes["joined_on"] = [None, joined.isoformat()]
            audit.append((now, None, "system", None, AuditAction.CREATE, "members.member", str(mid), p.name,
                          changes, "", path))
            if status == PartyStatus.FULL:
                if len(committee) < 3:
                    committee.append(mid)
                elif gid is not None and gid not in leaders:
                    leaders[gid] = mid
        for mid, role in zip(committee, (CommitteeRoleKind.SECRETARY, CommitteeRoleKind.ORGANISATION,
                                         CommitteeRoleKind.PUBLICITY), strict=False):
            roles.append((mid, bid, role, term, None))
        for gid, mid in leaders.items():
            roles.append((mid, gid, CommitteeRoleKind.GROUP_LEADER, term, None))
    # One microsecond apart, in creation order, as entries written one by one would be (a log
    # whose entries share one timestamp makes "latest changes" queries unrealistically slow).
    tick = dt.timedelta(microseconds=1)
    out["audit"] = [(now + i * tick, *row[1:]) for i, row in enumerate(audit)]
    return out


def _accounts(root: Unit, sub: Unit) -> None:
    """The demo accounts, scoped to the group committee, its first subsidiary and first branch."""
    branch = Unit.objects.get(code="S01B0001")
    group = Unit.objects.get(code="S01B0001G1")
    posts = dict(CommitteeRole.objects.filter(unit=branch).values_list("role", "member_id"))
    leader = CommitteeRole.objects.get(unit=group, role=CommitteeRoleKind.GROUP_LEADER).member
    free = Member.objects.filter(unit=branch, status=PartyStatus.FULL).exclude(
        pk__in=[*posts.values(), leader.pk]).order_by("pk")
    plain = free.filter(group=group).first() or free.first()
    others = list(free.exclude(pk=getattr(plain, "pk", 0))[:4])
    member_services.assign_committee_role(None, others[0], root, CommitteeRoleKind.SECRETARY,
                                          started_on=dt.date(2023, 6, 1))
    people: dict[str, Member | None] = {
        "admin": others[1], "committee": others[0], "assessor": others[2], "auditor": others[3],
        "subsidiary01": None, "branch01": Member.objects.get(pk=posts[CommitteeRoleKind.SECRETARY]),
        "organiser01": Member.objects.get(pk=posts[CommitteeRoleKind.ORGANISATION]), "group01": leader,
        "member01": plain}
    units = {u.code: u for u in (root, sub, branch, group)}
    for username, role, code, _what in ACCOUNTS:
        person = people[username]
        user = accounts.create_user(None, username=username, password=DEMO_PASSWORD, member=person,
                                    display_name=person.name if person else username, validate=False)
        if username == "admin":
            user.is_superuser = user.is_staff = True
            user.save(update_fields=["is_superuser", "is_staff"])
        accounts.grant_role(None, user, role, units[code])
