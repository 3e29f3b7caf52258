"""Request context for the audit trail: the address a change came from.

Set by AuditContextMiddleware for web and API requests; CLI and tasks leave it empty.
"""

from __future__ import annotations

import ipaddress
from contextvars import ContextVar

current_ip: ContextVar[str | None] = ContextVar("pbqms_audit_ip", default=None)


def _address(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def client_ip(request) -> str | None:  # type: ignore[no-untyped-def]
    # REMOTE_ADDR only: X-Forwarded-For is trusted only when the deployment says so, and then only
    # its last entry — the one our own proxy appended; the entries before it are the client's to
    # invent, and trusting them would let anyone slip past the per-address sign-in throttle.
    # Anything that is not an address is ignored (the login log stores an inet on PostgreSQL).
    from django.conf import settings

    if getattr(settings, "PBQMS_TRUST_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded and (last := _address(forwarded.split(",")[-1])):
            return last
    return _address(request.META.get("REMOTE_ADDR") or "")
