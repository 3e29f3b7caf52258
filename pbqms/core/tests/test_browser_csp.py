"""The pages pass their Content-Security-Policy (#21.7): no inline script, no style attribute, no
eval. Each page is loaded in chromium, clicked through its htmx parts, and no violation may be
reported (neither the `securitypolicyviolation` event nor a console message)."""

from __future__ import annotations

import pytest

from pbqms.accounts.models import Role
from pbqms.assessment.tests import walk_results as W
from pbqms.conftest import PASSWORD

pytestmark = pytest.mark.browser

WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || '') + ' ' + (e.sourceFile || '') + ':' + e.lineNumber);
});
"""


def _watch(page) -> list[str]:
    seen: list[str] = []
    page.on("console", lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None)
    page.add_init_script(WATCH)
    return seen


def _sign_in(page, username: str) -> None:
    page.goto(page.base + "/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(page.base + "/")


def _violations(page, seen: list[str]) -> list[str]:
    return seen + page.evaluate("window.__csp || []")


def test_pages_send_a_policy_and_raise_no_violation(page, tree, users):
    data = W.build(users[Role.DEPARTMENT_STAFF], tree.sub1, [tree.b01, tree.b02])
    seen = _watch(page)
    _sign_in(page, "u_committee_secretary")
    pages = ["/", "/members/", "/activities/units/B01/heatmap/", "/activities/heatmap/",
             f"/assessment/results/{data['period']}/", f"/assessment/results/{data['period']}/dashboard/",
             f"/assessment/results/{data['period']}/units/B01/", "/rectification/findings/new/",
             "/objectives/", "/documents/", "/accounts/tokens/", "/api/v1/docs"]
    problems = []
    for path in pages:
        response = page.goto(page.base + path)
        assert response.status < 400, (path, response.status)
        policy = response.headers.get("content-security-policy", "")
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy, (path, policy)
        page.wait_for_load_state("networkidle")
        if found := _violations(page, seen):
            problems.append((path, found))
            seen.clear()
    assert not problems, problems


def test_htmx_form_works_under_the_policy(page, tree, users):
    """A form with htmx (the activity record form: attendance, file upload) and the members search."""
    seen = _watch(page)
    _sign_in(page, "u_branch_secretary")
    page.goto(page.base + "/members/")
    search = page.locator("input[name=q]").first
    search.fill("张")
    page.wait_for_load_state("networkidle")
    page.goto(page.base + "/activities/units/B01/records/new/")
    page.wait_for_load_state("networkidle")
    box = page.locator("input[data-focus-reason]").first
    if box.count():
        box.uncheck()
    assert not _violations(page, seen)
