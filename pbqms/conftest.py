"""Shared fixtures: a small tree with a unit inside and one outside every role's scope, and one
user per role, so tests can run each check as every role (the GRC-style scope matrix).

Tree:
    GRP  集团党委 (committee)
    ├── SUB1 一矿党委 (committee)               ← committee/department roles sit here
    │   ├── B01 第一党支部 (branch)            ← branch roles sit here
    │   │   └── B01G1 第一党小组 (group)       ← group leader sits here
    │   └── B02 第二党支部 (branch)
    └── SUB2 二矿党委 (committee)
        └── B03 第三党支部 (branch)            ← outside everybody's scope but admin's
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

import pytest

from pbqms.accounts import services as accounts
from pbqms.accounts.models import Role, User
from pbqms.members import services as members
from pbqms.members.models import Member, PartyStatus
from pbqms.orgs import services as orgs
from pbqms.orgs.models import Unit, UnitKind

PASSWORD = "Test#2026pw"


@dataclass
class Tree:
    grp: Unit
    sub1: Unit
    b01: Unit
    g1: Unit
    b02: Unit
    sub2: Unit
    b03: Unit
    m01: Member  # full member of B01, in group G1
    m02: Member  # full member of B02
    m03: Member  # full member of B03 (outside)

    def unit(self, code: str) -> Unit:
        return Unit.objects.get(code=code)


# A valid ID number generator (GB 11643) for tests.
def make_id_number(seq: int, born: dt.date = dt.date(1985, 3, 12), male: bool = True) -> str:
    from pbqms.members.idnumber import check_digit

    order = (seq % 499) * 2 + (1 if male else 0)
    body = f"320102{born:%Y%m%d}{order:03d}"
    return body + check_digit(body)


@pytest.fixture
def tree(db) -> Tree:
    grp = orgs.create_unit(None, code="GRP", name="集团党委", kind=UnitKind.COMMITTEE, parent=None)
    sub1 = orgs.create_unit(None, code="SUB1", name="一矿党委", kind=UnitKind.COMMITTEE, parent=grp)
    b01 = orgs.create_unit(None, code="B01", name="第一党支部", kind=UnitKind.BRANCH, parent=sub1, order=1)
    g1 = orgs.create_unit(None, code="B01G1", name="第一党小组", kind=UnitKind.GROUP, parent=b01)
    b02 = orgs.create_unit(None, code="B02", name="第二党支部", kind=UnitKind.BRANCH, parent=sub1, order=2)
    sub2 = orgs.create_unit(None, code="SUB2", name="二矿党委", kind=UnitKind.COMMITTEE, parent=grp)
    b03 = orgs.create_unit(None, code="B03", name="第三党支部", kind=UnitKind.BRANCH, parent=sub2)
    born = dt.date(1985, 3, 12)
    m01 = members.create_member(None, unit=b01, group=g1, name="张三", gender="M", status=PartyStatus.FULL,
                                id_number=make_id_number(1, born), birth_date=born, phone="13800001111",
                                status_date=dt.date(2010, 7, 1))
    m02 = members.create_member(None, unit=b02, name="李四", gender="M", status=PartyStatus.FULL,
                                id_number=make_id_number(2, born), status_date=dt.date(2011, 7, 1))
    m03 = members.create_member(None, unit=b03, name="王五", gender="M", status=PartyStatus.FULL,
                                id_number=make_id_number(3, born), status_date=dt.date(2012, 7, 1))
    return Tree(grp, sub1, b01, g1, b02, sub2, b03, m01, m02, m03)


# Where each role's assignment sits in the fixture tree.
ROLE_UNIT = {
    Role.COMMITTEE_SECRETARY: "SUB1",
    Role.COMMITTEE_ADMIN: "SUB1",
    Role.DEPARTMENT_STAFF: "SUB1",
    Role.INTERNAL_AUDITOR: "SUB1",
    Role.BRANCH_SECRETARY: "B01",
    Role.BRANCH_COMMITTEE: "B01",
    Role.GROUP_LEADER: "B01G1",
    Role.MEMBER: "B01",
}
ALL_ROLES = list(ROLE_UNIT)


def make_user(tree: Tree, role: str) -> User:
    user = accounts.create_user(None, username=f"u_{role}", password=PASSWORD, validate=False,
                                member=tree.m01 if role == Role.MEMBER else None)
    accounts.grant_role(None, user, role, Unit.objects.get(code=ROLE_UNIT[role]))
    return user


@pytest.fixture
def users(tree) -> dict[str, User]:
    return {role: make_user(tree, role) for role in ALL_ROLES}


@pytest.fixture(params=ALL_ROLES)
def any_role(request, tree):
    """Runs the test once per role; yields (role, user)."""
    return request.param, make_user(tree, request.param)


@pytest.fixture
def admin_user(db) -> User:
    return User.objects.create_superuser("root", "root@example.com", PASSWORD)


@pytest.fixture(autouse=True)
def _file_root(settings, tmp_path):
    settings.PBQMS_FILE_ROOT = tmp_path / "pbqms-files"  # attachments never land in the data folder


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Argon2 is the production hasher (asserted in accounts tests); tests hash many passwords.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


CHROMIUM = os.environ.get("PBQMS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium driven by Playwright (never a downloaded browser); skipped loudly if absent."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"NO CHROMIUM at {CHROMIUM}: browser test skipped (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # around it are still synchronous.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield b
            b.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    pg = context.new_page()
    pg.set_default_timeout(15000)
    pg.base = live_server.url
    yield pg
    context.close()


@pytest.fixture
def english(client):
    """The test client asks for English; tests that assert English messages use it (zh-hans is the default)."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture(autouse=True)
def _default_language_after_each_test():
    # A request by an English-speaking user leaves English active in this thread; reset it so
    # one test's language never leaks into the next.
    yield
    from django.utils import translation

    translation.activate("zh-hans")
