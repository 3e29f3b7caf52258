"""Accounts, role assignments, login events and API tokens — 账号与权限."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """Roles of DOMAIN.md — 角色. An assignment on a unit covers that unit's subtree."""

    COMMITTEE_SECRETARY = "committee_secretary", _("Committee secretary")  # 党委书记
    COMMITTEE_ADMIN = "committee_admin", _("Committee administrator")  # 党委管理员
    DEPARTMENT_STAFF = "department_staff", _("Party-work department staff")  # 党群工作部
    INTERNAL_AUDITOR = "internal_auditor", _("Internal auditor")  # 内审员
    BRANCH_SECRETARY = "branch_secretary", _("Branch secretary")  # 支部书记
    BRANCH_COMMITTEE = "branch_committee", _("Branch committee member")  # 支委
    GROUP_LEADER = "group_leader", _("Party group leader")  # 党小组长
    MEMBER = "member", _("Member")  # 党员


class User(AbstractUser):
    """A login account — 用户账号, linked to the person it belongs to where there is one."""

    member = models.OneToOneField(
        "members.Member", null=True, blank=True, on_delete=models.SET_NULL, related_name="user",
        verbose_name=_("member"),
    )
    display_name = models.CharField(_("display name"), max_length=60, blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True)
    password_changed_at = models.DateTimeField(_("password changed at"), null=True, blank=True)
    failed_login_count = models.PositiveSmallIntegerField(_("failed logins in a row"), default=0)
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)

    class Meta:
        verbose_name = _("user (用户)")
        verbose_name_plural = _("users (用户)")

    def __str__(self) -> str:
        return self.display_name or self.username


class RoleAssignment(models.Model):
    """A role held on a unit — 角色授权; it covers the unit's whole subtree."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    unit = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="role_assignments",
                             verbose_name=_("unit"))
    granted_at = models.DateTimeField(_("granted at"), auto_now_add=True)

    class Meta:
        verbose_name = _("role assignment (角色授权)")
        verbose_name_plural = _("role assignments (角色授权)")
        constraints = [models.UniqueConstraint(fields=["user", "role", "unit"], name="unique_role_on_unit")]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.unit}"


class LoginEvent(models.Model):
    """Every login, failure, lockout and logout — 登录日志 (等保2.0 安全审计)."""

    class Kind(models.TextChoices):
        SUCCESS = "success", _("Login")
        FAILURE = "failure", _("Failed login")
        LOCKED = "locked", _("Refused: account locked")
        LOGOUT = "logout", _("Logout")
        TIMEOUT = "timeout", _("Session timed out")
        TOKEN = "token", _("API token issued")
        THROTTLED = "throttled", _("Refused: too many attempts from this address")

    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    username = models.CharField(_("username"), max_length=150)
    kind = models.CharField(_("event"), max_length=10, choices=Kind.choices)
    ip = models.GenericIPAddressField(_("address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=255, blank=True)
    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("login event (登录日志)")
        verbose_name_plural = _("login events (登录日志)")
        ordering = ["-at"]
        indexes = [models.Index(fields=["ip", "kind", "at"], name="login_event_client")]

    def __str__(self) -> str:
        return f"{self.username} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class ApiToken(models.Model):
    """A bearer token for the REST API — 接口令牌. Only its SHA-256 is stored.

    A token ends when it expires or is revoked: by its owner or an administrator, and by itself
    when the password changes, the account is locked or deactivated, or its owner signs out."""

    class Revoked(models.TextChoices):
        OWNER = "owner", _("revoked by its owner")
        ADMIN = "admin", _("revoked by an administrator")
        PASSWORD = "password", _("password changed")
        LOCKOUT = "lockout", _("account locked")
        DEACTIVATED = "deactivated", _("account deactivated")
        LOGOUT = "logout", _("signed out")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    ip = models.GenericIPAddressField(_("issued to address"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_reason = models.CharField(_("why revoked"), max_length=12, choices=Revoked.choices, blank=True)

    class Meta:
        verbose_name = _("API token (接口令牌)")
        verbose_name_plural = _("API tokens (接口令牌)")

    def __str__(self) -> str:
        return f"token of {self.user} until {self.expires_at:%Y-%m-%d}"
