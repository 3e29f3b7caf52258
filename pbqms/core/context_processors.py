from __future__ import annotations

from typing import Any

from django.conf import settings


def navigation(request: Any) -> dict[str, Any]:
    from pbqms import scope
    from pbqms.notify import selectors as notify_selectors

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"LANGUAGES_AVAILABLE": settings.LANGUAGES}
    return {
        "LANGUAGES_AVAILABLE": settings.LANGUAGES,
        "can_import": scope.can_import_roster(user),
        "can_read_audit": scope.can_read_audit_log(user),
        "can_manage_accounts": scope.can_manage_accounts(user),
        "idle_minutes": settings.SESSION_IDLE_MINUTES,
        "unread_notifications": notify_selectors.unread_count(user),
        "can_rectify": scope.rect_reads_ledger(user),
    }
