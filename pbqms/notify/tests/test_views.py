"""The inbox (own messages only, bounded queries), marking read, and a unit's robots page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from pbqms.accounts.models import Role
from pbqms.audit.models import AuditEntry
from pbqms.notify import channels, services
from pbqms.notify.models import ChatWebhook, Notification

HX = {"HTTP_HX_REQUEST": "true"}
WRITERS = {Role.COMMITTEE_SECRETARY, Role.COMMITTEE_ADMIN, Role.DEPARTMENT_STAFF}
WECOM_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=1a2b3c4d-aaaa-bbbb-cccc-0123456789ab"


def body(r) -> str:
    return r.content.decode()


@pytest.fixture
def messages_for_all(users, tree):
    """Three messages for each role's user, with the role in the title."""
    for role, user in users.items():
        for i in range(3):
            services.notify(key=f"k:{i}", recipients=[user], title=f"消息-{role}-{i}", body=f"正文-{role}-{i}",
                            link="/members/", unit=tree.b01)


# ---- the inbox --------------------------------------------------------------------------------

@pytest.mark.parametrize("role", list(Role.values))
def test_inbox_shows_only_own_messages(client, users, messages_for_all, role, django_assert_max_num_queries):
    client.force_login(users[role])
    with django_assert_max_num_queries(12):
        r = client.get(reverse("notify:inbox"))
    assert r.status_code == 200
    text = body(r)
    for other in Role.values:
        for i in range(3):
            assert (f"消息-{other}-{i}" in text) == (other == role)
    # newest first, all unread (bold)
    assert text.index(f"消息-{role}-2") < text.index(f"消息-{role}-0")
    assert text.count('class="notify-item unread"') == 3


def test_inbox_queries_do_not_grow_with_the_number_of_messages(client, users, tree,
                                                              django_assert_max_num_queries):
    user = users[Role.BRANCH_SECRETARY]
    for i in range(80):
        services.notify(key=f"k{i}", recipients=[user], title=f"t{i}", body="b", unit=tree.b01 if i % 2 else None)
    client.force_login(user)
    with django_assert_max_num_queries(12):
        r = client.get(reverse("notify:inbox"))
    page = r.context["page"]
    assert len(page.items) == 30 and page.total == 80 and page.has_next
    with django_assert_max_num_queries(12):
        r = client.get(reverse("notify:inbox") + "?page=3", **HX, HTTP_HX_TARGET="notify-results")
    assert len(r.context["page"].items) == 20
    assert "<html" not in body(r)


def test_reading_a_message_marks_it_and_follows_its_link(client, users, tree):
    user = users[Role.MEMBER]
    services.notify(key="a", recipients=[user], title="有链接", body="", link="/members/")
    services.notify(key="b", recipients=[user], title="无链接", body="")
    with_link = Notification.objects.get(key="a")
    without = Notification.objects.get(key="b")
    client.force_login(user)
    assert client.get(reverse("notify:read", args=[with_link.pk])).status_code == 405
    r = client.post(reverse("notify:read", args=[with_link.pk]))
    assert r.status_code == 302 and r["Location"] == "/members/"
    r = client.post(reverse("notify:read", args=[without.pk]))
    assert r.status_code == 302 and r["Location"] == reverse("notify:inbox")
    assert Notification.objects.filter(read_at__isnull=True).count() == 0
    r = client.get(reverse("notify:inbox") + "?unread=1")
    assert "暂无未读消息。" in body(r)


def test_unsafe_links_are_not_followed(client, users):
    user = users[Role.MEMBER]
    services.notify(key="a", recipients=[user], title="t", body="")
    n = Notification.objects.get()
    Notification.objects.filter(pk=n.pk).update(link="//evil.example/")
    client.force_login(user)
    r = client.post(reverse("notify:read", args=[n.pk]))
    assert r["Location"] == reverse("notify:inbox")


def test_someone_elses_message_is_not_found(client, users):
    a, b = users[Role.MEMBER], users[Role.COMMITTEE_ADMIN]
    services.notify(key="a", recipients=[b], title="别人的", body="")
    n = Notification.objects.get()
    client.force_login(a)
    assert client.post(reverse("notify:read", args=[n.pk])).status_code == 404
    assert client.get(reverse("notify:read", args=[n.pk])).status_code == 404
    assert Notification.objects.get().read_at is None


def test_mark_all_read_with_htmx_refreshes_list_and_badge(client, users, messages_for_all):
    user = users[Role.BRANCH_SECRETARY]
    client.force_login(user)
    r = client.get(reverse("notify:inbox"))
    assert 'id="notify-read-all"' in body(r)
    r = client.post(reverse("notify:read_all"), **HX)
    assert r.status_code == 200
    text = body(r)
    assert 'id="notify-badge"' in text and 'hx-swap-oob="true"' in text
    assert "notify-count" not in text  # the badge shows no count any more
    assert 'class="notify-item unread"' not in text
    assert Notification.objects.filter(recipient=user, read_at__isnull=True).count() == 0
    assert Notification.objects.filter(read_at__isnull=True).count() == 3 * (len(Role.values) - 1)
    # without htmx: a redirect back
    r = client.post(reverse("notify:read_all"))
    assert r.status_code == 302
    assert client.get(reverse("notify:read_all")).status_code == 405


def test_badge_partial_counts_unread(rf):
    from django.template.loader import render_to_string

    html = render_to_string("notify/_badge.html", {"unread_notifications": 3})
    assert 'href="/notifications/"' in html and ">3<" in html and "3 条未读消息" in html
    assert "99+" in render_to_string("notify/_badge.html", {"unread_notifications": 120})
    html = render_to_string("notify/_badge.html", {"unread_notifications": 0})
    assert "notify-count" not in html and "消息" in html


def test_inbox_in_english(english, users, messages_for_all):
    english.force_login(users[Role.MEMBER])
    text = body(english.get(reverse("notify:inbox")))
    assert "Mark all read" in text and "Messages" in text


def test_inbox_needs_login(client):
    r = client.get(reverse("notify:inbox"))
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]


# ---- robots page ------------------------------------------------------------------------------

@pytest.mark.parametrize("role", list(Role.values))
def test_webhooks_page_scope(client, users, tree, role, django_assert_max_num_queries):
    client.force_login(users[role])
    own = {Role.BRANCH_SECRETARY: "B01", Role.BRANCH_COMMITTEE: "B01", Role.GROUP_LEADER: "B01G1",
           Role.MEMBER: "B01"}.get(role, "SUB1")
    url = reverse("notify:webhooks", args=[own])
    if role in WRITERS:
        with django_assert_max_num_queries(14):
            assert client.get(url).status_code == 200
        assert client.get(reverse("notify:webhooks", args=["B01"])).status_code == 200
    else:
        assert client.get(url).status_code == 403
        assert client.post(url, {"action": "add", "kind": "wecom", "url": WECOM_URL}).status_code == 403
    # outside: 404 whatever the role
    assert client.get(reverse("notify:webhooks", args=["B03"])).status_code == 404
    assert client.post(reverse("notify:webhooks", args=["B03"]),
                       {"action": "add", "kind": "wecom", "url": WECOM_URL}).status_code == 404
    assert client.get(reverse("notify:webhooks", args=["NOPE"])).status_code == 404
    assert not ChatWebhook.objects.exists()


def test_add_switch_on_test_and_remove_a_robot(client, users, tree, monkeypatch):
    calls = []
    monkeypatch.setattr(channels, "post_json", lambda url, payload, timeout=5: calls.append((url, payload)))
    client.force_login(users[Role.COMMITTEE_ADMIN])
    url = reverse("notify:webhooks", args=["B01"])
    r = client.post(url, {"action": "add", "kind": "dingtalk", "url": "  https://oapi.dingtalk.com/robot/send"
                                                                     "?access_token=abcdef123456  ",
                          "secret": "SECabc"}, follow=True)
    assert "群机器人已保存。" in body(r)
    hook = ChatWebhook.objects.get()
    assert not hook.enabled and hook.has_secret
    text = body(r)
    assert "access_token=abcd****" in text and "abcdef123456" not in text and "SECabc" not in text
    r = client.post(url, {"action": "enable", "webhook": hook.pk}, follow=True)
    assert "机器人已开启。" in body(r)
    hook.refresh_from_db()
    assert hook.enabled
    r = client.post(url, {"action": "test", "webhook": hook.pk}, follow=True)
    assert "测试消息已发送" in body(r) and len(calls) == 1
    assert "第一党支部" in calls[0][1]["text"]["content"]
    r = client.post(url, {"action": "disable", "webhook": hook.pk}, follow=True)
    hook.refresh_from_db()
    assert not hook.enabled
    # a robot of another unit cannot be reached through this page
    other = services.save_webhook(None, tree.b02, "wecom", WECOM_URL, None, True)
    client.post(url, {"action": "delete", "webhook": other.pk})
    client.post(url, {"action": "delete", "webhook": "x"})
    assert ChatWebhook.objects.count() == 2
    r = client.post(url, {"action": "delete", "webhook": hook.pk}, follow=True)
    assert "机器人已移除。" in body(r)
    assert list(ChatWebhook.objects.all()) == [other]
    assert "abcdef123456" not in str(list(AuditEntry.objects.values_list("changes", flat=True)))


def test_bad_robot_input_shows_the_message_and_saves_nothing(client, users, tree):
    client.force_login(users[Role.COMMITTEE_ADMIN])
    url = reverse("notify:webhooks", args=["B01"])
    r = client.post(url, {"action": "add", "kind": "wecom", "url": "qyapi.weixin.qq.com/send"})
    assert r.status_code == 200
    assert "请填写机器人完整的 Webhook 地址，以 https:// 开头。" in body(r)
    r = client.post(url, {"action": "add", "kind": "wecom", "url": WECOM_URL, "secret": "abc"})
    assert "企业微信机器人不使用签名，请将密钥留空。" in body(r)
    assert not ChatWebhook.objects.exists()


def test_bad_robot_input_in_english(english, users, tree):
    english.force_login(users[Role.COMMITTEE_ADMIN])
    r = english.post(reverse("notify:webhooks", args=["B01"]), {"action": "add", "kind": "wecom", "url": "x"})
    assert "Enter the robot&#x27;s full webhook address, starting with https://." in body(r)
    assert not ChatWebhook.objects.exists()


def test_robot_on_an_internal_address_is_refused_in_english(english, users, tree):
    english.force_login(users[Role.COMMITTEE_ADMIN])
    r = english.post(reverse("notify:webhooks", args=["B01"]),
                     {"action": "add", "kind": "wecom", "url": "https://169.254.169.254/latest/"})
    assert "A robot&#x27;s address must be on the platform&#x27;s own host (qyapi.weixin.qq.com)" in body(r)
    assert not ChatWebhook.objects.exists()


def test_robot_on_an_internal_address_is_refused_at_saving_and_at_the_test_button(client, users, tree, monkeypatch):
    calls = []
    monkeypatch.setattr(channels, "post_json", lambda url, payload, timeout=5: calls.append(url))
    client.force_login(users[Role.COMMITTEE_ADMIN])
    url = reverse("notify:webhooks", args=["B01"])
    r = client.post(url, {"action": "add", "kind": "wecom", "url": "http://127.0.0.1:8000/admin/"})
    assert r.status_code == 200 and "PBQMS_ROBOT_HOSTS" in body(r) and "机器人地址必须位于平台自己的主机" in body(r)
    assert not ChatWebhook.objects.exists()
    # a robot stored earlier whose host now resolves inside: the test button calls nothing
    hook = services.save_webhook(None, tree.b01, "wecom", WECOM_URL, None, False)
    monkeypatch.setattr(channels, "resolve", lambda host, port: ["10.0.0.1"])
    r = client.post(url, {"action": "test", "webhook": hook.pk}, follow=True)
    assert "测试消息发送失败" in body(r) and "指向内部或回环网络地址" in body(r)
    assert calls == []


def test_failed_test_message_is_reported(client, users, tree, monkeypatch):
    def refuse(url, payload, timeout=5):
        raise channels.ChatError("errcode 93000: invalid webhook url")

    monkeypatch.setattr(channels, "post_json", refuse)
    hook = services.save_webhook(None, tree.b01, "wecom", WECOM_URL, None, False)
    client.force_login(users[Role.COMMITTEE_ADMIN])
    r = client.post(reverse("notify:webhooks", args=["B01"]), {"action": "test", "webhook": hook.pk}, follow=True)
    assert "测试消息发送失败" in body(r) and "93000" in body(r)


def test_recent_chat_deliveries_are_listed(client, users, tree, monkeypatch):
    monkeypatch.setattr(channels, "post_json", lambda url, payload, timeout=5: None)
    services.save_webhook(None, tree.b01, "wecom", WECOM_URL, None, True)
    services.notify(key="k", recipients=[], title="支部换届提醒", body="", unit=tree.b01)
    services.deliver_pending()
    client.force_login(users[Role.COMMITTEE_ADMIN])
    text = body(client.get(reverse("notify:webhooks", args=["B01"])))
    assert "支部换届提醒" in text and "已发送" in text
