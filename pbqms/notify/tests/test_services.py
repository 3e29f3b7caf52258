"""notify(): idempotent messages; the delivery sweep: once only, after crashes, with retries;
the group-chat formats and signatures; the robots' management, scope and audit trail."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from urllib.parse import parse_qs, unquote_plus, urlsplit

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from pbqms.accounts.models import Role
from pbqms.audit.models import AuditAction, AuditEntry
from pbqms.core import crypto
from pbqms.notify import channels, selectors, services
from pbqms.notify.models import ChatWebhook, Delivery, DeliveryStatus, Notification, mask_url

WECOM_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=1a2b3c4d-aaaa-bbbb-cccc-0123456789ab"
DING_URL = "https://oapi.dingtalk.com/robot/send?access_token=0123456789abcdef0123456789abcdef"
FEISHU_URL = "https://open.feishu.cn/open-apis/bot/v2/hook/8a9b7c6d-1111-2222-3333-444455556666"
REAL_PINNED_CALL = channels._Pinned.__call__  # before the autouse fixture replaces it


@pytest.fixture
def sent(monkeypatch):
    """Replace the one outgoing HTTP function: capture (url, payload) instead of calling out."""
    calls: list[tuple[str, dict]] = []

    def capture(url, payload, timeout=channels.TIMEOUT):
        assert timeout == 5
        calls.append((url, payload))

    monkeypatch.setattr(channels, "post_json", capture)
    return calls


def people(users, *roles, email=True):
    out = []
    for role in roles:
        u = users[role]
        if email:
            u.email = f"{role}@example.com"
            u.save(update_fields=["email"])
        out.append(u)
    return out


def hook(unit, kind="wecom", url=WECOM_URL, secret="", enabled=True):
    return services.save_webhook(None, unit, kind, url, secret, enabled)


def age(minutes: int) -> None:
    """Move every claim back in time, as if `minutes` had passed."""
    for d in Delivery.objects.exclude(claimed_at=None):
        Delivery.objects.filter(pk=d.pk).update(claimed_at=d.claimed_at - dt.timedelta(minutes=minutes))


# ---- notify() ---------------------------------------------------------------------------------

def test_notify_twice_creates_nothing_the_second_time(users, tree, sent):
    recipients = people(users, Role.BRANCH_SECRETARY, Role.BRANCH_COMMITTEE)
    hook(tree.b01)
    args = dict(key="rect:notice:17:due:3d", recipients=recipients, title="整改通知书即将到期",
                body="第17号整改通知书3天后到期。", link="/rectification/17/", unit=tree.b01)
    assert services.notify(**args) == 2
    rows = sorted(Notification.objects.values_list("pk", "recipient_id", "key", "org_path"))
    deliveries = sorted(Delivery.objects.values_list("pk", "channel", "target"))
    assert services.notify(**args) == 0
    assert services.notify(**args | {"recipients": recipients + [users[Role.MEMBER]]}) == 1
    assert sorted(Notification.objects.values_list("pk", "recipient_id", "key", "org_path"))[:2] == rows
    assert Notification.objects.count() == 3
    # 2 e-mails and one chat message; the member has no address, the chat goes once per key
    assert len(deliveries) == 3
    assert Delivery.objects.count() == 3
    assert {r[3] for r in rows} == {tree.b01.path}


def test_notify_validates_its_input_and_skips_inactive_accounts(users, tree):
    user = users[Role.MEMBER]
    with pytest.raises(ValidationError):
        services.notify(key="", recipients=[user], title="x", body="")
    with pytest.raises(ValidationError):
        services.notify(key="k", recipients=[user], title=" ", body="")
    with pytest.raises(ValidationError) as e:
        services.notify(key="k", recipients=[user], title="x", body="", link="https://evil.example/")
    assert "/" in e.value.messages[0]
    assert Notification.objects.count() == 0
    user.is_active = False
    user.save()
    assert services.notify(key="k", recipients=[user, None], title="x", body="") == 0


def test_in_language_and_recipient_language(users):
    user = users[Role.MEMBER]
    user.language = "en"
    assert services.in_language(user, lambda: _("Messages")) == "Messages"
    user.language = ""
    assert services.in_language(user, lambda: _("Messages")) == "消息"
    with translation.override("en"):
        user.language = "zh-hans"
        with services.recipient_language(user):
            assert _("Messages") == "消息"
        assert _("Messages") == "Messages"


def test_notify_queues_the_delivery_task_after_commit(users, tree, settings, django_capture_on_commit_callbacks):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    [user] = people(users, Role.BRANCH_SECRETARY)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.notify(key="k1", recipients=[user], title="提醒", body="正文", link="/members/")
    assert len(callbacks) == 1
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [user.email]
    assert Delivery.objects.get().status == DeliveryStatus.SENT
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.notify(key="k1", recipients=[user], title="提醒", body="正文")
        services.notify(key="k2", recipients=[user], title="提醒", body="正文", email=False)
    assert callbacks == []  # nothing new to deliver: no task queued
    assert len(mail.outbox) == 1


def test_many_notify_calls_in_one_transaction_queue_one_run(users, tree, django_capture_on_commit_callbacks):
    recipients = people(users, *Role.values)
    with django_capture_on_commit_callbacks() as callbacks:
        for i, user in enumerate(recipients):
            services.notify(key=f"k{i}", recipients=[user], title="t", body="b")
    assert len(callbacks) == 1
    assert Delivery.objects.count() == len(recipients)


# ---- e-mail -----------------------------------------------------------------------------------

def test_email_is_delivered_once_even_when_the_sweep_runs_twice(users, tree, settings):
    settings.PBQMS_SITE_URL = "https://djgl.example.cn/"
    a, b = people(users, Role.BRANCH_SECRETARY, Role.COMMITTEE_SECRETARY)
    b.email = a.email  # one mailbox shared by two accounts still gets one e-mail
    b.save()
    services.notify(key="k", recipients=[a, b], title="支部换届提醒", body="第一党支部委员会任期将满。",
                    link="/units/B01/", unit=tree.b01)
    assert services.deliver_pending() == 1
    assert services.deliver_pending() == 0
    services.notify(key="k", recipients=[a, b], title="支部换届提醒", body="第一党支部委员会任期将满。")
    assert services.deliver_pending() == 0
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "支部换届提醒" and message.to == [a.email]
    assert "第一党支部委员会任期将满。" in message.body
    assert "https://djgl.example.cn/units/B01/" in message.body
    d = Delivery.objects.get()
    assert (d.status, d.attempts, d.last_error) == (DeliveryStatus.SENT, 1, "") and d.sent_at


def test_email_off_and_recipients_without_address(users, tree):
    a, b = people(users, Role.BRANCH_SECRETARY, Role.COMMITTEE_SECRETARY)
    c = users[Role.MEMBER]  # no address
    services.notify(key="k", recipients=[a, b, c], title="t", body="b", email=False)
    services.notify(key="k2", recipients=[c], title="t", body="b")
    assert Delivery.objects.count() == 0
    assert services.deliver_pending() == 0 and mail.outbox == []


def test_killed_worker_loses_nothing_and_duplicates_nothing(users, tree, sent):
    recipients = people(users, *Role.values)
    hook(tree.b01)
    services.notify(key="k", recipients=recipients, title="t", body="b", unit=tree.b01)
    total = Delivery.objects.count()
    assert total == len(Role.values) + 1
    # a worker claims three, then dies before sending any of them
    claimed = services.claim(3, timezone.now())
    assert len(claimed) == 3
    assert Delivery.objects.filter(status=DeliveryStatus.SENDING).count() == 3
    # a rerun within the lease sends what was left pending, and leaves the dead worker's rows alone
    assert services.deliver_pending() == total - 3
    assert Delivery.objects.filter(status=DeliveryStatus.SENDING).count() == 3
    assert services.deliver_pending() == 0
    # after the lease, the next run takes them over: each is sent exactly once
    age(11)
    assert services.deliver_pending() == 3
    assert services.deliver_pending() == 0
    age(30)
    assert services.deliver_pending() == 0
    assert Delivery.objects.filter(status=DeliveryStatus.SENT).count() == total
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in recipients)
    assert len(sent) == 1
    assert set(Delivery.objects.filter(pk__in=claimed).values_list("attempts", flat=True)) == {2}


def test_a_run_that_overstays_its_lease_changes_nothing_it_no_longer_holds(users, tree):
    [user] = people(users, Role.MEMBER)
    services.notify(key="k", recipients=[user], title="t", body="b")
    first = timezone.now()
    services.claim(10, first)
    age(11)
    services.claim(10, timezone.now())  # taken over
    d = Delivery.objects.get()
    services._finish(d, first, status=DeliveryStatus.FAILED)  # the old run reports late
    assert Delivery.objects.get().status == DeliveryStatus.SENDING


def test_failure_is_retried_then_recorded_after_three_attempts(users, tree, monkeypatch):
    [user] = people(users, Role.MEMBER)

    def broken(delivery, connection):
        raise OSError("Connection refused")

    monkeypatch.setattr(services, "send_email", broken)
    services.notify(key="k", recipients=[user], title="t", body="b")
    assert services.deliver_pending() == 0
    d = Delivery.objects.get()
    assert (d.status, d.attempts) == (DeliveryStatus.PENDING, 1)
    assert d.last_error == "OSError: Connection refused"
    assert services.deliver_pending() == 0  # not before the retry delay
    assert Delivery.objects.get().attempts == 1
    age(11)
    services.deliver_pending()
    assert Delivery.objects.get().attempts == 2
    age(11)
    services.deliver_pending()
    d = Delivery.objects.get()
    assert (d.status, d.attempts) == (DeliveryStatus.FAILED, 3)
    assert "Connection refused" in d.last_error
    age(60)
    assert services.deliver_pending() == 0
    assert Delivery.objects.get().attempts == 3


def test_a_worker_dying_on_the_last_attempt_marks_the_delivery_failed(users, tree):
    [user] = people(users, Role.MEMBER)
    services.notify(key="k", recipients=[user], title="t", body="b")
    Delivery.objects.update(attempts=2)
    services.claim(10, timezone.now())
    age(11)
    assert services.deliver_pending() == 0
    d = Delivery.objects.get()
    assert (d.status, d.attempts) == (DeliveryStatus.FAILED, 3) and "worker stopped" in d.last_error
    assert mail.outbox == []


def test_a_follow_up_run_is_queued_for_after_the_lease(users, tree, settings):
    from django_tasks_db.models import DBTaskResult

    [user] = people(users, Role.MEMBER)
    services.notify(key="k", recipients=[user], title="t", body="b")
    before = timezone.now()
    assert services.deliver_pending(follow_up=True) == 1
    task = DBTaskResult.objects.get()
    assert task.task_path.endswith("deliver_pending_task")
    assert task.run_after >= before + services.LEASE
    assert services.deliver_pending(follow_up=True) == 0
    assert DBTaskResult.objects.count() == 1  # a run that claims nothing queues nothing


# ---- group chats ------------------------------------------------------------------------------

def test_wecom_format(users, tree, sent, settings):
    settings.PBQMS_SITE_URL = "http://10.1.2.3:8000"
    hook(tree.b01, "wecom", WECOM_URL)
    services.notify(key="k", recipients=[], title="三会一课提醒", body="本月支部党员大会尚未召开。",
                    link="/units/B01/", unit=tree.b01)
    assert services.deliver_pending() == 1
    assert sent == [(WECOM_URL, {"msgtype": "text", "text": {
        "content": "三会一课提醒\n\n本月支部党员大会尚未召开。\n\nhttp://10.1.2.3:8000/units/B01/"}})]


def test_dingtalk_format_and_signature(users, tree, sent):
    secret = "SEC0123456789abcdef"
    hook(tree.b01, "dingtalk", DING_URL, secret)
    services.notify(key="k", recipients=[], title="标题", body="内容", unit=tree.b01)
    before = int(timezone.now().timestamp() * 1000)
    assert services.deliver_pending() == 1
    [(url, payload)] = sent
    assert payload == {"msgtype": "text", "text": {"content": "标题\n\n内容"}}
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert query["access_token"] == ["0123456789abcdef0123456789abcdef"]
    ts = int(query["timestamp"][0])
    assert before - 1000 <= ts <= before + 60_000
    expected = base64.b64encode(hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest())
    assert query["sign"] == [expected.decode()]
    # the sign is URL-encoded in the address (base64 may hold + / =)
    raw_sign = parts.query.split("sign=")[1]
    assert unquote_plus(raw_sign) == expected.decode()


def test_dingtalk_without_secret_is_unsigned(users, tree, sent):
    hook(tree.b01, "dingtalk", DING_URL)
    services.notify(key="k", recipients=[], title="标题", body="", unit=tree.b01)
    services.deliver_pending()
    assert sent == [(DING_URL, {"msgtype": "text", "text": {"content": "标题"}})]


def test_feishu_format_and_signature(users, tree, sent):
    secret = "feishu-secret-xyz"
    hook(tree.b01, "feishu", FEISHU_URL, secret)
    services.notify(key="k", recipients=[], title="标题", body="内容", unit=tree.b01)
    services.deliver_pending()
    [(url, payload)] = sent
    assert url == FEISHU_URL
    ts = int(payload["timestamp"])
    assert abs(ts - timezone.now().timestamp()) < 60
    expected = base64.b64encode(hmac.new(f"{ts}\n{secret}".encode(), b"", hashlib.sha256).digest()).decode()
    assert payload == {"timestamp": str(ts), "sign": expected, "msg_type": "text", "content": {"text": "标题\n\n内容"}}


def test_feishu_without_secret(users, tree, sent):
    hook(tree.b01, "feishu", FEISHU_URL)
    services.notify(key="k", recipients=[], title="标题", body="内容", unit=tree.b01)
    services.deliver_pending()
    assert sent == [(FEISHU_URL, {"msg_type": "text", "content": {"text": "标题\n\n内容"}})]


def test_signatures_match_the_platforms_published_examples():
    # The algorithm of each platform's documentation, computed independently here.
    assert channels.dingtalk_sign("SECxyz", 1700000000000) == base64.b64encode(
        hmac.new(b"SECxyz", b"1700000000000\nSECxyz", hashlib.sha256).digest()).decode()
    assert channels.feishu_sign("abc", 1700000000) == base64.b64encode(
        hmac.new(b"1700000000\nabc", digestmod=hashlib.sha256).digest()).decode()
    req = channels.build_request("dingtalk", DING_URL, "x", "SECxyz", now=1700000000.0)
    assert "timestamp=1700000000000&sign=" in req.url


def test_long_texts_are_cut_to_what_the_platform_takes():
    req = channels.build_request("wecom", WECOM_URL, "党" * 5000)
    content = req.payload["text"]["content"]
    assert len(content.encode()) <= 2000 and content.endswith("…")


class FakeConnection:
    """Stands in for http.client's connections: records the request, answers from `answers`."""

    made: list[FakeConnection] = []
    answers: list[tuple[int, bytes]] = []

    def __init__(self, host, port, timeout=None, context=None):
        self.host, self.port, self.timeout, self.tls = host, port, timeout, context is not None
        FakeConnection.made.append(self)

    def request(self, method, path, body=None, headers=None):
        self.method, self.path, self.body, self.headers = method, path, json.loads(body), headers

    def getresponse(self):
        status, raw = FakeConnection.answers.pop(0)

        class Answer:
            reason = "OK" if status == 200 else "Found"

            def read(self, n=-1):
                return raw
        answer = Answer()
        answer.status = status
        return answer

    def close(self):
        self.closed = True


def test_post_json_sends_json_and_reads_the_error_code(monkeypatch):
    """The real post_json, with the HTTP connection replaced: method, path, headers, body, timeout,
    error codes, the checked address pinned, no redirect followed."""
    monkeypatch.setattr(channels.http.client, "HTTPSConnection", FakeConnection)
    FakeConnection.made, FakeConnection.answers = [], [
        (200, b'{"errcode":0,"errmsg":"ok"}'), (200, b'{"errcode":310000,"errmsg":"sign not match"}'),
        (200, b'{"code":19021,"msg":"sign match fail"}'), (200, b"not json"), (302, b"")]
    channels.post_json(WECOM_URL, {"msgtype": "text", "text": {"content": "党建"}})
    c = FakeConnection.made[0]
    assert (c.host, c.port, c.timeout, c.tls, c.method) == ("qyapi.weixin.qq.com", 443, 5, True, "POST")
    assert c.path == "/cgi-bin/webhook/send?key=1a2b3c4d-aaaa-bbbb-cccc-0123456789ab"
    assert c.body == {"msgtype": "text", "text": {"content": "党建"}} and c.closed
    assert c.headers["Content-Type"] == "application/json; charset=utf-8"
    assert c._create_connection.addresses == ("101.91.22.57",)  # connects to the address that was checked
    with pytest.raises(channels.ChatError, match="310000"):
        channels.post_json(DING_URL, {})
    with pytest.raises(channels.ChatError, match="19021"):
        channels.post_json(FEISHU_URL, {})
    channels.post_json(WECOM_URL, {})  # a 200 without JSON counts as delivered
    with pytest.raises(channels.ChatError, match="HTTP 302"):  # a redirect is not followed
        channels.post_json(WECOM_URL, {})
    assert len(FakeConnection.made) == 5
    with pytest.raises(channels.AddressRefused):
        channels.post_json("file:///etc/passwd", {})
    assert len(FakeConnection.made) == 5


def test_pinned_connection_tries_each_checked_address(monkeypatch):
    tried = []

    def connect(address, timeout=None, source=None):
        tried.append(address)
        raise OSError("unreachable")

    monkeypatch.setattr(channels.socket, "create_connection", connect)
    pinned = channels._Pinned(("101.91.22.57", "101.91.22.58"))
    with pytest.raises(OSError, match="unreachable"):
        REAL_PINNED_CALL(pinned, ("qyapi.weixin.qq.com", 443), 5)  # the host name given is not looked up
    assert tried == [("101.91.22.57", 443), ("101.91.22.58", 443)]


# ---- where robots may point (SSRF) --------------------------------------------------------------

@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "172.16.0.9", "172.31.255.1", "192.168.1.1",
                                     "169.254.169.254", "0.0.0.0", "100.64.0.1", "::1", "fc00::1", "fd12::1",
                                     "fe80::1", "::ffff:127.0.0.1", "not-an-ip"])
def test_internal_addresses_are_not_public(address):
    assert not channels.is_public(address)


@pytest.mark.parametrize("address", ["101.91.22.57", "2408:8000::1"])
def test_internet_addresses_are_public(address):
    assert channels.is_public(address)


REFUSED_URLS = [
    ("wecom", "http://127.0.0.1:8000/admin/"),
    ("wecom", "https://localhost/hook"),
    ("wecom", "https://169.254.169.254/latest/meta-data/"),
    ("wecom", "https://[::1]/hook"),
    ("wecom", "https://intranet.example.cn/cgi-bin/webhook/send?key=1"),
    ("wecom", "https://qyapi.weixin.qq.com.evil.cn/cgi-bin/webhook/send?key=1"),
    ("wecom", "https://qyapi.weixin.qq.com@10.0.0.1/cgi-bin/webhook/send?key=1"),
    ("wecom", "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=1"),
    ("wecom", "https://qyapi.weixin.qq.com:8443/cgi-bin/webhook/send?key=1"),
    ("wecom", "https://oapi.dingtalk.com/robot/send?access_token=1"),  # another platform's host
    ("feishu", "https://open.feishu.cn.internal/open-apis/bot/v2/hook/1"),
]


@pytest.mark.parametrize(("kind", "url"), REFUSED_URLS)
def test_save_webhook_refuses_hosts_other_than_the_platforms(users, tree, kind, url):
    before = AuditEntry.objects.count()
    with pytest.raises(ValidationError) as e:
        services.save_webhook(users[Role.COMMITTEE_ADMIN], tree.b01, kind, url, "", True)
    assert e.value.code == "url"
    message = e.value.messages[0]
    assert ("PBQMS_ROBOT_HOSTS" in message and "机器人" in message) or "https://" in message or "端口" in message
    assert not ChatWebhook.objects.exists() and AuditEntry.objects.count() == before


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.8", "172.20.1.1", "192.168.0.10", "169.254.169.254",
                                     "::1", "fd00::8"])
def test_save_webhook_refuses_a_platform_host_resolving_to_an_internal_address(users, tree, monkeypatch, address):
    seen = []
    monkeypatch.setattr(channels, "resolve", lambda host, port: seen.append((host, port)) or ["101.91.22.57", address])
    with pytest.raises(ValidationError) as e:
        services.save_webhook(users[Role.COMMITTEE_ADMIN], tree.b01, "wecom", WECOM_URL, "", True)
    assert e.value.messages == ["主机“qyapi.weixin.qq.com”指向内部或回环网络地址；群机器人只调用互联网上的平台。"]
    assert seen == [("qyapi.weixin.qq.com", 443)]
    assert not ChatWebhook.objects.exists()


def test_save_webhook_refuses_a_host_that_does_not_resolve(users, tree, monkeypatch):
    def fail(host, port):
        raise OSError("Name or service not known")

    monkeypatch.setattr(channels, "resolve", fail)
    with pytest.raises(ValidationError) as e:
        services.save_webhook(users[Role.COMMITTEE_ADMIN], tree.b01, "feishu", FEISHU_URL, "", True)
    assert e.value.messages == ["找不到主机“open.feishu.cn”，请检查地址。"]
    assert not ChatWebhook.objects.exists()


def test_refusals_in_english(users, tree, monkeypatch):
    with translation.override("en"):
        with pytest.raises(ValidationError) as e:
            services.save_webhook(users[Role.COMMITTEE_ADMIN], tree.b01, "wecom", "https://10.0.0.1/x", "", True)
        assert e.value.messages == [
            "A robot's address must be on the platform's own host (qyapi.weixin.qq.com); another host, such as an "
            "intranet relay, only when the system administrator lists it in PBQMS_ROBOT_HOSTS."]
        monkeypatch.setattr(channels, "resolve", lambda host, port: ["127.0.0.1"])
        with pytest.raises(ValidationError) as e:
            services.save_webhook(users[Role.COMMITTEE_ADMIN], tree.b01, "wecom", WECOM_URL, "", True)
        assert e.value.messages == ["The host “qyapi.weixin.qq.com” points to an internal or loopback network "
                                    "address; robots only call the platforms on the internet."]
    assert not ChatWebhook.objects.exists()


def test_all_platform_hosts_are_accepted(users, tree):
    for kind, url in [("wecom", WECOM_URL), ("dingtalk", DING_URL), ("feishu", FEISHU_URL),
                      ("feishu", "https://open.larksuite.com/open-apis/bot/v2/hook/8a9b7c6d-1111")]:
        services.save_webhook(users[Role.COMMITTEE_ADMIN], tree.b01, kind, url, "", False)
    assert ChatWebhook.objects.count() == 4


def test_a_configured_relay_may_be_internal(users, tree, settings, monkeypatch, sent):
    settings.PBQMS_ROBOT_HOSTS = ["relay.dangjian.local"]
    monkeypatch.setattr(channels, "resolve", lambda host, port: ["10.8.0.5"])
    admin = users[Role.COMMITTEE_ADMIN]
    h = services.save_webhook(admin, tree.b01, "dingtalk", "http://relay.dangjian.local:8080/robot/send?t=1", "",
                              False)
    assert services.test_webhook(admin, h) == (True, "")
    assert sent[0][0] == "http://relay.dangjian.local:8080/robot/send?t=1"
    # a host not listed stays refused, and a listed host is not a licence for others
    with pytest.raises(ValidationError):
        services.save_webhook(admin, tree.b01, "dingtalk", "http://relay2.dangjian.local/robot/send", "", False)
    settings.PBQMS_ROBOT_HOSTS = "relay.dangjian.local, Relay2.Dangjian.Local"  # the environment's form
    services.save_webhook(admin, tree.b01, "dingtalk", "http://relay2.dangjian.local/robot/send", "", False)


def test_test_button_refuses_an_internal_address_at_sending(users, tree, monkeypatch, sent):
    """A robot saved while its host was public (or before this check) and now resolving inside:
    the test button calls nothing and says why."""
    admin = users[Role.COMMITTEE_ADMIN]
    h = hook(tree.b01, enabled=False)
    ChatWebhook.objects.filter(pk=h.pk).update(url="http://127.0.0.1:5432/")  # stored before the check existed
    h.refresh_from_db()
    ok, error = services.test_webhook(admin, h)
    assert not ok and "PBQMS_ROBOT_HOSTS" in error and sent == []
    h2 = hook(tree.b02, enabled=False)
    monkeypatch.setattr(channels, "resolve", lambda host, port: ["192.168.3.4"])  # DNS now answers inside
    ok, error = services.test_webhook(admin, h2)
    assert (ok, error) == (False, "主机“qyapi.weixin.qq.com”指向内部或回环网络地址；群机器人只调用互联网上的平台。")
    assert sent == []


def test_queued_message_to_an_address_now_internal_fails_without_a_call(users, tree, monkeypatch, sent):
    hook(tree.b01)
    services.notify(key="k", recipients=[], title="提醒", body="", unit=tree.b01)
    monkeypatch.setattr(channels, "resolve", lambda host, port: ["10.0.0.7"])
    assert services.deliver_pending() == 0
    d = Delivery.objects.get()
    assert d.status == DeliveryStatus.FAILED and d.attempts == 1 and "private" in d.last_error
    assert sent == []


def test_chat_goes_to_the_units_own_enabled_robots_only(users, tree, sent):
    hook(tree.b01, "wecom", WECOM_URL, enabled=False)
    hook(tree.sub1, "feishu", FEISHU_URL, enabled=True)  # the parent's robot
    services.notify(key="k", recipients=people(users, Role.MEMBER), title="t", body="b", unit=tree.b01)
    services.notify(key="k2", recipients=[], title="t", body="b", unit=tree.b01, chat=True)
    assert Delivery.objects.exclude(channel="email").count() == 0
    services.deliver_pending()
    assert sent == []


def test_a_robot_switched_off_after_queueing_is_never_called(users, tree, sent):
    h = hook(tree.b01)
    services.notify(key="k", recipients=[], title="t", body="b", unit=tree.b01)
    services.set_webhook_enabled(None, h, False)
    assert services.deliver_pending() == 0
    d = Delivery.objects.get()
    assert d.status == DeliveryStatus.FAILED and d.attempts == 1
    h2 = hook(tree.b02)
    services.notify(key="k", recipients=[], title="t", body="b", unit=tree.b02)
    services.delete_webhook(None, h2)
    services.deliver_pending()
    assert sent == []


def test_no_outside_call_without_a_robot(users, tree, monkeypatch):
    def forbidden(*a, **k):
        raise AssertionError("called out")

    monkeypatch.setattr(channels, "post_json", forbidden)
    services.notify(key="k", recipients=people(users, *Role.values), title="t", body="b", unit=tree.b01)
    services.notify(key="k2", recipients=[], title="t", body="b", unit=tree.sub1)
    assert services.deliver_pending() == len(Role.values)  # e-mails only
    assert not Delivery.objects.exclude(channel="email").exists()


def test_chat_failure_is_recorded(users, tree, monkeypatch):
    def refuse(url, payload, timeout=5):
        raise channels.ChatError("errcode 93000: invalid webhook url")

    monkeypatch.setattr(channels, "post_json", refuse)
    hook(tree.b01)
    services.notify(key="k", recipients=[], title="t", body="b", unit=tree.b01)
    for _i in range(3):
        services.deliver_pending()
        age(11)
    d = Delivery.objects.get()
    assert (d.status, d.attempts) == (DeliveryStatus.FAILED, 3)
    assert d.last_error == "ChatError: errcode 93000: invalid webhook url"


# ---- robots: management, scope, audit ---------------------------------------------------------

def test_save_webhook_audits_with_the_address_masked_and_never_the_secret(users, tree):
    admin = users[Role.COMMITTEE_ADMIN]
    h = services.save_webhook(admin, tree.b01, "dingtalk", DING_URL, "SUPERSECRET123", False)
    assert h.enabled is False and h.org_path == tree.b01.path
    assert h.secret != "SUPERSECRET123" and crypto.decrypt(h.secret) == "SUPERSECRET123"
    services.save_webhook(admin, tree.b01, "dingtalk", DING_URL, None, True)  # None keeps the secret
    h.refresh_from_db()
    assert h.enabled and crypto.decrypt(h.secret) == "SUPERSECRET123"
    services.save_webhook(admin, tree.b01, "dingtalk", DING_URL, "OTHERSECRET456", True)
    services.set_webhook_enabled(admin, h, False)
    services.delete_webhook(admin, h)
    entries = list(AuditEntry.objects.filter(model="notify.chatwebhook").order_by("id"))
    assert [e.action for e in entries] == [AuditAction.CREATE, AuditAction.UPDATE, AuditAction.UPDATE,
                                          AuditAction.UPDATE, AuditAction.DELETE]
    dump = json.dumps([(e.changes, e.note, e.object_repr) for e in entries], ensure_ascii=False)
    assert "SUPERSECRET" not in dump and "OTHERSECRET" not in dump
    assert "0123456789abcdef0123456789abcdef" not in dump
    assert mask_url(DING_URL) in dump and "access_token=0123****" in dump
    assert all(e.org_path == tree.b01.path for e in entries)
    assert not ChatWebhook.objects.exists()


def test_mask_url_hides_tokens_in_query_and_path():
    assert mask_url(WECOM_URL) == "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=1a2b****"
    assert mask_url(FEISHU_URL) == "https://open.feishu.cn/open-apis/bot/v2/hook/8a9b****"
    assert mask_url("https://user:pw@gw.local:8443/hook?t=abcdefgh") == "https://gw.local:8443/hook?t=abcd****"


@pytest.mark.parametrize("url", ["", "qyapi.weixin.qq.com/send", "ftp://x/y", "https:///nohost", "https://a b/c",
                                 "https://x/" + "a" * 500])
def test_save_webhook_refuses_bad_addresses(users, tree, url):
    with pytest.raises(ValidationError) as e:
        services.save_webhook(users[Role.COMMITTEE_ADMIN], tree.b01, "wecom", url, "", True)
    assert e.value.code == "url"
    assert "https://" in e.value.messages[0] or "500" in e.value.messages[0]
    assert not ChatWebhook.objects.exists() and not AuditEntry.objects.filter(model="notify.chatwebhook").exists()


def test_save_webhook_refuses_bad_kind_and_wecom_secret(users, tree):
    admin = users[Role.COMMITTEE_ADMIN]
    with pytest.raises(ValidationError, match="slack"):
        services.save_webhook(admin, tree.b01, "slack", WECOM_URL, "", True)
    with pytest.raises(ValidationError) as e:
        services.save_webhook(admin, tree.b01, "wecom", WECOM_URL, "secret", True)
    assert e.value.messages == ["企业微信机器人不使用签名，请将密钥留空。"]
    assert not ChatWebhook.objects.exists()


@pytest.mark.parametrize("role", list(Role.values))
def test_only_unit_writers_manage_robots(users, tree, role, sent):
    user = users[role]
    writer = role in {Role.COMMITTEE_SECRETARY, Role.COMMITTEE_ADMIN, Role.DEPARTMENT_STAFF}
    existing = hook(tree.b01, enabled=False)
    if writer:
        h = services.save_webhook(user, tree.b01, "feishu", FEISHU_URL, "", True)
        services.set_webhook_enabled(user, existing, True)
        assert services.test_webhook(user, h) == (True, "")
        services.delete_webhook(user, h)
        assert len(sent) == 1
    else:
        with pytest.raises(PermissionDenied):
            services.save_webhook(user, tree.b01, "feishu", FEISHU_URL, "", True)
        for action in (lambda: services.set_webhook_enabled(user, existing, True),
                       lambda: services.test_webhook(user, existing),
                       lambda: services.delete_webhook(user, existing)):
            with pytest.raises(PermissionDenied):
                action()
        assert ChatWebhook.objects.count() == 1 and sent == []
    # nobody in the fixture manages B03's robots
    with pytest.raises(PermissionDenied):
        services.save_webhook(user, tree.b03, "feishu", FEISHU_URL, "", True)


def test_test_webhook_reports_the_error(users, tree, monkeypatch):
    def refuse(url, payload, timeout=5):
        raise channels.ChatError("errcode 93000: invalid webhook url")

    monkeypatch.setattr(channels, "post_json", refuse)
    h = hook(tree.b01, enabled=False)
    ok, error = services.test_webhook(users[Role.COMMITTEE_ADMIN], h)
    assert not ok and "93000" in error
    assert not Delivery.objects.exists()


# ---- recipients -------------------------------------------------------------------------------

def test_role_holders_and_secretaries_above(users, tree):
    from pbqms.accounts import services as accounts

    assert list(selectors.role_holders(tree.b01, [Role.BRANCH_SECRETARY, Role.BRANCH_COMMITTEE])) == sorted(
        [users[Role.BRANCH_SECRETARY], users[Role.BRANCH_COMMITTEE]], key=lambda u: u.pk)
    assert list(selectors.role_holders(tree.b02, [Role.BRANCH_SECRETARY])) == []
    assert list(selectors.role_holders(tree.sub1, [Role.BRANCH_SECRETARY])) == []  # exactly the unit
    assert list(selectors.secretaries_above(tree.b01)) == [users[Role.COMMITTEE_SECRETARY]]
    assert list(selectors.secretaries_above(tree.g1)) == [users[Role.BRANCH_SECRETARY]]
    assert list(selectors.secretaries_above(tree.g1, levels=2)) == [users[Role.COMMITTEE_SECRETARY]]
    assert list(selectors.secretaries_above(tree.grp)) == []
    assert list(selectors.secretaries_above(tree.b01, levels=5)) == []
    top = accounts.create_user(None, username="grp_sec", password="x", validate=False)
    accounts.grant_role(None, top, Role.COMMITTEE_SECRETARY, tree.grp)
    assert list(selectors.secretaries_above(tree.b01, levels=2)) == [top]
    users[Role.COMMITTEE_SECRETARY].is_active = False
    users[Role.COMMITTEE_SECRETARY].save()
    assert list(selectors.secretaries_above(tree.b01)) == []


def test_mark_read_touches_only_ones_own(users, tree):
    a, b = users[Role.MEMBER], users[Role.BRANCH_SECRETARY]
    services.notify(key="k", recipients=[a, b], title="t", body="b")
    services.notify(key="k2", recipients=[a], title="t", body="b")
    theirs = Notification.objects.get(recipient=b)
    assert services.mark_read(a, [theirs.pk]) == 0
    assert selectors.unread_count(b) == 1 and selectors.unread_count(a) == 2
    mine = Notification.objects.filter(recipient=a).first()
    assert services.mark_read(a, [mine.pk]) == 1
    assert services.mark_read(a, [mine.pk]) == 0
    assert selectors.unread_count(a) == 1
    assert services.mark_read(a, "all") == 1
    assert selectors.unread_count(a) == 0 and selectors.unread_count(b) == 1
    from django.contrib.auth.models import AnonymousUser

    assert selectors.unread_count(AnonymousUser()) == 0
    assert list(selectors.inbox(AnonymousUser())) == []
