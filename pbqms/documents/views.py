"""Document pages — 体系文件: the list, a document's page, a version with its diff, the
acknowledgement list, the search, the to-do list and the exports. The forms and actions that
change documents are in views_flow. Views only translate HTTP: reads go through pbqms.scope and
documents.selectors, writes through documents.services and documents.circulation.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Max, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from pbqms import scope
from pbqms.core.views import paginate
from pbqms.orgs import selectors as org_selectors

from . import exports, selectors, services
from .forms import FilterForm
from .models import Acknowledgement, Document, DocumentVersion, PeriodicReview, Tier, VersionStatus

PER_PAGE = 50
SEARCH_PER_PAGE = 20


def _filtered(request: HttpRequest) -> tuple[FilterForm, Any, Any]:
    user = request.user
    units, more = org_selectors.unit_choices(user)
    form = FilterForm(request.GET or None, units=None if more else units)
    filters = form.filters()
    code = filters.pop("unit")
    unit = scope.unit_or_404(user, code) if code else None
    return form, unit, selectors.document_list(user, unit=unit, **filters)


@login_required
@require_GET
def document_list(request: HttpRequest) -> HttpResponse:
    """Filter and page the documents the user reads; htmx swaps only the results."""
    form, unit, qs = _filtered(request)
    page = paginate(request, qs, PER_PAGE)
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "unit": unit, "query": query.urlencode(),
               "can_create": bool(scope.document_reach(request.user).write)}
    if request.htmx and request.htmx.target == "document-results":
        return render(request, "documents/_results.html", context)
    return render(request, "documents/list.html", context)


@login_required
@require_GET
def list_export(request: HttpRequest) -> HttpResponse:
    _form, _unit, qs = _filtered(request)
    return exports.xlsx_response(exports.document_rows(qs), "documents.xlsx", _("System documents"))


def _attachments(version: DocumentVersion | None) -> list[Any]:
    from pbqms.files.models import StoredFile

    if version is None:
        return []
    return list(StoredFile.objects.filter(owner=services.attachment_owner(version)).order_by("uploaded_at", "id"))


def document_context(request: HttpRequest, document: Document, version: DocumentVersion | None = None,
                     ) -> dict[str, Any]:
    """What the document page shows: the version (in force, or the one asked for), its steps,
    links, attachments, the reader's own acknowledgement and, for editors, who has not read it."""
    user = request.user
    versions = selectors.versions_for(user, document)
    can_edit = scope.can_see_drafts(user, document)
    if version is None:
        version = next((v for v in versions if v.pk == document.current_id), None) or (versions[0] if versions
                                                                                         else None)
    open_version = next((v for v in versions if v.status in services.OPEN_STATUSES), None) if can_edit else None
    outgoing, incoming = selectors.links_of(user, document)
    ack_counts = None
    mine = None
    unread: list[Acknowledgement] = []
    if version is not None and version.status == VersionStatus.PUBLISHED:
        # one query: the counts for the owner and the reader's own 已阅
        agg = Acknowledgement.objects.filter(version=version).aggregate(
            sent=Count("pk"), read=Count("pk", filter=Q(acknowledged_at__isnull=False)),
            mine=Count("pk", filter=Q(user_id=user.pk)), mine_at=Max("acknowledged_at", filter=Q(user_id=user.pk)))
        if agg["mine"]:
            mine = SimpleNamespace(acknowledged_at=agg["mine_at"])
        if can_edit:
            ack_counts = agg
            unread = list(selectors.acknowledgements(version, unread_only=True)[:30])
    steps = selectors.steps_of(version) if version else []
    review = PeriodicReview.objects.filter(document=document, reviewed_on__isnull=True).first() \
        if document.current_id and not document.is_abolished else None
    today = timezone.localdate()
    return {
        "document": document,
        "version": version,
        "versions": versions,
        "open_version": open_version,
        "steps": steps if can_edit else [],
        "hands": selectors.hands(version, steps),
        "outgoing": outgoing,
        "incoming": incoming,
        "attachments": _attachments(version),
        "reach": list(document.reach.select_related("unit").order_by("path")),
        "assessment_items": selectors.assessment_items(document),
        "mine": mine,
        "ack_counts": ack_counts,
        "unread": unread,
        "review": review,
        "review_due": review is not None and (review.due_on - today).days <= 30,
        "can_edit": can_edit,
        "can_write": scope.can_write_documents_of(user, document.org_path),
        "can_review": scope.can_review_documents_of(user, document.org_path),
        "can_approve": scope.can_approve_documents_of(user, document.org_path),
        "today": today,
    }


@login_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    document = scope.document_or_404(request.user, pk)
    return render(request, "documents/detail.html", document_context(request, document))


@login_required
@require_GET
def version_detail(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    """One version with its readable diff against the version before it."""
    user = request.user
    document = scope.document_or_404(user, pk)
    version = selectors.version_or_404(user, document, number)
    ctx = document_context(request, document, version)
    previous = next((v for v in ctx["versions"] if v.number < version.number), None)
    ctx.update({"previous": previous, "diff": selectors.diff(previous, version),
                "layout": "inline" if request.GET.get("layout") == "inline" else "side"})
    return render(request, "documents/version.html", ctx)


@login_required
@require_GET
def acknowledgement_list(request: HttpRequest, pk: int) -> HttpResponse:
    """Who has read the version in force and who has not (the owner's view); .xlsx with ?format=xlsx."""
    user = request.user
    document = scope.document_or_404(user, pk)
    if not selectors.can_see_acknowledgements(user, document):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied
    version = document.current
    if version is None:
        raise Http404
    unread_only = request.GET.get("unread") == "1"
    qs = selectors.acknowledgements(version, unread_only=unread_only)
    if request.GET.get("format") == "xlsx":
        return exports.xlsx_response(exports.acknowledgement_rows(qs), f"{document.number}-acknowledgements.xlsx",
                                     f"{document.number}-{_('Acknowledgements')}")
    page = paginate(request, qs, PER_PAGE)
    counts = Acknowledgement.objects.filter(version=version).aggregate(
        sent=Count("pk"), read=Count("pk", filter=Q(acknowledged_at__isnull=False)))
    return render(request, "documents/acknowledgements.html", {
        "document": document, "version": version, "page": page, "counts": counts, "unread_only": unread_only})


@login_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    """Full-text search in Chinese across the versions in force the user reads."""
    q = request.GET.get("q", "").strip()
    try:
        number = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        number = 1
    result = selectors.search(request.user, q, offset=(number - 1) * SEARCH_PER_PAGE, limit=SEARCH_PER_PAGE) \
        if q else None
    context = {"q": q, "result": result, "number": number,
               "has_next": bool(result and result.total > number * SEARCH_PER_PAGE),
               "has_previous": number > 1}
    if request.htmx and request.htmx.target == "search-hits":
        return render(request, "documents/_hits.html", context)
    return render(request, "documents/search.html", context)


@login_required
@require_GET
def todo(request: HttpRequest) -> HttpResponse:
    """My to-do: documents to read, periodic reviews due, drafts waiting for my review or approval."""
    return render(request, "documents/todo.html", {"todo": selectors.todo(request.user),
                                                   "today": timezone.localdate()})


@login_required
@require_GET
def book_pdf(request: HttpRequest, code: str) -> HttpResponse:
    """The unit's whole work-instruction book as one PDF with a table of contents."""
    user = request.user
    unit = scope.unit_or_404(user, code)
    documents = selectors.book(user, unit)
    if not documents:
        raise Http404
    pdf = exports.book_pdf(unit, documents)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{unit.code}-book.pdf"'
    return response


@login_required
@require_GET
def attachment(request: HttpRequest, pk: int, token: str) -> FileResponse:
    """An attachment of a version the user may see (readers of a document may download its files
    even where the files app alone would not let them: the document applies to them)."""
    from pbqms.files import services as files
    from pbqms.files.models import StoredFile

    user = request.user
    document = scope.document_or_404(user, pk)
    owners = [services.attachment_owner(v) for v in selectors.versions_for(user, document)]
    try:
        stored = StoredFile.objects.get(token=token, owner__in=owners)
    except (StoredFile.DoesNotExist, ValueError):
        raise Http404
    inline = request.GET.get("inline") == "1" and stored.can_show_inline
    return FileResponse(files.open_file(stored), as_attachment=not inline, filename=stored.original_name,
                        content_type=stored.content_type)


TIERS = Tier
