"""API authentication: the token flow with 等保 lockout, bearer tokens, session access for the docs,
error language, and the interactive docs working without any outside network."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client
from django.utils import timezone

from pbqms.accounts import services
from pbqms.accounts.models import ApiToken, LoginEvent, Role
from pbqms.conftest import PASSWORD

TOKEN_URL = "/api/v1/auth/token"


def _token(client, username, password, **extra):  # type: ignore[no-untyped-def]
    return client.post(TOKEN_URL, {"username": username, "password": password},
                       content_type="application/json", **extra)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def secretary(users):
    return users[Role.BRANCH_SECRETARY]


def test_good_credentials_give_a_working_token(client, secretary):
    response = _token(client, secretary.username, PASSWORD, REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200
    token = response.json()["token"]
    assert len(token) >= 32
    units = client.get("/api/v1/units", headers=_bearer(token))
    assert units.status_code == 200
    assert {u["code"] for u in units.json()["items"]} == {"B01", "B01G1"}
    # Login and token issue are both logged, with the caller's address.
    kinds = set(LoginEvent.objects.filter(user=secretary, ip="10.1.2.3").values_list("kind", flat=True))
    assert {LoginEvent.Kind.SUCCESS, LoginEvent.Kind.TOKEN} <= kinds
    # Only the token's hash is stored.
    assert not ApiToken.objects.filter(key_hash=token).exists()


def test_wrong_password_answers_401_and_is_logged(client, secretary):
    response = _token(client, secretary.username, "not-the-password", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 401
    assert response.json() == {"detail": "Wrong username or password."}
    assert LoginEvent.objects.filter(user=secretary, kind=LoginEvent.Kind.FAILURE).count() == 1
    unknown = _token(client, "nobody", "whatever", HTTP_ACCEPT_LANGUAGE="en")
    assert unknown.status_code == 401
    assert unknown.json() == response.json()  # never says whether the username exists


def test_lockout_after_five_failures(client, secretary):
    assert settings.LOGIN_LOCKOUT_ATTEMPTS == 5
    answers = [_token(client, secretary.username, "wrong", HTTP_ACCEPT_LANGUAGE="en") for _ in range(5)]
    assert all(a.status_code == 401 for a in answers)
    assert answers[3].json()["detail"] == "Wrong username or password."
    assert answers[4].json()["detail"].startswith("Too many failed attempts")
    # Locked: even the right password is refused now, with the lockout message.
    locked = _token(client, secretary.username, PASSWORD, HTTP_ACCEPT_LANGUAGE="en")
    assert locked.status_code == 401
    assert locked.json()["detail"].startswith("Too many failed attempts")
    assert "token" not in locked.json()
    assert LoginEvent.objects.filter(user=secretary, kind=LoginEvent.Kind.LOCKED).count() == 1
    assert not ApiToken.objects.filter(user=secretary).exists()


def test_expired_token_answers_401(client, secretary):
    token = services.issue_token(secretary)
    assert client.get("/api/v1/units", headers=_bearer(token)).status_code == 200
    ApiToken.objects.filter(user=secretary).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = client.get("/api/v1/units", headers=_bearer(token))
    assert response.status_code == 401
    assert response.json()["detail"]


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer not-a-token", "Token abc", "Basic dXNlcjpwdw=="])
def test_missing_or_bad_credentials_answer_401(client, tree, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/members", headers=headers)
    assert response.status_code == 401
    assert set(response.json()) == {"detail"}


def test_inactive_user_token_stops_working(client, secretary):
    token = services.issue_token(secretary)
    secretary.is_active = False
    secretary.save(update_fields=["is_active"])
    assert client.get("/api/v1/units", headers=_bearer(token)).status_code == 401


def test_expired_password_gets_no_token(client, secretary, settings):
    settings.PASSWORD_MAX_AGE_DAYS = 90
    type(secretary).objects.filter(pk=secretary.pk).update(
        password_changed_at=timezone.now() - dt.timedelta(days=91))
    response = _token(client, secretary.username, PASSWORD, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_errors_speak_the_users_language(client, secretary):
    """The user's own language wins; else the browser's; else zh-hans (the default)."""
    token = services.issue_token(secretary)
    default = client.get("/api/v1/units/NOPE", headers=_bearer(token))
    assert default.status_code == 404
    assert default["Content-Language"] == "zh-hans"
    browser = client.get("/api/v1/units/NOPE", headers={**_bearer(token), "Accept-Language": "en"})
    assert browser["Content-Language"] == "en"
    assert browser.json() == {"detail": "Not found."}
    secretary.language = "en"
    secretary.save(update_fields=["language"])
    own = client.get("/api/v1/units/NOPE", headers={**_bearer(token), "Accept-Language": "zh-hans"})
    assert own["Content-Language"] == "en"


def test_session_is_accepted_with_csrf(tree, secretary):
    """A signed-in browser (the interactive docs) may call the API; its writes need the CSRF token."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(secretary)
    assert browser.get("/api/v1/units").status_code == 200
    body = json.dumps({"post": "采煤工"})
    url = f"/api/v1/members/{tree.m01.pk}"
    refused = browser.patch(url, body, content_type="application/json")
    assert refused.status_code == 403
    docs = browser.get("/api/v1/docs")
    csrf = re.search(r'data-csrf-token="([^"]+)"', docs.content.decode()).group(1)
    accepted = browser.patch(url, body, content_type="application/json", headers={"X-CSRFToken": csrf})
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["post"] == "采煤工"


def test_openapi_describes_the_contract(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    for path, method in [("/api/v1/auth/token", "post"), ("/api/v1/units", "get"),
                         ("/api/v1/units/{code}", "get"), ("/api/v1/members", "get"),
                         ("/api/v1/members/{id}", "get")]:
        assert method in paths[path], path
    assert schema["components"]["securitySchemes"]["BearerAuth"] == {"type": "http", "scheme": "bearer"}
    kinds = schema["components"]["schemas"]["UnitKind"]["enum"]
    assert kinds == ["committee", "general_branch", "branch", "group"]
    statuses = schema["components"]["schemas"]["PartyStatus"]["enum"]
    assert statuses == ["applicant", "activist", "candidate", "probationary", "full", "masses"]


def test_docs_page_uses_only_local_static_files(client):
    """The system runs on isolated intranets: the docs page loads nothing from outside."""
    assert "ninja" in settings.INSTALLED_APPS  # makes ninja render its static-file template, not the CDN one
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, html
    for asset in assets:
        assert asset.startswith(settings.STATIC_URL), asset
        assert finders.find(asset.removeprefix(settings.STATIC_URL)), f"{asset} is not a local static file"
    assert "//" not in "".join(a.removeprefix("/") for a in assets)
    assert not re.search(r"https?://", html)
    config = json.loads(re.search(r'id="swagger-settings">(.*?)</script>', html, re.S).group(1))
    assert config["validatorUrl"] is None  # else Swagger UI calls validator.swagger.io
    assert config["url"] == "/api/v1/openapi.json"
