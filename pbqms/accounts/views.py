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
from .models import ApiToken, LoginEvent, RoleAssignment, User


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
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            user = services.authenticate(form.cleaned_data["username"], form.cleaned_data["password"],
                                         ip=client_ip(request), user_agent=request.headers.get("User-Agent", ""))
        except services.LoginRefused as refused:
            error = refused.message
            status = 429 if isinstance(refused, services.LoginThrottled) else 401
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            if user.language:
                request.session["django_language"] = user.language
            return redirect(_safe_next(request, "/"))
    return render(request, "accounts/login.html", {"form": form, "error": error,
                                                   "next": request.GET.get("next", "")},
                  status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        services.log_event(LoginEvent.Kind.LOGOUT, request.user.username, request.user, client_ip(request))
        services.revoke_tokens(request.user, ApiToken.Revoked.LOGOUT)  # signing out ends the API tokens too
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


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    """The account's own API tokens (account settings), each revocable."""
    rows = services.tokens_of(request.user, request.user)[:100]
    return render(request, "accounts/tokens.html", {"tokens": rows})


@require_POST
@login_required
def token_revoke(request: HttpRequest, token_pk: int) -> HttpResponse:
    """Revoke one token: the owner's own (back to the settings page) or, for an administrator, one
    of an account they manage (back to that account)."""
    token = ApiToken.objects.select_related("user").filter(pk=token_pk).first()
    if token is None or not services.may_manage_tokens_of(request.user, token.user):
        raise Http404
    services.revoke_token(request.user, token)
    messages.success(request, _("The token is revoked."))
    if token.user_id == request.user.pk:
        return redirect("accounts:tokens")
    return redirect("accounts:user", pk=token.user_id)


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
    tokens = services.tokens_of(request.user, account)[:50]
    return render(request, "accounts/user_detail.html", {"account": account, "roles": roles, "form": form,
                                                         "events": events, "now": timezone.now(),
                                                         "tokens": tokens})


@require_POST
@login_required
def user_tokens_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """An administrator ends every API token of the account."""
    _require_manager(request)
    account = scope.account_or_404(request.user, pk)
    n = services.revoke_all_tokens(request.user, account)
    messages.success(request, _("%(n)d tokens revoked.") % {"n": n})
    return redirect("accounts:user", pk=account.pk)


@require_POST
@login_required
def user_active(request: HttpRequest, pk: int) -> HttpResponse:
    """Deactivate or reactivate an account (deactivation ends its tokens)."""
    _require_manager(request)
    account = scope.account_or_404(request.user, pk)
    active = request.POST.get("active") == "1"
    try:
        services.set_active(request.user, account, active)
    except PermissionDenied:
        messages.error(request, _("You cannot deactivate your own account."))
    else:
        messages.success(request, _("The account is active again.") if active else _("The account is deactivated."))
    return redirect("accounts:user", pk=account.pk)


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
