"""The audit trail is append-only, records who/when/where/what, and is searched within scope."""

import pytest
from django.test import RequestFactory

from pbqms.accounts.models import Role
from pbqms.audit import selectors
from pbqms.audit.context import current_ip
from pbqms.audit.middleware import AuditContextMiddleware
from pbqms.audit.models import AuditEntry
from pbqms.orgs import services as orgs


def test_entries_cannot_be_changed_or_deleted(tree):
    entry = AuditEntry.objects.filter(object_id=str(tree.b01.pk), model="orgs.unit").first()
    entry.note = "tampered"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()


def test_address_comes_from_the_request(tree, users):
    actor = users[Role.COMMITTEE_ADMIN]

    def view(request):
        orgs.update_unit(actor, tree.b02, name="改名")
        return None

    request = RequestFactory().get("/", REMOTE_ADDR="10.1.2.3")
    AuditContextMiddleware(view)(request)
    entry = AuditEntry.objects.filter(model="orgs.unit", object_id=str(tree.b02.pk), action="update").get()
    assert (entry.ip, entry.actor_id, entry.actor_name) == ("10.1.2.3", actor.pk, str(actor))
    assert current_ip.get() is None  # reset after the request


def test_search_is_scoped_and_limited_to_admin_roles(tree, users):
    orgs.update_unit(None, tree.b03, name="外部支部改名")
    orgs.update_unit(None, tree.b01, name="第一党支部改名")
    sec = users[Role.COMMITTEE_SECRETARY]
    found = set(selectors.search(sec, q="改名").values_list("object_repr", flat=True))
    assert found == {"第一党支部改名"}
    assert not selectors.search(users[Role.BRANCH_SECRETARY]).exists()
    assert not selectors.search(users[Role.MEMBER]).exists()


def test_history_of_a_record(tree):
    orgs.update_unit(None, tree.b01, order=5)
    actions = list(selectors.history_of(tree.b01).values_list("action", flat=True))
    assert actions == ["update", "create"]


def test_recent_is_scoped_and_newest_first(tree, users):
    orgs.update_unit(None, tree.b01, name="第一党支部（新）")
    for i in range(8):  # newer entries outside the secretary's scope
        orgs.update_unit(None, tree.b03, order=i + 1)
    found = selectors.recent(users[Role.COMMITTEE_SECRETARY], limit=3)
    assert [e.object_repr for e in found][0] == "第一党支部（新）"
    assert all(e.org_path.startswith(tree.sub1.path) for e in found)
    assert [e.pk for e in found] == sorted((e.pk for e in found), reverse=True)
    assert selectors.recent(users[Role.BRANCH_SECRETARY]) == []  # no audit-log right
