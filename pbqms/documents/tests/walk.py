"""Teaches the scope walks the documents app's URLs and API operations (see
pbqms/core/tests/walk_registry.py): a mine regulation of SUB1 (applies to SUB1's subtree, so every
fixture role reads it) with an attachment, and an outside one of B03 that nobody but admin reads."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from pbqms.core.tests.walk_registry import Call, Case, Ctx

OUTSIDE_TITLE = "越界保密细则"
OUTSIDE_WORDS = [OUTSIDE_TITLE, "越界专用条款"]
WEB_PARAMS = {"number", "token"}
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def _publish(doc: Any) -> None:
    from pbqms.documents import services

    v = doc.versions.get()
    services.submit(None, v)
    services.review(None, v, passed=True)
    services.approve(None, v)
    services.publish(None, v)


def _attach(doc: Any) -> str:
    from pbqms.files import services as files

    stored = files.store_upload(None, SimpleUploadedFile("附件.pdf", PDF, content_type="application/pdf"),
                                unit=doc.unit, owner=f"documents.version:{doc.current_id}", kinds={"pdf"})
    return str(stored.token)


def setup(tree: Any, users: dict[str, Any]) -> dict[str, Any]:
    from pbqms.documents import services
    from pbqms.documents.models import Document, Tier

    inside = services.create_document(None, unit=tree.sub1, tier=Tier.REGULATION, title="党员大会制度",
                                      applies_to=[tree.sub1], purpose="规范党员大会。", procedure="每季度召开一次。")
    _publish(inside)
    outside = services.create_document(None, unit=tree.b03, tier=Tier.REGULATION, title=OUTSIDE_TITLE,
                                       applies_to=[tree.b03], purpose="越界专用条款。", procedure="越界专用条款。")
    _publish(outside)
    inside, outside = Document.objects.get(pk=inside.pk), Document.objects.get(pk=outside.pk)
    return {"doc_in": inside.pk, "doc_out": outside.pk, "file_in": _attach(inside), "file_out": _attach(outside)}


def web_values(role: str, inside: bool, tree: Any, extra: dict[str, Any]) -> dict[str, str]:
    if inside:
        return {"documents:pk": str(extra["doc_in"]), "number": "1", "token": extra["file_in"]}
    return {"documents:pk": str(extra["doc_out"]), "number": "1", "token": extra["file_out"]}


def _in(c: Ctx, **kw: Any) -> dict[str, Any]:
    return {"id": c.extra["doc_in"], **kw}


def _out(c: Ctx, **kw: Any) -> dict[str, Any]:
    return {"id": c.extra["doc_out"], **kw}


DRAFT = {"unit": "B03", "tier": "regulation", "title": "越界制度", "purpose": "越界"}

API_CASES: dict[str, Case] = {
    "documents_list": Case(
        inside=lambda c: [Call(query={"limit": 500}), Call(query={"unit": c.unit}),
                          Call(query={"q": OUTSIDE_TITLE}), Call(query={"tier": "regulation", "state": "in_force"})],
        outside=lambda c: [Call(query={"unit": code}) for code in ("B03", "SUB2", "GRP")],
    ),
    "documents_create": Case(
        inside=lambda c: [Call(body={**DRAFT, "unit": c.unit})],
        outside=lambda c: [Call(body=DRAFT), Call(body={**DRAFT, "unit": c.unit, "applies_to": ["B03"]})],
    ),
    "documents_search": Case(
        inside=lambda c: [Call(query={"q": "党员大会"}), Call(query={"q": OUTSIDE_TITLE}),
                          Call(query={"q": "越界专用条款"})],
        outside=lambda c: [],
    ),
    "documents_acks_mine": Case(inside=lambda c: [Call(), Call(query={"unread": "true"})], outside=lambda c: []),
    "documents_get": Case(inside=lambda c: [Call(path_params=_in(c))], outside=lambda c: [Call(path_params=_out(c))]),
    "documents_acknowledge": Case(inside=lambda c: [Call(path_params=_in(c))],
                                  outside=lambda c: [Call(path_params=_out(c))]),
    "documents_versions_list": Case(inside=lambda c: [Call(path_params=_in(c))],
                                    outside=lambda c: [Call(path_params=_out(c))]),
    "documents_versions_create": Case(inside=lambda c: [Call(path_params=_in(c), body={"change_summary": "修订"})],
                                      outside=lambda c: [Call(path_params=_out(c), body={"change_summary": "x"})]),
    "documents_versions_get": Case(inside=lambda c: [Call(path_params=_in(c, number=1))],
                                   outside=lambda c: [Call(path_params=_out(c, number=1))]),
    "documents_versions_update": Case(inside=lambda c: [Call(path_params=_in(c, number=1), body={"purpose": "改"})],
                                      outside=lambda c: [Call(path_params=_out(c, number=1), body={"purpose": "改"})]),
    "documents_versions_submit": Case(inside=lambda c: [Call(path_params=_in(c, number=1))],
                                      outside=lambda c: [Call(path_params=_out(c, number=1))]),
    "documents_versions_review": Case(inside=lambda c: [Call(path_params=_in(c, number=1), body={"passed": True})],
                                      outside=lambda c: [Call(path_params=_out(c, number=1), body={"passed": True})]),
    "documents_versions_approve": Case(inside=lambda c: [Call(path_params=_in(c, number=1), body={})],
                                       outside=lambda c: [Call(path_params=_out(c, number=1), body={})]),
    "documents_versions_publish": Case(inside=lambda c: [Call(path_params=_in(c, number=1), body={})],
                                       outside=lambda c: [Call(path_params=_out(c, number=1), body={})]),
}


def fingerprint() -> tuple[Any, ...]:
    from pbqms.documents.models import (
        Acknowledgement,
        ApprovalStep,
        Document,
        DocumentVersion,
        NumberingPattern,
        PeriodicReview,
        VersionTerm,
    )

    return (sorted(Document.objects.values_list("pk", "title", "current_id", "abolished_on")),
            sorted(DocumentVersion.objects.values_list("pk", "status", "purpose", "procedure")),
            Acknowledgement.objects.filter(acknowledged_at__isnull=False).count(), ApprovalStep.objects.count(),
            sorted(NumberingPattern.objects.values_list("pk", "pattern", "next_seq")),
            PeriodicReview.objects.count(), VersionTerm.objects.count())


def outside_state(path: str) -> tuple[Any, ...]:
    from pbqms.documents.models import Acknowledgement, Document, DocumentVersion

    return (sorted(Document.objects.filter(org_path__startswith=path).values_list()),
            sorted(DocumentVersion.objects.filter(org_path__startswith=path).values_list("pk", "status", "purpose")),
            Acknowledgement.objects.filter(org_path__startswith=path, acknowledged_at__isnull=False).count())
