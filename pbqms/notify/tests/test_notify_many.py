"""notify_many(): many messages in a few queries, with exactly notify()'s rules; the bulk
recipient look-ups holders_by_unit() and secretaries_above_each()."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pbqms.accounts import services as accounts
from pbqms.accounts.models import Role
from pbqms.notify import selectors, services
from pbqms.notify.models import Delivery, Notification
from pbqms.notify.services import Message

from .test_services import DING_URL, hook, people


@pytest.fixture
def cast(users, tree):
    """Five people with addresses, one without, one inactive; two robots on B01, one on B02."""
    with_mail = people(users, Role.BRANCH_SECRETARY, Role.BRANCH_COMMITTEE, Role.COMMITTEE_SECRETARY,
                       Role.DEPARTMENT_STAFF, Role.MEMBER)
    [bare] = people(users, Role.GROUP_LEADER, email=False)
    [gone] = people(users, Role.INTERNAL_AUDITOR)
    gone.is_active = False
    gone.save()
    hook(tree.b01)
    hook(tree.b01, kind="dingtalk", url=DING_URL)
    hook(tree.b02)
    return with_mail, bare, gone


def batch(cast, tree) -> list[Message]:
    (a, b, c, d, e), bare, gone = cast
    return [
        Message(key="k1", recipients=(a, b, None, gone), title=" 提醒 ", body="正文", link="/members/", unit=tree.b01),
        Message(key="k1", recipients=(c, a), title="Reminder", body="text", link="/members/", unit=tree.b01),
        Message(key="k2", recipients=(a, bare, d), title="t2", body="b2", unit=tree.b02, email=False),
        Message(key="k3", recipients=(e,), title="t3", body="b3", chat=False, unit=tree.b01),
        Message(key="k4", recipients=(), title="chat only", body="b4", unit=tree.b02),
        Message(key="k5", recipients=(b, c), title="no unit", body="b5"),
        Message(key="k1", recipients=(d,), title="again", body="x", unit=tree.b02, email=False, chat=False),
    ]


def filed() -> tuple[list[tuple], list[tuple]]:
    messages = sorted(Notification.objects.values_list("recipient_id", "key", "title", "body", "link", "unit_id",
                                                       "org_path"))
    deliveries = sorted(Delivery.objects.values_list("channel", "target", "key", "title", "body", "org_path",
                                                     "webhook_id", "notification__recipient_id"), key=repr)
    return messages, deliveries


def test_notify_many_files_exactly_what_notify_files_one_by_one(cast, tree):
    one_by_one = [services.notify(key=m.key, recipients=m.recipients, title=m.title, body=m.body, link=m.link,
                                  unit=m.unit, email=m.email, chat=m.chat) for m in batch(cast, tree)]
    expected = filed()
    Notification.objects.all().delete()
    Delivery.objects.all().delete()
    assert services.notify_many(batch(cast, tree)) == one_by_one == [2, 1, 3, 1, 0, 2, 1]
    assert filed() == expected
    messages, deliveries = expected
    assert len(messages) == 10
    # one group-chat message per robot and key: k1 twice on B01's two robots, k2 and k4 on B02's
    assert sorted((c, k) for c, _t, k, *_rest in deliveries if c != "email") == [
        ("dingtalk", "k1"), ("wecom", "k1"), ("wecom", "k2"), ("wecom", "k4")]
    assert sorted(k for c, _t, k, *_rest in deliveries if c == "email") == ["k1", "k1", "k1", "k3", "k5", "k5"]
    assert not any(k == "k1" and c == "wecom" and "Reminder" in body for c, _t, k, _ti, body, *_r in deliveries)


def test_notify_many_twice_adds_nothing(cast, tree):
    services.notify_many(batch(cast, tree))
    before = filed()
    assert services.notify_many(batch(cast, tree)) == [0] * 7
    assert filed() == before


def test_a_bad_message_anywhere_writes_nothing(cast, tree):
    good = batch(cast, tree)
    for bad in (Message(key="", recipients=(), title="t", body=""),
                Message(key="k", recipients=(), title=" ", body=""),
                Message(key="k", recipients=(), title="t", body="", link="https://evil.example/")):
        with pytest.raises(ValidationError):
            services.notify_many([*good, bad])
    assert not Notification.objects.exists() and not Delivery.objects.exists()


def test_one_delivery_run_is_queued_after_commit(cast, tree, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        services.notify_many(batch(cast, tree))
    assert len(callbacks) == 1
    assert services.notify_many([]) == []


def test_batches_of_any_size_file_the_same(cast, tree, monkeypatch):
    services.notify_many(batch(cast, tree))
    whole = filed()
    Notification.objects.all().delete()
    Delivery.objects.all().delete()
    monkeypatch.setattr(services, "BATCH", 2)
    assert services.notify_many(batch(cast, tree)) == [2, 1, 3, 1, 0, 2, 1]
    assert filed() == whole


def _messages(cast, tree, n: int, tag: str) -> list[Message]:
    (a, b, c, d, e), bare, _gone = cast
    units = (tree.b01, None, tree.sub1, None)
    return [Message(key=f"{tag}:{i}", recipients=((a, b, c, d, e, bare)[i % 6],), title=f"t{i}", body="b",
                    unit=units[i % 4]) for i in range(n)]


def test_the_queries_do_not_grow_with_the_messages(cast, tree, django_assert_max_num_queries):
    # (sized so that SQLite, which splits an INSERT at 999 parameters, needs one INSERT per table)
    with CaptureQueriesContext(connection) as small:
        services.notify_many(_messages(cast, tree, 5, "small"))
    assert len(small) <= 8
    with django_assert_max_num_queries(len(small), info=[q["sql"][:90] for q in small.captured_queries]):
        counts = services.notify_many(_messages(cast, tree, 50, "large"))
    assert counts == [1] * 50


# ---- bulk recipients ----------------------------------------------------------------------------------

def test_holders_by_unit_equals_role_holders_unit_by_unit(users, tree, django_assert_num_queries):
    extra = accounts.create_user(None, username="both", password="x", validate=False)
    accounts.grant_role(None, extra, Role.BRANCH_SECRETARY, tree.b01)
    accounts.grant_role(None, extra, Role.BRANCH_COMMITTEE, tree.b01)  # two roles: listed once
    units = [tree.grp, tree.sub1, tree.b01, tree.g1, tree.b02, tree.sub2, tree.b03]
    roles = [Role.BRANCH_SECRETARY, Role.BRANCH_COMMITTEE, Role.COMMITTEE_SECRETARY]
    with django_assert_num_queries(1):
        found = selectors.holders_by_unit([u.pk for u in units], roles)
    assert found == {u.pk: list(selectors.role_holders(u, roles)) for u in units}
    assert [u.username for u in found[tree.b01.pk]] == ["u_branch_secretary", "u_branch_committee", "both"]
    assert selectors.holders_by_unit([], roles) == {}


def test_secretaries_above_each_equals_secretaries_above(users, tree, django_assert_max_num_queries):
    top = accounts.create_user(None, username="grp_sec", password="x", validate=False)
    accounts.grant_role(None, top, Role.COMMITTEE_SECRETARY, tree.grp)
    units = [tree.grp, tree.sub1, tree.b01, tree.g1, tree.b02, tree.sub2, tree.b03]
    for levels in (1, 2, 5):
        with django_assert_max_num_queries(1):  # none when no unit has that many levels above
            found = selectors.secretaries_above_each({u.pk: u.path for u in units}, levels=levels)
        assert found == {u.pk: list(selectors.secretaries_above(u, levels=levels)) for u in units}
    assert selectors.secretaries_above_each({tree.b01.pk: tree.b01.path}) == {
        tree.b01.pk: [users[Role.COMMITTEE_SECRETARY]]}
    assert selectors.secretaries_above_each({}) == {}
