"""Integer parameters of the API never reach the database or the calendar unbounded (#21.7): a year
out of 1949..2100, a negative or 20-digit number answers 422 (or 404 for an id), never 500."""

from __future__ import annotations

import pytest

from pbqms.api import api

HUGE = "9" * 20


def _int_params() -> list[tuple[str, str, str, str]]:
    """(path, operation id, parameter, where) for every integer parameter of a GET operation."""
    schema = api.get_openapi_schema(path_prefix="")
    found = []
    for path, methods in schema["paths"].items():
        op = methods.get("get")
        if not op:
            continue
        for p in op.get("parameters", []):
            s = p.get("schema", {})
            kinds = {s.get("type")} | {a.get("type") for a in s.get("anyOf", [])}
            if "integer" in kinds:
                found.append((path, op["operationId"], p["name"], p["in"]))
    return found


def test_every_year_parameter_is_bounded():
    schema = api.get_openapi_schema(path_prefix="")
    years = []
    for path, methods in schema["paths"].items():
        for op in methods.values():
            for p in op.get("parameters", []):
                if p["name"] == "year":
                    s = p["schema"]
                    bounded = [s] + s.get("anyOf", [])
                    years.append(path)
                    assert any(b.get("minimum", -1) >= 1949 and b.get("maximum", 10**9) <= 2100 for b in bounded), (
                        path, s)
    assert len(years) >= 5


@pytest.mark.parametrize("value", ["-1", "10000", HUGE, "0"])
def test_year_out_of_range_answers_422(client, admin_user, value):
    from pbqms.accounts import services

    headers = {"Authorization": f"Bearer {services.issue_token(admin_user)}", "Accept-Language": "en"}
    for path, op_id, name, _where in _int_params():
        if name != "year" or "{" in path:
            continue
        r = client.get("/api/v1" + path, {name: value}, headers=headers)
        assert r.status_code == 422, (op_id, value, r.status_code, r.content[:200])


def test_no_integer_parameter_answers_500(client, tree, admin_user):
    from pbqms.accounts import services

    headers = {"Authorization": f"Bearer {services.issue_token(admin_user)}"}
    checked = 0
    for path, op_id, name, where in _int_params():
        for value in (HUGE, "-" + HUGE, "-1"):
            if where == "path":
                url = "/api/v1" + path.replace("{" + name + "}", value)
                if "{" in url:
                    url = url.replace("{code}", "B01")
                if "{" in url:
                    continue
                r = client.get(url, headers=headers)
                assert r.status_code in (404, 422), (op_id, name, value, r.status_code, r.content[:200])
            else:
                url = "/api/v1" + path.replace("{code}", "B01")
                if "{" in url:
                    continue
                r = client.get(url, {name: value}, headers=headers)
                assert r.status_code in (200, 404, 422), (op_id, name, value, r.status_code, r.content[:200])
            checked += 1
    assert checked > 30
