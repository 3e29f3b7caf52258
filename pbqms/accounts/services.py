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


def log_event(kind: str, username: str, user: User | None = None, ip: str | None = None,
              user_agent: str = "") -> None:
    LoginEvent.objects.create(kind=kind, username=username[:150], user=user, ip=ip, user_agent=user_agent[:255])
    log.info("login event %s user=%s ip=%s", kind, username, ip)


def authenticate(username: str, password: str, *, ip: str | None = None, user_agent: str = "") -> User:
    """Check a password with lockout: after LOGIN_LOCKOUT_ATTEMPTS failures in a row the account
    is locked for LOGIN_LOCKOUT_MINUTES. Every attempt is logged."""
    now = timezone.now()
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


def issue_token(user: User, *, ip: str | None = None) -> str:
    key = secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, key_hash=_hash_token(key),
                            expires_at=timezone.now() + dt.timedelta(days=settings.API_TOKEN_DAYS))
    log_event(LoginEvent.Kind.TOKEN, user.username, user, ip)
    return key


def user_for_token(key: str) -> User | None:
    now = timezone.now()
    token = (ApiToken.objects.select_related("user").filter(key_hash=_hash_token(key), expires_at__gt=now)
             .first())
    if token is None or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=5):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


@transaction.atomic
def unlock_user(actor: Any, user: User) -> None:
    """Lift a lockout before it runs out (an administrator's decision, logged)."""
    if actor is not None and not scope.accounts(actor).filter(pk=user.pk).exists():
        raise scope.PermissionDenied
    User.objects.filter(pk=user.pk).update(locked_until=None, failed_login_count=0)
    audit.record(actor, AuditAction.UPDATE, user, {"locked_until": [str(user.locked_until), None]})
