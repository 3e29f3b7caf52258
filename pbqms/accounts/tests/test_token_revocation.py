"""API tokens end with the password (#21.4): a password change, a lockout, a deactivation, signing
out or an administrator's decision revokes them; owners and administrators list and revoke them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from pbqms.accounts import services
from pbqms.accounts.models import ApiToken, Role, User
from pbqms.audit.models import AuditEntry
from pbqms.conftest import PASSWORD

UNITS = "/api/v1/units"


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _works(client, key: str) -> bool:
    status = client.get(UNITS, headers=_bearer(key)).status_code
    assert status in (200, 401), status
    return status == 200


@pytest.fixture
def secretary(users) -> User:
    return users[Role.BRANCH_SECRETARY]


def test_password_change_revokes_tokens(client, secretary):
    key = services.issue_token(secretary)
    assert _works(client, key)
    client.force_login(secretary)
    r = client.post(reverse("accounts:password_change"), {"old_password": PASSWORD, "new_password": "New#Pass2026x",
                                                          "new_password2": "New#Pass2026x"})
    assert r.status_code == 302
    client.logout()
    assert not _works(client, key)
    token = ApiToken.objects.get(user=secretary)
    assert token.revoked_reason == ApiToken.Revoked.PASSWORD and token.revoked_at is not None
    assert AuditEntry.objects.filter(object_id=str(secretary.pk), changes__has_key="api_tokens").exists()


def test_lockout_revokes_tokens_and_a_locked_account_token_is_refused(client, secretary):
    key = services.issue_token(secretary)
    for _ in range(5):
        client.post("/api/v1/auth/token", {"username": secretary.username, "password": "wrong"},
                    content_type="application/json")
    secretary.refresh_from_db()
    assert secretary.locked_until is not None
    assert not _works(client, key)
    assert ApiToken.objects.get(user=secretary).revoked_reason == ApiToken.Revoked.LOCKOUT
    # even a token that escaped revocation is refused while the account is locked
    escaped = services.issue_token(secretary)
    assert not _works(client, escaped)


def test_logout_revokes_tokens(client, secretary):
    key = services.issue_token(secretary)
    client.post(reverse("accounts:login"), {"username": secretary.username, "password": PASSWORD})
    client.post(reverse("accounts:logout"))
    assert not _works(client, key)
    assert ApiToken.objects.get(user=secretary).revoked_reason == ApiToken.Revoked.LOGOUT


def test_api_logout_revokes_the_calling_token_only(client, secretary):
    one, two = services.issue_token(secretary), services.issue_token(secretary)
    r = client.post("/api/v1/auth/logout", headers=_bearer(one) | {"Accept-Language": "en"})
    assert r.status_code == 200 and r.json()["detail"] == "The token is revoked."
    assert not _works(client, one) and _works(client, two)


def test_deactivation_by_an_administrator_revokes_tokens(client, users, secretary):
    key = services.issue_token(secretary)
    admin = users[Role.COMMITTEE_ADMIN]
    client.force_login(admin)
    r = client.post(reverse("accounts:user_active", args=[secretary.pk]), {"active": "0"})
    assert r.status_code == 302
    secretary.refresh_from_db()
    assert not secretary.is_active
    assert ApiToken.objects.get(user=secretary).revoked_reason == ApiToken.Revoked.DEACTIVATED
    client.logout()
    assert not _works(client, key)
    # reactivated: the old token stays revoked
    client.force_login(admin)
    client.post(reverse("accounts:user_active", args=[secretary.pk]), {"active": "1"})
    secretary.refresh_from_db()
    assert secretary.is_active
    client.logout()
    assert not _works(client, key)


def test_administrator_revokes_every_token_of_an_account(client, users, secretary):
    keys = [services.issue_token(secretary) for _ in range(2)]
    client.force_login(users[Role.COMMITTEE_ADMIN])
    page = client.get(reverse("accounts:user", args=[secretary.pk]))
    assert page.status_code == 200 and page.content.decode().count("/revoke/") >= 2
    client.post(reverse("accounts:user_tokens_revoke", args=[secretary.pk]))
    client.logout()
    assert not any(_works(client, k) for k in keys)
    assert set(ApiToken.objects.filter(user=secretary).values_list("revoked_reason", flat=True)) == {"admin"}


def test_owner_lists_and_revokes_own_token_on_the_settings_page(client, secretary, django_assert_max_num_queries):
    key = services.issue_token(secretary, ip="10.9.8.7")
    other = services.issue_token(secretary)
    token = ApiToken.objects.get(key_hash=services._hash_token(key))
    client.force_login(secretary)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("accounts:tokens"))
    assert page.status_code == 200 and "10.9.8.7" in page.content.decode()
    assert client.post(reverse("accounts:token_revoke", args=[token.pk])).status_code == 302
    client.logout()
    assert not _works(client, key) and _works(client, other)


def test_nobody_else_revokes_a_token(client, users, secretary, tree):
    key = services.issue_token(secretary)
    token = ApiToken.objects.get(user=secretary)
    for role in (Role.BRANCH_COMMITTEE, Role.MEMBER, Role.INTERNAL_AUDITOR):
        client.force_login(users[role])
        assert client.post(reverse("accounts:token_revoke", args=[token.pk])).status_code == 404
        other = services.issue_token(users[role])
        r = client.delete(f"/api/v1/auth/tokens/{token.pk}", headers=_bearer(other))
        assert r.status_code == 404
        r = client.get(f"/api/v1/auth/tokens?user={secretary.pk}", headers=_bearer(other))
        assert r.status_code == 404
    client.logout()
    assert _works(client, key)
    token.refresh_from_db()
    assert token.revoked_at is None


def test_api_lists_and_revokes_tokens(client, users, secretary):
    key = services.issue_token(secretary)
    mine = client.get("/api/v1/auth/tokens", headers=_bearer(key)).json()
    assert mine["count"] == 1 and mine["items"][0]["active"] and "token" not in mine["items"][0]
    admin_key = services.issue_token(users[Role.COMMITTEE_ADMIN])
    listed = client.get(f"/api/v1/auth/tokens?user={secretary.pk}", headers=_bearer(admin_key)).json()
    assert [t["id"] for t in listed["items"]] == [mine["items"][0]["id"]]
    r = client.delete(f"/api/v1/auth/tokens/{mine['items'][0]['id']}", headers=_bearer(admin_key))
    assert r.status_code == 200
    assert not _works(client, key)
    assert ApiToken.objects.get(user=secretary).revoked_reason == ApiToken.Revoked.ADMIN


def test_token_endpoint_tells_the_token_id(client, secretary):
    r = client.post("/api/v1/auth/token", {"username": secretary.username, "password": PASSWORD},
                    content_type="application/json")
    body = r.json()
    assert ApiToken.objects.get(pk=body["id"]).user == secretary and body["expires_at"]
