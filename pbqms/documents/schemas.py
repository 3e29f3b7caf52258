"""Shapes of the documents API — 体系文件 API."""

from __future__ import annotations

import datetime as dt

from ninja import Schema
from pydantic import Field

from .models import Acknowledgement, Document, DocumentVersion, Tier, VersionStatus


class VersionBrief(Schema):
    number: int
    status: VersionStatus
    title: str
    effective_from: dt.date | None
    change_summary: str


class DocumentOut(Schema):
    id: int
    number: str
    title: str
    tier: Tier
    unit: str = Field(description="The code of the owning unit.")
    unit_name: str
    book_part: str
    review_interval_months: int
    assessment_items: str = Field(description="Codes of assessment items, space-separated.")
    abolished_on: dt.date | None
    current: VersionBrief | None = Field(None, description="The version in force.")

    @staticmethod
    def resolve_unit(obj: Document) -> str:
        return obj.unit.code

    @staticmethod
    def resolve_unit_name(obj: Document) -> str:
        return obj.unit.name


class DocumentDetail(DocumentOut):
    applies_to: list[str] = Field(description="Codes of the units the document applies to.")
    include_subtree: bool

    @staticmethod
    def resolve_applies_to(obj: Document) -> list[str]:
        return [r.unit.code for r in obj.reach.select_related("unit").order_by("path")]


class DocumentList(Schema):
    items: list[DocumentOut]
    count: int


class DocumentCreate(Schema):
    unit: str
    tier: Tier
    title: str
    number: str = ""
    applies_to: list[str] = Field(default_factory=list, description="Unit codes; empty: the owning unit.")
    include_subtree: bool = True
    book_part: str = ""
    order: int = 0
    review_interval_months: int = 12
    assessment_items: str = ""
    purpose: str = ""
    scope_text: str = ""
    duties: str = ""
    procedure: str = ""
    body: str = ""


class VersionOut(Schema):
    number: int
    status: VersionStatus
    title: str
    change_summary: str
    purpose: str
    scope_text: str
    duties: str
    procedure: str
    body: str
    what: str
    why: str
    who: str
    when: str
    how: str
    standard: str
    author: str | None
    effective_from: dt.date | None
    ended_on: dt.date | None
    end_reason: str

    @staticmethod
    def resolve_author(obj: DocumentVersion) -> str | None:
        return str(obj.author) if obj.author_id else None


class VersionUpdate(Schema):
    title: str | None = None
    change_summary: str | None = None
    purpose: str | None = None
    scope_text: str | None = None
    duties: str | None = None
    procedure: str | None = None
    body: str | None = None
    what: str | None = None
    why: str | None = None
    who: str | None = None
    when: str | None = None
    how: str | None = None
    standard: str | None = None


class NewVersionIn(Schema):
    change_summary: str = ""


class ReviewIn(Schema):
    passed: bool
    comment: str = ""


class CommentIn(Schema):
    comment: str = ""


class PublishIn(Schema):
    effective_from: dt.date | None = None


class AckOut(Schema):
    document_id: int
    number: str
    title: str
    version: int
    sent_at: dt.datetime
    acknowledged_at: dt.datetime | None

    @staticmethod
    def resolve_number(obj: Acknowledgement) -> str:
        return obj.document.number

    @staticmethod
    def resolve_title(obj: Acknowledgement) -> str:
        return obj.version.title

    @staticmethod
    def resolve_version(obj: Acknowledgement) -> int:
        return obj.version.number


class AckList(Schema):
    items: list[AckOut]
    count: int


class HitOut(Schema):
    document_id: int
    number: str
    title: str
    version: int
    score: float
    snippet: str = Field(description="HTML: the matches wrapped in <mark>.")


class SearchOut(Schema):
    words: list[str]
    total: int
    items: list[HitOut]
