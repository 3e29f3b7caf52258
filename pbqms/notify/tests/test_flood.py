"""The notification flood (#20.8): documents go only to those they apply to; a newer version
retires the older one's unread message, confirming a document reads its message; member targets
wait in one standing message per branch, never one per target nor twice; the inbox groups by
kind with counts and filters by kind; e-mails and robots can be gathered into one daily digest."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse

from pbqms.accounts.models import Role
from pbqms.documents import circulation
from pbqms.documents import services as documents
from pbqms.documents.models import Acknowledgement, DocumentVersion, Tier, VersionStatus
from pbqms.members import services as members
from pbqms.members.models import PartyStatus
from pbqms.notify import channels, selectors, services
from pbqms.notify.models import Delivery, DeliveryStatus, Kind, Notification, Pace, Preference
from pbqms.objectives import member_services

WECOM_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=1a2b3c4d-aaaa-bbbb-cccc-0123456789ab"


def unread(user) -> list[str]:
    return list(Notification.objects.filter(recipient=user, read_at__isnull=True).values_list("key", flat=True))


def published(doc, number=1) -> DocumentVersion:
    """The document's version `number`, as if published (the approval flow is the documents app's)."""
    v = doc.versions.get(number=number)
    DocumentVersion.objects.filter(pk=v.pk).update(status=VersionStatus.PUBLISHED, effective_from=dt.date(2026, 3, 1))
    v.refresh_from_db()
    circulation.distribute(v)
    return v


# ---- documents: to whom, supersession, confirmation ----------------------------------------------

def test_committee_form_goes_to_those_who_keep_records_not_to_every_member(users, tree):
    form = documents.create_document(None, unit=tree.sub1, tier=Tier.RECORD_FORM, title="三会一课记录表",
                                     applies_to=[tree.sub1], include_subtree=True, purpose="记录。")
    rule = documents.create_document(None, unit=tree.sub1, tier=Tier.REGULATION, title="党员学习制度",
                                     applies_to=[tree.sub1], include_subtree=True, purpose="学习。")
    published(form)
    published(rule)
    member, secretary = users[Role.MEMBER], users[Role.BRANCH_SECRETARY]
    assert unread(member) == [f"documents.publish:{rule.versions.get().pk}"]  # the rule applies to members
    assert sorted(unread(secretary)) == sorted(f"documents.publish:{d.versions.get().pk}" for d in (form, rule))
    assert not Acknowledgement.objects.filter(document=form, user=member).exists()
    assert set(circulation.recipients(form)) == {u for r, u in users.items() if r != Role.MEMBER}


def test_a_newer_version_retires_the_older_ones_unread_message(users, tree):
    doc = documents.create_document(None, unit=tree.sub1, tier=Tier.REGULATION, title="党费收缴制度",
                                    applies_to=[tree.b01], include_subtree=True, purpose="收缴。")
    v1 = published(doc)
    documents.Document.objects.filter(pk=doc.pk).update(current=v1)
    member = users[Role.MEMBER]
    reader = users[Role.BRANCH_SECRETARY]
    circulation.acknowledge(reader, v1)  # confirming reads the message
    assert unread(member) == [f"documents.publish:{v1.pk}"] and unread(reader) == []
    v2 = documents.new_version(None, doc, change_summary="调整标准")
    published(doc, 2)
    assert unread(member) == [f"documents.publish:{v2.pk}"]  # one message, for the version that counts
    assert Notification.objects.get(recipient=member, key=f"documents.publish:{v1.pk}").read_at is not None
    assert unread(reader) == [f"documents.publish:{v2.pk}"]


# ---- member targets: one standing message per branch -------------------------------------------------

def test_member_targets_wait_in_one_standing_message(users, tree):
    secretary = users[Role.BRANCH_SECRETARY]
    others = [members.create_member(None, unit=tree.b01, name=n, gender="M", status=PartyStatus.FULL)
              for n in ("赵六", "钱七")]
    made = []
    for m in [tree.m01, *others, tree.m01]:
        made.append(member_services.propose_member_target(None, m, year=2026, category="work_task",
                                                          title=f"{m.name}的任务", measure="完成"))
    mine = Notification.objects.filter(recipient=secretary)
    assert mine.count() == 1  # not one per target, never twice
    n = mine.get()
    assert n.read_at is None and n.title == "2026 年有 4 项个性目标待审定"
    services.mark_read(secretary, [n.pk])
    member_services.propose_member_target(None, others[0], year=2026, category="work_task", title="再一项",
                                          measure="完成")
    n.refresh_from_db()
    assert n.read_at is None and "5" in n.title and mine.count() == 1  # shown again, with the new count
    for mt in made + [member_services.MemberTarget.objects.get(title="再一项")]:
        member_services.review_member_target(None, mt, approve=True)
    n.refresh_from_db()
    assert n.read_at is not None and mine.count() == 1  # nothing left to review


# ---- the inbox: kinds, counts, filter ---------------------------------------------------------------

@pytest.fixture
def mixed(users, tree):
    user = users[Role.BRANCH_SECRETARY]
    for key in ("rect:notice:1:issued", "rect:notice:2:issued", "documents.publish:9", "objectives:missing:1:2026",
                "life:1:2:2026-01-01:risk", "custom:1"):
        services.notify(key=key, recipients=[user], title=f"标题 {key}", body="", unit=tree.b01)
    services.mark_read(user, [Notification.objects.get(key="rect:notice:1:issued").pk])
    return user


def test_inbox_groups_by_kind_with_counts_and_filters(client, mixed, django_assert_max_num_queries):
    assert [(k["kind"], k["unread"], k["total"]) for k in selectors.kinds(mixed)] == [
        (Kind.RECTIFICATION, 1, 2), (Kind.DOCUMENTS, 1, 1), (Kind.OBJECTIVES, 1, 1), (Kind.ACTIVITIES, 1, 1),
        (Kind.OTHER, 1, 1)]
    client.force_login(mixed)
    with django_assert_max_num_queries(13):
        r = client.get(reverse("notify:inbox"))
    text = r.content.decode()
    assert "整改" in text and "1 / 2" in text and "体系文件" in text
    r = client.get(reverse("notify:inbox") + "?kind=rectification")
    text = r.content.decode()
    assert "标题 rect:notice:1:issued" in text and "标题 rect:notice:2:issued" in text
    assert "标题 documents.publish:9" not in text and "标题 custom:1" not in text
    r = client.get(reverse("notify:inbox") + "?kind=rectification&unread=1")
    assert "标题 rect:notice:2:issued" in r.content.decode() and "标题 rect:notice:1:issued" not in r.content.decode()
    r = client.get(reverse("notify:inbox") + "?kind=nonsense")  # an unknown kind shows everything
    assert "标题 custom:1" in r.content.decode()


# ---- the daily digest ---------------------------------------------------------------------------------

def test_email_digest_is_held_and_sent_once_a_day(users, tree, settings, monkeypatch):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    user = users[Role.BRANCH_SECRETARY]
    user.email = "sec@example.com"
    user.save(update_fields=["email"])
    services.set_email_pace(user, Pace.DAILY)
    for i in range(3):
        services.notify(key=f"rect:notice:{i}:issued", recipients=[user], title=f"整改通知书 {i}", body="",
                        unit=tree.b01)
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.HELD}
    assert services.deliver_pending() == 0 and mail.outbox == []
    assert services.send_digests(dt.date(2026, 6, 1)) == 1
    assert services.send_digests(dt.date(2026, 6, 1)) == 0  # the daily job run twice sends nothing twice
    assert services.deliver_pending() == 1
    assert len(mail.outbox) == 1 and all(f"整改通知书 {i}" in mail.outbox[0].body for i in range(3))
    assert "3" in mail.outbox[0].subject
    assert set(Delivery.objects.exclude(key__startswith="digest:").values_list("status", flat=True)) == {
        DeliveryStatus.DIGESTED}
    services.set_email_pace(user, Pace.IMMEDIATE)
    services.notify(key="rect:notice:9:issued", recipients=[user], title="立即", body="", unit=tree.b01)
    assert services.deliver_pending() == 1 and mail.outbox[-1].subject == "立即"


def test_robot_digest(users, tree, monkeypatch):
    sent = []
    monkeypatch.setattr(channels, "post_json", lambda url, payload, timeout=5: sent.append(payload))
    services.save_webhook(None, tree.b01, "wecom", WECOM_URL, "", True, Pace.DAILY)
    for i in range(2):
        services.notify(key=f"life:{i}", recipients=[], title=f"组织生活预警 {i}", body="", unit=tree.b01)
    assert services.deliver_pending() == 0 and sent == []
    assert services.send_digests(dt.date(2026, 6, 1)) == 1
    assert services.deliver_pending() == 1
    content = sent[0]["text"]["content"]
    assert "组织生活预警 0" in content and "组织生活预警 1" in content


def test_the_setting_on_the_inbox(client, users):
    user = users[Role.MEMBER]
    client.force_login(user)
    r = client.post(reverse("notify:settings"), {"email": "daily"}, follow=True)
    assert "消息设置已保存。" in r.content.decode()
    assert Preference.objects.get(user=user).email == Pace.DAILY
    r = client.post(reverse("notify:settings"), {"email": "hourly"}, follow=True)
    assert "请选择立即发送或每日汇总。" in r.content.decode()
    assert Preference.objects.get(user=user).email == Pace.DAILY
    r = client.post(reverse("notify:settings"), {"email": "hourly"}, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert "Choose at once or a daily digest." in r.content.decode()
    assert Preference.objects.get(user=user).email == Pace.DAILY
    assert client.get(reverse("notify:settings")).status_code == 302


def test_the_daily_job_sends_digests_and_forgets_old_submission_keys(users, tree, settings):
    from pbqms.core import schedule
    from pbqms.notify.tasks import send_digests_task

    assert schedule.jobs()["notify.send_digests"] == "pbqms.notify.tasks.send_digests_task"
    user = users[Role.MEMBER]
    user.email = "m@example.com"
    user.save(update_fields=["email"])
    services.set_email_pace(user, Pace.DAILY)
    services.notify(key="rect:notice:1:issued", recipients=[user], title="待办", body="", unit=tree.b01)
    assert send_digests_task.call() == 1
    assert send_digests_task.call() == 0
    assert Delivery.objects.filter(key__startswith="digest:", status=DeliveryStatus.PENDING).count() == 1


def test_a_robot_set_to_a_daily_digest_on_its_page(client, users, tree):
    client.force_login(users[Role.COMMITTEE_ADMIN])
    url = reverse("notify:webhooks", args=["B01"])
    assert 'name="pace"' in client.get(url).content.decode()
    r = client.post(url, {"action": "add", "kind": "wecom", "url": WECOM_URL, "pace": "daily"}, follow=True)
    assert "每日汇总" in r.content.decode()
    from pbqms.notify.models import ChatWebhook
    assert ChatWebhook.objects.get().pace == Pace.DAILY


def test_a_superseded_message_leaves_the_daily_digest(users, tree, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    user = users[Role.BRANCH_SECRETARY]
    user.email = "sec@example.com"
    user.save(update_fields=["email"])
    services.set_email_pace(user, Pace.DAILY)
    for i in range(3):
        services.notify(key=f"doc:v{i}:published", recipients=[user], title=f"新文件 {i}", body="", unit=tree.b01)
    services.retire(["doc:v0:published"])
    assert services.send_digests(dt.date(2026, 6, 1)) == 1
    services.deliver_pending()
    assert "新文件 1" in mail.outbox[0].body and "新文件 0" not in mail.outbox[0].body
