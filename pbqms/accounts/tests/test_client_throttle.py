"""Per-client throttling (#21.7): failed sign-ins are counted per client address across every
username, alongside the per-account lockout, so nobody tries many accounts without slowing down.
The web login and the API token endpoint answer 429 with a translated message."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from pbqms.accounts.models import ApiToken, LoginEvent, Role, User
from pbqms.conftest import PASSWORD

ATTACKER, OTHER = "10.66.0.1", "10.66.0.2"


def web_login(client, username, password, ip, **extra):
    return client.post(reverse("accounts:login"), {"username": username, "password": password},
                       REMOTE_ADDR=ip, **extra)


def api_token(client, username, password, ip, **extra):
    return client.post("/api/v1/auth/token", {"username": username, "password": password},
                       content_type="application/json", REMOTE_ADDR=ip, **extra)


def _spray(client, n: int) -> None:
    """n failed sign-ins from ATTACKER, each on a different (unknown) account."""
    for i in range(n):
        assert web_login(client, f"guess{i}", "wrong", ATTACKER).status_code == 401


def test_many_accounts_from_one_address_are_throttled(client, users):
    assert settings.LOGIN_CLIENT_ATTEMPTS == 20
    target = users[Role.BRANCH_SECRETARY]
    _spray(client, 20)
    r = web_login(client, target.username, PASSWORD, ATTACKER)  # even the right password
    assert r.status_code == 429
    assert "您的地址登录失败次数过多" in r.content.decode()
    assert "_auth_user_id" not in client.session
    target.refresh_from_db()
    assert target.failed_login_count == 0 and target.locked_until is None  # the account is not punished
    assert LoginEvent.objects.filter(ip=ATTACKER, kind=LoginEvent.Kind.THROTTLED).count() == 1
    # another address signs in as usual
    assert web_login(client, target.username, PASSWORD, OTHER).status_code == 302


def test_throttle_message_in_english_and_on_the_api(client, users):
    _spray(client, 20)
    r = web_login(client, "anyone", "x", ATTACKER, HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 429 and "Too many failed sign-ins from your address" in r.content.decode()
    r = api_token(client, users[Role.MEMBER].username, PASSWORD, ATTACKER, HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 429
    assert r.json()["detail"].startswith("Too many failed sign-ins from your address: try again in ")
    assert not ApiToken.objects.exists()
    r = api_token(client, users[Role.MEMBER].username, PASSWORD, ATTACKER)
    assert r.status_code == 429 and "您的地址登录失败次数过多" in r.json()["detail"]


def test_failures_older_than_the_window_no_longer_count(client, users):
    import datetime as dt

    from django.utils import timezone

    _spray(client, 20)
    LoginEvent.objects.filter(ip=ATTACKER).update(at=timezone.now() - dt.timedelta(minutes=16))
    assert web_login(client, users[Role.MEMBER].username, PASSWORD, ATTACKER).status_code == 302


def test_per_account_lockout_still_applies_below_the_client_limit(client, users):
    member = users[Role.MEMBER]
    for _ in range(5):
        web_login(client, member.username, "wrong", OTHER)
    assert web_login(client, member.username, PASSWORD, OTHER).status_code == 401
    assert User.objects.get(pk=member.pk).locked_until is not None


@pytest.mark.parametrize("n", [19])
def test_below_the_limit_nobody_is_throttled(client, users, n):
    _spray(client, n)
    assert web_login(client, users[Role.MEMBER].username, PASSWORD, ATTACKER).status_code == 302
