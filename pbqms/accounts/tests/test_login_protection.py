"""等保2.0 三级 login protection through the login page: lockout, logging, idle timeout, expiry."""

import datetime as dt
import time

import pytest
from django.urls import reverse
from django.utils import timezone

from pbqms.accounts import services
from pbqms.accounts.models import LoginEvent, Role, User
from pbqms.conftest import PASSWORD


def login(client, username, password):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def test_production_hasher_is_argon2():
    from pbqms import settings as project_settings

    assert project_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def test_login_success_is_logged(client, users):
    r = login(client, "u_branch_secretary", PASSWORD)
    assert r.status_code == 302
    assert LoginEvent.objects.filter(username="u_branch_secretary", kind="success").count() == 1


def test_lockout_after_five_failures_for_fifteen_minutes(client, users):
    for _ in range(5):
        r = login(client, "u_member", "wrong-password")
        assert r.status_code == 401
    r = login(client, "u_member", PASSWORD)  # right password, but locked now
    assert r.status_code == 401
    assert "15" in r.content.decode() or "锁定" in r.content.decode()
    user = User.objects.get(username="u_member")
    assert user.locked_until > timezone.now() + dt.timedelta(minutes=14)
    assert LoginEvent.objects.filter(username="u_member", kind="failure").count() == 5
    assert LoginEvent.objects.filter(username="u_member", kind="locked").count() == 1
    # after the lock expires the right password works again
    User.objects.filter(pk=user.pk).update(locked_until=timezone.now() - dt.timedelta(seconds=1))
    assert login(client, "u_member", PASSWORD).status_code == 302


def test_unknown_username_gets_the_same_message(client, users):
    a = login(client, "nobody", "x").content.decode()
    b = login(client, "u_member", "x").content.decode()
    assert LoginEvent.objects.filter(username="nobody", kind="failure").exists()
    marker = 'role="alert">'
    assert a.split(marker)[1].split("<")[0] == b.split(marker)[1].split("<")[0]


def test_idle_session_times_out(client, users, settings):
    client.force_login(users[Role.COMMITTEE_ADMIN])
    assert client.get("/").status_code == 200
    session = client.session
    session["last_seen"] = int(time.time()) - settings.SESSION_IDLE_MINUTES * 60 - 5
    session.save()
    r = client.get("/")
    assert r.status_code == 302 and reverse("accounts:login") in r["Location"]
    assert LoginEvent.objects.filter(kind="timeout").exists()
    assert client.get("/").status_code == 302  # signed out for good


def test_expired_password_must_be_changed(client, users, settings):
    user = users[Role.BRANCH_SECRETARY]
    User.objects.filter(pk=user.pk).update(password_changed_at=timezone.now() - dt.timedelta(days=91))
    client.force_login(user)
    r = client.get("/")
    assert r.status_code == 302 and r["Location"] == reverse("accounts:password_change")
    r = client.post(reverse("accounts:password_change"),
                    {"old_password": PASSWORD, "new_password": "simple", "new_password2": "simple"})
    assert r.status_code == 200  # refused: too short and too simple
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    r = client.post(reverse("accounts:password_change"),
                    {"old_password": PASSWORD, "new_password": "Better#Pass2026", "new_password2": "Better#Pass2026"})
    assert r.status_code == 302
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("password,ok", [("abcdefgh", False), ("abcdefg1", False), ("Kq7mzwpx", True),
                                         ("abc#efg1", True), ("Ab1#", False)])
def test_password_complexity(users, password, ok):
    from django.core.exceptions import ValidationError

    user = users[Role.MEMBER]
    if ok:
        services.set_password(user, password)
    else:
        with pytest.raises(ValidationError):
            services.set_password(user, password)


def test_language_switch_is_kept_per_user(client, users):
    user = users[Role.MEMBER]
    client.force_login(user)
    client.post(reverse("accounts:language"), {"language": "en", "next": "/"})
    user.refresh_from_db()
    assert user.language == "en"
    r = client.get(reverse("accounts:password_change"))
    assert r["Content-Language"] == "en"
    client.post(reverse("accounts:language"), {"language": "zh-hans", "next": "/"})
    r = client.get(reverse("accounts:password_change"))
    assert r["Content-Language"] == "zh-hans"


def test_default_language_is_simplified_chinese(client):
    r = client.get(reverse("accounts:login"))
    assert r["Content-Language"] == "zh-hans"


def test_logout_is_logged(client, users):
    login(client, "u_member", PASSWORD)
    client.post(reverse("accounts:logout"))
    assert LoginEvent.objects.filter(username="u_member", kind="logout").exists()
