"""The OpenAPI document and the interactive docs are not public in production (#21.7): without
PBQMS_PUBLIC_API_DOCS a signed-in user or a bearer token is needed."""

from __future__ import annotations

import pytest

from pbqms.accounts import services
from pbqms.accounts.models import Role

DOCS, SCHEMA = "/api/v1/docs", "/api/v1/openapi.json"


@pytest.fixture
def closed(settings):
    settings.PBQMS_PUBLIC_API_DOCS = False


def test_production_default_keeps_the_docs_closed():
    import os
    import subprocess
    import sys

    env = {**os.environ, "PBQMS_PRODUCTION": "1", "SECRET_KEY": "k" * 60, "DEBUG": ""}
    env.pop("PBQMS_PUBLIC_API_DOCS", None)
    out = subprocess.run([sys.executable, "-c", "from pbqms import settings; print(settings.PBQMS_PUBLIC_API_DOCS)"],
                         env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_anonymous_is_refused(client, closed):
    r = client.get(SCHEMA, HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 401 and r.json()["detail"] == "Sign in first: send a valid API token."
    assert "paths" not in r.content.decode()
    r = client.get(DOCS)
    assert r.status_code == 302 and r["Location"].startswith("/accounts/login/")


def test_signed_in_user_or_token_reads_them(client, closed, users):
    key = services.issue_token(users[Role.MEMBER])
    r = client.get(SCHEMA, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200 and "paths" in r.json()
    client.force_login(users[Role.MEMBER])
    assert client.get(SCHEMA).status_code == 200
    assert client.get(DOCS).status_code == 200


def test_a_revoked_token_does_not_open_them(client, closed, users):
    key = services.issue_token(users[Role.MEMBER])
    services.revoke_tokens(users[Role.MEMBER], "owner")
    assert client.get(SCHEMA, headers={"Authorization": f"Bearer {key}"}).status_code == 401
