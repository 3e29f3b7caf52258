"""People pages: the member list, a person's page, the reveal of an ID number, and the forms."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from pbqms.accounts.models import Role
from pbqms.audit.models import AuditAction, AuditEntry
from pbqms.conftest import make_id_number
from pbqms.core import crypto
from pbqms.members import services as members
from pbqms.members.models import CommitteeRole, Member, MemberState, PartyStatus, Transfer
from pbqms.orgs import services as orgs
from pbqms.orgs.models import UnitKind

# These tests assert the English wording of messages.
pytestmark = pytest.mark.usefixtures("english")

OUTSIDE = ["王五", "第三党支部", "二矿党委"]
ID_ROLES = {Role.COMMITTEE_ADMIN, Role.DEPARTMENT_STAFF}
MEMBER_WRITERS = {Role.COMMITTEE_SECRETARY, Role.COMMITTEE_ADMIN, Role.DEPARTMENT_STAFF,
                  Role.BRANCH_SECRETARY, Role.BRANCH_COMMITTEE}
HX = {"HTTP_HX_REQUEST": "true"}
BORN = dt.date(1985, 3, 12)


def body(r) -> str:
    return r.content.decode()


def names(r) -> list[str]:
    return [m.name for m in r.context["page"].items]


def person(unit, name, seq, **kw):
    kw.setdefault("status", PartyStatus.FULL)
    gender = kw.pop("gender", "M")
    return members.create_member(None, unit=unit, name=name, gender=gender,
                                 id_number=make_id_number(seq, BORN, male=gender == "M"), **kw)


def grow(tree, n: int) -> None:
    """n more people in B01 and in n new branches, and n changes to 张三's record."""
    for i in range(n):
        b = orgs.create_unit(None, code=f"X{i:03d}", name=f"扩展支部{i}", kind=UnitKind.BRANCH,
                             parent=tree.sub1)
        person(b, f"赵{i}", 100 + i)
        person(tree.b01, f"钱{i}", 300 + i, group=tree.g1, status=PartyStatus.ACTIVIST)
        members.update_member(None, tree.m01, post=f"岗位{i}")


# ---- the list ------------------------------------------------------------------------------

def test_member_list_renders_for_every_role_within_scope(client, any_role):
    role, user = any_role
    client.force_login(user)
    r = client.get(reverse("members:list"))
    assert r.status_code == 200
    for word in OUTSIDE:
        assert word not in body(r), (role, word)
    expected = {Role.BRANCH_SECRETARY: ["张三"], Role.BRANCH_COMMITTEE: ["张三"], Role.GROUP_LEADER: ["张三"],
                Role.MEMBER: ["张三"]}.get(role, ["李四", "张三"])
    assert names(r) == expected, role


def test_member_list_search_and_filters(client, tree, users):
    person(tree.b02, "赵敏", 20, gender="F", status=PartyStatus.ACTIVIST, education="bachelor")
    client.force_login(users[Role.COMMITTEE_ADMIN])
    url = reverse("members:list")
    assert names(client.get(url, {"q": "zs"})) == ["张三"]  # pinyin initials
    assert names(client.get(url, {"q": "lisi"})) == ["李四"]  # full pinyin
    assert names(client.get(url, {"q": "张"})) == ["张三"]  # characters
    assert names(client.get(url, {"q": "wangwu"})) == []  # outside scope
    assert names(client.get(url, {"unit": "B02"})) == ["李四", "赵敏"]
    assert names(client.get(url, {"unit": "SUB1", "status": "activist"})) == ["赵敏"]
    assert names(client.get(url, {"unit": "B01G1"})) == ["张三"]  # a group means its own people
    assert names(client.get(url, {"gender": "F"})) == ["赵敏"]
    assert names(client.get(url, {"education": "bachelor"})) == ["赵敏"]
    assert names(client.get(url, {"sort": "-name"})) == ["赵敏", "张三", "李四"]
    assert names(client.get(url, {"status": "bogus"})) == ["李四", "张三", "赵敏"]  # a bad filter is dropped
    members.transfer_out(None, tree.m02, external_org="外地", date=dt.date(2026, 1, 5))
    assert names(client.get(url)) == ["张三", "赵敏"]
    assert names(client.get(url, {"state": "transferred_out"})) == ["李四"]
    assert names(client.get(url, {"state": "all"})) == ["李四", "张三", "赵敏"]


def test_member_list_unit_outside_scope_is_404(client, any_role):
    role, user = any_role
    client.force_login(user)
    assert client.get(reverse("members:list"), {"unit": "B03"}).status_code == 404, role
    assert client.get(reverse("members:list"), {"unit": "NOPE"}).status_code == 404, role


def test_member_list_htmx_swaps_only_the_results_and_links_the_export(client, tree, users):
    client.force_login(users[Role.COMMITTEE_SECRETARY])
    r = client.get(reverse("members:list"), {"q": "z", "status": "full", "page": "1"},
                   HTTP_HX_TARGET="member-results", **HX)
    assert r.status_code == 200
    assert "<html" not in body(r) and "张三" in body(r)
    assert r.context["export_url"] == "/roster/export/?q=z&status=full"
    assert 'href="/roster/export/?q=z&amp;status=full"' in body(r)
    full = client.get(reverse("members:list"), {"q": "z"})
    assert "<html" in body(full) and 'id="member-results"' in body(full)


def test_member_list_shows_masked_id_numbers_only(client, tree, users):
    client.force_login(users[Role.COMMITTEE_ADMIN])
    r = client.get(reverse("members:list"))
    clear = crypto.decrypt(tree.m01.id_number_encrypted)
    assert tree.m01.id_number_masked in body(r)
    assert clear not in body(r)


@pytest.mark.parametrize("size", [3, 60])
def test_member_list_query_count_is_bounded(client, tree, users, django_assert_max_num_queries, size):
    grow(tree, size)
    client.force_login(users[Role.COMMITTEE_SECRETARY])
    for params in ({}, {"unit": "B01", "q": "q", "sort": "birth"}, {"unit": "B01G1", "status": "activist"},
                   {"page": "2"}):
        with django_assert_max_num_queries(15):
            r = client.get(reverse("members:list"), params)
        assert r.status_code == 200, params
    assert len(names(client.get(reverse("members:list")))) == min(50, 2 + 2 * size)


# ---- a person's page -----------------------------------------------------------------------

def test_member_page_for_readers_and_404_outside(client, any_role, tree):
    role, user = any_role
    client.force_login(user)
    r = client.get(reverse("members:detail", args=[tree.m01.pk]))
    assert r.status_code == 200, role
    assert tree.m01.id_number_masked in body(r)
    assert crypto.decrypt(tree.m01.id_number_encrypted) not in body(r)
    has_show = reverse("members:reveal", args=[tree.m01.pk]) in body(r) and 'value="id_number"' in body(r)
    assert has_show == (role in ID_ROLES), role
    assert (reverse("members:edit", args=[tree.m01.pk]) in body(r)) == (role in MEMBER_WRITERS), role
    assert client.get(reverse("members:history", args=[tree.m01.pk])).status_code == 200
    for name in ("members:detail", "members:history", "members:edit", "members:status", "members:transfer",
                 "members:committee", "members:reveal"):
        assert client.get(reverse(name, args=[tree.m03.pk])).status_code == 404, (role, name)
        assert client.post(reverse(name, args=[tree.m03.pk])).status_code in (404, 405), (role, name)


def test_member_page_shows_steps_posts_and_transfers(client, tree, users):
    applicant = person(tree.b01, "孙七", 30, status=PartyStatus.APPLICANT, status_date=dt.date(2024, 1, 2))
    members.advance_status(None, applicant, PartyStatus.ACTIVIST, date=dt.date(2024, 6, 1), note="支委会研究")
    members.assign_committee_role(None, tree.m01, tree.b01, "organisation", started_on=dt.date(2023, 3, 1))
    members.transfer_internal(None, tree.m01, tree.b02, date=dt.date(2025, 4, 1), reason="岗位调整")
    client.force_login(users[Role.COMMITTEE_SECRETARY])
    r = client.get(reverse("members:detail", args=[applicant.pk]))
    assert [(s.status, s.date) for s in r.context["steps"]] == [("applicant", dt.date(2024, 1, 2)),
                                                                ("activist", dt.date(2024, 6, 1))]
    assert "支委会研究" in body(r)
    r = client.get(reverse("members:detail", args=[tree.m01.pk]))
    assert [(p.role, p.ended_on) for p in r.context["posts"]] == [("organisation", dt.date(2025, 4, 1))]
    assert [t.reason for t in r.context["transfers"]] == ["岗位调整"]
    assert "2025-04-01" in body(r) and "第二党支部" in body(r)


def test_reveal_id_number_for_allowed_roles_is_logged(client, tree, users):
    clear = crypto.decrypt(tree.m01.id_number_encrypted)
    url = reverse("members:reveal", args=[tree.m01.pk])
    for role in ID_ROLES:
        client.force_login(users[role])
        r = client.post(url, {"field": "id_number"}, **HX)
        assert r.status_code == 200 and clear in body(r) and "<html" not in body(r)
        assert r["Cache-Control"] == "no-store"
        assert AuditEntry.objects.filter(action=AuditAction.REVEAL, object_id=str(tree.m01.pk),
                                         actor=users[role]).count() == 1
    r = client.post(url, {"field": "id_number"})  # without script: the page with the number
    assert r.status_code == 200 and clear in body(r) and "<html" in body(r)
    assert client.get(url).status_code == 405


@pytest.mark.parametrize("role", sorted(set(Role.values) - ID_ROLES))
def test_reveal_id_number_is_403_for_other_readers(client, tree, users, role):
    client.force_login(users[role])
    r = client.post(reverse("members:reveal", args=[tree.m01.pk]), {"field": "id_number"}, **HX)
    assert r.status_code == 403
    assert not AuditEntry.objects.filter(action=AuditAction.REVEAL).exists()


def test_reveal_phone_for_writers_and_oneself(client, tree, users):
    url = reverse("members:reveal", args=[tree.m01.pk])
    for role in (Role.BRANCH_SECRETARY, Role.MEMBER):
        client.force_login(users[role])
        r = client.post(url, {"field": "phone"}, **HX)
        assert r.status_code == 200 and "13800001111" in body(r), role
    client.force_login(users[Role.INTERNAL_AUDITOR])
    assert client.post(url, {"field": "phone"}, **HX).status_code == 403


def test_history_tab(client, tree, users):
    members.update_member(None, tree.m01, post="班长")
    client.force_login(users[Role.BRANCH_SECRETARY])
    r = client.get(reverse("members:history", args=[tree.m01.pk]))
    assert r.status_code == 200 and "班长" in body(r)
    assert r.context["page"].items[0].action == "update"
    r = client.get(reverse("members:history", args=[tree.m01.pk]), **HX)
    assert "<html" not in body(r) and "班长" in body(r)


@pytest.mark.parametrize("size", [3, 60])
def test_member_pages_query_count_is_bounded(client, tree, users, django_assert_max_num_queries, size):
    grow(tree, size)
    for _ in range(min(size, 30)):
        members.assign_committee_role(None, tree.m01, tree.b01, "member", started_on=dt.date(2020, 1, 1))
    client.force_login(users[Role.COMMITTEE_ADMIN])
    pk = tree.m01.pk
    for url in [reverse(n, args=[pk]) for n in ("members:detail", "members:history", "members:edit",
                                               "members:status", "members:transfer", "members:committee")]:
        with django_assert_max_num_queries(15):
            r = client.get(url)
        assert r.status_code == 200, url
    with django_assert_max_num_queries(15):
        assert client.get(reverse("members:create")).status_code == 200


# ---- forms ---------------------------------------------------------------------------------

def test_create_person(client, tree, users):
    client.force_login(users[Role.BRANCH_SECRETARY])
    r = client.get(reverse("members:create") + "?unit=B01")
    assert r.status_code == 200
    options = [c[0] for c in r.context["form"].fields["unit"].widget.choices]
    assert "B01" in options and "B02" not in options and "B03" not in options
    number = make_id_number(40, dt.date(1995, 5, 6), male=False)
    r = client.post(reverse("members:create"), {
        "unit": "B01", "group": "B01G1", "name": "周八", "gender": "F", "status": "applicant",
        "status_date": "2026-01-10", "id_number": number, "phone": "13900002222", "ethnicity": "回族",
        "education": "bachelor", "post": "技术员"})
    new = Member.objects.get(name="周八")
    assert r.status_code == 302 and r["Location"] == new.get_absolute_url()
    assert (new.unit, new.group, new.ethnicity) == (tree.b01, tree.g1, "回族")
    assert new.birth_date == dt.date(1995, 5, 6)  # read off the ID number
    assert new.status_steps.get().date == dt.date(2026, 1, 10)


def test_create_shows_errors_and_changes_nothing(client, tree, users):
    client.force_login(users[Role.COMMITTEE_ADMIN])
    before = Member.objects.count()
    base = {"unit": "B01", "name": "周八", "gender": "M", "status": "applicant", "ethnicity": "汉族"}
    r = client.post(reverse("members:create"), {**base, "id_number": "320102198503120000"})
    assert "check digit is wrong." in body(r)
    assert r.context["form"].has_error("id_number")
    r = client.post(reverse("members:create"), {**base, "id_number": make_id_number(1, BORN)})
    assert "A person with this ID number is already on the roster." in body(r)
    r = client.post(reverse("members:create"), {**base, "unit": "B03"})
    assert "There is no unit with this code in your scope." in body(r)
    r = client.post(reverse("members:create"), {**base, "unit": "B01G1"})
    assert "not a party group" in body(r)
    r = client.post(reverse("members:create"), {**base, "unit": "B02", "group": "B01G1"})
    assert "The party group must be one of the unit&#x27;s own groups." in body(r)
    assert Member.objects.count() == before


@pytest.mark.parametrize("role", [Role.INTERNAL_AUDITOR, Role.GROUP_LEADER, Role.MEMBER])
def test_create_is_403_without_member_rights(client, tree, users, role):
    client.force_login(users[role])
    assert client.get(reverse("members:create")).status_code == 403
    data = {"unit": "B01", "name": "x", "gender": "M", "status": "applicant", "ethnicity": "汉族"}
    r = client.post(reverse("members:create"), data)
    assert r.status_code == 403
    assert not Member.objects.filter(name="x").exists()


def test_create_in_a_readable_but_unwritable_unit_is_403(client, tree, users):
    client.force_login(users[Role.BRANCH_SECRETARY])
    orgs.create_unit(None, code="B01X", name="旁支", kind=UnitKind.BRANCH, parent=tree.sub1)
    data = {"unit": "B02", "name": "x", "gender": "M", "status": "applicant", "ethnicity": "汉族"}
    r = client.post(reverse("members:create"), data)
    assert r.status_code == 200 and "There is no unit with this code in your scope." in body(r)


def test_edit_person(client, tree, users):
    client.force_login(users[Role.BRANCH_COMMITTEE])
    url = reverse("members:edit", args=[tree.m01.pk])
    r = client.get(url)
    assert r.context["form"].initial["group"] == "B01G1"
    data = {"name": "张三丰", "gender": "M", "ethnicity": "汉族", "birth_date": "1985-03-12",
            "education": "master", "post": "队长", "group": "", "joined_on": "2010-07-01", "id_number": "",
            "phone": ""}
    r = client.post(url, data)
    assert r.status_code == 302
    m = Member.objects.get(pk=tree.m01.pk)
    assert (m.name, m.name_initials, m.post) == ("张三丰", "zsf", "队长")
    assert (m.group, m.education) == (None, "master")
    assert m.id_number_hash == tree.m01.id_number_hash  # blank keeps the number on record
    r = client.post(url, {**data, "post": "改了", "id_number": "12345"})
    assert r.context["form"].has_error("id_number")
    assert Member.objects.get(pk=tree.m01.pk).post == "队长"


@pytest.mark.parametrize("role", [Role.INTERNAL_AUDITOR, Role.GROUP_LEADER, Role.MEMBER])
def test_person_forms_are_403_for_readers_without_rights(client, tree, users, role):
    client.force_login(users[role])
    pk = tree.m01.pk
    for name in ("members:edit", "members:status", "members:transfer", "members:committee"):
        assert client.get(reverse(name, args=[pk])).status_code == 403, name
    r = client.post(reverse("members:edit", args=[pk]), {"name": "x", "gender": "M", "ethnicity": "汉族"})
    assert r.status_code == 403
    assert client.post(reverse("members:status", args=[pk]), {"new_status": "full", "date": "2026-01-01"}
                       ).status_code == 403
    assert Member.objects.get(pk=pk).name == "张三"


def test_advance_status(client, tree, users):
    applicant = person(tree.b01, "孙七", 30, status=PartyStatus.APPLICANT, status_date=dt.date(2024, 1, 2))
    client.force_login(users[Role.BRANCH_SECRETARY])
    url = reverse("members:status", args=[applicant.pk])
    r = client.get(url)
    assert r.context["form"].initial["new_status"] == PartyStatus.ACTIVIST
    r = client.post(url, {"new_status": "candidate", "date": "2025-01-01"})
    assert "The next step from" in body(r)
    r = client.post(url, {"new_status": "activist", "date": "2023-01-01"})
    assert "The date cannot be before the previous step" in body(r)
    assert Member.objects.get(pk=applicant.pk).status == PartyStatus.APPLICANT
    r = client.post(url, {"new_status": "activist", "date": "2025-01-01", "note": "确定为积极分子"})
    assert r.status_code == 302
    assert Member.objects.get(pk=applicant.pk).status == PartyStatus.ACTIVIST


def test_transfer_internal_out_and_back_in(client, tree, users):
    client.force_login(users[Role.COMMITTEE_ADMIN])
    url = reverse("members:transfer", args=[tree.m01.pk])
    r = client.get(url)
    assert [d for d, _label in r.context["directions"]] == ["internal", "out"]
    r = client.post(url, {"to_unit": "B01", "date": "2026-01-05"})
    assert "The person already belongs to this unit." in body(r)
    r = client.post(url, {"to_unit": "B03", "date": "2026-01-05"})
    assert "There is no unit with this code in your scope." in body(r)
    assert Member.objects.get(pk=tree.m01.pk).unit == tree.b01
    r = client.post(url, {"to_unit": "B02", "date": "2026-01-05", "reason": "调岗"})
    assert r.status_code == 302
    assert Member.objects.get(pk=tree.m01.pk).unit == tree.b02

    url = reverse("members:transfer", args=[tree.m02.pk])
    r = client.post(url + "?direction=out", {"external_org": "", "date": "2026-02-01"})
    assert r.context["form"].has_error("external_org")
    r = client.post(url + "?direction=out", {"external_org": "某县委组织部", "date": "2026-02-01",
                                             "letter_number": "2026-7"})
    assert r.status_code == 302
    assert Member.objects.get(pk=tree.m02.pk).state == MemberState.TRANSFERRED_OUT
    r = client.get(url)
    assert [d for d, _label in r.context["directions"]] == ["in"]
    r = client.post(url, {"external_org": "某县委组织部", "to_unit": "B02", "date": "2026-03-01"})
    assert r.status_code == 302
    assert Member.objects.get(pk=tree.m02.pk).state == MemberState.ACTIVE
    assert list(Transfer.objects.filter(member=tree.m02).values_list("direction", flat=True)) == ["in", "out"]


def test_branch_secretary_cannot_transfer_into_a_unit_they_do_not_run(client, tree, users):
    client.force_login(users[Role.BRANCH_SECRETARY])
    r = client.post(reverse("members:transfer", args=[tree.m01.pk]), {"to_unit": "B02", "date": "2026-01-05"})
    assert r.status_code == 200  # B02 is not in their scope at all
    assert Member.objects.get(pk=tree.m01.pk).unit == tree.b01


def test_appoint_and_end_committee_posts(client, tree, users):
    other = person(tree.b01, "吴九", 50)
    members.assign_committee_role(None, other, tree.b01, "secretary", started_on=dt.date(2023, 1, 1))
    client.force_login(users[Role.BRANCH_SECRETARY])
    url = reverse("members:committee", args=[tree.m01.pk])
    r = client.get(url)
    assert [c[0] for c in r.context["appoint"].fields["unit"].choices] == ["B01", "B01G1"]  # not SUB1
    appoint = {"action": "appoint", "unit": "B01", "started_on": "2026-01-01"}
    r = client.post(url, {**appoint, "role": "secretary"})
    assert "already has a serving" in body(r)
    assert not CommitteeRole.objects.filter(member=tree.m01).exists()
    r = client.post(url, {**appoint, "role": "publicity"})
    assert r.status_code == 302
    post = CommitteeRole.objects.get(member=tree.m01)
    r = client.post(url, {"action": "end", "post": post.pk, "ended_on": "2025-01-01"})
    assert "A term cannot end before it starts." in body(r)
    r = client.post(url, {"action": "end", "post": post.pk, "ended_on": "2026-06-30"})
    assert r.status_code == 302
    post.refresh_from_db()
    assert post.ended_on == dt.date(2026, 6, 30)
    foreign = CommitteeRole.objects.get(member=other)
    r = client.post(url, {"action": "end", "post": foreign.pk, "ended_on": "2026-06-30"})
    assert r.status_code == 404  # a post of somebody else
    r = client.post(url, {"action": "appoint", "unit": "SUB1", "role": "member", "started_on": "2026-01-01"})
    assert r.context["appoint"].has_error("unit")
