"""Notification pages — 消息提醒: one's own inbox, and a unit's group-chat robots.

Views only translate HTTP: reads go through pbqms.scope and notify.selectors, writes through
notify.services. A unit outside scope answers 404, managing robots without the right 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from pbqms import scope
from pbqms.core.views import add_service_error, paginate
from pbqms.orgs import selectors as org_selectors

from . import selectors, services
from .forms import PaceForm, WebhookForm
from .models import ChatWebhook, Kind, Pace

PER_PAGE = 30


# ---- the inbox ----------------------------------------------------------------------------------

def _inbox_context(request: HttpRequest) -> dict:
    user = request.user
    unread = request.GET.get("unread") == "1"
    kind = request.GET.get("kind", "")
    kind = kind if kind in Kind.values else ""
    page = paginate(request, selectors.inbox(user, unread=unread, kind=kind).select_related("unit"), PER_PAGE)
    return {"page": page, "unread": unread, "kind": kind, "kinds": selectors.kinds(user),
            "unread_notifications": selectors.unread_count(user),
            "pace_form": PaceForm(initial={"email": services.email_pace(user)})}


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    """One's own messages, newest first; unread ones in bold."""
    context = _inbox_context(request)
    if request.htmx and request.htmx.target == "notify-results":
        return render(request, "notify/_results.html", context | {"oob_badge": True})
    return render(request, "notify/inbox.html", context)


@login_required
@require_POST
def read_all(request: HttpRequest) -> HttpResponse:
    """Mark every own message read; htmx gets the list and the top-bar badge back."""
    count = services.mark_read(request.user, "all")
    if request.htmx:
        return render(request, "notify/_results.html", _inbox_context(request) | {"oob_badge": True})
    if count:
        messages.success(request, _("All messages are marked read."))
    return redirect("notify:inbox")


@login_required
def settings(request: HttpRequest) -> HttpResponse:
    """One's own message setting: e-mails at once or as one daily digest (posted from the inbox)."""
    if request.method == "POST":
        form = PaceForm(request.POST)
        if form.is_valid():
            services.set_email_pace(request.user, form.cleaned_data["email"])
            messages.success(request, _("Your message setting was saved."))
        else:
            messages.error(request, _("Choose at once or a daily digest."))
    return redirect("notify:inbox")


def _safe_link(request: HttpRequest, link: str) -> str | None:
    if link and link.startswith("/") and url_has_allowed_host_and_scheme(
            link, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return link
    return None


@login_required
def read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one own message read and go where it points (or back to the inbox)."""
    notification = scope.notification_or_404(request.user, pk)  # someone else's: 404 whatever the method
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    services.mark_read(request.user, [notification.pk])
    return redirect(_safe_link(request, notification.link) or "notify:inbox")


# ---- group-chat robots --------------------------------------------------------------------------

def _hook_from_post(request: HttpRequest, unit_hooks: list[ChatWebhook]) -> ChatWebhook | None:
    raw = request.POST.get("webhook", "")
    return next((h for h in unit_hooks if str(h.pk) == raw.strip()), None)


@login_required
def webhooks(request: HttpRequest, code: str) -> HttpResponse:
    """A unit's robots: the list, switching on and off, a test message, removal, and adding one."""
    user = request.user
    unit = scope.unit_or_404(user, code)
    if not scope.can_manage_webhooks(user, unit):
        raise PermissionDenied
    hooks = list(selectors.webhooks(unit))
    form = WebhookForm()
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "add":
            form = WebhookForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    services.save_webhook(user, unit, data["kind"], data["url"], data["secret"] or None,
                                          data["enabled"], data["pace"] or Pace.IMMEDIATE)
                except ValidationError as e:
                    add_service_error(form, e, getattr(e, "code", None))
                else:
                    messages.success(request, _("The group-chat robot was saved."))
                    return redirect("notify:webhooks", code=unit.code)
        elif (hook := _hook_from_post(request, hooks)) is not None:
            if action in ("enable", "disable"):
                services.set_webhook_enabled(user, hook, action == "enable")
                messages.success(request, _("The robot is switched on.") if action == "enable"
                                 else _("The robot is switched off."))
            elif action == "delete":
                services.delete_webhook(user, hook)
                messages.success(request, _("The robot was removed."))
            elif action == "test":
                ok, error = services.test_webhook(user, hook)
                if ok:
                    messages.success(request, _("The test message was sent. Check the group chat."))
                else:
                    messages.error(request, _("The test message failed: %(error)s") % {"error": error})
            return redirect("notify:webhooks", code=unit.code)
    ancestors = org_selectors.ancestors(unit)
    for a in ancestors:
        a.readable = scope.can_read_unit(user, a)  # type: ignore[attr-defined]
    return render(request, "notify/webhooks.html", {
        "unit": unit, "ancestors": ancestors, "hooks": hooks, "form": form,
        "deliveries": selectors.recent_chat_deliveries(unit),
    })
