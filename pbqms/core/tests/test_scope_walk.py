"""Walk every web URL as every role, against a target inside and one outside the role's scope.

Proves that no read or write crosses scope: outside targets answer 403/404 and never show outside
names; list pages never list outside records whatever the query string; POSTs with outside targets
(in the path or in the form) change nothing outside. The API has its own walk
(pbqms/orgs/tests/test_api_scope_walk.py). A new URL with an unknown parameter fails this test
until the walk learns how to fill it, so nothing escapes the walk by being new.
"""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from pbqms.accounts import services as accounts
from pbqms.accounts.models import Role, RoleAssignment, User
from pbqms.audit.models import AuditEntry
from pbqms.members.models import Member
from pbqms.orgs.models import Unit
from pbqms.roster.models import ImportJob

from . import walk_registry

OUTSIDE_WORDS = ["王五", "第三党支部", "二矿党委", "outsider_acct"]
SKIP_PREFIXES = ("api/", "jsi18n/", "static/", "media/")
PUBLIC = {"accounts:login", "accounts:language", "accounts:logout"}
PAYLOAD = {
    "name": "越界写入", "code": "XX1", "kind": "branch", "reason": "越界", "parent": "B03", "unit": "B03",
    "to_unit": "B03", "new_parent": "B03", "target": "B03", "status": "activist", "date": "2026-01-02",
    "started_on": "2026-01-02", "ended_on": "2026-01-03", "role": "member", "direction": "internal",
    "external_org": "外单位", "q": "王五", "language": "zh-hans", "username": "x_walk",
    "password": "Walk#2026x", "display_name": "x", "member_id": "", "post": "越界",
}
QUERY_PROBES = ["", "?unit=B03", "?parent=B03", "?q=王五", "?q=wang", "?code=B03", "?unit=SUB2&status=full"]


def _walk(resolver: URLResolver, prefix: str = "", ns: str = "") -> list[tuple[str, str, list[str]]]:
    found = []
    for p in resolver.url_patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            found += _walk(p, route, (ns + ":" if ns else "") + p.namespace if p.namespace else ns)
        elif isinstance(p, URLPattern):
            name = f"{ns}:{p.name}" if ns else (p.name or route)
            found.append((route, name, re.findall(r"<(?:\w+:)?(\w+)>", route)))
    return found


def web_routes() -> list[tuple[str, str, list[str]]]:
    return [r for r in _walk(get_resolver()) if not r[0].startswith(SKIP_PREFIXES)]


def _fill(route: str, values: dict[str, str]) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], route)


def _outside_state(outside_path: str) -> tuple:
    units = list(Unit.objects.filter(path__startswith=outside_path).order_by("pk").values())
    people = list(Member.objects.filter(org_path__startswith=outside_path).order_by("pk").values())
    audit = AuditEntry.objects.filter(org_path__startswith=outside_path).count()
    outsider_roles = list(RoleAssignment.objects.filter(unit__path__startswith=outside_path).values_list("pk"))
    return (units, people, audit, outsider_roles, Unit.objects.count(), Member.objects.count(),
            walk_registry.outside_states(outside_path))


def _inside_state() -> tuple:
    return (list(Unit.objects.order_by("pk").values()), list(Member.objects.order_by("pk").values()),
            list(RoleAssignment.objects.order_by("pk").values_list("pk")),
            list(User.objects.order_by("pk").values_list("pk", "is_active", "password")),
            walk_registry.fingerprints())


@pytest.fixture
def targets(tree, users):
    outsider = accounts.create_user(None, username="outsider_acct", password="x", validate=False)
    outsider_role = accounts.grant_role(None, outsider, Role.BRANCH_SECRETARY, tree.b03)
    own_jobs = {}
    for role, user in users.items():
        own_jobs[role] = ImportJob.objects.create(created_by=user, original_name="in.xlsx", file="in.xlsx").pk
    other_job = ImportJob.objects.create(created_by=outsider, original_name="out.xlsx", file="out.xlsx").pk
    insider = accounts.create_user(None, username="insider_acct", password="x", validate=False)
    insider_role = accounts.grant_role(None, insider, Role.MEMBER, tree.b01)
    return {"outsider": outsider, "outsider_role": outsider_role, "own_jobs": own_jobs, "other_job": other_job,
            "insider": insider, "insider_role": insider_role, "extra": walk_registry.setup_all(tree, users)}


def _values(role: str, inside: bool, tree, users, targets) -> dict[str, str]:
    own_unit = {Role.BRANCH_SECRETARY: "B01", Role.BRANCH_COMMITTEE: "B01", Role.GROUP_LEADER: "B01G1",
                Role.MEMBER: "B01"}.get(role, "SUB1")
    more = walk_registry.web_values(role, inside, tree, targets["extra"])
    if inside:
        account = targets["insider"]
        return more | {"code": own_unit, "pk": str(tree.m01.pk), "member_pk": str(tree.m01.pk),
                "user_pk": str(account.pk), "account_pk": str(account.pk),
                "assignment_pk": str(targets["insider_role"].pk), "job_pk": str(targets["own_jobs"][role])}
    return more | {"code": "B03", "pk": str(tree.m03.pk), "member_pk": str(tree.m03.pk),
            "user_pk": str(targets["outsider"].pk), "account_pk": str(targets["outsider"].pk),
            "assignment_pk": str(targets["outsider_role"].pk), "job_pk": str(targets["other_job"])}


def _pk_for(name: str, values: dict[str, str]) -> dict[str, str]:
    # `pk` means a member on members: URLs, an account on accounts: URLs, a job on roster: URLs.
    v = dict(values)
    namespace = name.split(":")[0]
    for key, value in values.items():
        if key.startswith(namespace + ":"):
            v[key.split(":", 1)[1]] = value
    if name.startswith("accounts:"):
        v["pk"] = values["user_pk"]
    elif name.startswith("roster:"):
        v["pk"] = values["job_pk"]
    return v


def test_every_route_is_known_to_the_walk():
    known = {"code", "pk", "member_pk", "user_pk", "account_pk", "assignment_pk", "job_pk"} | walk_registry.web_params()
    for route, name, params in web_routes():
        assert set(params) <= known, f"teach the scope walk how to fill {params} in {name} ({route})"


@pytest.mark.parametrize("role", list(Role.values))
def test_no_read_or_write_crosses_scope(client, tree, users, targets, role):
    user: User = users[role]
    client.force_login(user)
    before = _outside_state(tree.sub2.path)
    for route, name, params in web_routes():
        if name in PUBLIC:
            continue
        outside = _fill(route, _pk_for(name, _values(role, False, tree, users, targets)))
        inside = _fill(route, _pk_for(name, _values(role, True, tree, users, targets)))
        probes = [inside + q for q in QUERY_PROBES] if not params else [inside]
        for url in probes:
            r = client.get(url)
            assert r.status_code < 500, (role, url, r.status_code)
            if r.status_code == 200 and r.get("Content-Type", "").startswith("text/html"):
                body = r.content.decode()
                # a search box echoes its own query; only words the page was not given count
                leaked = [w for w in OUTSIDE_WORDS + walk_registry.outside_words() if w in body and w not in url]
                assert not leaked, (role, url, leaked)
        if params:
            r = client.get(outside)
            assert r.status_code in (403, 404, 405), (role, outside, r.status_code)
            r = client.post(outside, PAYLOAD)
            assert r.status_code in (403, 404, 405), (role, outside, r.status_code)
        mine = _inside_state() if role == Role.INTERNAL_AUDITOR else None
        r = client.post(inside, PAYLOAD)
        assert r.status_code < 500, (role, inside, r.status_code)
        assert _outside_state(tree.sub2.path) == before, (role, "POST", inside)
        if mine is not None and name not in walk_registry.auditor_writes():
            # the internal auditor reads and writes nothing (DOMAIN.md; their own inbox and tokens aside)
            assert _inside_state() == mine, (role, "POST", inside, r.status_code)
