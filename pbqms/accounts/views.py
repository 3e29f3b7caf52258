"""Login, logout, password change and language choice: HTTP around accounts.services."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pbqms.audit.context import client_ip

from . import services
from .forms import LoginForm, PasswordChangeForm
from .models import LoginEvent, User


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = LoginForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            user = services.authenticate(form.cleaned_data["username"], form.cleaned_data["password"],
                                         ip=client_ip(request), user_agent=request.headers.get("User-Agent", ""))
        except services.LoginRefused as refused:
            error = refused.message
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            if user.language:
                request.session["django_language"] = user.language
            return redirect(_safe_next(request, "/"))
    return render(request, "accounts/login.html", {"form": form, "error": error,
                                                   "next": request.GET.get("next", "")},
                  status=401 if error else 200)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        services.log_event(LoginEvent.Kind.LOGOUT, request.user.username, request.user, client_ip(request))
    logout(request)
    return redirect(settings.LOGOUT_REDIRECT_URL)


@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not request.user.check_password(form.cleaned_data["old_password"]):
            form.add_error("old_password", _("The current password is wrong."))
        else:
            try:
                services.set_password(request.user, form.cleaned_data["new_password"])
            except ValidationError as e:
                form.add_error("new_password", e)
            else:
                update_session_auth_hash(request, request.user)
                messages.success(request, _("Your password has been changed."))
                return redirect("core:home")
    return render(request, "accounts/password_change.html", {"form": form})


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch language; a signed-in user's choice is kept on their account."""
    code = request.POST.get("language", "")
    response = redirect(_safe_next(request, "/"))
    if code in dict(settings.LANGUAGES) and check_for_language(code):
        if request.user.is_authenticated:
            User.objects.filter(pk=request.user.pk).update(language=code)
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, code, max_age=365 * 24 * 3600, samesite="Lax")
    return response
