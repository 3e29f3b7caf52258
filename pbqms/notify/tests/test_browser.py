"""Browser: the inbox (open a message, mark all read with htmx) and a unit's robots page."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from pbqms.accounts.models import Role
from pbqms.conftest import PASSWORD
from pbqms.notify import services
from pbqms.notify.models import ChatWebhook, Notification

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(__file__).resolve().parents[3] / "screenshots"


def sign_in(page, username):
    page.goto(page.base + "/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(page.base + "/")


def shot(page, name):
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"notify-{name}.png"), full_page=True)


def test_inbox_open_and_mark_all_read(page, users, tree):
    user = users[Role.BRANCH_SECRETARY]
    services.notify(key="a", recipients=[user], title="整改通知书 党纠〔2026〕017号 3天后到期",
                    body="第一党支部的整改反馈单须于2026年7月15日前提交。", link="/units/B01/", unit=tree.b01)
    services.notify(key="b", recipients=[user], title="支部委员会任期将于60天后届满",
                    body="请提前做好换届准备（换届提醒）。", unit=tree.b01)
    services.notify(key="c", recipients=[user], title="三会一课：本季度党课尚未登记", body="", unit=tree.b01)
    Notification.objects.filter(key="c").update(read_at=Notification.objects.get(key="c").created_at)
    services.notify(key="x", recipients=[users[Role.MEMBER]], title="别人的消息", body="")
    sign_in(page, "u_branch_secretary")
    page.goto(page.base + "/notifications/")
    items = page.locator(".notify-item")
    assert items.count() == 3
    assert page.locator(".notify-item.unread").count() == 2
    assert "别人的消息" not in page.locator("main").inner_text()
    shot(page, "inbox")
    page.click("#notify-read-all")
    expect(page.locator(".notify-item.unread")).to_have_count(0)
    assert page.locator("#notify-read-all").is_disabled()
    shot(page, "inbox-read")
    page.locator("button.notify-title", has_text="党纠").click()
    page.wait_for_url(page.base + "/units/B01/")
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(page.base + "/notifications/")
    shot(page, "inbox-mobile")


def test_robots_page_add_and_switch_on(page, users, tree):
    sign_in(page, "u_committee_admin")
    page.goto(page.base + "/notifications/units/B01/webhooks/")
    shot(page, "webhooks-empty")
    page.select_option("select[name=kind]", "dingtalk")
    page.fill("input[name=url]", "https://oapi.dingtalk.com/robot/send?access_token=0123456789abcdef")
    page.fill("input[name=secret]", "SEC0123456789")
    page.click("form.form button[type=submit].primary")
    page.wait_for_selector("table.notify-hooks")
    assert "access_token=0123****" in page.locator("main").inner_text()
    page.click("button[value=enable]")
    page.wait_for_selector(".badge.hook-on")
    assert ChatWebhook.objects.get().enabled
    page.locator("details.notify-remove summary").click()
    shot(page, "webhooks")
