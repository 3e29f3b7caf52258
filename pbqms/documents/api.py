"""Documents API — 体系文件 API: documents, versions, the approval flow, acknowledgements and
search. HTTP around documents.selectors, services and circulation, scoped by pbqms.scope."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from pbqms import scope
from pbqms.accounts.api import DEFAULT_LIMIT, MAX_LIMIT, actor, page
from pbqms.accounts.schemas import ErrorOut, InvalidOut
from pbqms.files import idempotency

from . import circulation, selectors, services
from .models import Document, DocumentVersion, Tier
from .schemas import (
    AckList,
    AckOut,
    CommentIn,
    DocumentCreate,
    DocumentDetail,
    DocumentList,
    NewVersionIn,
    PublishIn,
    ReviewIn,
    SearchOut,
    VersionOut,
    VersionUpdate,
)

router = Router(tags=["documents"])

READ_ERRORS: dict[int, Any] = {401: ErrorOut, 404: ErrorOut, 422: InvalidOut}
WRITE_ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: InvalidOut}


def _doc(request: HttpRequest, id: int) -> Document:
    return scope.document_or_404(actor(request), id)


def _version(request: HttpRequest, id: int, number: int) -> DocumentVersion:
    document = _doc(request, id)
    return selectors.version_or_404(actor(request), document, number)


@router.get("", response={200: DocumentList, **READ_ERRORS}, operation_id="documents_list",
            summary="List documents")
def document_list(request: HttpRequest, q: str = Query("", description="Number or title contains."),
                  tier: Tier | None = None,
                  state: str = Query("", description="in_force, pending, draft, abolished; empty for all."),
                  unit: str | None = Query(None, description="A unit's code: documents owned in its subtree."),
                  limit: int = DEFAULT_LIMIT, offset: int = 0) -> Any:
    user = actor(request)
    unit_obj = scope.unit_or_404(user, unit) if unit else None
    qs = selectors.document_list(user, q=q, tier=tier.value if tier else "", state=state, unit=unit_obj)
    items, count = page(qs, limit, offset)
    return {"items": items, "count": count}


@router.post("", response={201: DocumentDetail, **WRITE_ERRORS}, operation_id="documents_create",
             summary="Create a document with its first draft")
def document_create(request: HttpRequest, payload: DocumentCreate) -> Any:
    user = actor(request)
    unit = scope.unit_or_404(user, payload.unit)
    applies = [scope.unit_or_404(user, c) for c in payload.applies_to]
    data = payload.dict(exclude={"unit", "applies_to", "tier"})
    outcome = idempotency.once(user, idempotency.header_key(request), "documents.document", lambda: (
        services.create_document(user, unit=unit, tier=payload.tier.value, applies_to=applies, **data)))
    return Status(201, scope.document_or_404(user, outcome.pk))


@router.get("/search", response={200: SearchOut, **READ_ERRORS}, operation_id="documents_search",
            summary="Full-text search in Chinese")
def document_search(request: HttpRequest, q: str, limit: int = 20, offset: int = 0) -> Any:
    """Versions in force the caller reads, matching every word of `q` (jieba segmentation), best first."""
    result = selectors.search(actor(request), q, offset=max(0, offset), limit=max(1, min(limit, MAX_LIMIT)))
    return {"words": result.words, "total": result.total, "items": [
        {"document_id": h.version.document_id, "number": h.version.document.number, "title": h.version.title,
         "version": h.version.number, "score": h.score, "snippet": str(h.snippet)} for h in result.hits]}


@router.get("/acknowledgements", response={200: AckList, **READ_ERRORS}, operation_id="documents_acks_mine",
            summary="Documents sent to me")
def my_acks(request: HttpRequest, unread: bool = False, limit: int = DEFAULT_LIMIT, offset: int = 0) -> Any:
    items, count = page(selectors.my_acknowledgements(actor(request), unread_only=unread), limit, offset)
    return {"items": items, "count": count}


@router.get("/{id}", response={200: DocumentDetail, **READ_ERRORS}, operation_id="documents_get",
            summary="Get a document")
def document_get(request: HttpRequest, id: int) -> Any:
    return _doc(request, id)


@router.post("/{id}/acknowledge", response={200: AckOut, **WRITE_ERRORS}, operation_id="documents_acknowledge",
             summary="Confirm I have read the version in force (已阅)")
def acknowledge(request: HttpRequest, id: int) -> Any:
    document = _doc(request, id)
    if document.current is None:
        from django.http import Http404

        raise Http404
    return circulation.acknowledge(actor(request), document.current)


@router.get("/{id}/versions", response={200: list[VersionOut], **READ_ERRORS},
            operation_id="documents_versions_list", summary="List a document's versions")
def version_list(request: HttpRequest, id: int) -> Any:
    return selectors.versions_for(actor(request), _doc(request, id))


@router.post("/{id}/versions", response={201: VersionOut, **WRITE_ERRORS}, operation_id="documents_versions_create",
             summary="Start a new draft version")
def version_create(request: HttpRequest, id: int, payload: NewVersionIn) -> Any:
    return Status(201, services.new_version(actor(request), _doc(request, id), change_summary=payload.change_summary))


@router.get("/{id}/versions/{number}", response={200: VersionOut, **READ_ERRORS},
            operation_id="documents_versions_get", summary="Get a version")
def version_get(request: HttpRequest, id: int, number: int) -> Any:
    return _version(request, id, number)


@router.patch("/{id}/versions/{number}", response={200: VersionOut, **WRITE_ERRORS},
              operation_id="documents_versions_update", summary="Edit a draft")
def version_update(request: HttpRequest, id: int, number: int, payload: VersionUpdate) -> Any:
    """Only a draft changes; a published version answers 422."""
    return services.edit_draft(actor(request), _version(request, id, number), **payload.dict(exclude_unset=True))


@router.post("/{id}/versions/{number}/submit", response={200: VersionOut, **WRITE_ERRORS},
             operation_id="documents_versions_submit", summary="Send a draft for review")
def version_submit(request: HttpRequest, id: int, number: int) -> Any:
    return services.submit(actor(request), _version(request, id, number))


@router.post("/{id}/versions/{number}/review", response={200: VersionOut, **WRITE_ERRORS},
             operation_id="documents_versions_review", summary="Review a version (pass or return)")
def version_review(request: HttpRequest, id: int, number: int, payload: ReviewIn) -> Any:
    version = _version(request, id, number)
    services.review(actor(request), version, passed=payload.passed, comment=payload.comment)
    return DocumentVersion.objects.get(pk=version.pk)


@router.post("/{id}/versions/{number}/approve", response={200: VersionOut, **WRITE_ERRORS},
             operation_id="documents_versions_approve", summary="Approve a reviewed version")
def version_approve(request: HttpRequest, id: int, number: int, payload: CommentIn) -> Any:
    version = _version(request, id, number)
    services.approve(actor(request), version, comment=payload.comment)
    return DocumentVersion.objects.get(pk=version.pk)


@router.post("/{id}/versions/{number}/publish", response={200: VersionOut, **WRITE_ERRORS},
             operation_id="documents_versions_publish", summary="Publish an approved version")
def version_publish(request: HttpRequest, id: int, number: int, payload: PublishIn) -> Any:
    return services.publish(actor(request), _version(request, id, number), effective_from=payload.effective_from)
