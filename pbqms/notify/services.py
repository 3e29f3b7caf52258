"""Notifications — 消息提醒: the one delivery path for reminders, overdue notices, escalations and
compliance warnings.

`notify(key=..., recipients=..., title=..., body=...)` files one in-app message per recipient,
queues an e-mail to each recipient with an address and one group-chat message per enabled robot
of the unit, all idempotent on `key`: calling it again with the same key adds nothing.
`notify_many([Message(...), ...])` does the same for many messages in a few queries per batch
(sweeps over thousands of items use it). The deliveries go out from a background task
(`deliver_pending`, run by `pbqms worker`):

- a sweep claims deliveries with one UPDATE (pending → sending, claimed_at = now), sends each
  outside any transaction and marks each sent at once; a failed attempt goes back to pending and
  is retried after RETRY_AFTER, and after MAX_ATTEMPTS attempts it is marked failed;
- a worker killed mid-sweep leaves its rows in "sending"; after LEASE the next sweep takes them
  again (each run that claims anything first queues a follow-up run for after the lease, so this
  happens without anyone calling notify again). A message is re-sent only when the worker died
  between the mail server or robot accepting it and the one UPDATE marking it sent.

Titles and bodies come translated by the caller. For messages in each recipient's own language:

    for user in recipients:
        with recipient_language(user):
            notify(key=k, recipients=[user], title=_("…"), body=…, chat=False)
    notify(key=k, recipients=[], title=_("…"), body=…, unit=unit)  # the group chat, in the default language

No outside connection is opened unless an administrator configured and enabled a robot; e-mail
goes to the SMTP server of the EMAIL_* settings.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

from django.conf import settings
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from pbqms import scope
from pbqms.audit import services as audit
from pbqms.audit.models import AuditAction
from pbqms.core import crypto
from pbqms.orgs.models import Unit

from . import channels
from .models import (
    Channel,
    ChatKind,
    ChatWebhook,
    Delivery,
    DeliveryStatus,
    Notification,
    Pace,
    Preference,
    kind_of,
    mask_url,
)

log = logging.getLogger("pbqms.notify")
T = TypeVar("T")

MAX_ATTEMPTS = 3
LEASE = dt.timedelta(minutes=getattr(settings, "PBQMS_NOTIFY_LEASE_MINUTES", 10))
RETRY_AFTER = LEASE  # a failed attempt is retried by the follow-up run, one lease later
EMAIL_TIMEOUT = 10  # seconds, when settings.EMAIL_TIMEOUT is not set
ERROR_CHARS = 1000


# ---- language ---------------------------------------------------------------------------------

def _language_of(user: Any) -> str:
    return getattr(user, "language", "") or settings.LANGUAGE_CODE


@contextmanager
def recipient_language(user: Any) -> Iterator[None]:
    """Translate in `user`'s chosen language (accounts.User.language), or the default language."""
    with translation.override(_language_of(user)):
        yield


def in_language(user: Any, fn: Callable[[], T]) -> T:
    """`fn()` evaluated in `user`'s language, e.g. in_language(u, lambda: _("Notice %(n)s is due"))."""
    with recipient_language(user):
        return fn()


# ---- sending a message ------------------------------------------------------------------------

def site_url(link: str) -> str:
    """`link` as an absolute URL when PBQMS_SITE_URL is set (e-mail and chat need one), else as given."""
    base = getattr(settings, "PBQMS_SITE_URL", "").rstrip("/")
    return f"{base}{link}" if base and link else link


def _text(title: str, body: str, link: str) -> str:
    parts = [title, body.strip(), site_url(link) if link else ""]
    return "\n\n".join(p for p in parts if p)


def _check_message(key: str, title: str, link: str) -> None:
    if not key or len(key) > 200:
        raise ValidationError(_("A notification needs a key of at most 200 characters."))
    if not title.strip():
        raise ValidationError(_("A notification needs a title."))
    if link and (not link.startswith("/") or link.startswith("//") or len(link) > 300):
        raise ValidationError(_("A notification's link must be an address on this site, starting with /."))


def _enqueue_delivery() -> None:
    from .tasks import deliver_pending_task

    deliver_pending_task.enqueue()


def _deliver_after_commit() -> None:
    """Queue one delivery run when the transaction commits: a sweep calling notify() a thousand
    times in one transaction queues one run, not a thousand."""
    waiting = getattr(connection, "run_on_commit", [])
    if any(len(entry) > 1 and entry[1] is _enqueue_delivery for entry in waiting):
        return
    transaction.on_commit(_enqueue_delivery, robust=True)


@dataclass(frozen=True)
class Message:
    """One message for notify_many(): the arguments of one notify() call."""

    key: str
    recipients: Sequence[Any]
    title: str
    body: str
    link: str = ""
    unit: Unit | None = None
    email: bool = True
    chat: bool = True
    replace: bool = False  # a standing message: refresh the text of one already filed and show it unread again


def notify(*, key: str, recipients: Iterable[Any], title: str, body: str, link: str = "",
           unit: Unit | None = None, email: bool = True, chat: bool = True, replace: bool = False) -> int:
    """File a message for each recipient that has none with this `key` yet; queue an e-mail to each
    new recipient with an address (`email`) and one message per enabled group-chat robot of `unit`
    (`chat`; once per key, not per recipient). Returns how many in-app messages were new.

    Calling it again with the same key adds nothing, so reminder sweeps may run as often as they
    like. Inactive accounts are skipped. The deliveries leave after the transaction commits.
    (One message for notify_many(), which holds the transaction.)

    `replace`: a standing message (e.g. "3 targets wait for your review"): a person who has the
    key already gets its text refreshed and shown unread again, one row however often it changes,
    and no second e-mail.
    """
    return notify_many([Message(key=key, recipients=tuple(recipients), title=title, body=body, link=link,
                                unit=unit, email=email, chat=chat, replace=replace)])[0]


BATCH = 1000  # messages filed per round of queries in notify_many()


@transaction.atomic
def notify_many(messages: Iterable[Message]) -> list[int]:
    """notify() for many messages at once, in a few queries per BATCH messages (existing messages
    read in one query, the new ones and their deliveries each inserted in one, the robots of all
    the units read in one). Returns, for each message, how many in-app messages were new.

    Same rules as notify(): a (person, key) is filed once, also when several messages of the batch
    name it (the first wins); a key's group-chat message goes once per robot (the first message
    with that key wins); one delivery run is queued when the transaction commits. Every message is
    checked before anything is written.
    """
    batch = list(messages)
    for m in batch:
        _check_message(m.key, m.title, m.link)
    counts: list[int] = []
    for start in range(0, len(batch), BATCH):
        counts += _file(batch[start:start + BATCH])
    return counts


def _file(batch: list[Message]) -> list[int]:
    """notify_many() for at most BATCH checked messages: returns each one's count of new messages."""
    titles = [m.title.strip()[:200] for m in batch]
    # (recipient, key) → (index of the message that files it, the user); the first message wins
    wanted: dict[tuple[int, str], tuple[int, Any]] = {}
    for i, m in enumerate(batch):
        for u in m.recipients:
            if u is not None and u.pk and u.is_active:
                wanted.setdefault((u.pk, m.key), (i, u))
    counts = [0] * len(batch)
    deliveries: list[Delivery] = []
    filed = set(_filed(wanted).values())
    fresh = [pair for pair in wanted if pair not in filed]  # in the order given
    _refresh(batch, titles, [pair for pair in wanted if pair in filed], wanted)
    if fresh:
        rows = []
        for uid, key in fresh:
            i = wanted[(uid, key)][0]
            m = batch[i]
            rows.append(Notification(recipient_id=uid, key=key, title=titles[i], body=m.body, link=m.link,
                                     org_path=_path(m.unit), unit=m.unit, kind=kind_of(key)))
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
        # Read back what exists now; a concurrent call with the same key may have filed some of
        # these rows first (both then count them, but rows and e-mails stay single).
        texts: dict[int, str] = {}
        daily: set[int] = set()
        for pk, (uid, key) in sorted(_filed(fresh, daily).items()):
            i, user = wanted[(uid, key)]
            counts[i] += 1
            address = (user.email or "").strip()
            if batch[i].email and address:
                if i not in texts:
                    texts[i] = _text(titles[i], batch[i].body, batch[i].link)
                deliveries.append(Delivery(notification_id=pk, channel=Channel.EMAIL, target=address, key=key,
                                           title=titles[i], body=texts[i], org_path=_path(batch[i].unit),
                                           status=DeliveryStatus.HELD if uid in daily else DeliveryStatus.PENDING))
    deliveries += _chat_deliveries(batch, titles)
    if deliveries:
        Delivery.objects.bulk_create(deliveries, ignore_conflicts=True)
        _deliver_after_commit()
    return counts


def _refresh(batch: list[Message], titles: list[str], existing: list[tuple[int, str]],
             wanted: dict[tuple[int, str], tuple[int, Any]]) -> None:
    """Standing messages (`replace`) already filed: new text, unread again (one UPDATE per message)."""
    by_message: dict[int, list[int]] = {}
    for uid, key in existing:
        i = wanted[(uid, key)][0]
        if batch[i].replace:
            by_message.setdefault(i, []).append(uid)
    for i, uids in by_message.items():
        m = batch[i]
        Notification.objects.filter(key=m.key, recipient_id__in=uids).update(
            title=titles[i], body=m.body, link=m.link, read_at=None, created_at=timezone.now())


def _filed(pairs: Iterable[tuple[int, str]], daily: set[int] | None = None) -> dict[int, tuple[int, str]]:
    """Which of these (recipient, key) pairs have a message, as {message pk: pair}: one query.
    `daily` collects the recipients who take their e-mail as a daily digest (read in the same query)."""
    wanted = set(pairs)
    if not wanted:
        return {}
    rows = (Notification.objects.order_by()
            .filter(key__in={k for _uid, k in wanted}, recipient_id__in={uid for uid, _k in wanted})
            .values_list("pk", "recipient_id", "key", "recipient__notify_preference__email"))
    out = {}
    for pk, uid, key, pace in rows:
        if (uid, key) in wanted:
            out[pk] = (uid, key)
            if daily is not None and pace == Pace.DAILY:
                daily.add(uid)
    return out


def _chat_deliveries(batch: list[Message], titles: list[str]) -> list[Delivery]:
    """One message per enabled robot of the unit and key (the first message with the key wins)."""
    unit_ids = {m.unit.pk for m in batch if m.chat and m.unit is not None}
    if not unit_ids:
        return []
    hooks: dict[int, list[ChatWebhook]] = {}
    for hook in ChatWebhook.objects.filter(unit_id__in=unit_ids, enabled=True).order_by("pk"):
        hooks.setdefault(hook.unit_id, []).append(hook)
    out: list[Delivery] = []
    done: set[tuple[str, str, str]] = set()
    for i, m in enumerate(batch):
        if not m.chat or m.unit is None:
            continue
        for hook in hooks.get(m.unit.pk, []):
            if (hook.kind, hook.url, m.key) not in done:
                done.add((hook.kind, hook.url, m.key))
                out.append(Delivery(webhook=hook, channel=hook.kind, target=hook.url, key=m.key, title=titles[i],
                                    body=_text(titles[i], m.body, m.link), org_path=m.unit.path,
                                    status=DeliveryStatus.HELD if hook.pace == Pace.DAILY
                                    else DeliveryStatus.PENDING))
    return out


def _path(unit: Unit | None) -> str:
    return unit.path if unit is not None else ""


def read_by_key(user: Any, keys: Iterable[str]) -> int:
    """Mark the user's own messages with these keys read (what they announced is done, e.g. the
    document confirmed as read); returns how many changed."""
    return scope.notifications(user).filter(key__in=list(keys), read_at__isnull=True).update(read_at=timezone.now())


def retire(keys: Iterable[str]) -> int:
    """Mark everyone's unread messages with these keys read (superseded, e.g. by a newer version of
    the document they announced); their queued e-mails are not sent. Returns how many messages."""
    keys = list(keys)
    now = timezone.now()
    n = 0
    for start in range(0, len(keys), BATCH):
        part = keys[start:start + BATCH]
        n += Notification.objects.filter(key__in=part, read_at__isnull=True).update(read_at=now)
        # held for a daily digest too: a superseded message must not reach tomorrow's digest
        Delivery.objects.filter(key__in=part, channel=Channel.EMAIL,
                                status__in=[DeliveryStatus.PENDING, DeliveryStatus.HELD],
                                claimed_at__isnull=True).update(
            status=DeliveryStatus.FAILED, last_error="Superseded before it was sent.")
    return n


def mark_read(user: Any, notification_ids: Iterable[int] | Literal["all"]) -> int:
    """Mark the user's own messages read (others' ids are ignored); returns how many changed."""
    qs = scope.notifications(user).filter(read_at__isnull=True)
    if notification_ids != "all":
        ids = [int(i) for i in notification_ids]
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())


# ---- the delivery sweep -----------------------------------------------------------------------

def _claimable(now: dt.datetime) -> Q:
    return (Q(status=DeliveryStatus.PENDING) & (Q(claimed_at__isnull=True) | Q(claimed_at__lte=now - RETRY_AFTER))
            | Q(status=DeliveryStatus.SENDING, claimed_at__lte=now - LEASE))


def claim(limit: int, now: dt.datetime) -> list[int]:
    """Take up to `limit` deliveries for this run: pending ones, and those a dead worker left in
    "sending" longer than LEASE. One short transaction; rows other workers hold are skipped."""
    with transaction.atomic():
        Delivery.objects.filter(status=DeliveryStatus.SENDING, claimed_at__lte=now - LEASE,
                                attempts__gte=MAX_ATTEMPTS).update(
            status=DeliveryStatus.FAILED, last_error="The worker stopped while sending, on the last attempt.")
        qs = Delivery.objects.filter(_claimable(now)).order_by("pk")
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        ids = list(qs.values_list("pk", flat=True)[:limit])
        if ids:
            Delivery.objects.filter(pk__in=ids).update(status=DeliveryStatus.SENDING, claimed_at=now,
                                                       attempts=F("attempts") + 1)
    return ids


def send_email(delivery: Delivery, connection: Any) -> None:
    """Send one e-mail delivery over an open mail connection (raises on failure)."""
    message = mail.EmailMessage(delivery.title, delivery.body, settings.DEFAULT_FROM_EMAIL, [delivery.target],
                                connection=connection)
    if not message.send():
        raise RuntimeError("the mail backend accepted no message")


def send_chat(delivery: Delivery) -> None:
    """Send one group-chat delivery to its robot, if the robot is still there and enabled."""
    hook = delivery.webhook
    if hook is None or not hook.enabled or hook.url != delivery.target:
        raise _Skip("The group-chat robot was switched off or removed.")
    try:
        channels.send(hook.kind, hook.url, delivery.body, crypto.decrypt(hook.secret))
    except channels.AddressRefused as error:
        raise _Skip(str(error)) from None


class _Skip(Exception):
    """Not worth another attempt: mark the delivery failed now."""


def _finish(delivery: Delivery, claimed: dt.datetime, **fields: Any) -> None:
    # Only while the row is still this run's claim: a run that overstayed its lease changes nothing.
    Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING, claimed_at=claimed).update(**fields)


def _error_text(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}"
    return text[:ERROR_CHARS]


def _schedule_follow_up(now: dt.datetime) -> None:
    """Queue a run for after the lease, which retries failures and takes over if this worker dies."""
    from .tasks import deliver_pending_task

    try:
        if deliver_pending_task.get_backend().supports_defer:
            deliver_pending_task.using(run_after=now + LEASE + dt.timedelta(seconds=30)).enqueue()
    except Exception:  # noqa: BLE001 (the deliveries stay claimable; the next notify() queues a run)
        log.exception("could not queue the follow-up delivery run")


def deliver_pending(limit: int = 500, *, follow_up: bool = False) -> int:
    """Send what is waiting; returns how many deliveries were sent. Safe to run concurrently and
    again after a crash. `follow_up` (the background task) queues a later run to retry failures."""
    now = timezone.now()
    ids = claim(limit, now)
    if not ids:
        return 0
    if follow_up:
        _schedule_follow_up(now)
    rows = list(Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.SENDING, claimed_at=now)
                .select_related("webhook").order_by("pk"))
    sent = 0
    mail_connection = None
    try:
        for index, delivery in enumerate(rows):
            if timezone.now() - now > LEASE * 0.8:
                _release(rows[index:], now)  # near the end of the lease: leave the rest to the next run
                break
            try:
                if delivery.channel == Channel.EMAIL:
                    if mail_connection is None:
                        mail_connection = mail.get_connection(
                            timeout=getattr(settings, "EMAIL_TIMEOUT", None) or EMAIL_TIMEOUT)
                    send_email(delivery, mail_connection)
                else:
                    send_chat(delivery)
            except Exception as error:  # noqa: BLE001 (any failure of one message is recorded on it)
                final = isinstance(error, _Skip) or delivery.attempts >= MAX_ATTEMPTS  # counted at the claim
                log.warning("delivery %s failed (attempt %s): %s", delivery.pk, delivery.attempts, error)
                _finish(delivery, now, last_error=_error_text(error),
                        status=DeliveryStatus.FAILED if final else DeliveryStatus.PENDING)
                continue
            _finish(delivery, now, status=DeliveryStatus.SENT, sent_at=timezone.now(), last_error="")
            sent += 1
    finally:
        if mail_connection is not None:
            try:
                mail_connection.close()
            except Exception:  # noqa: BLE001
                log.exception("closing the mail connection failed")
    return sent


def _release(rows: list[Delivery], claimed: dt.datetime) -> None:
    Delivery.objects.filter(pk__in=[d.pk for d in rows], status=DeliveryStatus.SENDING, claimed_at=claimed).update(
        status=DeliveryStatus.PENDING, claimed_at=None, attempts=F("attempts") - 1)


# ---- the daily digest --------------------------------------------------------------------------

DIGEST_ITEMS = 50  # titles listed in one digest; the rest are counted


def set_email_pace(user: Any, pace: str) -> Preference:
    """One's own setting: e-mails at once, or one digest a day."""
    if pace not in Pace.values:
        raise ValidationError(_("Choose at once or a daily digest."), code="pace")
    pref, _created = Preference.objects.update_or_create(user=user, defaults={"email": pace})
    return pref


def email_pace(user: Any) -> str:
    if not getattr(user, "pk", None):
        return Pace.IMMEDIATE
    pref = Preference.objects.filter(user_id=user.pk).values_list("email", flat=True).first()
    return pref or Pace.IMMEDIATE


def _digest_text(rows: list[Delivery]) -> tuple[str, str]:
    title = _("PBQMS daily digest: %(n)d messages") % {"n": len(rows)}
    lines = [f"· {d.title}" for d in rows[:DIGEST_ITEMS]]
    if len(rows) > DIGEST_ITEMS:
        lines.append(_("… and %(n)d more: see the message inbox.") % {"n": len(rows) - DIGEST_ITEMS})
    inbox = site_url(reverse("notify:inbox"))
    return title, "\n".join([title, "", *lines, "", inbox])


@transaction.atomic
def send_digests(day: dt.date | None = None) -> int:
    """Gather each address's and each robot's held messages into one digest delivery for `day`
    (the daily schedule runs this; a second run the same day adds nothing: held messages arriving
    later wait for the next day). Returns how many digests were queued."""
    day = day or timezone.localdate()
    key = f"digest:{day.isoformat()}"
    held = list(Delivery.objects.select_for_update().filter(status=DeliveryStatus.HELD).order_by("pk"))
    groups: dict[tuple[str, str], list[Delivery]] = {}
    for d in held:
        groups.setdefault((d.channel, d.target), []).append(d)
    done = set(Delivery.objects.filter(key=key).values_list("channel", "target"))
    made = 0
    with translation.override(settings.LANGUAGE_CODE):
        for (channel, target), rows in groups.items():
            if (channel, target) in done:
                continue
            title, body = _digest_text(rows)
            Delivery.objects.create(channel=channel, target=target, key=key, title=title[:200], body=body,
                                    webhook_id=rows[-1].webhook_id, org_path=rows[-1].org_path)
            Delivery.objects.filter(pk__in=[d.pk for d in rows]).update(status=DeliveryStatus.DIGESTED,
                                                                       sent_at=timezone.now())
            made += 1
    if made:
        _deliver_after_commit()
    return made


# ---- group-chat robots ------------------------------------------------------------------------

def refusal_message(error: channels.AddressRefused, kind: str | None = None) -> str:
    """Why a robot's address is not called, in the current language."""
    if error.reason == "host":
        hosts = "、".join(channels.platform_hosts(kind)) if kind else "、".join(channels.platform_hosts())
        return _("A robot's address must be on the platform's own host (%(hosts)s); another host, such as an "
                 "intranet relay, only when the system administrator lists it in PBQMS_ROBOT_HOSTS.") % {
                     "hosts": hosts}
    if error.reason == "port":
        return _("A robot platform's address takes no port number.")
    if error.reason == "private":
        return _("The host “%(host)s” points to an internal or loopback network address; robots only call "
                 "the platforms on the internet.") % {"host": error.host}
    if error.reason == "unresolved":
        return _("The host “%(host)s” could not be found; check the address.") % {"host": error.host}
    return _("Enter the robot's full webhook address, starting with https://.")


def check_webhook_url(url: str, kind: str | None = None) -> str:
    """The address trimmed, when it is well formed and one PBQMS may call (channels.vet)."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
        raise ValidationError(_("Enter the robot's full webhook address, starting with https://."), code="url")
    if len(url) > 500:
        raise ValidationError(_("The webhook address is too long (at most 500 characters)."), code="url")
    try:
        channels.vet(url, kind)
    except channels.AddressRefused as error:
        raise ValidationError(refusal_message(error, kind), code="url") from None
    return url


def _require_manage(actor: Any, unit: Unit) -> None:
    if actor is not None and not scope.can_manage_webhooks(actor, unit):
        raise PermissionDenied


def _audit_view(hook: ChatWebhook) -> dict[str, Any]:
    """What the audit trail keeps of a robot: never the secret, and the address masked."""
    return {"kind": hook.kind, "url": mask_url(hook.url), "enabled": hook.enabled, "signed": hook.has_secret,
            "pace": hook.pace}


@transaction.atomic
def save_webhook(actor: Any, unit: Unit, kind: str, url: str, secret: str | None = None,
                 enabled: bool = False, pace: str = Pace.IMMEDIATE) -> ChatWebhook:
    """Add a robot to `unit`, or change the one with the same address. `secret`: None keeps the
    stored one, "" removes it. Robots stay off unless `enabled`."""
    _require_manage(actor, unit)
    if kind not in ChatKind.values:
        raise ValidationError(_("Unknown platform “%(kind)s”.") % {"kind": kind}, code="kind")
    if pace not in Pace.values:
        raise ValidationError(_("Choose at once or a daily digest."), code="pace")
    url = check_webhook_url(url, kind)
    if secret is not None:
        secret = secret.strip()
        if secret and kind == ChatKind.WECOM:
            raise ValidationError(_("WeCom robots do not sign messages; leave the secret empty."), code="secret")
        if len(secret) > 200:
            raise ValidationError(_("The signing secret is too long (at most 200 characters)."), code="secret")
    hook = ChatWebhook.objects.select_for_update().filter(unit=unit, url=url).first()
    if hook is None:
        hook = ChatWebhook(unit=unit, org_path=unit.path, url=url, kind=kind, enabled=enabled, pace=pace,
                           secret=crypto.encrypt(secret or ""),
                           created_by=actor if getattr(actor, "pk", None) else None)
        hook.save()
        audit.record(actor, AuditAction.CREATE, hook, audit.created(_audit_view(hook)))
        return hook
    before = _audit_view(hook)
    hook.kind, hook.enabled, hook.org_path, hook.pace = kind, enabled, unit.path, pace
    if secret is not None:
        hook.secret = crypto.encrypt(secret)
    if hook.kind == ChatKind.WECOM:
        hook.secret = ""
    hook.save()
    delta = audit.diff(before, _audit_view(hook))
    if delta or secret:
        audit.record(actor, AuditAction.UPDATE, hook, delta,
                     note=_("signing secret replaced") if secret else "")
    return hook


@transaction.atomic
def set_webhook_enabled(actor: Any, webhook: ChatWebhook, enabled: bool) -> ChatWebhook:
    """Switch a robot on or off."""
    _require_manage(actor, webhook.unit)
    if webhook.enabled != enabled:
        before = _audit_view(webhook)
        webhook.enabled = enabled
        webhook.save(update_fields=["enabled"])
        audit.record(actor, AuditAction.UPDATE, webhook, audit.diff(before, _audit_view(webhook)))
    return webhook


@transaction.atomic
def delete_webhook(actor: Any, webhook: ChatWebhook) -> None:
    """Remove a robot; messages queued for it are not sent."""
    _require_manage(actor, webhook.unit)
    view = _audit_view(webhook)
    audit.record(actor, AuditAction.DELETE, webhook, {k: [v, None] for k, v in view.items()})
    webhook.delete()


def test_webhook(actor: Any, webhook: ChatWebhook) -> tuple[bool, str]:
    """Send one test message to the robot now, even while it is switched off, so an administrator
    can check it before enabling it. Returns (ok, error text)."""
    _require_manage(actor, webhook.unit)
    text = _("PBQMS test message for %(unit)s: this group-chat robot works.") % {"unit": webhook.unit.name}
    try:
        channels.send(webhook.kind, webhook.url, text, crypto.decrypt(webhook.secret))
    except channels.AddressRefused as error:
        return False, refusal_message(error, webhook.kind)
    except Exception as error:  # noqa: BLE001 (reported to the administrator)
        return False, _error_text(error)
    return True, ""


test_webhook.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
