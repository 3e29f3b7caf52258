"""Accounts — 账号: login with lockout (等保2.0 三级), login log, passwords, API tokens, roles."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from pbqms import scope
from pbqms.audit import services as audit
from pbqms.audit.models import AuditAction
from pbqms.orgs.models import Unit

from .models import ApiToken, LoginEvent, Role, RoleAssignment, User

log = logging.getLogger("pbqms.security")


class LoginRefused(Exception):
    """Login failed; `message` is safe to show (it never says whether the username exists)."""

    def __init__(self, message: str, locked: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.locked = locked


class LoginThrottled(LoginRefused):
    """Too many failed sign-ins from one client address (HTTP 429)."""


def _client_throttled(ip: str | None, now: Any) -> int:
    """Minutes a client address still waits, 0 when it may try: LOGIN_CLIENT_ATTEMPTS failures
    from the address within LOGIN_CLIENT_WINDOW_MINUTES, whatever the usernames tried."""
    limit, window = settings.LOGIN_CLIENT_ATTEMPTS, settings.LOGIN_CLIENT_WINDOW_MINUTES
    if not ip or not limit:
        return 0
    since = now - dt.timedelta(minutes=window)
    recent = list(LoginEvent.objects.filter(ip=ip, kind=LoginEvent.Kind.FAILURE, at__gte=since)
                  .order_by("-at").values_list("at", flat=True)[:limit])
    if len(recent) < limit:
        return 0
    free_at = recent[-1] + dt.timedelta(minutes=window)  # when the oldest counted failure leaves the window
    return max(1, int((free_at - now).total_seconds() // 60) + 1)


def log_event(kind: str, username: str, user: User | None = None, ip: str | None = None,
              user_agent: str = "") -> None:
    LoginEvent.objects.create(kind=kind, username=username[:150], user=user, ip=ip, user_agent=user_agent[:255])
    log.info("login event %s user=%s ip=%s", kind, username, ip)


def authenticate(username: str, password: str, *, ip: str | None = None, user_agent: str = "") -> User:
    """Check a password with lockout: after LOGIN_LOCKOUT_ATTEMPTS failures in a row the account
    is locked for LOGIN_LOCKOUT_MINUTES (and its API tokens end); a client address with
    LOGIN_CLIENT_ATTEMPTS failures within LOGIN_CLIENT_WINDOW_MINUTES is refused before any
    password is checked (LoginThrottled). Every attempt is logged."""
    now = timezone.now()
    wait = _client_throttled(ip, now)
    if wait:
        log_event(LoginEvent.Kind.THROTTLED, username, None, ip, user_agent)
        raise LoginThrottled(_("Too many failed sign-ins from your address: try again in %(m)d minutes.")
                             % {"m": wait})
    user = User.objects.filter(username=username).first()
    generic = _("Wrong username or password.")
    if user is None:
        User().set_password(password)  # spend the same time as a real check
        log_event(LoginEvent.Kind.FAILURE, username, None, ip, user_agent)
        raise LoginRefused(generic)
    if user.locked_until and user.locked_until > now:
        log_event(LoginEvent.Kind.LOCKED, username, user, ip, user_agent)
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        raise LoginRefused(_("Too many failed attempts: the account is locked for %(m)d more minutes.")
                           % {"m": minutes}, locked=True)
    if not user.is_active or not user.check_password(password):
        with transaction.atomic():
            User.objects.filter(pk=user.pk).update(failed_login_count=F("failed_login_count") + 1)
            user.refresh_from_db(fields=["failed_login_count"])
            if user.failed_login_count >= settings.LOGIN_LOCKOUT_ATTEMPTS:
                user.locked_until = now + dt.timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
                user.failed_login_count = 0
                user.save(update_fields=["locked_until", "failed_login_count"])
                revoke_tokens(user, ApiToken.Revoked.LOCKOUT)
        log_event(LoginEvent.Kind.FAILURE, username, user, ip, user_agent)
        if user.locked_until and user.locked_until > now:
            raise LoginRefused(_("Too many failed attempts: the account is locked for %(m)d more minutes.")
                               % {"m": settings.LOGIN_LOCKOUT_MINUTES}, locked=True)
        raise LoginRefused(generic)
    User.objects.filter(pk=user.pk).update(failed_login_count=0, locked_until=None, last_login=now)
    user.failed_login_count, user.locked_until = 0, None
    log_event(LoginEvent.Kind.SUCCESS, username, user, ip, user_agent)
    return user


def password_expired(user: User) -> bool:
    days = settings.PASSWORD_MAX_AGE_DAYS
    if not days or not user.is_authenticated:
        return False
    changed = user.password_changed_at or user.date_joined
    return timezone.now() - changed > dt.timedelta(days=days)


@transaction.atomic
def set_password(user: User, new_password: str, *, actor: Any = None) -> None:
    password_validation.validate_password(new_password, user)
    if user.check_password(new_password):
        raise ValidationError(_("The new password must differ from the old one."))
    user.set_password(new_password)
    user.password_changed_at = timezone.now()
    user.save(update_fields=["password", "password_changed_at"])
    audit.record(actor or user, AuditAction.UPDATE, user, {"password": ["***", "***"]})
    revoke_tokens(user, ApiToken.Revoked.PASSWORD)


@transaction.atomic
def create_user(actor: Any, *, username: str, password: str, display_name: str = "", member: Any = None,
                validate: bool = True) -> User:
    if User.objects.filter(username=username).exists():
        raise ValidationError(_("The username “%(u)s” is taken.") % {"u": username})
    user = User(username=username, display_name=display_name, member=member)
    if validate:
        password_validation.validate_password(password, user)
    user.set_password(password)
    user.password_changed_at = timezone.now()
    user.save()
    audit.record(actor, AuditAction.CREATE, user, {"username": [None, username]})
    return user


@transaction.atomic
def grant_role(actor: Any, user: User, role: str, unit: Unit) -> RoleAssignment:
    """Give `user` a role on `unit` (covering its subtree). Only those who manage the unit may."""
    if actor is not None:
        scope.require_unit_write(actor, unit)
    if role not in Role.values:
        raise ValidationError(_("Unknown role."))
    assignment, made = RoleAssignment.objects.get_or_create(user=user, role=role, unit=unit)
    if made:
        audit.record(actor, AuditAction.UPDATE, user, {"role": [None, f"{Role(role).label} · {unit}"]})
    return assignment


@transaction.atomic
def revoke_role(actor: Any, assignment: RoleAssignment) -> None:
    if actor is not None:
        scope.require_unit_write(actor, assignment.unit)
    audit.record(actor, AuditAction.UPDATE, assignment.user,
                 {"role": [f"{assignment.get_role_display()} · {assignment.unit}", None]})
    assignment.delete()


def _hash_token(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue(user: User, *, ip: str | None = None) -> tuple[str, ApiToken]:
    """A new token for `user`: its key (shown once, never stored) and its record."""
    key = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, key_hash=_hash_token(key), ip=ip,
                                    expires_at=timezone.now() + dt.timedelta(days=settings.API_TOKEN_DAYS))
    log_event(LoginEvent.Kind.TOKEN, user.username, user, ip)
    return key, token


def issue_token(user: User, *, ip: str | None = None) -> str:
    return issue(user, ip=ip)[0]


def token_for_key(key: str) -> ApiToken | None:
    """The live token with this key: not expired, not revoked, of an active account that is not
    locked; None otherwise."""
    now = timezone.now()
    token = (ApiToken.objects.select_related("user")
             .filter(key_hash=_hash_token(key), expires_at__gt=now, revoked_at__isnull=True).first())
    if token is None or not token.user.is_active:
        return None
    if token.user.locked_until and token.user.locked_until > now:
        return None
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=5):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def user_for_token(key: str) -> User | None:
    token = token_for_key(key)
    return token.user if token is not None else None


def revoke_tokens(user: User, reason: str, *, actor: Any = None) -> int:
    """End every live token of `user` (password change, lockout, deactivation, sign-out, or an
    administrator's decision). Returns how many were live; an audit entry when there were any."""
    now = timezone.now()
    n = ApiToken.objects.filter(user=user, revoked_at__isnull=True, expires_at__gt=now).update(
        revoked_at=now, revoked_reason=reason)
    if n:
        audit.record(actor or user, AuditAction.UPDATE, user,
                     {"api_tokens": [str(n), "0"]}, str(ApiToken.Revoked(reason).label))
    return n


def may_manage_tokens_of(actor: Any, user: User) -> bool:
    """A token is managed by its owner and by the administrators who manage the account."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    return actor.pk == user.pk or scope.accounts(actor).filter(pk=user.pk).exists()


def tokens_of(actor: Any, user: User) -> Any:
    """The account's tokens still within their lifetime (live and revoked), newest first."""
    if not may_manage_tokens_of(actor, user):
        raise scope.PermissionDenied
    return ApiToken.objects.filter(user=user, expires_at__gt=timezone.now()).order_by("-created_at", "-pk")


@transaction.atomic
def revoke_token(actor: Any, token: ApiToken) -> None:
    """Revoke one token: its owner or an administrator of the account (logged); a token already
    ended stays as it is."""
    if not may_manage_tokens_of(actor, token.user):
        raise scope.PermissionDenied
    if token.revoked_at is not None or token.expires_at <= timezone.now():
        return
    reason = ApiToken.Revoked.OWNER if actor.pk == token.user_id else ApiToken.Revoked.ADMIN
    token.revoked_at, token.revoked_reason = timezone.now(), reason
    token.save(update_fields=["revoked_at", "revoked_reason"])
    audit.record(actor, AuditAction.UPDATE, token.user, {"api_token": [f"#{token.pk}", None]},
                 str(ApiToken.Revoked(reason).label))


@transaction.atomic
def revoke_all_tokens(actor: Any, user: User) -> int:
    """An administrator's (or the owner's) decision to end every token of the account."""
    if not may_manage_tokens_of(actor, user):
        raise scope.PermissionDenied
    reason = ApiToken.Revoked.OWNER if actor.pk == user.pk else ApiToken.Revoked.ADMIN
    return revoke_tokens(user, reason, actor=actor)


@transaction.atomic
def set_active(actor: Any, user: User, active: bool) -> None:
    """Deactivate (or reactivate) an account; deactivation ends its tokens. Administrators of the
    account only, never oneself."""
    if actor is not None and (actor.pk == user.pk or not scope.accounts(actor).filter(pk=user.pk).exists()):
        raise scope.PermissionDenied
    if user.is_active == active:
        return
    User.objects.filter(pk=user.pk).update(is_active=active)
    audit.record(actor, AuditAction.UPDATE, user, {"is_active": [not active, active]})
    user.is_active = active
    if not active:
        revoke_tokens(user, ApiToken.Revoked.DEACTIVATED, actor=actor)


@transaction.atomic
def unlock_user(actor: Any, user: User) -> None:
    """Lift a lockout before it runs out (an administrator's decision, logged)."""
    if actor is not None and not scope.accounts(actor).filter(pk=user.pk).exists():
        raise scope.PermissionDenied
    User.objects.filter(pk=user.pk).update(locked_until=None, failed_login_count=0)
    audit.record(actor, AuditAction.UPDATE, user, {"locked_until": [str(user.locked_until), None]})
