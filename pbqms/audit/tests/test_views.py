"""The audit log search page: who may read it, what it shows, and its query count."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from pbqms.accounts.models import Role
from pbqms.conftest import make_id_number
from pbqms.members import services as members
from pbqms.members.models import PartyStatus
from pbqms.orgs import services as orgs

AUDIT_ROLES = {Role.COMMITTEE_SECRETARY, Role.COMMITTEE_ADMIN, Role.INTERNAL_AUDITOR}


def body(r) -> str:
    return r.content.decode()


def test_audit_log_is_for_audit_roles_only(client, any_role):
    role, user = any_role
    client.force_login(user)
    r = client.get(reverse("audit:log"))
    assert r.status_code == (200 if role in AUDIT_ROLES else 403), role
    if r.status_code == 200:
        assert "王五" not in body(r) and "第三党支部" not in body(r)


def test_audit_log_search_and_before_after(client, tree, users):
    actor = users[Role.COMMITTEE_ADMIN]
    members.update_member(actor, tree.m01, post="综采队队长")
    orgs.update_unit(actor, tree.b02, name="第二党支部（机电）")
    members.update_member(None, tree.m03, post="外面")  # outside SUB1
    client.force_login(users[Role.COMMITTEE_SECRETARY])
    url = reverse("audit:log")
    r = client.get(url)
    objects = {e.object_repr for e in r.context["page"].items}
    assert {"张三", "第二党支部（机电）"} <= objects and "王五" not in objects
    r = client.get(url, {"q": "张三", "action": "update"})
    assert [e.object_repr for e in r.context["page"].items] == ["张三"]
    text = body(r)
    assert "综采队队长" in text and "diff-after" in text
    r = client.get(url, {"model": "orgs.unit", "actor": "u_committee_admin"})
    assert [e.object_repr for e in r.context["page"].items] == ["第二党支部（机电）"]
    assert 'class="diff-before">第二党支部<' in body(r)
    r = client.get(url, {"model": "orgs.unit"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="audit-results")
    assert "<html" not in body(r)


def test_superuser_reads_the_whole_log(client, tree, admin_user):
    client.force_login(admin_user)
    r = client.get(reverse("audit:log"), {"q": "王五"})
    assert [e.object_repr for e in r.context["page"].items] == ["王五"]


@pytest.mark.parametrize("size", [3, 60])
def test_audit_log_query_count_is_bounded(client, tree, users, django_assert_max_num_queries, size):
    for i in range(size):
        members.create_member(None, unit=tree.b01, name=f"赵{i}", gender="M", status=PartyStatus.FULL,
                              id_number=make_id_number(100 + i, dt.date(1985, 3, 12)))
    client.force_login(users[Role.COMMITTEE_ADMIN])
    for params in ({}, {"page": "2"}, {"q": "赵", "action": "create", "model": "members.member"}):
        with django_assert_max_num_queries(15):
            r = client.get(reverse("audit:log"), params)
        assert r.status_code == 200
