"""Units API — /api/v1/units: each endpoint for a role allowed to use it, the refusals, and
a bounded number of SQL queries whatever the size of the tree."""

from __future__ import annotations

import json

import pytest

from pbqms.accounts import services as accounts
from pbqms.accounts.models import Role
from pbqms.audit.models import AuditAction, AuditEntry
from pbqms.orgs import services
from pbqms.orgs.models import Unit, UnitKind, UnitMove

MAX_QUERIES = 15


@pytest.fixture
def api(client, users):
    """A client calling as a given role: api(role).get(path) / .post(path, body) / .patch(path, body)."""

    class Caller:
        def __init__(self, role: str) -> None:
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


ADMIN, BRANCH, LEADER, MEMBER = Role.COMMITTEE_ADMIN, Role.BRANCH_SECRETARY, Role.GROUP_LEADER, Role.MEMBER


def codes(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.content
    return [u["code"] for u in response.json()["items"]]


# ---- reads -------------------------------------------------------------------------------

def test_list_is_scoped_and_in_tree_order(api):
    data = api(ADMIN).get("/units").json()
    assert data["count"] == 4
    assert [u["code"] for u in data["items"]] == ["SUB1", "B01", "B01G1", "B02"]
    top = data["items"][0]
    assert top["parent"] is None  # GRP is above the caller's scope: not named
    assert top["kind"] == "committee" and top["is_active"] is True
    assert codes(api(BRANCH).get("/units")) == ["B01", "B01G1"]
    assert codes(api(LEADER).get("/units")) == ["B01G1"]
    assert codes(api(MEMBER).get("/units")) == ["B01"]


def test_list_filters(api, tree):
    admin = api(ADMIN)
    assert codes(admin.get("/units", kind="branch")) == ["B01", "B02"]
    assert codes(admin.get("/units", kind="group")) == ["B01G1"]
    assert codes(admin.get("/units", parent="SUB1")) == ["B01", "B02"]  # direct children only
    assert codes(admin.get("/units", parent="B01")) == ["B01G1"]
    assert codes(admin.get("/units", q="第二")) == ["B02"]
    assert codes(admin.get("/units", q="b01")) == ["B01", "B01G1"]
    services.create_unit(None, code="B05", name="第五党支部", kind=UnitKind.BRANCH, parent=tree.sub1)
    services.dissolve_unit(None, Unit.objects.get(code="B05"), reason="合并")
    assert "B05" in codes(admin.get("/units", kind="branch"))
    assert "B05" not in codes(admin.get("/units", kind="branch", active="true"))
    assert codes(admin.get("/units", active="false")) == ["B05"]
    assert admin.get("/units", kind="brunch").status_code == 422


def test_parent_outside_scope_is_404(api):
    for parent in ("B03", "SUB2", "GRP", "NO-SUCH"):
        response = api(ADMIN).get("/units", parent=parent)
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}
    assert api(BRANCH).get("/units", parent="SUB1").status_code == 404


def test_pagination(api, tree):
    for i in range(10, 22):
        services.create_unit(None, code=f"X{i}", name=f"支部{i}", kind=UnitKind.BRANCH, parent=tree.sub1,
                             order=i)
    admin = api(ADMIN)
    first = admin.get("/units", kind="branch", limit=5).json()
    assert first["count"] == 14 and len(first["items"]) == 5
    rest = admin.get("/units", kind="branch", limit=5, offset=10).json()
    assert rest["count"] == 14 and len(rest["items"]) == 4
    everything = codes(admin.get("/units", kind="branch", limit=100000))  # capped at 500
    assert len(everything) == 14 and len(set(everything)) == 14
    default = admin.get("/units").json()
    assert len(default["items"]) == default["count"] == 16  # default limit 50


@pytest.mark.parametrize("query", [{"offset": 10**24}, {"offset": -3}, {"limit": -5}, {"limit": 0},
                                   {"limit": 10**24}])
def test_extreme_paging_never_fails(api, query):
    response = api(ADMIN).get("/units", **query)
    assert response.status_code == 200
    assert response.json()["count"] == 4


def test_detail(api):
    response = api(ADMIN).get("/units/B01")
    assert response.status_code == 200
    unit = response.json()
    assert unit["code"] == "B01" and unit["kind"] == "branch" and unit["parent"] == "SUB1"
    assert [a["code"] for a in unit["ancestors"]] == ["SUB1"]  # GRP is outside the caller's scope
    assert unit["counts"]["units"]["group"] == 1
    assert unit["counts"]["members"]["full"] == 1
    mine = api(BRANCH).get("/units/B01").json()
    assert mine["parent"] is None and mine["ancestors"] == []
    assert api(BRANCH).get("/units/B02").status_code == 404
    assert api(MEMBER).get("/units/B01G1").status_code == 404


# ---- writes ------------------------------------------------------------------------------

def test_create(api):
    body = {"code": "B04", "name": "第四党支部", "kind": "branch", "parent": "SUB1", "variant": "joint",
            "order": 4, "founded_on": "2020-07-01", "department": "综采队"}
    response = api(ADMIN).post("/units", body)
    assert response.status_code == 201, response.content
    data = response.json()
    assert {k: data[k] for k in body} == body
    unit = Unit.objects.get(code="B04")
    assert unit.parent.code == "SUB1" and unit.variant == "joint"
    assert AuditEntry.objects.filter(action=AuditAction.CREATE, model="orgs.unit",
                                     object_id=str(unit.pk)).exists()


def test_create_refusals(api):
    admin = api(ADMIN)
    wrong_place = admin.post("/units", {"code": "G9", "name": "小组", "kind": "group", "parent": "SUB1"})
    assert wrong_place.status_code == 422
    assert "cannot sit under" in wrong_place.json()["detail"]
    taken = admin.post("/units", {"code": "B02", "name": "重复", "kind": "branch", "parent": "SUB1"})
    assert taken.status_code == 422 and "already used" in taken.json()["detail"]
    assert admin.post("/units", {"code": "R1", "name": "顶层", "kind": "committee"}).status_code == 403
    blank = admin.post("/units", {"code": "", "name": "x", "kind": "branch", "parent": "SUB1"})
    assert blank.status_code == 422
    # A branch secretary reads B01 but may not create units in it.
    assert api(BRANCH).post("/units", {"code": "G2", "name": "第二党小组", "kind": "group",
                                        "parent": "B01"}).status_code == 403
    assert not Unit.objects.filter(code__in=["G9", "R1", "G2"]).exists()


def test_update(api):
    response = api(ADMIN).patch("/units/B02", {"name": "第二党支部（综采）", "order": 9, "founded_on": None})
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "第二党支部（综采）"
    unit = Unit.objects.get(code="B02")
    assert unit.name == "第二党支部（综采）" and unit.order == 9
    assert AuditEntry.objects.filter(action=AuditAction.UPDATE, object_id=str(unit.pk)).exists()
    assert api(ADMIN).patch("/units/B02", {"name": None}).status_code == 422
    refused = api(BRANCH).patch("/units/B01", {"name": "改名"})
    assert refused.status_code == 403
    assert Unit.objects.get(code="B01").name == "第一党支部"


def test_move(api, tree):
    services.create_unit(None, code="GB1", name="第一党总支", kind=UnitKind.GENERAL_BRANCH, parent=tree.sub1)
    body = {"parent": "GB1", "moved_on": "2024-05-01", "reason": "调整"}
    response = api(ADMIN).post("/units/B02/move", body)
    assert response.status_code == 200, response.content
    assert response.json()["parent"] == "GB1"
    assert [a["code"] for a in response.json()["ancestors"]] == ["SUB1", "GB1"]
    b02 = Unit.objects.get(code="B02")
    assert b02.path.startswith(Unit.objects.get(code="GB1").path)
    assert tree.m02.__class__.objects.get(pk=tree.m02.pk).org_path == b02.path
    assert UnitMove.objects.filter(unit=b02, reason="调整").exists()
    assert api(ADMIN).post("/units/B01/move", {"parent": "B01G1"}).status_code == 422
    assert api(BRANCH).post("/units/B01G1/move", {"parent": "B01"}).status_code == 403


def test_dissolve(api, tree):
    services.create_unit(None, code="B05", name="第五党支部", kind=UnitKind.BRANCH, parent=tree.sub1)
    response = api(ADMIN).post("/units/B05/dissolve", {"reason": "合并", "dissolved_on": "2024-06-30"})
    assert response.status_code == 200, response.content
    assert response.json()["is_active"] is False and response.json()["dissolved_on"] == "2024-06-30"
    assert api(ADMIN).get("/units/B05").status_code == 200  # still readable
    busy = api(ADMIN).post("/units/B02/dissolve", {"reason": "合并"})
    assert busy.status_code == 422 and busy.json()["detail"]
    assert Unit.objects.get(code="B02").is_active
    assert api(BRANCH).post("/units/B01G1/dissolve", {"reason": "x"}).status_code == 403


# ---- SQL queries -------------------------------------------------------------------------

def _grow(tree, branches: int, start: int) -> None:
    for i in range(start, start + branches):
        b = services.create_unit(None, code=f"Q{i:03d}", name=f"支部{i}", kind=UnitKind.BRANCH,
                                 parent=tree.sub1)
        services.create_unit(None, code=f"Q{i:03d}G", name=f"小组{i}", kind=UnitKind.GROUP, parent=b)


@pytest.mark.parametrize("path, query", [
    ("/units", {"limit": 500}),
    ("/units", {"parent": "SUB1", "limit": 500}),
    ("/units", {"kind": "group", "q": "组", "limit": 500}),
    ("/units/SUB1", {}),
])
def test_queries_do_not_grow_with_the_tree(api, tree, path, query, django_assert_max_num_queries):
    admin = api(ADMIN)
    admin.get("/units")  # the token's first use records its time once: not part of the measure
    counts = []
    for size in (2, 40):
        _grow(tree, size, start=len(counts) * 100)
        with django_assert_max_num_queries(MAX_QUERIES) as ctx:
            response = admin.get(path, **query)
        assert response.status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1] <= MAX_QUERIES, counts


def test_list_query_budget(api, tree, django_assert_max_num_queries):
    admin = api(ADMIN)
    _grow(tree, 30, start=0)
    with django_assert_max_num_queries(MAX_QUERIES):
        assert len(codes(admin.get("/units", limit=500))) == 64
