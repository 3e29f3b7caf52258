"""Home page: renders for every role without outside data, bounded queries; the shared UI helpers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import RequestFactory
from django.urls import reverse

from pbqms.accounts.models import Role
from pbqms.audit.models import AuditEntry
from pbqms.conftest import make_id_number
from pbqms.core import views as core_views
from pbqms.core.templatetags.pbqms_ui import bar_chart, change_rows
from pbqms.members import services as members
from pbqms.members.models import Member, PartyStatus
from pbqms.orgs import services as orgs
from pbqms.orgs.models import UnitKind

OUTSIDE = ["王五", "第三党支部", "二矿党委"]


def grow(tree, n: int) -> None:
    """n more branches under SUB1, each with one person (and n audit entries more)."""
    for i in range(n):
        b = orgs.create_unit(None, code=f"X{i:03d}", name=f"扩展支部{i}", kind=UnitKind.BRANCH,
                             parent=tree.sub1)
        members.create_member(None, unit=b, name=f"赵{i}", gender="M", status=PartyStatus.FULL,
                              id_number=make_id_number(100 + i, dt.date(1985, 3, 12)))


def test_home_needs_login(client, tree):
    r = client.get("/")
    assert r.status_code == 302
    assert reverse("accounts:login") in r["Location"]


def test_home_renders_for_every_role_without_outside_data(client, any_role):
    role, user = any_role
    client.force_login(user)
    r = client.get("/")
    assert r.status_code == 200
    body = r.content.decode()
    for word in OUTSIDE:
        assert word not in body, (role, word)


@pytest.mark.parametrize("size", [3, 60])
def test_home_query_count_is_bounded(client, tree, users, django_assert_max_num_queries, size):
    grow(tree, size)
    client.force_login(users[Role.COMMITTEE_SECRETARY])
    with django_assert_max_num_queries(15):
        r = client.get("/")
    assert r.status_code == 200


def test_bar_chart_scales_bars_to_the_largest_value():
    ctx = bar_chart([("a", 10), ("b", 5), ("c", 0)], "t")
    widths = [float(b["width"]) for b in ctx["bars"]]
    assert widths[0] > widths[1] > widths[2] == 0
    assert widths[1] == pytest.approx(widths[0] / 2)
    assert bar_chart([], "")["height"] > 0  # an empty chart still draws


def test_change_rows_use_field_labels_and_choice_labels(tree):
    changes = {"status": ["activist", "candidate"], "post": [None, "x"]}
    entry = AuditEntry(model="members.member", changes=changes)
    rows = {r["label"]: r for r in change_rows(entry)}
    status = rows[str(Member._meta.get_field("status").verbose_name)]
    assert (status["before"], status["after"]) == (PartyStatus.ACTIVIST.label, PartyStatus.CANDIDATE.label)
    assert rows[str(Member._meta.get_field("post").verbose_name)]["added"]


def test_paginate_stops_counting_at_the_cap(tree, monkeypatch):
    monkeypatch.setattr(core_views, "COUNT_CAP", 2)
    grow(tree, 3)
    qs = Member.objects.order_by("pk")
    page = core_views.paginate(RequestFactory().get("/?page=2"), qs, per_page=2)
    assert page.total is None and page.num_pages is None  # more than the cap: not counted
    assert page.number == 2 and len(page.items) == 2 and page.has_next
    page = core_views.paginate(RequestFactory().get("/?page=99"), qs.filter(pk=tree.m01.pk), per_page=2)
    assert (page.total, page.number, page.has_next, page.items) == (1, 1, False, [tree.m01])
    page = core_views.paginate(RequestFactory().get("/?page=x"), qs, per_page=50)
    assert page.number == 1
