"""Unit pages: tree browser, unit page and tabs, and the forms that change units."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from pbqms.accounts.models import Role
from pbqms.audit.models import AuditEntry
from pbqms.conftest import make_id_number
from pbqms.members import services as members
from pbqms.members.models import PartyStatus
from pbqms.orgs import services as orgs
from pbqms.orgs.models import Unit, UnitKind, UnitMove

# These tests assert the English wording of messages.
pytestmark = pytest.mark.usefixtures("english")

OUTSIDE = ["王五", "第三党支部", "二矿党委"]
UNIT_WRITERS = [Role.COMMITTEE_SECRETARY, Role.COMMITTEE_ADMIN, Role.DEPARTMENT_STAFF]
HX = {"HTTP_HX_REQUEST": "true"}


def grow(tree, n: int) -> None:
    """n more branches under SUB1 (each with a group and a person) and n more people in B01."""
    for i in range(n):
        b = orgs.create_unit(None, code=f"X{i:03d}", name=f"扩展支部{i}", kind=UnitKind.BRANCH,
                             parent=tree.sub1)
        orgs.create_unit(None, code=f"X{i:03d}G", name=f"扩展小组{i}", kind=UnitKind.GROUP, parent=b)
        members.create_member(None, unit=b, name=f"赵{i}", gender="M", status=PartyStatus.FULL,
                              id_number=make_id_number(100 + i, dt.date(1985, 3, 12)))
        number = make_id_number(300 + i, dt.date(1990, 1, 2), male=False)
        members.create_member(None, unit=tree.b01, group=tree.g1, name=f"钱{i}", gender="F",
                              status=PartyStatus.ACTIVIST, id_number=number)
    for i in range(min(n, 20)):
        orgs.update_unit(None, tree.b01, order=i + 10)  # history entries


def body(r) -> str:
    return r.content.decode()


# ---- reading -------------------------------------------------------------------------------

def test_tree_shows_scope_roots_and_nothing_outside(client, any_role):
    role, user = any_role
    client.force_login(user)
    r = client.get(reverse("orgs:tree"))
    assert r.status_code == 200
    for word in OUTSIDE:
        assert word not in body(r), (role, word)


def test_tree_opens_a_lone_root_and_loads_levels_lazily(client, tree, users):
    client.force_login(users[Role.COMMITTEE_SECRETARY])
    r = client.get(reverse("orgs:tree"))
    assert [u.code for u in r.context["roots"]] == ["SUB1"]
    assert "第一党支部" in body(r) and "第二党支部" in body(r)
    assert f'hx-get="{reverse("orgs:children", args=["B01"])}"' in body(r)  # B01 has a group: lazy
    r = client.get(reverse("orgs:children", args=["B01"]), **HX)
    assert r.status_code == 200
    assert "第一党小组" in body(r) and "<html" not in body(r)
    counts = {u.code: u.member_count for u in r.context["units"]}
    assert counts == {"B01G1": 1}
    assert client.get(reverse("orgs:children", args=["B03"]), **HX).status_code == 404


def test_tree_counts_people_in_each_subtree(client, tree, users):
    client.force_login(users[Role.COMMITTEE_SECRETARY])
    r = client.get(reverse("orgs:tree"))
    assert r.context["roots"][0].member_count == 2
    assert {u.code: u.member_count for u in r.context["opened"]["rows"]} == {"B01": 1, "B02": 1}


def test_search_finds_inside_only(client, tree, users):
    client.force_login(users[Role.COMMITTEE_ADMIN])
    r = client.get(reverse("orgs:search"), {"q": "支部"}, **HX)
    assert r.status_code == 200 and "<html" not in body(r)
    assert {u.code for u in r.context["results"]} == {"B01", "B02"}
    r = client.get(reverse("orgs:tree"), {"q": "B0"})  # the same results without script
    assert {u.code for u in r.context["results"]} == {"B01", "B01G1", "B02"}
    assert "第三党支部" not in body(r)
    r = client.get(reverse("orgs:search"), {"q": "第三"})
    assert r.status_code == 302  # without htmx, the tree page answers


def test_dissolved_units_are_marked(client, tree, users):
    empty = orgs.create_unit(None, code="B09", name="空支部", kind=UnitKind.BRANCH, parent=tree.sub1)
    orgs.dissolve_unit(None, empty, reason="合并")
    client.force_login(users[Role.COMMITTEE_ADMIN])
    r = client.get(reverse("orgs:tree"))
    assert "空支部" in body(r) and 'class="badge dissolved"' in body(r)
    r = client.get(reverse("orgs:unit", args=["B09"]))
    assert r.status_code == 200 and "合并" in body(r)


def test_unit_page_renders_for_readers(client, any_role, tree):
    role, user = any_role
    client.force_login(user)
    code = {Role.GROUP_LEADER: "B01G1"}.get(role, "B01")
    for name in ("orgs:unit", "orgs:members", "orgs:history"):
        r = client.get(reverse(name, args=[code]))
        assert r.status_code == 200, (role, name)
        for word in OUTSIDE:
            assert word not in body(r), (role, name, word)


@pytest.mark.parametrize("name", ["orgs:unit", "orgs:members", "orgs:history", "orgs:children", "orgs:edit",
                                  "orgs:move", "orgs:dissolve"])
def test_outside_unit_is_404_for_every_role(client, any_role, name):
    role, user = any_role
    client.force_login(user)
    assert client.get(reverse(name, args=["B03"])).status_code == 404, role
    assert client.get(reverse("orgs:create") + "?parent=B03").status_code == 404, role


def test_superuser_reads_everything(client, tree, admin_user):
    client.force_login(admin_user)
    r = client.get(reverse("orgs:unit", args=["B03"]))
    assert r.status_code == 200 and "第三党支部" in body(r)
    assert [u.code for u in client.get(reverse("orgs:tree")).context["roots"]] == ["GRP"]


def test_unit_page_shows_breadcrumbs_committee_and_counts(client, tree, users):
    members.assign_committee_role(None, tree.m01, tree.b01, "secretary", started_on=dt.date(2024, 1, 5))
    client.force_login(users[Role.COMMITTEE_SECRETARY])
    r = client.get(reverse("orgs:unit", args=["B01"]))
    assert [a.code for a in r.context["ancestors"]] == ["GRP", "SUB1"]
    assert not r.context["ancestors"][0].readable and r.context["ancestors"][1].readable
    assert [(p.member.name, p.started_on) for p in r.context["committee"]] == [("张三", dt.date(2024, 1, 5))]
    assert "2024-01-05" in body(r)
    assert r.context["people_total"] == 1
    assert [u.code for u in r.context["sub_units"]] == ["B01G1"]
    r = client.get(reverse("orgs:unit", args=["B01G1"]))  # a group counts its own people
    assert r.context["people_total"] == 1


def test_members_tab_pages_the_subtree_and_swaps_only_the_panel(client, tree, users):
    client.force_login(users[Role.COMMITTEE_SECRETARY])
    r = client.get(reverse("orgs:members", args=["SUB1"]))
    assert [m.name for m in r.context["page"].items] == ["李四", "张三"]  # pinyin order: li, zhang
    r = client.get(reverse("orgs:members", args=["B01G1"]), **HX)
    assert "<html" not in body(r) and [m.name for m in r.context["page"].items] == ["张三"]


def test_history_tab_shows_changes_and_moves(client, tree, users):
    actor = users[Role.COMMITTEE_ADMIN]
    gb = orgs.create_unit(actor, code="GB1", name="总支", kind=UnitKind.GENERAL_BRANCH, parent=tree.sub1)
    orgs.move_unit(actor, tree.b02, gb, reason="调整隶属")
    orgs.update_unit(actor, tree.unit("B02"), name="第二党支部（新）")
    client.force_login(users[Role.COMMITTEE_SECRETARY])
    r = client.get(reverse("orgs:history", args=["B02"]))
    assert r.status_code == 200
    assert [m.reason for m in r.context["moves"]] == ["调整隶属"]
    text = body(r)
    assert "第二党支部（新）" in text and "调整隶属" in text and "diff-before" in text


def test_write_buttons_only_for_unit_writers(client, tree, users):
    for role, user in users.items():
        client.force_login(user)
        code = "B01G1" if role == Role.GROUP_LEADER else "B01"
        r = client.get(reverse("orgs:unit", args=[code]))
        has_edit = reverse("orgs:edit", args=[code]) in body(r)
        assert has_edit == (role in UNIT_WRITERS), role


@pytest.mark.parametrize("size", [3, 60])
def test_tree_and_unit_pages_keep_a_bounded_query_count(client, tree, users, django_assert_max_num_queries,
                                                        size):
    grow(tree, size)
    client.force_login(users[Role.COMMITTEE_SECRETARY])
    urls = [reverse("orgs:tree"), reverse("orgs:tree") + "?q=扩展", reverse("orgs:children", args=["SUB1"]),
            reverse("orgs:search") + "?q=扩展", reverse("orgs:unit", args=["SUB1"]),
            reverse("orgs:unit", args=["B01"]), reverse("orgs:unit", args=["B01G1"]),
            reverse("orgs:members", args=["SUB1"]), reverse("orgs:members", args=["B01G1"]),
            reverse("orgs:history", args=["B01"])]
    for url in urls:
        with django_assert_max_num_queries(15):
            r = client.get(url, **(HX if "search" in url else {}))
        assert r.status_code == 200, url
    r = client.get(reverse("orgs:children", args=["SUB1"]))
    assert len(r.context["units"]) == size + 2


def test_children_are_paged_for_a_very_wide_level(client, tree, users, monkeypatch):
    from pbqms.orgs import views

    monkeypatch.setattr(views, "CHILDREN_PER_REQUEST", 2)
    grow(tree, 3)
    client.force_login(users[Role.COMMITTEE_SECRETARY])
    r = client.get(reverse("orgs:children", args=["SUB1"]))
    assert len(r.context["units"]) == 2 and r.context["more"]
    assert "?offset=2" in body(r)
    r = client.get(reverse("orgs:children", args=["SUB1"]) + "?offset=4")
    assert len(r.context["units"]) == 1 and not r.context["more"]


# ---- writing -------------------------------------------------------------------------------

def test_create_sub_unit(client, tree, users):
    client.force_login(users[Role.DEPARTMENT_STAFF])
    url = reverse("orgs:create") + "?parent=SUB1"
    r = client.get(url)
    assert r.status_code == 200
    kinds = [c[0] for c in r.context["form"].fields["kind"].choices]
    assert kinds == ["committee", "general_branch", "branch"]
    r = client.post(url, {"code": "B05", "name": "第五党支部", "kind": "branch", "variant": "regular",
                          "order": 5})
    new = Unit.objects.get(code="B05")
    assert r.status_code == 302 and r["Location"] == new.get_absolute_url()
    assert new.parent == tree.sub1
    assert AuditEntry.objects.filter(model="orgs.unit", object_id=str(new.pk), action="create").exists()


def test_create_shows_service_errors_and_changes_nothing(client, tree, users):
    client.force_login(users[Role.COMMITTEE_ADMIN])
    before = Unit.objects.count()
    url = reverse("orgs:create") + "?parent=SUB1"
    r = client.post(url, {"code": "B02", "name": "重复", "kind": "branch", "variant": "regular", "order": 0})
    assert r.status_code == 200
    assert "The code “B02” is already used." in body(r)
    r = client.post(url, {"code": "NEW", "name": "小组", "kind": "general_branch", "variant": "joint",
                          "order": 0})
    assert "Only a branch can be a joint or temporary branch." in body(r)
    assert Unit.objects.count() == before


@pytest.mark.parametrize("role", [Role.BRANCH_SECRETARY, Role.INTERNAL_AUDITOR, Role.MEMBER])
def test_create_edit_move_dissolve_are_403_without_unit_rights(client, tree, users, role):
    client.force_login(users[role])
    before = list(Unit.objects.order_by("pk").values())
    assert client.get(reverse("orgs:create") + "?parent=B01").status_code == 403
    new_group = {"code": "Z", "name": "z", "kind": "group", "variant": "regular", "order": 0}
    assert client.post(reverse("orgs:create") + "?parent=B01", new_group).status_code == 403
    edit = {"code": "B01", "name": "x", "order": 0}
    assert client.post(reverse("orgs:edit", args=["B01"]), edit).status_code == 403
    move = {"new_parent": "SUB1", "moved_on": "2026-01-01"}
    assert client.post(reverse("orgs:move", args=["B01"]), move).status_code == 403
    dissolve = {"dissolved_on": "2026-01-01", "reason": "x"}
    assert client.post(reverse("orgs:dissolve", args=["B01"]), dissolve).status_code == 403
    assert client.get(reverse("orgs:create")).status_code == 403  # a top unit: superusers only
    assert list(Unit.objects.order_by("pk").values()) == before


def test_edit_unit(client, tree, users):
    client.force_login(users[Role.COMMITTEE_ADMIN])
    url = reverse("orgs:edit", args=["B01"])
    r = client.get(url)
    assert r.context["form"].initial["name"] == "第一党支部"
    r = client.post(url, {"code": "B01", "name": "第一党支部（采煤）", "variant": "joint", "order": 3,
                          "founded_on": "2001-07-01", "department": "采煤队"})
    assert r.status_code == 302
    b01 = tree.unit("B01")
    assert (b01.name, b01.variant, b01.founded_on, b01.department) == (
        "第一党支部（采煤）", "joint", dt.date(2001, 7, 1), "采煤队")
    r = client.post(url, {"code": "B02", "name": "改名", "variant": "regular", "order": 3})
    assert "The code “B02” is already used." in body(r)
    assert tree.unit("B01").name == "第一党支部（采煤）"


def test_move_unit(client, tree, users):
    actor = users[Role.COMMITTEE_ADMIN]
    gb = orgs.create_unit(actor, code="GB1", name="机关党总支", kind=UnitKind.GENERAL_BRANCH,
                          parent=tree.sub1)
    client.force_login(actor)
    url = reverse("orgs:move", args=["B02"])
    r = client.get(url)
    assert "GB1" in [c[0] for c in r.context["form"].fields["new_parent"].widget.choices]
    r = client.post(url, {"new_parent": "GB1", "moved_on": "2026-03-01", "reason": "归口"})
    assert r.status_code == 302
    b02 = tree.unit("B02")
    assert b02.parent_id == gb.pk and b02.path.startswith(gb.path)
    assert UnitMove.objects.filter(unit=b02, reason="归口").exists()


def test_move_refuses_bad_targets_and_changes_nothing(client, tree, users):
    client.force_login(users[Role.COMMITTEE_ADMIN])
    before = list(Unit.objects.order_by("pk").values())
    r = client.post(reverse("orgs:move", args=["B02"]), {"new_parent": "SUB2", "moved_on": "2026-03-01"})
    assert r.status_code == 200
    assert "You cannot move units under that unit, or it does not exist." in body(r)
    r = client.post(reverse("orgs:move", args=["B02"]), {"new_parent": "B01", "moved_on": "2026-03-01"})
    assert "cannot sit under a branch." in body(r).lower()
    r = client.post(reverse("orgs:move", args=["B01"]), {"new_parent": "SUB1", "moved_on": "2026-03-01"})
    assert "The unit already sits there." in body(r)
    assert list(Unit.objects.order_by("pk").values()) == before


def test_dissolve_unit(client, tree, users):
    client.force_login(users[Role.COMMITTEE_SECRETARY])
    empty = orgs.create_unit(None, code="B08", name="空支部", kind=UnitKind.BRANCH, parent=tree.sub1)
    url = reverse("orgs:dissolve", args=["B08"])
    r = client.post(url, {"dissolved_on": "2026-02-01", "reason": ""})
    assert "Give the reason for dissolving the unit." in body(r)
    assert tree.unit("B08").dissolved_on is None
    r = client.post(url, {"dissolved_on": "2026-02-01", "reason": "撤并"})
    assert r.status_code == 302
    empty.refresh_from_db()
    assert (empty.dissolved_on, empty.dissolution_reason) == (dt.date(2026, 2, 1), "撤并")
    r = client.post(reverse("orgs:dissolve", args=["B02"]), {"dissolved_on": "2026-02-01", "reason": "x"})
    assert "Transfer its people to another unit first." in body(r)
    assert tree.unit("B02").dissolved_on is None
