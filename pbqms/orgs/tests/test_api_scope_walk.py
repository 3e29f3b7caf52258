"""The API scope walk: every operation of the NinjaAPI, as every role, against a target inside the
role's scope and one outside it (unit B03 / member m03 of the `tree` fixture, plus GRP and SUB2,
which no role in the fixture reads).

Operations are read from the API object itself, so a new endpoint fails this test until it is
given a case below: nothing reaches the API without its scope being walked.

Asserted for every role and operation:
- a target outside answers 404 and the database is exactly as before (no row, no audit entry);
- a target inside never answers 404 or 5xx; reads answer 200;
- no answer, whatever its status, names any record outside the role's scope.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction

from pbqms import scope
from pbqms.accounts import services as accounts
from pbqms.accounts.models import Role
from pbqms.api import api
from pbqms.audit.models import AuditEntry
from pbqms.conftest import ROLE_UNIT
from pbqms.core.tests import walk_registry
from pbqms.core.tests.walk_registry import Call, Case, Ctx
from pbqms.members.models import CommitteeRole, Member, StatusStep, Transfer
from pbqms.orgs.models import Unit, UnitMove

PREFIX = "/api/v1"
PUBLIC = {"auth_token"}  # the only operation callable without credentials
OUTSIDE_CODES = ("B03", "SUB2", "GRP")
OUTSIDE_TEXT = ("B03", "SUB2", "GRP", "第三党支部", "二矿党委", "集团党委", "王五")


DAY = "2024-03-01"

CASES: dict[str, Case] = {
    "units_list": Case(
        inside=lambda c: [Call(query={"limit": 500}), Call(query={"parent": c.unit, "limit": 500}),
                          Call(query={"q": "党", "limit": 500}), Call(query={"q": "第三"}),
                          Call(query={"q": "B03"}), Call(query={"kind": "branch", "active": "true"})],
        outside=lambda c: [Call(query={"parent": code}) for code in OUTSIDE_CODES],
    ),
    "units_get": Case(inside=lambda c: [Call()]),
    "units_create": Case(
        inside=lambda c: [Call(body={"code": "NEW1", "name": "新组织", "kind": "group", "parent": c.unit}),
                          Call(body={"code": "NEW2", "name": "新组织", "kind": "branch", "parent": c.unit})],
        outside=lambda c: [Call(body={"code": "NEW1", "name": "新组织", "kind": "group", "parent": "B03"}),
                           Call(body={"code": "NEW2", "name": "新组织", "kind": "branch", "parent": "SUB2"}),
                           Call(body={"code": "NEW3", "name": "新组织", "kind": "committee",
                                      "parent": "GRP"})],
    ),
    "units_update": Case(
        inside=lambda c: [Call(body={"name": "改名"})],
        outside=lambda c: [Call(body={"name": "改名"})],
    ),
    "units_move": Case(
        inside=lambda c: [Call(body={"parent": c.unit, "reason": "调整"})],
        outside=lambda c: [Call(body={"parent": c.unit}),  # B03 under an inside unit
                           Call(path_params={"code": c.unit}, body={"parent": "SUB2"}),
                           Call(path_params={"code": c.unit}, body={"parent": "B03"})],
    ),
    "units_dissolve": Case(
        inside=lambda c: [Call(body={"reason": "撤销"})],
        outside=lambda c: [Call(body={"reason": "撤销"})],
    ),
    "members_list": Case(
        inside=lambda c: [Call(query={"limit": 500, "state": ""}), Call(query={"unit": c.unit, "limit": 500}),
                          Call(query={"q": "w", "limit": 500}), Call(query={"q": "王五", "state": ""}),
                          Call(query={"q": "wangwu", "state": ""}),
                          Call(query={"status": "full", "limit": 500})],
        outside=lambda c: [Call(query={"unit": code}) for code in OUTSIDE_CODES],
    ),
    "members_get": Case(inside=lambda c: [Call()]),
    "members_create": Case(
        inside=lambda c: [Call(body={"unit": c.branch, "name": "赵六", "gender": "M",
                                     "status": "applicant"})],
        outside=lambda c: [Call(body={"unit": "B03", "name": "赵六", "gender": "M", "status": "applicant"}),
                           Call(body={"unit": c.branch, "group": "B03", "name": "赵六", "gender": "M",
                                      "status": "applicant"})],
    ),
    "members_update": Case(
        inside=lambda c: [Call(body={"post": "采煤工"})],
        outside=lambda c: [Call(body={"post": "采煤工"}),
                           Call(path_params={"id": c.m01}, body={"group": "B03"})],
    ),
    "members_status": Case(
        inside=lambda c: [Call(body={"status": "applicant", "date": DAY})],
        outside=lambda c: [Call(body={"status": "applicant", "date": DAY})],
    ),
    "members_transfer": Case(
        inside=lambda c: [Call(body={"direction": "internal", "to_unit": c.branch, "date": DAY}),
                          Call(body={"direction": "out", "external_org": "外单位党委", "date": DAY})],
        outside=lambda c: [Call(body={"direction": "out", "external_org": "外单位党委", "date": DAY}),
                           Call(body={"direction": "internal", "to_unit": c.branch, "date": DAY}),
                           Call(path_params={"id": c.m01}, body={"direction": "internal", "to_unit": "B03",
                                                                  "date": DAY})],
    ),
}


def all_cases() -> dict[str, Case]:
    return CASES | walk_registry.api_cases()


def operations() -> list[tuple[str, str, str, bool]]:
    """(method, path, operation id, needs auth) for every operation of the API object."""
    schema = api.get_openapi_schema(path_prefix="")
    ops = []
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            ops.append((method.upper(), path, op["operationId"], bool(op.get("security"))))
    return ops


def _url(path: str, params: dict[str, Any]) -> str:
    return PREFIX + path.format(**params)


def _request(client, method: str, url: str, call: Call, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    if method == "GET":
        return client.get(url, call.query, headers=headers)
    body = json.dumps(call.body or {})
    return client.generic(method, url + ("?" + "&".join(f"{k}={v}" for k, v in call.query.items())
                                         if call.query else ""),
                          body, content_type="application/json", headers=headers)


def fingerprint() -> tuple[Any, ...]:
    """Everything an API write could touch."""
    return (
        sorted(Unit.objects.values_list()),
        sorted(Member.objects.values_list()),
        StatusStep.objects.count(), Transfer.objects.count(), UnitMove.objects.count(),
        CommitteeRole.objects.count(), AuditEntry.objects.count(),
        walk_registry.fingerprints(),
    )


def _leaks(response) -> list[str]:  # type: ignore[no-untyped-def]
    try:
        text = json.dumps(response.json(), ensure_ascii=False)
    except ValueError:
        text = response.content.decode(errors="replace")
    return [marker for marker in OUTSIDE_TEXT + tuple(walk_registry.outside_words()) if marker in text]


def _generic_params(path: str, ctx: Ctx, outside: bool) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if "{code}" in path:
        params["code"] = "B03" if outside else ctx.unit
    if "{id}" in path:
        params["id"] = ctx.m03 if outside else ctx.m01
    return params


def test_every_operation_has_a_scope_case():
    ops = operations()
    public = {op_id for _, _, op_id, secured in ops if not secured}
    assert public == PUBLIC, "only the token endpoint may be called without credentials"
    missing = {op_id for _, _, op_id, secured in ops if secured} - set(all_cases())
    assert not missing, f"give these API operations a case in the scope walk: {sorted(missing)}"
    # Each route of the API is in the schema: none escapes the walk by hiding from the docs.
    routes = [p for p in api.urls[0] if p.name not in {"openapi-json", "openapi-view", "api-root"}]
    assert len(routes) == len(ops)


def test_without_credentials_every_operation_answers_401(client, tree, users):
    extra = walk_registry.setup_all(tree, users)
    ctx = Ctx(tree, unit="B01", branch="B01", role=Role.BRANCH_SECRETARY, extra=extra)
    # Cases may make their records when first asked: ask for every call before taking the fingerprint.
    calls = [(method, path, op_id, call) for method, path, op_id, secured in operations() if secured
             for call in all_cases()[op_id].inside(ctx)]
    before = fingerprint()
    for method, path, op_id, call in calls:
        url = _url(path, {**_generic_params(path, ctx, False), **call.path_params})
        response = _request(client, method, url, call, {})
        assert response.status_code == 401, (op_id, response.content)
        assert response.json()["detail"]
    assert fingerprint() == before


def test_scope_walk(client, tree, any_role):
    role, user = any_role
    headers = {"Authorization": f"Bearer {accounts.issue_token(user)}"}
    b01 = tree.b01
    from pbqms.conftest import make_user

    others = {r: make_user(tree, r) for r in ROLE_UNIT if r != role}
    extra = walk_registry.setup_all(tree, {**others, role: user})
    ctx = Ctx(tree, unit=ROLE_UNIT[role], branch="B01" if scope.can_read_unit(user, b01) else ROLE_UNIT[role],
              role=role, extra=extra)
    problems: list[str] = []
    for method, path, op_id, secured in operations():
        if not secured:
            continue
        case = all_cases()[op_id]
        for side, calls in (("inside", case.inside(ctx)), ("outside", case.outside(ctx))):
            for call in calls:
                url = _url(path, {**_generic_params(path, ctx, side == "outside"), **call.path_params})
                label = f"{role} {method} {url} {call.query or ''} {call.body or ''} ({side})"
                # Each call runs in a savepoint rolled back afterwards, so calls do not depend on
                # one another's effects.
                with transaction.atomic():
                    before = fingerprint()
                    response = _request(client, method, url, call, headers)
                    after = fingerprint()
                    transaction.set_rollback(True)
                status = response.status_code
                if leaks := _leaks(response):
                    problems.append(f"{label}: answer names {leaks}")
                if side == "outside":
                    if status != 404:
                        problems.append(f"{label}: expected 404, got {status} {response.content[:200]!r}")
                    if after != before:
                        problems.append(f"{label}: changed the database")
                elif status == 404 or status >= 500 or (method == "GET" and status != 200):
                    problems.append(f"{label}: got {status} {response.content[:200]!r}")
                elif (role == Role.INTERNAL_AUDITOR and after != before
                      and op_id not in walk_registry.auditor_writes()):
                    problems.append(f"{label}: the internal auditor changed the database ({status})")
    assert not problems, "\n".join(problems)


def test_walk_reaches_writes_for_writers(client, tree, users):
    """The walk is not vacuous: a writer's inside writes do succeed (2xx) for each write kind."""
    user = users[Role.COMMITTEE_ADMIN]
    headers = {"Authorization": f"Bearer {accounts.issue_token(user)}"}
    ok = {
        ("PATCH", "/units/SUB1"): {"name": "一矿党委（新）"},
        ("POST", "/units"): {"code": "B04", "name": "第四党支部", "kind": "branch", "parent": "SUB1"},
        ("PATCH", f"/members/{tree.m01.pk}"): {"post": "采煤工"},
        ("POST", "/members"): {"unit": "B01", "name": "赵六", "gender": "M", "status": "applicant"},
    }
    for (method, path), body in ok.items():
        response = _request(client, method, PREFIX + path, Call(body=body), headers)
        assert response.status_code in (200, 201), (path, response.content)
