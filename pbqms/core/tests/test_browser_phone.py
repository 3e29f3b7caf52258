"""At phone width (390 px) the home page of each role and the results board fit the screen: the
page never scrolls sideways (#20.9). Screenshots in screenshots/phone_*.png."""

from __future__ import annotations

from pathlib import Path

import pytest

from pbqms.accounts.models import Role
from pbqms.assessment.tests.test_browser_results import rich
from pbqms.core.tests.test_browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(__file__).resolve().parents[3] / "screenshots"


def fits(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"phone_{name}.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, (name, width)


def test_home_pages_and_results_board_fit_a_phone(page, tree, users):
    data = rich(tree, users)
    page.set_viewport_size({"width": 390, "height": 844})
    for role in (Role.COMMITTEE_SECRETARY, Role.DEPARTMENT_STAFF, Role.BRANCH_SECRETARY, Role.MEMBER):
        page.context.clear_cookies()
        sign_in(page, f"u_{role}")
        page.wait_for_url(page.base + "/")
        assert page.locator(".worklist").first.is_visible()
        fits(page, f"home_{role}")
        if role == Role.COMMITTEE_SECRETARY:
            page.goto(f"{page.base}/assessment/results/{data['q2'].pk}/dashboard/?unit=B02&models=B01,B05")
            assert page.locator(".ar-radar-table, .ar-bench").first.is_visible()
            fits(page, "results_board")
