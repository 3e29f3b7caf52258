"""Members API — /api/v1/members: each endpoint for a role allowed to use it, masking of ID
numbers and phones, the refusals, and a bounded number of SQL queries whatever the data size."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from pbqms.accounts import services as accounts
from pbqms.accounts.models import Role
from pbqms.audit.models import AuditAction, AuditEntry
from pbqms.conftest import make_id_number
from pbqms.members import services
from pbqms.members.models import Member, MemberState, PartyStatus, StatusStep, Transfer

MAX_QUERIES = 15
ADMIN, STAFF, SECRETARY, AUDITOR, BRANCH, LEADER, MEMBER = (
    Role.COMMITTEE_ADMIN, Role.DEPARTMENT_STAFF, Role.COMMITTEE_SECRETARY, Role.INTERNAL_AUDITOR,
    Role.BRANCH_SECRETARY, Role.GROUP_LEADER, Role.MEMBER)


@pytest.fixture
def api(client, users):
    """A client calling as a given role: api(role).get(path, **query) / .post / .patch."""

    class Caller:
        def __init__(self, role: str) -> None:
            self.user = users[role]
            self.headers = {"Authorization": f"Bearer {accounts.issue_token(users[role])}",
                            "Accept-Language": "en"}

        def get(self, path: str, **query):  # type: ignore[no-untyped-def]
            return client.get("/api/v1" + path, query, headers=self.headers)

        def post(self, path: str, body: dict):  # type: ignore[no-untyped-def]
            return client.post("/api/v1" + path, json.dumps(body), content_type="application/json",
                               headers=self.headers)

        def patch(self, path: str, body: dict):  # type: ignore[no-untyped-def]
            return client.patch("/api/v1" + path, json.dumps(body), content_type="application/json",
                                headers=self.headers)

    return Caller


def names(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.content
    return [m["name"] for m in response.json()["items"]]


# ---- list --------------------------------------------------------------------------------

def test_list_is_scoped(api):
    assert names(api(ADMIN).get("/members")) == ["李四", "张三"]  # pinyin order: li, zhang
    assert names(api(BRANCH).get("/members")) == ["张三"]
    assert names(api(LEADER).get("/members")) == ["张三"]
    assert names(api(MEMBER).get("/members")) == ["张三"]


def test_unit_filter_covers_the_subtree(api):
    admin = api(ADMIN)
    assert names(admin.get("/members", unit="SUB1")) == ["李四", "张三"]
    assert names(admin.get("/members", unit="B01")) == ["张三"]
    assert names(admin.get("/members", unit="B01G1")) == []  # people belong to the branch, not the group
    for outside in ("B03", "SUB2", "GRP", "NOPE"):
        response = admin.get("/members", unit=outside)
        assert response.status_code == 404 and response.json() == {"detail": "Not found."}
    assert api(BRANCH).get("/members", unit="B02").status_code == 404


def test_filters_and_search(api, tree):
    services.create_member(None, unit=tree.b01, name="赵小军", gender="M", status=PartyStatus.ACTIVIST)
    gone = services.create_member(None, unit=tree.b02, name="钱多", gender="F", status=PartyStatus.FULL)
    services.transfer_out(None, gone, external_org="外单位党委", date=dt.date(2024, 1, 5))
    admin = api(ADMIN)
    assert names(admin.get("/members", status="activist")) == ["赵小军"]
    assert names(admin.get("/members", q="zs")) == ["张三"]  # pinyin initials
    assert names(admin.get("/members", q="zhao")) == ["赵小军"]
    assert names(admin.get("/members", q="李")) == ["李四"]
    assert "钱多" not in names(admin.get("/members"))  # active only by default
    assert names(admin.get("/members", state="transferred_out")) == ["钱多"]
    assert "钱多" in names(admin.get("/members", state=""))
    assert names(admin.get("/members", sort="-name"))[0] == "赵小军"
    assert admin.get("/members", status="member").status_code == 422
    assert admin.get("/members", state="vanished").status_code == 422


def test_pagination(api, tree):
    for i in range(12):
        services.create_member(None, unit=tree.b02, name=f"测试{i:02d}", gender="F", status=PartyStatus.FULL)
    admin = api(ADMIN)
    page = admin.get("/members", limit=5, offset=5).json()
    assert page["count"] == 14 and len(page["items"]) == 5
    everyone = names(admin.get("/members", limit=100000))  # capped at 500
    assert len(everyone) == 14 == len(set(everyone))


def test_list_is_always_masked(api, tree):
    """Even roles that may read ID numbers get them masked in lists, and nothing is logged."""
    for role in (ADMIN, STAFF):
        item = next(m for m in api(role).get("/members").json()["items"] if m["id"] == tree.m01.pk)
        assert item["id_number"] == tree.m01.id_number_masked and "*" in item["id_number"]
        assert item["phone"] == "138****1111"
    assert not AuditEntry.objects.filter(action=AuditAction.REVEAL).exists()


# ---- detail ------------------------------------------------------------------------------

def test_detail_unmasks_for_id_roles_and_logs_it(api, tree):
    clear = make_id_number(1, dt.date(1985, 3, 12))
    data = api(ADMIN).get(f"/members/{tree.m01.pk}").json()
    assert data["id_number"] == clear and data["phone"] == "13800001111"
    assert data["unit"] == "B01" and data["group"] == "B01G1" and data["status"] == "full"
    assert data["status_steps"] == [{"status": "full", "date": "2010-07-01", "note": ""}]
    assert data["committee_roles"] == [] and data["transfers"] == []
    reveal = AuditEntry.objects.get(action=AuditAction.REVEAL, note="id_number")
    assert reveal.actor == api(ADMIN).user and reveal.object_id == str(tree.m01.pk)


@pytest.mark.parametrize("role", [SECRETARY, AUDITOR, BRANCH, LEADER, MEMBER])
def test_detail_is_masked_for_other_roles(api, tree, role):
    data = api(role).get(f"/members/{tree.m01.pk}").json()
    assert data["id_number"] == tree.m01.id_number_masked
    assert data["phone"] == "138****1111"
    assert not AuditEntry.objects.filter(action=AuditAction.REVEAL).exists()


def test_detail_outside_scope_is_404(api, tree):
    assert api(ADMIN).get(f"/members/{tree.m03.pk}").status_code == 404
    assert api(MEMBER).get(f"/members/{tree.m02.pk}").status_code == 404
    assert api(ADMIN).get("/members/999999").status_code == 404
    assert api(ADMIN).get("/members/abc").status_code == 422


def test_detail_hides_the_far_end_of_a_transfer_outside_scope(api, tree):
    services.transfer_internal(None, tree.m03, tree.b02, date=dt.date(2024, 2, 1))
    data = api(ADMIN).get(f"/members/{tree.m03.pk}").json()
    assert data["transfers"][0]["from_unit"] is None and data["transfers"][0]["to_unit"] == "B02"


# ---- writes ------------------------------------------------------------------------------

def test_create(api):
    number = make_id_number(40, dt.date(1990, 5, 6), male=False)
    body = {"unit": "B01", "group": "B01G1", "name": "孙丽", "gender": "F", "status": "activist",
            "status_date": "2023-04-01", "id_number": number, "phone": "13912345678",
            "education": "bachelor", "post": "技术员"}
    response = api(BRANCH).post("/members", body)
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["id_number"] == number[:1] + "*" * 16 + number[-1:]  # write answers stay masked
    assert data["birth_date"] == "1990-05-06" and data["group"] == "B01G1"
    member = Member.objects.get(pk=data["id"])
    assert member.unit.code == "B01" and member.status == PartyStatus.ACTIVIST
    assert StatusStep.objects.filter(member=member, status="activist", date=dt.date(2023, 4, 1)).exists()
    assert AuditEntry.objects.filter(action=AuditAction.CREATE, model="members.member").exists()
    assert not AuditEntry.objects.filter(action=AuditAction.REVEAL).exists()


def test_create_refusals(api):
    base = {"unit": "B01", "name": "孙丽", "gender": "F", "status": "applicant"}
    bad_id = api(BRANCH).post("/members", {**base, "id_number": "320102199005060001"})
    assert bad_id.status_code == 422 and "check digit" in bad_id.json()["detail"]
    group_unit = api(ADMIN).post("/members", {**base, "unit": "B01G1"})
    assert group_unit.status_code == 422 and group_unit.json()["detail"]
    assert api(ADMIN).post("/members", {**base, "status": "leader"}).status_code == 422
    assert api(ADMIN).post("/members", {**base, "name": ""}).status_code == 422
    assert api(MEMBER).post("/members", base).status_code == 403
    assert api(AUDITOR).post("/members", base).status_code == 403
    assert not Member.objects.filter(name="孙丽").exists()


def test_update(api, tree):
    response = api(BRANCH).patch(f"/members/{tree.m01.pk}", {"post": "综采队长", "education": "college",
                                                             "phone": "13700000000"})
    assert response.status_code == 200, response.content
    assert response.json()["post"] == "综采队长" and response.json()["phone"] == "137****0000"
    m01 = Member.objects.get(pk=tree.m01.pk)
    assert m01.post == "综采队长" and m01.education == "college"
    assert AuditEntry.objects.filter(action=AuditAction.UPDATE, object_id=str(m01.pk)).exists()
    assert api(BRANCH).patch(f"/members/{tree.m01.pk}", {"group": None}).json()["group"] is None
    assert api(BRANCH).patch(f"/members/{tree.m01.pk}", {"group": "B01G1"}).json()["group"] == "B01G1"
    mismatch = api(BRANCH).patch(f"/members/{tree.m01.pk}", {"birth_date": "1990-01-01"})
    assert mismatch.status_code == 422 and "does not match" in mismatch.json()["detail"]
    assert api(MEMBER).patch(f"/members/{tree.m01.pk}", {"post": "x"}).status_code == 403
    assert api(LEADER).patch(f"/members/{tree.m01.pk}", {"post": "x"}).status_code == 403
    assert Member.objects.get(pk=tree.m01.pk).post == "综采队长"


def test_status(api, tree):
    person = services.create_member(None, unit=tree.b01, name="周平", gender="M", status=PartyStatus.MASSES)
    step = api(BRANCH).post(f"/members/{person.pk}/status", {"status": "applicant", "date": "2024-01-10"})
    assert step.status_code == 200, step.content
    assert step.json()["status"] == "applicant"
    assert step.json()["status_steps"] == [{"status": "applicant", "date": "2024-01-10", "note": ""}]
    skip = api(BRANCH).post(f"/members/{person.pk}/status", {"status": "candidate", "date": "2024-02-10"})
    assert skip.status_code == 422 and "next step" in skip.json()["detail"]
    assert api(MEMBER).post(f"/members/{person.pk}/status",
                            {"status": "activist", "date": "2024-02-10"}).status_code == 404
    assert api(LEADER).post(f"/members/{tree.m01.pk}/status",
                            {"status": "applicant", "date": "2024-02-10"}).status_code == 403
    assert Member.objects.get(pk=person.pk).status == PartyStatus.APPLICANT


def test_transfer_internal_and_out(api, tree):
    admin = api(ADMIN)
    moved = admin.post(f"/members/{tree.m01.pk}/transfer",
                       {"direction": "internal", "to_unit": "B02", "date": "2024-03-01", "reason": "调岗"})
    assert moved.status_code == 200, moved.content
    assert moved.json()["unit"] == "B02" and moved.json()["group"] is None
    assert moved.json()["transfers"][0]["from_unit"] == "B01"
    out = admin.post(f"/members/{tree.m02.pk}/transfer",
                     {"direction": "out", "external_org": "某市委组织部", "date": "2024-03-02",
                      "letter_number": "组转2024-7"})
    assert out.status_code == 200, out.content
    assert out.json()["state"] == MemberState.TRANSFERRED_OUT
    assert Transfer.objects.count() == 2
    assert admin.post(f"/members/{tree.m02.pk}/transfer",
                      {"direction": "internal", "date": "2024-03-02"}).status_code == 422
    assert admin.post(f"/members/{tree.m01.pk}/transfer",
                      {"direction": "out", "date": "2024-03-02"}).status_code == 422
    # A branch secretary may not send B01's people to B02, which it cannot read.
    person = services.create_member(None, unit=tree.b01, name="吴刚", gender="M", status=PartyStatus.FULL)
    refused = api(BRANCH).post(f"/members/{person.pk}/transfer",
                               {"direction": "internal", "to_unit": "B02", "date": "2024-03-01"})
    assert refused.status_code == 404
    assert Member.objects.get(pk=person.pk).unit.code == "B01"


# ---- SQL queries -------------------------------------------------------------------------

def _grow(tree, people: int, start: int) -> None:
    born = dt.date(1980, 1, 1)
    for i in range(start, start + people):
        odd = i % 2
        m = services.create_member(None, unit=tree.b01 if odd else tree.b02, group=tree.g1 if odd else None,
                                   name=f"测试{i}", gender="M", status=PartyStatus.APPLICANT,
                                   id_number=make_id_number(100 + i, born), phone="13600000000",
                                   status_date=dt.date(2020, 1, 1))
        services.advance_status(None, m, PartyStatus.ACTIVIST, date=dt.date(2021, 1, 1))
        services.transfer_internal(None, m, tree.b02 if i % 2 else tree.b01, date=dt.date(2022, 1, 1))


@pytest.mark.parametrize("role, path, query", [
    (ADMIN, "/members", {"limit": 500}),
    (ADMIN, "/members", {"unit": "B01", "status": "activist", "limit": 500}),
    (ADMIN, "/members", {"q": "ce", "state": "", "limit": 500}),
    (BRANCH, "/members", {"limit": 500}),
    (LEADER, "/members", {"limit": 500}),
    (ADMIN, "/members/{m01}", {}),
    (BRANCH, "/members/{m01}", {}),
])
def test_queries_do_not_grow_with_the_data(api, tree, role, path, query, django_assert_max_num_queries):
    caller = api(role)
    caller.get("/members")  # the token's first use records its time once: not part of the measure
    path = path.format(m01=tree.m01.pk)
    counts = []
    for size in (3, 40):
        _grow(tree, size, start=len(counts) * 100)
        with django_assert_max_num_queries(MAX_QUERIES) as ctx:
            response = caller.get(path, **query)
        assert response.status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1] <= MAX_QUERIES, counts


def test_list_query_budget(api, tree, django_assert_max_num_queries):
    _grow(tree, 30, start=0)
    admin = api(ADMIN)
    with django_assert_max_num_queries(MAX_QUERIES):
        assert len(names(admin.get("/members", limit=500))) == 32
