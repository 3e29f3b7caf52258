"""Session rules of 等保2.0 三级: idle timeout, password expiry; and the user's own language."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from pbqms.audit.context import client_ip

from . import services
from .models import LoginEvent

_EXEMPT_PREFIXES = ("/static/", "/api/", "/i18n/", "/accounts/logout", "/accounts/password")


class UserLanguageMiddleware:
    """A signed-in user's chosen language wins over the browser's."""

    def __init__(self, get_response):  # type: ignore[no-untyped-def]
        self.get_response = get_response

    def __call__(self, request):  # type: ignore[no-untyped-def]
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)


class IdleTimeoutMiddleware:
    """Sign out a session idle for longer than SESSION_IDLE_MINUTES."""

    def __init__(self, get_response):  # type: ignore[no-untyped-def]
        self.get_response = get_response

    def __call__(self, request):  # type: ignore[no-untyped-def]
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = int(time.time())
            last = request.session.get("last_seen")
            if last is not None and now - last > settings.SESSION_IDLE_MINUTES * 60:
                services.log_event(LoginEvent.Kind.TIMEOUT, user.username, user, client_ip(request))
                logout(request)
                messages.info(request, _("You were signed out after %(m)d idle minutes.")
                              % {"m": settings.SESSION_IDLE_MINUTES})
                if request.headers.get("HX-Request"):
                    response = self.get_response(request)
                    response["HX-Redirect"] = reverse(settings.LOGIN_URL)
                    return response
                return redirect(f"{reverse(settings.LOGIN_URL)}?next={request.path}")
            if last is None or now - last >= 60:
                request.session["last_seen"] = now  # writes the session at most once a minute
        return self.get_response(request)


class PasswordExpiryMiddleware:
    """Send a user whose password is older than PASSWORD_MAX_AGE_DAYS to change it first."""

    def __init__(self, get_response):  # type: ignore[no-untyped-def]
        self.get_response = get_response

    def __call__(self, request):  # type: ignore[no-untyped-def]
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated and not request.path.startswith(_EXEMPT_PREFIXES)
                and services.password_expired(user)):
            messages.warning(request, _("Your password has expired; choose a new one."))
            return redirect("accounts:password_change")
        return self.get_response(request)
