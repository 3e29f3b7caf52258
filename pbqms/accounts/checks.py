"""Security checks of `pbqms check --deploy` that Django's own do not know (#21.7)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def security_settings(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    found = []
    if not getattr(settings, "FIELD_ENCRYPTION_KEY", ""):
        found.append(Warning(
            "The field encryption key (ID numbers) is derived from SECRET_KEY.",
            hint="Set PBQMS_FIELD_KEY to a key of its own and keep it apart from the database backups; "
                 "otherwise whoever holds SECRET_KEY and a backup reads every ID number.",
            id="pbqms.W001"))
    if not getattr(settings, "LOGIN_CLIENT_ATTEMPTS", 0):
        found.append(Warning(
            "Sign-in throttling per client address is off (PBQMS_CLIENT_ATTEMPTS=0).",
            hint="Keep a limit (20 by default) so nobody tries many accounts from one address.",
            id="pbqms.W002"))
    if "csp.middleware.CSPMiddleware" not in settings.MIDDLEWARE:
        found.append(Warning("No Content-Security-Policy is sent (csp.middleware.CSPMiddleware is missing).",
                             id="pbqms.W003"))
    else:
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", None) or {}
        directives = policy.get("DIRECTIVES", {})
        scripts = directives.get("script-src", directives.get("default-src", ()))
        if not directives or any(v in ("'unsafe-inline'", "'unsafe-eval'", "*") for v in scripts):
            found.append(Warning("The Content-Security-Policy allows inline or evaluated scripts.",
                                 hint="script-src should be 'self' with a nonce.", id="pbqms.W004"))
        if getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None) and not directives:
            found.append(Warning("The Content-Security-Policy is only reported, not enforced.", id="pbqms.W005"))
    if getattr(settings, "PBQMS_PUBLIC_API_DOCS", False):
        found.append(Warning("The OpenAPI document and the API docs are public (PBQMS_PUBLIC_API_DOCS=1).",
                             hint="Leave PBQMS_PUBLIC_API_DOCS unset in production: signed-in users only.",
                             id="pbqms.W006"))
    return found
