"""Request context for the audit trail: the address a change came from.

Set by AuditContextMiddleware for web and API requests; CLI and tasks leave it empty.
"""

from __future__ import annotations

from contextvars import ContextVar

current_ip: ContextVar[str | None] = ContextVar("pbqms_audit_ip", default=None)


def client_ip(request) -> str | None:  # type: ignore[no-untyped-def]
    # REMOTE_ADDR only: X-Forwarded-For is trusted only when the deployment says so.
    from django.conf import settings

    if getattr(settings, "PBQMS_TRUST_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR") or None
