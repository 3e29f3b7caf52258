"""The notifications API: one's own messages, unread filter, paging, marking read."""

from __future__ import annotations

import pytest

from pbqms.accounts import services as accounts
from pbqms.accounts.models import Role
from pbqms.notify import services
from pbqms.notify.models import Notification

API = "/api/v1/notifications"


@pytest.fixture
def api(client, users):
    def call(role, method="get", path="", **kw):
        token = accounts.issue_token(users[role])
        return getattr(client, method)(API + path, headers={"Authorization": f"Bearer {token}"},
                                       content_type="application/json", **kw)
    return call


@pytest.fixture
def inbox(users, tree):
    for role, user in users.items():
        for i in range(4):
            services.notify(key=f"k{i}", recipients=[user], title=f"{role}-{i}", body="正文",
                            link="/members/", unit=tree.b01 if i else None)


def test_list_shows_own_messages_newest_first(api, inbox, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        r = api(Role.MEMBER)
    assert r.status_code == 200
    data = r.json()
    assert data["count"] == 4 and data["unread"] == 4
    assert [n["title"] for n in data["items"]] == [f"member-{i}" for i in (3, 2, 1, 0)]
    first = data["items"][0]
    assert first["unit"] == "B01" and first["link"] == "/members/" and first["read_at"] is None
    assert first["key"] == "k3"
    assert data["items"][-1]["unit"] is None


def test_paging_and_unread_filter(api, inbox):
    r = api(Role.MEMBER, data={"limit": 2, "offset": 1})
    assert [n["title"] for n in r.json()["items"]] == ["member-2", "member-1"]
    mine = Notification.objects.filter(recipient__username="u_member", key="k1").get()
    r = api(Role.MEMBER, "post", f"/{mine.pk}/read")
    assert r.status_code == 200 and r.json()["read_at"] is not None and r.json()["id"] == mine.pk
    r = api(Role.MEMBER, data={"unread": "true"})
    assert r.json()["count"] == 3 and r.json()["unread"] == 3
    assert "member-1" not in [n["title"] for n in r.json()["items"]]


def test_reading_someone_elses_message_answers_404(api, inbox):
    theirs = Notification.objects.filter(recipient__username="u_committee_admin").first()
    r = api(Role.MEMBER, "post", f"/{theirs.pk}/read")
    assert r.status_code == 404 and r.json() == {"detail": "未找到。"}
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_read_all(api, inbox):
    r = api(Role.BRANCH_SECRETARY, "post", "/read-all")
    assert r.json() == {"marked": 4}
    assert api(Role.BRANCH_SECRETARY, "post", "/read-all").json() == {"marked": 0}
    assert api(Role.BRANCH_SECRETARY).json()["unread"] == 0
    assert Notification.objects.filter(read_at__isnull=True).count() == 4 * (len(Role.values) - 1)


def test_without_token(client, inbox):
    assert client.get(API).status_code == 401
    assert client.post(API + "/read-all").status_code == 401
    assert not Notification.objects.filter(read_at__isnull=False).exists()
