"""Login, logout, password change and language choice: HTTP around accounts.services."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pbqms import scope
from pbqms.audit.context import client_ip

from . import services
from .forms import LoginForm, PasswordChangeForm, RoleGrantForm, UserCreateForm
from .models import LoginEvent, RoleAssignment, User


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


# ---- account administration (党委管理员 / 党群工作部 within their subtree) -------------------

def _require_manager(request: HttpRequest) -> None:
    if not scope.can_manage_accounts(request.user):
        raise PermissionDenied


@login_required
def user_list(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    q = request.GET.get("q", "").strip()
    qs = scope.accounts(request.user).select_related("member").prefetch_related("role_assignments__unit")
    if q:
        qs = qs.filter(Q(username__icontains=q) | Q(display_name__icontains=q))
    page = Paginator(qs.order_by("username"), 50).get_page(request.GET.get("page"))
    return render(request, "accounts/user_list.html", {"page": page, "q": q, "now": timezone.now()})


@login_required
def user_create(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        member = None
        if form.cleaned_data["member_id"]:
            try:
                member = scope.member_or_404(request.user, form.cleaned_data["member_id"])
            except Http404:
                form.add_error("member_id", _("No such person in your scope."))
        if not form.errors:
            try:
                user = services.create_user(request.user, username=form.cleaned_data["username"],
                                            password=form.cleaned_data["password"],
                                            display_name=form.cleaned_data["display_name"], member=member)
            except ValidationError as e:
                form.add_error(None, e)
            else:
                messages.success(request, _("Account created. Now give it a role."))
                return redirect("accounts:user", pk=user.pk)
    return render(request, "accounts/user_form.html", {"form": form})


@login_required
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    account = scope.account_or_404(request.user, pk)
    form = RoleGrantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        unit = scope.units(request.user).filter(code=form.cleaned_data["unit"].strip()).first()
        if unit is None:
            form.add_error("unit", _("No such unit in your scope."))
        else:
            try:
                services.grant_role(request.user, account, form.cleaned_data["role"], unit)
            except (ValidationError, PermissionDenied) as e:
                form.add_error(None, e if isinstance(e, ValidationError) else _("You do not manage this unit."))
            else:
                messages.success(request, _("Role granted."))
                return redirect("accounts:user", pk=account.pk)
    roles = account.role_assignments.select_related("unit").order_by("unit__path")
    events = LoginEvent.objects.filter(user=account)[:20]
    return render(request, "accounts/user_detail.html", {"account": account, "roles": roles, "form": form,
                                                         "events": events, "now": timezone.now()})


@require_POST
@login_required
def role_revoke(request: HttpRequest, pk: int, assignment_pk: int) -> HttpResponse:
    _require_manager(request)
    account = scope.account_or_404(request.user, pk)
    assignment = get_object_or_404(RoleAssignment.objects.select_related("unit", "user"), pk=assignment_pk,
                                   user=account)
    services.revoke_role(request.user, assignment)
    messages.success(request, _("Role revoked."))
    return redirect("accounts:user", pk=account.pk)


@require_POST
@login_required
def user_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    account = scope.account_or_404(request.user, pk)
    services.unlock_user(request.user, account)
    messages.success(request, _("The account is unlocked."))
    return redirect("accounts:user", pk=account.pk)
