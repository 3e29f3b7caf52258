"""Shapes of the API's token endpoint and the error body every endpoint shares."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import Field


class TokenIn(Schema):
    username: str = Field(max_length=150)
    password: str = Field(max_length=4096)


class TokenOut(Schema):
    token: str
    id: int
    expires_at: dt.datetime


class TokenInfo(Schema):
    """One API token of an account (never its key)."""

    id: int
    user: int
    username: str
    created_at: dt.datetime
    expires_at: dt.datetime
    last_used_at: dt.datetime | None
    ip: str | None
    active: bool
    revoked_at: dt.datetime | None
    revoked_reason: str


class TokenList(Schema):
    items: list[TokenInfo]
    count: int


class DetailOut(Schema):
    detail: str


class ErrorOut(Schema):
    """Every refusal (401, 403, 404) answers {"detail": message} in the caller's language."""

    detail: str


class InvalidOut(Schema):
    """422: a business rule refused (detail is its message), or the request did not match the
    schema (detail lists each problem with its location, as django-ninja reports it)."""

    detail: str | list[dict[str, Any]]
