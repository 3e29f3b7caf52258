"""The demo organisation — 演示数据: 钱营孜矿党委 as seed 004 describes it.

One mine committee (QYZ) with an office general branch, 15 branches B01…B15 (one joint, one
temporary), 35 party groups, 466 party members, applicants, activists, development targets and
some of the masses, branch committees and group leaders, and one account per role.

Units, posts and accounts go through the services; people go through a bulk path that sets
every field with the services' own helpers (identity, pinyin) and writes the same status steps
and audit entries, so the rows are those `create_member` would make, only faster.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import transaction

from pbqms.accounts import services as accounts
from pbqms.accounts.models import Role, User
from pbqms.audit import services as audit
from pbqms.audit.models import AuditAction
from pbqms.members import services as member_services
from pbqms.members.models import CommitteeRole, CommitteeRoleKind, Member, PartyStatus, StatusStep
from pbqms.orgs import services as orgs
from pbqms.orgs import tally
from pbqms.orgs.models import BranchVariant, Unit, UnitKind

from . import names
from .people import Generator, Person

DEMO_PASSWORD = "Demo#2026"
MINE_CODE = "QYZ"
SEED = 4  # seed 004

# Username → (role, where it sits, what the person does); the README lists these.
ACCOUNTS: list[tuple[str, str, str, str]] = [
    ("admin", Role.COMMITTEE_ADMIN, MINE_CODE, "系统管理员（超级用户）"),
    ("committee", Role.COMMITTEE_SECRETARY, MINE_CODE, "矿党委书记"),
    ("assessor", Role.DEPARTMENT_STAFF, MINE_CODE, "政治工作部干事（考核）"),
    ("minister", Role.DEPARTMENT_STAFF, MINE_CODE, "政治工作部部长（文件审核）"),
    ("auditor", Role.INTERNAL_AUDITOR, MINE_CODE, "内审员"),
    ("branch01", Role.BRANCH_SECRETARY, "B01", "综采一区党支部书记"),
    ("organiser01", Role.BRANCH_COMMITTEE, "B01", "综采一区党支部组织委员"),
    ("group01", Role.GROUP_LEADER, "B01G1", "综采一区党支部第一党小组组长"),
    ("member01", Role.MEMBER, "B01", "综采一区党支部党员"),
]

FEMALE_SHARE = {"coal": 0.02, "tunnel": 0.02, "electric": 0.1, "ventilation": 0.08, "transport": 0.06,
                "washery": 0.2, "safety": 0.1, "office": 0.38, "service": 0.45, "retired": 0.12,
                "project": 0.03}

Log = Callable[[str], None]


@dataclass
class BuildResult:
    built: bool
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)


class DemoConflict(Exception):
    """The database holds something other than this demo; `--reset` replaces it."""


# Data migrations that seed defaults (cause categories, organisational-life rules): flush empties
# their tables too, so a reset runs them again.
SEED_MIGRATIONS = ["pbqms.rectification.migrations.0002_default_cause_categories",
                   "pbqms.activities.migrations.0002_default_rules"]


def reset_database() -> None:
    """Empty every table (the demo database only!): Django's flush, which truncates on PostgreSQL,
    then the seeded defaults again."""
    import importlib

    from django.apps import apps

    call_command("flush", interactive=False, verbosity=0)
    for name in SEED_MIGRATIONS:
        importlib.import_module(name).add(apps, None)


def demo_exists() -> bool:
    return Unit.objects.filter(code=MINE_CODE).exists() and User.objects.filter(username="committee").exists()


def demo_counts() -> dict[str, int]:
    mine = Unit.objects.get(code=MINE_CODE)
    people = Member.objects.filter(org_path__startswith=mine.path)
    units = Unit.objects.filter(path__startswith=mine.path)
    return {
        "branches": units.filter(kind=UnitKind.BRANCH).count(),
        "groups": units.filter(kind=UnitKind.GROUP).count(),
        "party_members": people.filter(status__in=[PartyStatus.FULL, PartyStatus.PROBATIONARY]).count(),
        "people": people.count(),
    }


# Each capability adds its year of demo records from its own `pbqms/<app>/demo.py` (a
# `build(log)` function working through the app's services), in this order: later ones may use
# earlier ones' records (a compliance miss becomes a finding, a deduction a notice).
CAPABILITY_DEMOS = ["documents", "objectives", "activities", "rectification", "assessment"]


def _capabilities(log: Log) -> None:
    import importlib

    for app in CAPABILITY_DEMOS:
        try:
            module = importlib.import_module(f"pbqms.{app}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"pbqms.{app}.demo":
                raise
            continue
        started = time.perf_counter()
        module.build(log)
        log(f"  {app}: {time.perf_counter() - started:.1f} s")


def build_demo(*, log: Log = print, capabilities: bool = True) -> BuildResult:
    """Build the demo unless it is there already (idempotent)."""
    if demo_exists():
        log("The demo organisation is already built; use --reset to rebuild it.")
        return BuildResult(built=False, counts=demo_counts())
    if Unit.objects.exists() or User.objects.filter(username__in=[a[0] for a in ACCOUNTS]).exists():
        raise DemoConflict("The database holds other data; run with --reset to replace it with the demo.")
    started = time.perf_counter()
    with transaction.atomic():
        _build(log)
        tally.recount()  # people went in by bulk insert: rebuild the subtree totals once
        if capabilities:  # the foundation's own tests build the organisation alone, for speed
            _capabilities(log)
    result = BuildResult(built=True, seconds=time.perf_counter() - started, counts=demo_counts())
    log(f"Built the demo organisation in {result.seconds:.1f} s: {result.counts}")
    return result


# ---- people, in bulk ----------------------------------------------------------------------

def bulk_create_people(entries: list[tuple[Unit, Unit | None, Person]]) -> list[Member]:
    """Create people as `members.services.create_member` would, in a few statements: the same
    fields (through the services' helpers), every status step with its date, one audit entry each."""
    objs: list[Member] = []
    for unit, group, p in entries:
        member_services.check_unit_and_group(unit, group)
        m = Member(gender=p.gender, status=p.status, unit=unit, group=group, org_path=unit.path,
                   birth_date=p.birth_date, ethnicity=p.ethnicity, education=p.education, post=p.post,
                   joined_on=p.joined_on)
        member_services.set_name(m, p.name)
        member_services.set_identity(m, p.id_number, p.phone)
        objs.append(m)
    hashes = [m.id_number_hash for m in objs]
    if len(set(hashes)) != len(hashes) or Member.objects.filter(id_number_hash__in=hashes).exists():
        raise ValidationError("A person with this ID number is already on the roster.")
    Member.objects.bulk_create(objs, batch_size=1000)
    steps = [StatusStep(member=m, status=s.status, date=s.date)
             for m, (_, _, p) in zip(objs, entries, strict=True) for s in p.steps]
    StatusStep.objects.bulk_create(steps, batch_size=2000)
    audit.record_many(None, AuditAction.CREATE, [
        (m, audit.created(audit.snapshot(m, member_services.AUDITED_FIELDS))) for m in objs])
    return objs


# ---- the mine ---------------------------------------------------------------------------

@dataclass
class _Branch:
    unit: Unit
    kind: str
    groups: list[Unit]
    party: list[Member] = field(default_factory=list)


def _non_party_mix(gen: Generator, kind: str, size: int) -> list[str]:
    """Applicants, activists, development targets and masses for a branch of `size` members."""
    if kind == "retired":
        return [str(PartyStatus.MASSES)] * 2
    if kind == "project":
        return [str(PartyStatus.ACTIVIST), str(PartyStatus.MASSES), str(PartyStatus.MASSES)]
    out = [str(PartyStatus.APPLICANT)] * gen.rng.randint(1, 3)
    out += [str(PartyStatus.ACTIVIST)] * gen.rng.randint(1, 3)
    out += [str(PartyStatus.CANDIDATE)] * gen.rng.randint(0, 2)
    out += [str(PartyStatus.MASSES)] * (3 + size // 12)
    return out


def _build(log: Log) -> None:
    gen = Generator(SEED, unique_names=True)
    mine = orgs.create_unit(None, code=MINE_CODE, name="钱营孜矿党委", kind=UnitKind.COMMITTEE, parent=None,
                            founded_on=dt.date(2008, 3, 18), department="皖北煤电恒源股份钱营孜煤矿")
    office = orgs.create_unit(None, code="Z01", name="机关党总支", kind=UnitKind.GENERAL_BRANCH, parent=mine,
                              order=16, founded_on=dt.date(2009, 5, 12), department="矿机关")
    branches: list[_Branch] = []
    for i, (code, name, variant, dept, kind, _size, n_groups, in_office) in enumerate(names.MINE_BRANCHES, 1):
        founded = dt.date(2025, 3, 1) if variant == BranchVariant.TEMPORARY else gen.date_between(
            dt.date(2008, 4, 1), dt.date(2012, 12, 31))
        unit = orgs.create_unit(None, code=code, name=name, kind=UnitKind.BRANCH, parent=office if in_office
                                else mine, variant=variant, order=i, founded_on=founded, department=dept)
        groups = [orgs.create_unit(None, code=f"{code}G{g}", kind=UnitKind.GROUP, parent=unit, order=g,
                                   name=f"{name}第{names.GROUP_ORDINALS[g - 1]}党小组", founded_on=founded)
                  for g in range(1, n_groups + 1)]
        branches.append(_Branch(unit, kind, groups))
    log(f"  {Unit.objects.filter(path__startswith=mine.path).count()} units")

    # People: party members spread over the branch's groups, the rest attached to the branch.
    entries: list[tuple[Unit, Unit | None, Person]] = []
    owners: list[_Branch | None] = []
    special = _special_posts()
    for b, spec in zip(branches, names.MINE_BRANCHES, strict=True):
        code, size = spec[0], spec[5]
        share = FEMALE_SHARE[b.kind]
        posts = special.get(code, [])
        for k in range(size):
            status: str = PartyStatus.PROBATIONARY if (k >= len(posts) + 4 and gen.rng.random() < 0.06) \
                else PartyStatus.FULL
            person = gen.person(status, b.kind, female_share=share, post=posts[k] if k < len(posts) else None)
            entries.append((b.unit, b.groups[k % len(b.groups)], person))
            owners.append(b)
        for status in _non_party_mix(gen, b.kind, size):
            entries.append((b.unit, None, gen.person(status, b.kind, female_share=share + 0.1)))
            owners.append(None)
    people = bulk_create_people(entries)
    for m, owner in zip(people, owners, strict=True):
        if owner is not None:
            owner.party.append(m)
    log(f"  {len(people)} people")

    _committees(gen, mine, branches)
    _accounts(branches)


def _special_posts() -> dict[str, list[str | None]]:
    """Posts held by the first people of some branches: the mine's leaders sit in the office
    branches; production branches have a full-time secretary."""
    lead: list[str | None] = ["党支部书记"]
    posts: dict[str, list[str | None]] = {
        code: lead + ([None, None, None, "区长"] if size >= 40 else [])
        for code, _n, _v, _d, _k, size, _g, _o in names.MINE_BRANCHES
        if code not in ("B11", "B12", "B13", "B14")}
    posts["B11"] = ["党委书记", "党委副书记、纪委书记", "政治工作部部长", "政治工作部干事", "组织干事",
                    "宣传干事"]
    posts["B12"] = ["矿长", "总工程师", "内审员", "党建信息管理员"]
    return posts


def _committees(gen: Generator, mine: Unit, branches: list[_Branch]) -> None:
    """Branch committees (this term, and the previous secretary's ended term), group leaders,
    and the mine committee's posts."""
    term = dt.date(2024, 4, 1)
    kinds = [CommitteeRoleKind.SECRETARY, CommitteeRoleKind.ORGANISATION, CommitteeRoleKind.PUBLICITY,
             CommitteeRoleKind.DISCIPLINE]
    for b in branches:
        full = [m for m in b.party if m.status == PartyStatus.FULL]
        if b.unit.code in ("B11", "B12"):
            full = full[6:] if b.unit.code == "B11" else full[4:]  # the mine's leaders hold mine posts
        if b.unit.variant == BranchVariant.TEMPORARY:
            started = b.unit.founded_on or term
            roles = kinds[:2]
        else:
            started = term + dt.timedelta(days=gen.rng.randrange(0, 90))
            roles = kinds + ([CommitteeRoleKind.DEPUTY_SECRETARY] if len(b.party) >= 40 else [])
            previous = full[len(roles)]
            post = member_services.assign_committee_role(None, previous, b.unit, CommitteeRoleKind.SECRETARY,
                                                         started_on=started.replace(year=started.year - 3))
            member_services.end_committee_role(None, post, ended_on=started)
        for member, role in zip(full, roles, strict=False):
            member_services.assign_committee_role(None, member, b.unit, role, started_on=started)
        used = {m.pk for m in full[:len(roles) + 1]}
        for g in b.groups:
            leader = next(m for m in full if m.group_id == g.pk and m.pk not in used)
            used.add(leader.pk)
            member_services.assign_committee_role(None, leader, g, CommitteeRoleKind.GROUP_LEADER,
                                                  started_on=started)
    b11 = next(b for b in branches if b.unit.code == "B11").party
    b12 = next(b for b in branches if b.unit.code == "B12").party
    mine_term = dt.date(2023, 6, 28)
    for member, role in [(b11[0], CommitteeRoleKind.SECRETARY), (b11[1], CommitteeRoleKind.DEPUTY_SECRETARY),
                         (b11[1], CommitteeRoleKind.DISCIPLINE), (b11[2], CommitteeRoleKind.ORGANISATION),
                         (b11[2], CommitteeRoleKind.PUBLICITY), (b12[0], CommitteeRoleKind.MEMBER),
                         (b12[1], CommitteeRoleKind.MEMBER)]:
        member_services.assign_committee_role(None, member, mine, role, started_on=mine_term)
    # The office general branch (机关党总支) is led by the head of the political-work department: its
    # secretary signs the general branch's responsibility letter.
    office = Unit.objects.get(code="Z01")
    member_services.assign_committee_role(None, b11[2], office, CommitteeRoleKind.SECRETARY, started_on=mine_term)


def _accounts(branches: list[_Branch]) -> None:
    b01 = branches[0]
    b11, b12 = branches[10].party, branches[11].party
    secretary = b01.party[0]
    organiser = b01.party[1]
    g1 = b01.groups[0]
    leader = Member.objects.get(committee_roles__unit=g1,
                                committee_roles__role=CommitteeRoleKind.GROUP_LEADER)
    on_committee = set(Member.objects.filter(committee_roles__unit__path__startswith=b01.unit.path)
                       .values_list("pk", flat=True))
    plain = next(m for m in b01.party if m.status == PartyStatus.FULL and m.pk not in on_committee
                 and m.group_id == g1.pk)
    people = {"admin": b12[3], "committee": b11[0], "assessor": b11[3], "minister": b11[2], "auditor": b12[2],
              "branch01": secretary, "organiser01": organiser, "group01": leader, "member01": plain}
    units = {u.code: u for u in Unit.objects.filter(code__in={a[2] for a in ACCOUNTS})}
    for username, role, code, _what in ACCOUNTS:
        person = people[username]
        user = accounts.create_user(None, username=username, password=DEMO_PASSWORD, display_name=person.name,
                                    member=person, validate=False)
        if username == "admin":
            user.is_superuser = user.is_staff = True
            user.save(update_fields=["is_superuser", "is_staff"])
        accounts.grant_role(None, user, role, units[code])
    # Every other branch's secretary signs in too (branch02 … branch15): notices, records and
    # letters are answered by the branch that owns them.
    for b in branches[1:]:
        post = CommitteeRole.objects.filter(unit=b.unit, role=CommitteeRoleKind.SECRETARY,
                                            ended_on__isnull=True).select_related("member").first()
        if post is None:
            continue
        user = accounts.create_user(None, username=f"branch{b.unit.code[1:]}", password=DEMO_PASSWORD,
                                    display_name=post.member.name, member=post.member, validate=False)
        accounts.grant_role(None, user, Role.BRANCH_SECRETARY, b.unit)
