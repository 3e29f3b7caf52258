"""People rules through members.services: identity, development ladder, posts, transfers."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from pbqms.accounts.models import Role
from pbqms.audit.models import AuditEntry
from pbqms.conftest import make_id_number
from pbqms.core import crypto
from pbqms.members import idnumber
from pbqms.members import services as members
from pbqms.members.models import CommitteeRoleKind, Member, MemberState, PartyStatus, TransferDirection
from pbqms.members.selectors import member_list


def test_id_number_checked_encrypted_masked(tree):
    m = tree.m01
    number = make_id_number(1, dt.date(1985, 3, 12))
    assert m.id_number_masked == number[:1] + "*" * 16 + number[-1:]
    assert number not in m.id_number_encrypted and crypto.decrypt(m.id_number_encrypted) == number
    assert m.id_number_hash == crypto.lookup_hash(number)
    assert m.phone_masked == "138****1111"


@pytest.mark.parametrize("bad,code", [
    ("32010219850312001", "format"),
    ("320102198503120010", "check_digit"),
    ("32010219850230001" + idnumber.check_digit("32010219850230001"), "birth_date"),
])
def test_bad_id_numbers_refused_with_reason(tree, bad, code):
    with pytest.raises(ValidationError) as err:
        idnumber.validate(bad)
    assert err.value.code == code


def test_birth_date_and_gender_must_match_id(tree):
    number = make_id_number(7, dt.date(1990, 1, 2), male=True)
    count = Member.objects.count()
    with pytest.raises(ValidationError, match="1990-01-02"):
        members.create_member(None, unit=tree.b01, name="赵六", gender="M", status=PartyStatus.FULL,
                              id_number=number, birth_date=dt.date(1990, 1, 3))
    with pytest.raises(ValidationError):
        members.create_member(None, unit=tree.b01, name="赵六", gender="F", status=PartyStatus.FULL,
                              id_number=number)
    assert Member.objects.count() == count
    m = members.create_member(None, unit=tree.b01, name="赵六", gender="M", status=PartyStatus.FULL,
                              id_number=number)
    assert m.birth_date == dt.date(1990, 1, 2)  # taken from the ID number


def test_duplicate_id_number_refused(tree):
    with pytest.raises(ValidationError):
        members.create_member(None, unit=tree.b02, name="张三", gender="M", status=PartyStatus.FULL,
                              id_number=make_id_number(1, dt.date(1985, 3, 12)))


@given(st.integers(min_value=0, max_value=998), st.dates(dt.date(1930, 1, 1), dt.date(2008, 12, 31)),
       st.booleans())
@settings(max_examples=200, deadline=None)
def test_generated_numbers_always_validate_and_one_changed_digit_never_does(seq, born, male):
    number = make_id_number(seq, born, male)
    assert idnumber.validate(number, born, "M" if male else "F") == number
    for i in range(17):
        changed = number[:i] + str((int(number[i]) + 1) % 10) + number[i + 1:]
        with pytest.raises(ValidationError):
            idnumber.validate(changed, born)


def test_pinyin_sort_and_initials_search(tree, users):
    for name in ("安娜", "周杰", "白雪"):
        members.create_member(None, unit=tree.b01, name=name, gender="F", status=PartyStatus.MASSES)
    user = users[Role.COMMITTEE_ADMIN]
    names = list(member_list(user, unit=tree.b01).values_list("name", flat=True))
    assert names == ["安娜", "白雪", "张三", "周杰"]
    assert list(member_list(user, q="zs").values_list("name", flat=True)) == ["张三"]
    assert list(member_list(user, q="zhou").values_list("name", flat=True)) == ["周杰"]
    assert list(member_list(user, q="白").values_list("name", flat=True)) == ["白雪"]


def test_development_ladder_in_order_with_dates(tree, users):
    actor = users[Role.BRANCH_SECRETARY]
    m = members.create_member(actor, unit=tree.b01, name="钱七", gender="M", status=PartyStatus.MASSES)
    steps = [(PartyStatus.APPLICANT, dt.date(2024, 3, 1)), (PartyStatus.ACTIVIST, dt.date(2024, 4, 1)),
             (PartyStatus.CANDIDATE, dt.date(2025, 5, 1)), (PartyStatus.PROBATIONARY, dt.date(2025, 7, 1)),
             (PartyStatus.FULL, dt.date(2026, 7, 1))]
    with pytest.raises(ValidationError):  # no skipping
        members.advance_status(actor, m, PartyStatus.CANDIDATE, date=dt.date(2024, 3, 1))
    for status, date in steps:
        members.advance_status(actor, m, status, date=date)
    m.refresh_from_db()
    assert m.status == PartyStatus.FULL and m.joined_on == dt.date(2025, 7, 1)
    assert [(s.status, s.date) for s in m.status_steps.all()] == steps
    with pytest.raises(ValidationError):
        members.advance_status(actor, m, PartyStatus.FULL, date=dt.date(2026, 8, 1))


def test_step_dates_cannot_go_back(tree):
    m = members.create_member(None, unit=tree.b01, name="孙八", gender="M", status=PartyStatus.APPLICANT,
                              status_date=dt.date(2025, 1, 1))
    with pytest.raises(ValidationError):
        members.advance_status(None, m, PartyStatus.ACTIVIST, date=dt.date(2024, 12, 31))


def test_committee_posts_with_terms(tree, users):
    actor = users[Role.BRANCH_SECRETARY]
    post = members.assign_committee_role(actor, tree.m01, tree.b01, CommitteeRoleKind.SECRETARY,
                                         started_on=dt.date(2024, 1, 1))
    with pytest.raises(ValidationError):  # one serving secretary
        members.assign_committee_role(actor, tree.m01, tree.b01, CommitteeRoleKind.SECRETARY,
                                      started_on=dt.date(2024, 2, 1))
    with pytest.raises(ValidationError):  # not a person of this branch
        members.assign_committee_role(None, tree.m02, tree.b01, CommitteeRoleKind.ORGANISATION,
                                      started_on=dt.date(2024, 1, 1))
    members.end_committee_role(actor, post, ended_on=dt.date(2026, 1, 1))
    post.refresh_from_db()
    assert post.ended_on == dt.date(2026, 1, 1)
    leader = members.assign_committee_role(actor, tree.m01, tree.g1, CommitteeRoleKind.GROUP_LEADER,
                                           started_on=dt.date(2024, 1, 1))
    assert leader.unit == tree.g1


def test_internal_transfer_keeps_history(tree, users):
    actor = users[Role.DEPARTMENT_STAFF]
    members.transfer_internal(actor, tree.m01, tree.b02, date=dt.date(2026, 3, 1), reason="岗位调动")
    m = Member.objects.get(pk=tree.m01.pk)
    assert m.unit == tree.b02 and m.group is None and m.org_path == tree.b02.path
    t = m.transfers.get()
    assert (t.direction, t.from_unit, t.to_unit) == (TransferDirection.INTERNAL, tree.b01, tree.b02)
    assert AuditEntry.objects.filter(model="members.member", object_id=str(m.pk), action="transfer").exists()


def test_transfer_out_and_back_in(tree, users):
    actor = users[Role.COMMITTEE_ADMIN]
    members.transfer_out(actor, tree.m02, external_org="某市委组织部", date=dt.date(2026, 2, 1), letter_number="001")
    m = Member.objects.get(pk=tree.m02.pk)
    assert m.state == MemberState.TRANSFERRED_OUT
    assert m not in member_list(actor)  # default list shows active people
    assert m in member_list(actor, state=MemberState.TRANSFERRED_OUT)
    members.transfer_in(actor, m, tree.b01, external_org="某市委组织部", date=dt.date(2026, 9, 1))
    m.refresh_from_db()
    assert m.state == MemberState.ACTIVE and m.unit == tree.b01
    assert [t.direction for t in m.transfers.order_by("date")] == ["out", "in"]


def test_branch_secretary_writes_only_own_branch(tree, users):
    sec = users[Role.BRANCH_SECRETARY]
    with pytest.raises(PermissionDenied):
        members.create_member(sec, unit=tree.b02, name="外人", gender="M", status=PartyStatus.MASSES)
    with pytest.raises(PermissionDenied):
        members.update_member(sec, tree.m02, post="工人")
    members.update_member(sec, tree.m01, post="班长")
    assert Member.objects.get(pk=tree.m01.pk).post == "班长"


def test_reveal_id_number_only_for_allowed_roles_and_logged(tree, users):
    number = make_id_number(1, dt.date(1985, 3, 12))
    assert members.reveal_id_number(users[Role.COMMITTEE_ADMIN], tree.m01) == number
    assert AuditEntry.objects.filter(action="reveal", object_id=str(tree.m01.pk)).count() == 1
    for role in (Role.BRANCH_SECRETARY, Role.MEMBER, Role.COMMITTEE_SECRETARY, Role.GROUP_LEADER):
        with pytest.raises(PermissionDenied):
            members.reveal_id_number(users[role], tree.m01)


def test_update_audit_masks_id_numbers(tree):
    new = make_id_number(11, dt.date(1985, 3, 12))
    members.update_member(None, tree.m01, id_number=new)
    entry = AuditEntry.objects.filter(model="members.member", object_id=str(tree.m01.pk), action="update").latest("id")
    assert entry.changes["id_number_masked"][1] == idnumber.mask(new)
    assert new not in str(entry.changes)


def test_polyphonic_surnames_sort_by_their_surname_reading(tree, users):
    for name in ("曾敏", "单雪", "陈力"):
        members.create_member(None, unit=tree.b02, name=name, gender="F", status=PartyStatus.MASSES)
    names = list(member_list(users[Role.COMMITTEE_ADMIN], unit=tree.b02).values_list("name", flat=True))
    assert names == ["陈力", "李四", "单雪", "曾敏"]  # chen, li, shan, zeng (not ceng, not dan)
    assert list(member_list(users[Role.COMMITTEE_ADMIN], q="zm").values_list("name", flat=True)) == ["曾敏"]


def test_known_total_matches_a_live_count(tree, users):
    from pbqms.members.selectors import filtered_members, known_total

    members.create_member(None, unit=tree.b01, group=tree.g1, name="丙", gender="F", status=PartyStatus.MASSES)
    for role, user in users.items():
        for unit in (None, tree.sub1, tree.b01, tree.g1):
            for status in ("", PartyStatus.FULL, PartyStatus.MASSES):
                total = known_total(user, unit=unit, status=status)
                if total is not None:
                    assert total == filtered_members(user, unit=unit, status=status).count(), (role, unit, status)
    assert known_total(users[Role.COMMITTEE_ADMIN], unit=tree.sub1) is not None
    assert known_total(users[Role.COMMITTEE_ADMIN], unit=tree.sub1, q="zs") is None
