"""Account administration pages: scoped to the manager's subtree, every change audited."""

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from pbqms.accounts.models import Role, RoleAssignment, User
from pbqms.audit.models import AuditEntry


def test_only_unit_managers_reach_account_pages(client, users):
    for role, user in users.items():
        client.force_login(user)
        status = client.get(reverse("accounts:users")).status_code
        assert status == (200 if role in (Role.COMMITTEE_SECRETARY, Role.COMMITTEE_ADMIN,
                                          Role.DEPARTMENT_STAFF) else 403), role


def test_manager_sees_accounts_of_own_subtree_only(client, users, tree):
    from pbqms.accounts import services

    outsider = services.create_user(None, username="outsider", password="x", validate=False)
    services.grant_role(None, outsider, Role.BRANCH_SECRETARY, tree.b03)
    client.force_login(users[Role.COMMITTEE_ADMIN])
    body = client.get(reverse("accounts:users")).content.decode()
    assert "u_branch_secretary" in body and "outsider" not in body
    assert client.get(reverse("accounts:user", args=[outsider.pk])).status_code == 404


def test_create_account_and_grant_role_inside_scope_only(client, users, tree):
    client.force_login(users[Role.COMMITTEE_ADMIN])
    r = client.post(reverse("accounts:user_create"), {"username": "new_sec", "password": "weak"})
    assert r.status_code == 200 and not User.objects.filter(username="new_sec").exists()
    r = client.post(reverse("accounts:user_create"),
                    {"username": "new_sec", "password": "Strong#Pass1", "member_id": tree.m02.pk})
    new = User.objects.get(username="new_sec")
    assert new.member == tree.m02
    r = client.post(reverse("accounts:user", args=[new.pk]), {"role": Role.BRANCH_SECRETARY, "unit": "B03"})
    assert r.status_code == 200 and not RoleAssignment.objects.filter(user=new).exists()
    client.post(reverse("accounts:user", args=[new.pk]), {"role": Role.BRANCH_SECRETARY, "unit": "B02"})
    assignment = RoleAssignment.objects.get(user=new)
    assert assignment.unit == tree.b02
    assert AuditEntry.objects.filter(model="accounts.user", object_id=str(new.pk)).count() >= 2
    client.post(reverse("accounts:role_revoke", args=[new.pk, assignment.pk]))
    assert not RoleAssignment.objects.filter(user=new).exists()


def test_unlock(client, users):
    target = users[Role.MEMBER]
    User.objects.filter(pk=target.pk).update(locked_until=timezone.now() + dt.timedelta(minutes=10))
    client.force_login(users[Role.COMMITTEE_ADMIN])
    client.post(reverse("accounts:user_unlock", args=[target.pk]))
    target.refresh_from_db()
    assert target.locked_until is None
