"""Shapes of the notifications API — 消息提醒 API."""

from __future__ import annotations

import datetime as dt

from ninja import Schema
from pydantic import Field

from .models import Notification


class NotificationOut(Schema):
    id: int
    key: str = Field(description="The sender's key, e.g. rect:notice:17:due:3d.")
    title: str
    body: str
    link: str = Field(description="A path on this site, or empty.")
    unit: str | None = Field(None, description="The code of the unit the message is about.")
    created_at: dt.datetime
    read_at: dt.datetime | None

    @staticmethod
    def resolve_unit(obj: Notification) -> str | None:
        return obj.unit.code if obj.unit_id and obj.unit else None


class NotificationList(Schema):
    items: list[NotificationOut]
    count: int
    unread: int = Field(description="How many of the caller's messages are unread, whatever the filter.")


class ReadAllOut(Schema):
    marked: int = Field(description="How many messages were marked read.")
