"""The demo organisation: counts of seed 004, valid and consistent rows, determinism, idempotence,
the demo accounts and their scope, and the synthetic --scale build."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import password_validation
from django.core.management import call_command

from pbqms import scope
from pbqms.accounts import services as accounts
from pbqms.accounts.models import User
from pbqms.audit.models import AuditEntry
from pbqms.core import crypto, pinyin
from pbqms.demo import builder, bulk, scale
from pbqms.members import idnumber
from pbqms.members.models import (
    STATUS_LADDER,
    CommitteeRole,
    CommitteeRoleKind,
    Member,
    PartyStatus,
    StatusStep,
)
from pbqms.orgs import selectors as org_selectors
from pbqms.orgs.models import BranchVariant, Unit, UnitKind, path_segment


def quiet(_: str) -> None:
    pass


@pytest.fixture
def demo(db) -> builder.BuildResult:
    return builder.build_demo(log=quiet, capabilities=False)


def check_person(m: Member) -> None:
    """Every stored form of the person's identity agrees with what the services would write."""
    number = crypto.decrypt(m.id_number_encrypted)
    assert idnumber.validate(number, m.birth_date, m.gender) == number
    assert m.id_number_hash == crypto.lookup_hash(number)
    assert m.id_number_masked == idnumber.mask(number)
    assert m.phone_masked == idnumber.mask_phone(crypto.decrypt(m.phone_encrypted))
    assert (m.name_pinyin, m.name_initials) == (pinyin.full(m.name), pinyin.initials(m.name))
    assert m.org_path == m.unit.path
    assert m.group is None or m.group.parent_id == m.unit_id


def check_tree(units: list[Unit]) -> None:
    by_pk = {u.pk: u for u in units}
    for u in units:
        parent = by_pk.get(u.parent_id) if u.parent_id else None
        assert u.path == (parent.path if parent else "") + path_segment(u.pk)
        assert u.depth == (parent.depth + 1 if parent else 0)


def test_demo_has_the_seed_organisation(demo):
    assert demo.built
    mine = Unit.objects.get(code=builder.MINE_CODE)
    assert mine.kind == UnitKind.COMMITTEE and mine.name == "钱营孜矿党委"
    branches = Unit.objects.filter(kind=UnitKind.BRANCH)
    assert sorted(branches.values_list("code", flat=True)) == [f"B{i:02d}" for i in range(1, 16)]
    assert {b.variant for b in branches} == {BranchVariant.REGULAR, BranchVariant.JOINT,
                                             BranchVariant.TEMPORARY}
    assert Unit.objects.filter(kind=UnitKind.GROUP).count() == 35
    assert Unit.objects.get(kind=UnitKind.GENERAL_BRANCH).children.count() == 3
    party = Member.objects.filter(status__in=[PartyStatus.FULL, PartyStatus.PROBATIONARY])
    assert party.count() == 466
    people = Member.objects.count()
    assert demo.counts == {"branches": 15, "groups": 35, "party_members": 466, "people": people}
    for status in (PartyStatus.APPLICANT, PartyStatus.ACTIVIST, PartyStatus.CANDIDATE, PartyStatus.MASSES,
                   PartyStatus.PROBATIONARY):
        assert Member.objects.filter(status=status).exists(), status
    # Every party member sits in one of their branch's groups; everyone's org path is their unit's.
    assert not party.filter(group__isnull=True).exists()
    check_tree(list(Unit.objects.all()))
    for m in Member.objects.select_related("unit", "group"):
        check_person(m)
    assert org_selectors.member_counts(mine.path, User.objects.get(username="committee"))["full"] > 400


def test_steps_climb_the_ladder_and_units_have_committees(demo):
    steps: dict[int, list[StatusStep]] = {}
    for s in StatusStep.objects.order_by("member_id", "date"):
        steps.setdefault(s.member_id, []).append(s)
    for m in Member.objects.all():
        mine = steps.get(m.pk, [])
        if m.status == PartyStatus.MASSES:
            assert mine == []
            continue
        ladder = STATUS_LADDER[:STATUS_LADDER.index(m.status) + 1]
        assert [s.status for s in mine] == ladder
        assert all(a.date < b.date for a, b in zip(mine, mine[1:], strict=False))
        assert mine[-1].date <= dt.date.today()
        if m.status in (PartyStatus.FULL, PartyStatus.PROBATIONARY):
            assert m.joined_on == mine[3].date
            assert (mine[0].date - m.birth_date).days >= 18 * 365
    created = AuditEntry.objects.filter(model="members.member", action="create")
    assert created.count() == Member.objects.count()
    # Every branch has a committee, every group a leader.
    for branch in Unit.objects.filter(kind=UnitKind.BRANCH):
        serving = CommitteeRole.objects.filter(unit=branch, ended_on__isnull=True)
        assert serving.filter(role=CommitteeRoleKind.SECRETARY).count() == 1, branch.code
        assert serving.filter(role=CommitteeRoleKind.ORGANISATION).exists()
    for group in Unit.objects.filter(kind=UnitKind.GROUP):
        leaders = CommitteeRole.objects.filter(unit=group, role=CommitteeRoleKind.GROUP_LEADER)
        assert leaders.count() == 1 and leaders[0].member.group_id == group.pk
    mine = Unit.objects.get(code=builder.MINE_CODE)
    assert CommitteeRole.objects.get(unit=mine, role=CommitteeRoleKind.SECRETARY).member.user.username \
        == "committee"
    # History: B01's previous secretary, term ended.
    assert CommitteeRole.objects.filter(unit__code="B01", role=CommitteeRoleKind.SECRETARY,
                                        ended_on__isnull=False).count() == 1


def test_building_twice_changes_nothing(demo):
    before = (Unit.objects.count(), Member.objects.count(), AuditEntry.objects.count(), User.objects.count())
    again = builder.build_demo(log=quiet, capabilities=False)
    assert not again.built and again.counts == demo.counts
    assert (Unit.objects.count(), Member.objects.count(), AuditEntry.objects.count(),
            User.objects.count()) == before


@pytest.mark.django_db(transaction=True)
def test_demo_is_deterministic_and_reset_rebuilds():
    def fingerprint() -> list[tuple[str, str, str, str, str | None]]:
        return [(m.name, crypto.decrypt(m.id_number_encrypted), m.unit.code, m.post,
                 m.group.code if m.group else None)
                for m in Member.objects.select_related("unit", "group").order_by("unit__code", "name_pinyin",
                                                                                 "pk")]

    builder.build_demo(log=quiet, capabilities=False)
    first = fingerprint()
    builder.reset_database()
    assert not Unit.objects.exists()
    from pbqms.activities.models import ComplianceRule
    from pbqms.rectification.models import CauseCategory

    assert ComplianceRule.objects.count() >= 9 and CauseCategory.objects.count() >= 9  # defaults seeded again
    builder.build_demo(log=quiet, capabilities=False)
    assert fingerprint() == first


def test_other_data_is_not_overwritten(db):
    from pbqms.orgs import services as orgs

    orgs.create_unit(None, code="X", name="别的党委", kind=UnitKind.COMMITTEE, parent=None)
    with pytest.raises(builder.DemoConflict):
        builder.build_demo(log=quiet)
    with pytest.raises(scale.ScaleConflict):
        scale.build_scale(2, log=quiet)


EXPECTED_SCOPE = {
    # username: (codes of units readable, at least), whether it reads every unit of the mine
    "admin": ("B15", True), "committee": ("B15", True), "assessor": ("B15", True), "minister": ("B15", True),
    "auditor": ("B15", True),
    "branch01": ("B01G3", False), "organiser01": ("B01G1", False), "group01": ("B01G1", False),
    "member01": ("B01", False),
}


def test_demo_accounts_log_in_and_have_their_scope(demo, client):
    all_units = Unit.objects.count()
    b01 = Unit.objects.get(code="B01")
    for username, role, code, _what in builder.ACCOUNTS:
        user = accounts.authenticate(username, builder.DEMO_PASSWORD)
        password_validation.validate_password(builder.DEMO_PASSWORD, user)
        assert user.member is not None and user.display_name == user.member.name
        assert user.role_assignments.filter(role=role, unit__code=code).exists()
        codes = set(scope.units(user).values_list("code", flat=True))
        expect, everything = EXPECTED_SCOPE[username]
        assert expect in codes
        assert (len(codes) == all_units) is everything, username
        if not everything:
            assert not codes - {u.code for u in org_selectors.subtree(b01)}, username
    assert User.objects.get(username="admin").is_superuser
    # The committee secretary reads ID numbers masked only; the department staff may reveal them.
    someone = Member.objects.filter(unit__code="B05").first()
    assert not scope.can_see_id_number(User.objects.get(username="committee"), someone)
    assert scope.can_see_id_number(User.objects.get(username="assessor"), someone)
    # member01 sees only themselves; branch01 writes people of B01 only.
    member01 = User.objects.get(username="member01")
    assert list(scope.members(member01)) == [member01.member]
    branch01 = User.objects.get(username="branch01")
    assert scope.can_write_member(branch01, member01.member)
    assert not scope.can_write_member(branch01, someone)
    assert CommitteeRole.objects.filter(member=branch01.member, unit=b01, role=CommitteeRoleKind.SECRETARY,
                                        ended_on__isnull=True).exists()
    # And through the login page.
    response = client.post("/accounts/login/", {"username": "branch01", "password": builder.DEMO_PASSWORD})
    assert response.status_code == 302


def test_demo_command_builds_once(db):
    out: list[str] = []

    class Out:
        def write(self, text: str) -> None:
            out.append(text)

    call_command("demo", "--no-serve", stdout=Out())
    assert Unit.objects.filter(kind=UnitKind.BRANCH).count() == 15
    assert any("member01" in line for line in out)
    # the command builds every capability's year of records too (the one full build of the suite)
    from pbqms.activities.models import ActivityRecord
    from pbqms.documents.models import Document
    from pbqms.objectives.models import Objective
    from pbqms.rectification.models import Finding, Notice

    assert ActivityRecord.objects.count() > 500 and Document.objects.exists() and Objective.objects.exists()
    assert set(Notice.objects.values_list("status", flat=True)) >= {"draft", "issued", "received", "answered",
                                                                   "returned", "closed"}
    assert Finding.objects.filter(source="compliance").exists()
    assert_documents_have_three_hands()
    assert_demo_fits_the_mine()
    out.clear()
    call_command("demo", "--no-serve", stdout=Out())
    assert any("already built" in line for line in out)


def test_demo_command_serves_with_a_worker_and_stops_it(db, monkeypatch):
    from pbqms.demo.management.commands import demo as command

    started: list[list[str]] = []

    class FakeWorker:
        pid = 4242
        stopped = False

        def __init__(self, args: list[str], **kwargs: object) -> None:
            started.append(args)

        def terminate(self) -> None:
            FakeWorker.stopped = True

        def wait(self, timeout: float) -> int:
            return 0

    served: list[str] = []

    def fake_call_command(name: str, *args: object, **kwargs: object) -> object:
        if name == "runserver":
            served.append(str(args[0]))
            raise KeyboardInterrupt
        return call_command(name, *args, **kwargs)

    monkeypatch.setattr(command.subprocess, "Popen", FakeWorker)
    monkeypatch.setattr(command, "call_command", fake_call_command)
    with pytest.raises(KeyboardInterrupt):
        call_command("demo", "--addr", "127.0.0.1:8765", stdout=type("O", (), {"write": lambda s, t: None})())
    assert served == ["127.0.0.1:8765"]
    assert started and started[0][-2:] == ["worker", "--no-reload"]
    assert FakeWorker.stopped


# ---- --scale ----------------------------------------------------------------------------

def check_scale(n: int) -> None:
    root = Unit.objects.get(code=scale.ROOT_CODE)
    branches = list(Unit.objects.filter(kind=UnitKind.BRANCH))
    assert len(branches) == n
    assert 2 * n <= Unit.objects.filter(kind=UnitKind.GROUP).count() <= 3 * n
    people = Member.objects.count()
    assert 24 * n <= people <= 36 * n
    check_tree(list(Unit.objects.all()))
    for m in Member.objects.select_related("unit", "group"):
        check_person(m)
    # Subtree queries: each branch's people by path prefix equal its people by foreign key.
    for b in branches[:5]:
        in_subtree = Member.objects.filter(org_path__startswith=b.path).count()
        assert in_subtree == Member.objects.filter(unit=b).count()
    committee = User.objects.get(username="committee")
    assert sum(org_selectors.member_counts(root.path, committee).values()) == people
    assert AuditEntry.objects.filter(model="members.member", action="create").count() == people
    assert StatusStep.objects.filter(status=PartyStatus.FULL).count() == Member.objects.filter(
        status=PartyStatus.FULL).count()
    branch01 = accounts.authenticate("branch01", builder.DEMO_PASSWORD)
    assert set(scope.members(branch01).values_list("unit__code", flat=True)) == {"S01B0001"}
    assert scope.units(committee).count() == Unit.objects.count()
    for username, role, code, _what in scale.ACCOUNTS:
        user = User.objects.get(username=username)
        assert user.role_assignments.filter(role=role, unit__code=code).exists()


def test_scale_builds_a_synthetic_group(db):
    result = scale.build_scale(20, log=quiet)
    assert result.built and result.counts["branches"] == 20
    check_scale(20)
    assert not scale.build_scale(20, log=quiet).built  # idempotent
    with pytest.raises(scale.ScaleConflict):
        scale.build_scale(21, log=quiet)


def test_scale_over_several_subsidiaries(db, monkeypatch):
    """Several subsidiaries: on PostgreSQL this runs the worker processes and COPY payloads."""
    monkeypatch.setattr(scale, "PER_SUBSIDIARY", 4)
    scale.build_scale(10, log=quiet, workers=2)
    assert list(Unit.objects.filter(parent__code=scale.ROOT_CODE).values_list("code", flat=True)) \
        == ["S01", "S02", "S03"]
    check_scale(10)
    assert Unit.objects.get(code="S03B0002").parent.code == "S03"


def test_copy_text_escapes_what_copy_needs(db):
    row = (None, "a\tb\\c\nd", {"k": ["x\ty"]}, dt.date(2020, 1, 2), True, 7)
    assert bulk.copy_text(AuditEntry, (), [row]) == \
        b'\\N\ta\\tb\\\\c\\nd\t{"k": ["x\\\\ty"]}\t2020-01-02\tt\t7\n'
    if bulk.is_postgres():
        entry_fields = ("at", "actor_name", "action", "model", "object_id", "object_repr", "changes", "note",
                        "org_path")
        from django.utils import timezone

        payload = bulk.copy_text(AuditEntry, entry_fields, [(timezone.now(), "系统", "create", "x.y", "1",
                                                             "名\t字", {"a": ["\\", "\n"]}, "n\\o", "")])
        bulk.copy_payload(AuditEntry, entry_fields, payload)
        entry = AuditEntry.objects.get(model="x.y")
        assert (entry.object_repr, entry.changes, entry.note) == ("名\t字", {"a": ["\\", "\n"]}, "n\\o")


def assert_documents_have_three_hands() -> None:
    """#22.10: every version that went through approval was written, reviewed and approved by three
    different people, approved before it took force."""
    from django.utils import timezone

    from pbqms.documents.models import DocumentVersion

    signed = DocumentVersion.objects.filter(steps__kind="approve").distinct().prefetch_related("steps__actor")
    assert signed.count() >= 44
    for v in signed:
        hands = v.hands()
        people = [hands["author"], hands["reviewer"], hands["approver"]]
        assert None not in people and len({p.pk for p in people}) == 3, (v, people)
        if v.effective_from:
            assert hands["approved_on"] <= v.effective_from, v
        assert hands["reviewed_on"] <= hands["approved_on"] <= timezone.localdate()


def assert_demo_fits_the_mine() -> None:
    """#22.11: the demo speaks of a coal mine: its schemes carry the mine's name and items, its
    documents 矿务/区务公开, its findings the item codes of the scheme in force and never a count of
    photos, and every signed letter a signer."""
    from pbqms.assessment.models import Scheme, SchemeItem
    from pbqms.demo.adapt import POWER_PLANT_WORDS
    from pbqms.documents.models import Document
    from pbqms.objectives.models import ResponsibilityLetter
    from pbqms.rectification.models import Finding

    mine = Unit.objects.get(code="QYZ")
    schemes = Scheme.objects.filter(owner=mine)
    assert schemes.count() >= 2
    for scheme in schemes:
        assert scheme.name.startswith("钱营孜矿党委") and "有色" not in scheme.name + scheme.description, scheme.name
        texts = " ".join(SchemeItem.objects.filter(scheme=scheme).values_list("title", flat=True)) + " ".join(
            SchemeItem.objects.filter(scheme=scheme).values_list("standard", flat=True)) + scheme.description
        assert not [w for w in POWER_PLANT_WORDS if w in texts], scheme.name
    titles = list(Document.objects.values_list("title", flat=True))
    assert not [t for t in titles if "厂" in t] and "矿务公开和区务公开制度" in titles
    codes_by_year: dict[int, set[str]] = {}
    for year, code in SchemeItem.objects.filter(scheme__owner=mine, scheme__status="published").values_list(
            "scheme__year", "code"):
        codes_by_year.setdefault(year, set()).add(code)
    inspected = Finding.objects.filter(source__in=["inspection", "audit"])
    assert inspected.exists()
    for f in inspected:
        assert f.item_code in codes_by_year.get(f.found_on.year, set()), (f.item_code, f.found_on)
        assert "影像" not in f.description and "照片" not in f.description, f.description
    signed = ResponsibilityLetter.objects.exclude(branch_signed_at=None)
    assert signed.filter(unit__code="Z01").exists()
    for letter in signed:
        assert letter.branch_signer_name.strip("—–-_ .·"), letter.unit.code
    for letter in ResponsibilityLetter.objects.exclude(committee_signed_at=None):
        assert letter.committee_signer_name.strip("—–-_ .·"), letter.unit.code

