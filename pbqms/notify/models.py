"""Notifications — 消息提醒: in-app messages, their e-mail and group-chat deliveries, and the
group-chat robots (群机器人) a unit may configure.

Every capability sends reminders, overdue notices, escalations and compliance warnings through
`notify.services.notify(...)`. A Notification is unique per (recipient, key) and a Delivery per
(channel, target, key), so a sweep run twice sends nothing twice.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    """Delivery channels — 投递渠道."""

    EMAIL = "email", _("E-mail")
    WECOM = "wecom", _("WeCom (企业微信)")
    DINGTALK = "dingtalk", _("DingTalk (钉钉)")
    FEISHU = "feishu", _("Feishu (飞书)")


class ChatKind(models.TextChoices):
    """Group-chat robot platforms — 群机器人平台."""

    WECOM = "wecom", _("WeCom (企业微信)")
    DINGTALK = "dingtalk", _("DingTalk (钉钉)")
    FEISHU = "feishu", _("Feishu (飞书)")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    HELD = "held", _("Held for the daily digest")
    DIGESTED = "digested", _("Sent in the daily digest")


class Kind(models.TextChoices):
    """What a message is about — 消息类别 (from its key's prefix), for grouping and filtering the inbox."""

    RECTIFICATION = "rectification", _("Rectification")
    DOCUMENTS = "documents", _("Documents")
    OBJECTIVES = "objectives", _("Objectives")
    ACTIVITIES = "activities", _("Organisational life")
    ASSESSMENT = "assessment", _("Assessment")
    OTHER = "other", _("Other")


KIND_PREFIXES = (("rect:", Kind.RECTIFICATION), ("documents.", Kind.DOCUMENTS), ("objectives", Kind.OBJECTIVES),
                 ("life:", Kind.ACTIVITIES), ("activities", Kind.ACTIVITIES), ("assessment", Kind.ASSESSMENT))


def kind_of(key: str) -> str:
    return next((kind for prefix, kind in KIND_PREFIXES if key.startswith(prefix)), Kind.OTHER)


class Pace(models.TextChoices):
    """How outside messages leave — 发送方式: at once, or gathered into one daily digest."""

    IMMEDIATE = "immediate", _("At once")
    DAILY = "daily", _("Once a day, as a digest")


def mask_url(url: str) -> str:
    """A webhook URL with its access token hidden, for the audit trail and the screen:
    https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=1a2b**** ."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "****"

    def hide(text: str) -> str:
        return text if len(text) <= 4 else text[:4] + "****"

    segments = parts.path.split("/")
    if segments and len(segments[-1]) > 16:  # Feishu keeps its token in the last path segment
        segments[-1] = hide(segments[-1])
    query = "&".join(
        f"{k}={hide(v)}" if sep else hide(k)
        for k, sep, v in (pair.partition("=") for pair in parts.query.split("&") if pair)
    )
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, "/".join(segments), query, ""))


class Notification(models.Model):
    """Notification — 站内消息: one message to one person, unique per (recipient, key)."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                  related_name="notifications", verbose_name=_("recipient"))
    key = models.CharField(_("key"), max_length=200,
                           help_text=_("The sender's idempotency key, e.g. rect:notice:17:due:3d."))
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    org_path = models.CharField(_("tree path"), max_length=255, blank=True)
    unit = models.ForeignKey("orgs.Unit", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             verbose_name=_("unit"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.OTHER)
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification (站内消息)")
        verbose_name_plural = _("notifications (站内消息)")
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["recipient", "key"], name="notify_once_per_recipient")]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notify_unread"),
                   models.Index(fields=["recipient", "kind", "read_at"], name="notify_kind")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class ChatWebhook(models.Model):
    """ChatWebhook — 群机器人: a unit's WeCom, DingTalk or Feishu group robot. Off until enabled.

    A unit's messages go to the enabled robots of that unit itself, not of its ancestors.
    `secret` (DingTalk and Feishu signing) is stored encrypted (pbqms.core.crypto) and never shown.
    """

    unit = models.ForeignKey("orgs.Unit", on_delete=models.CASCADE, related_name="chat_webhooks",
                             verbose_name=_("unit"))
    org_path = models.CharField(_("tree path"), max_length=255, blank=True)
    kind = models.CharField(_("platform"), max_length=20, choices=ChatKind.choices)
    url = models.CharField(_("webhook address"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=500, blank=True)
    enabled = models.BooleanField(_("enabled"), default=False)
    pace = models.CharField(_("sending"), max_length=10, choices=Pace.choices, default=Pace.IMMEDIATE)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("group-chat robot (群机器人)")
        verbose_name_plural = _("group-chat robots (群机器人)")
        ordering = ["unit_id", "id"]
        constraints = [models.UniqueConstraint(fields=["unit", "url"], name="notify_webhook_once_per_unit")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.masked_url}"

    @property
    def masked_url(self) -> str:
        return mask_url(self.url)

    @property
    def has_secret(self) -> bool:
        return bool(self.secret)


class Delivery(models.Model):
    """Delivery — 外部投递: one e-mail or group-chat message, sent at most once per (channel, target, key).

    pending → sending (claimed by a worker) → sent, or back to pending after a failed attempt,
    and failed after the last attempt. A worker that dies while sending leaves rows in
    "sending"; the next sweep after the lease takes them again.
    """

    notification = models.ForeignKey(Notification, null=True, blank=True, on_delete=models.CASCADE,
                                     related_name="deliveries", verbose_name=_("notification"))
    webhook = models.ForeignKey(ChatWebhook, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="deliveries", verbose_name=_("group-chat robot"))
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    target = models.CharField(_("address"), max_length=500)
    key = models.CharField(_("key"), max_length=200)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    org_path = models.CharField(_("tree path"), max_length=255, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("delivery (外部投递)")
        verbose_name_plural = _("deliveries (外部投递)")
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["channel", "target", "key"], name="notify_deliver_once")]
        indexes = [models.Index(fields=["status", "claimed_at"], name="notify_delivery_queue")]

    def __str__(self) -> str:
        return f"{self.channel} {self.key} {self.status}"

    @property
    def masked_target(self) -> str:
        return self.target if self.channel == Channel.EMAIL else mask_url(self.target)


class Preference(models.Model):
    """Preference — 消息设置: how one person's e-mails leave (at once, or one daily digest)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notify_preference",
                                verbose_name=_("user"))
    email = models.CharField(_("e-mail"), max_length=10, choices=Pace.choices, default=Pace.IMMEDIATE)

    class Meta:
        verbose_name = _("message setting (消息设置)")
        verbose_name_plural = _("message settings (消息设置)")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.email}"
