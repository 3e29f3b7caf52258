"""Notifications API — 消息提醒 API: the caller's own messages. Nobody reads another's."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from pbqms import scope
from pbqms.accounts.api import DEFAULT_LIMIT, actor, page
from pbqms.accounts.schemas import ErrorOut, InvalidOut

from . import selectors, services
from .schemas import NotificationList, NotificationOut, ReadAllOut

router = Router(tags=["notify"])

ERRORS: dict[int, Any] = {401: ErrorOut, 404: ErrorOut, 422: InvalidOut}


@router.get("", response={200: NotificationList, **ERRORS}, operation_id="notifications_list",
            summary="List my messages")
def notification_list(request: HttpRequest,
                      unread: bool = Query(False, description="Only unread messages."),
                      limit: int = Query(DEFAULT_LIMIT, description="At most 500."), offset: int = 0) -> Any:
    """The caller's own messages, newest first."""
    user = actor(request)
    items, count = page(selectors.inbox(user, unread=unread).select_related("unit"), limit, offset)
    return {"items": items, "count": count, "unread": selectors.unread_count(user)}


@router.post("/read-all", response={200: ReadAllOut, **ERRORS}, operation_id="notifications_read_all",
             summary="Mark all my messages read")
def notification_read_all(request: HttpRequest) -> Any:
    return {"marked": services.mark_read(actor(request), "all")}


@router.post("/{id}/read", response={200: NotificationOut, **ERRORS}, operation_id="notifications_read",
             summary="Mark one of my messages read")
def notification_read(request: HttpRequest, id: int) -> Any:
    """Someone else's message answers 404."""
    user = actor(request)
    notification = scope.notification_or_404(user, id)
    services.mark_read(user, [notification.pk])
    return scope.notification_or_404(user, id)
