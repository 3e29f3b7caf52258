"""Shapes of the API's token endpoint and the error body every endpoint shares."""

from __future__ import annotations

from ninja import Schema
from pydantic import Field


class TokenIn(Schema):
    username: str = Field(max_length=150)
    password: str = Field(max_length=4096)


class TokenOut(Schema):
    token: str


class ErrorOut(Schema):
    """Every refusal: 401, 403, 404 and 422 from a business rule answer {"detail": message}."""

    detail: str
