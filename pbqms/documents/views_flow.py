"""Forms and actions on documents: create, edit the draft, the review-approve-publish flow,
abolition, 已阅, periodic reviews, attachments and numbering patterns. HTTP only; the rules are
in documents.services and documents.circulation."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from pbqms import scope
from pbqms.core.views import add_service_error
from pbqms.files import idempotency

from . import circulation, services
from .forms import (
    AbolishForm,
    ApproveForm,
    AttachForm,
    DocumentEditForm,
    DocumentForm,
    DraftForm,
    PatternForm,
    PeriodicReviewForm,
    PublishForm,
    ReviewForm,
    parse_links,
)
from .models import Document, NumberingPattern, PeriodicReview, VersionStatus
from .views import document_context


def _units_from_codes(user: Any, text: str) -> list[Any]:
    codes = [c for c in (text or "").replace(",", " ").replace("，", " ").split() if c]
    units = []
    for code in codes:
        unit = scope.units(user).filter(code=code).first()
        if unit is None:
            raise ValidationError(_("There is no unit with this code in your scope."))
        units.append(unit)
    return units


def _write_units(user: Any) -> list[Any]:
    units = list(scope.document_write_units(user).order_by("path")[:300])
    if not units:
        raise PermissionDenied
    return units


def _page(request: HttpRequest, template: str, **ctx: Any) -> HttpResponse:
    return render(request, template, ctx)


@login_required
def create(request: HttpRequest) -> HttpResponse:
    user = request.user
    units = _write_units(user)
    form = DocumentForm(request.POST or None, units=units, initial={"unit": request.GET.get("unit", "")})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            unit = next((u for u in units if u.code == data["unit"]), None)
            if unit is None:
                raise ValidationError(_("There is no unit with this code in your scope."))
            doc_pk = idempotency.once(user, idempotency.form_key(form), "documents.document", lambda: (
                services.create_document(
                    user, unit=unit, tier=data["tier"], title=data["title"], number=data["number"] or "",
                    applies_to=_units_from_codes(user, data["applies_to"]), include_subtree=data["include_subtree"],
                    book_part=data["book_part"] or "", order=data["order"] or 0,
                    review_interval_months=data["review_interval_months"],
                    assessment_items=data["assessment_items"]))).pk
            doc = Document.objects.get(pk=doc_pk)
        except ValidationError as e:
            add_service_error(form, e)
        else:
            messages.success(request, _("Document %(n)s created; write its first draft.") % {"n": doc.number})
            return redirect("documents:draft", doc.pk)
    return _page(request, "documents/form.html", form=form, title=_("New document"), submit=_("Create"))


@login_required
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    document = scope.document_or_404(user, pk)
    scope.require_document_write(user, document.org_path)
    initial = {"applies_to": " ".join(document.reach.order_by("path").values_list("unit__code", flat=True)),
               "include_subtree": document.include_subtree, "book_part": document.book_part,
               "order": document.order, "review_interval_months": document.review_interval_months,
               "assessment_items": document.assessment_items,
               "links": "\n".join(f"{n} {k}" for n, k in document.outgoing.values_list("target__number", "kind"))}
    form = DocumentEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            targets = []
            for number, kind in parse_links(data.pop("links")):
                target = scope.documents(user).filter(number=number).first()
                if target is None:
                    raise ValidationError(_("There is no document numbered “%(n)s” in your scope.") % {"n": number})
                targets.append((target, kind))
            applies = _units_from_codes(user, data.pop("applies_to"))
            data["order"] = data["order"] or 0
            services.update_document(user, document, applies_to=applies, **data)
            services.set_links(user, document, targets)
        except ValidationError as e:
            add_service_error(form, e)
        else:
            messages.success(request, _("Saved."))
            return redirect(document)
    return _page(request, "documents/form.html", form=form, document=document,
                 title=_("Settings of %(n)s") % {"n": document.number}, submit=_("Save"))


@login_required
def draft(request: HttpRequest, pk: int) -> HttpResponse:
    """The draft editor (htmx saves without leaving the page)."""
    user = request.user
    document = scope.document_or_404(user, pk)
    scope.require_document_write(user, document.org_path)
    version = services.open_version(document)
    if version is None or version.status != VersionStatus.DRAFT:
        messages.warning(request, _("There is no draft to edit; start a new version first."))
        return redirect(document)
    initial = {f: getattr(version, f) for f in DraftForm.base_fields}
    form = DraftForm(request.POST or None, initial=initial)
    saved = False
    if request.method == "POST" and form.is_valid():
        try:
            version = services.edit_draft(user, version, **form.cleaned_data)
        except ValidationError as e:
            add_service_error(form, e)
        else:
            saved = True
            if not request.htmx:
                messages.success(request, _("Draft saved."))
                if request.POST.get("then") == "submit":
                    return _do(request, document, lambda: services.submit(user, version),
                               _("Sent for review."))
                return redirect("documents:draft", document.pk)
    ctx = {"form": form, "document": document, "version": version, "saved": saved,
           "attach_form": AttachForm(), "attachments": _files(version)}
    if request.htmx:
        return render(request, "documents/_draft_status.html", ctx)
    return render(request, "documents/draft.html", ctx)


def _files(version: Any) -> list[Any]:
    from pbqms.files.models import StoredFile

    return list(StoredFile.objects.filter(owner=services.attachment_owner(version)))


def _do(request: HttpRequest, document: Document, action: Any, done: str) -> HttpResponse:
    try:
        action()
    except ValidationError as e:
        for m in e.messages:
            messages.error(request, m)
    else:
        messages.success(request, done)
    return redirect(document)


def _post_only(request: HttpRequest) -> HttpResponse | None:
    return HttpResponseNotAllowed(["POST"]) if request.method != "POST" else None


@login_required
def new_version(request: HttpRequest, pk: int) -> HttpResponse:
    document = scope.document_or_404(request.user, pk)
    if (refused := _post_only(request)) is not None:
        return refused
    try:
        services.new_version(request.user, document, change_summary=request.POST.get("change_summary", ""))
    except ValidationError as e:
        for m in e.messages:
            messages.error(request, m)
        return redirect(document)
    return redirect("documents:draft", document.pk)


def _open_or_404(document: Document) -> Any:
    from django.http import Http404

    version = services.open_version(document)
    if version is None:
        raise Http404
    return version


@login_required
def submit(request: HttpRequest, pk: int) -> HttpResponse:
    document = scope.document_or_404(request.user, pk)
    if (refused := _post_only(request)) is not None:
        return refused
    version = _open_or_404(document)
    return _do(request, document, lambda: services.submit(request.user, version), _("Sent for review."))


def _action_form(request: HttpRequest, pk: int, form_class: Any, title: str, submit_label: str,
                 run: Any, done: str, check: Any) -> HttpResponse:
    user = request.user
    document = scope.document_or_404(user, pk)
    check(user, document)
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            run(user, document, form.cleaned_data)
        except ValidationError as e:
            add_service_error(form, e)
        else:
            messages.success(request, done)
            return redirect(document)
    ctx = document_context(request, document)
    ctx.update({"form": form, "title": title, "submit": submit_label})
    return render(request, "documents/action.html", ctx)


def _check_review(user: Any, document: Document) -> None:
    if not scope.can_review_documents_of(user, document.org_path):
        raise PermissionDenied


def _check_approve(user: Any, document: Document) -> None:
    if not scope.can_approve_documents_of(user, document.org_path):
        raise PermissionDenied


def _check_publish(user: Any, document: Document) -> None:
    if not (scope.can_write_documents_of(user, document.org_path)
            or scope.can_approve_documents_of(user, document.org_path)):
        raise PermissionDenied


def _check_write(user: Any, document: Document) -> None:
    scope.require_document_write(user, document.org_path)


@login_required
def review(request: HttpRequest, pk: int) -> HttpResponse:
    return _action_form(
        request, pk, ReviewForm, _("Review the draft"), _("Record the review"),
        lambda u, d, data: services.review(u, _open_or_404(d), passed=data["decision"] == "pass",
                                           comment=data["comment"]),
        _("Review recorded."), _check_review)


@login_required
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _action_form(
        request, pk, ApproveForm, _("Approve the version"), _("Approve"),
        lambda u, d, data: services.approve(u, _open_or_404(d), comment=data["comment"]),
        _("Approved."), _check_approve)


@login_required
def publish(request: HttpRequest, pk: int) -> HttpResponse:
    return _action_form(
        request, pk, PublishForm, _("Publish the version"), _("Publish"),
        lambda u, d, data: services.publish(u, _open_or_404(d), effective_from=data["effective_from"]),
        _("Published and sent to its recipients."), _check_publish)


@login_required
def abolish(request: HttpRequest, pk: int) -> HttpResponse:
    return _action_form(
        request, pk, AbolishForm, _("Abolish the document"), _("Abolish"),
        lambda u, d, data: services.abolish(u, d, reason=data["reason"]),
        _("The document is abolished."), _check_approve)


@login_required
def periodic_review(request: HttpRequest, pk: int) -> HttpResponse:
    def run(user: Any, document: Document, data: dict[str, Any]) -> None:
        review = PeriodicReview.objects.filter(document=document, reviewed_on__isnull=True).first()
        if review is None:
            raise ValidationError(_("No periodic review is open for this document."))
        circulation.record_review(user, review, outcome=data["outcome"], note=data["note"])

    return _action_form(request, pk, PeriodicReviewForm, _("Record the periodic review"), _("Record"), run,
                        _("Periodic review recorded."), _check_write)


@login_required
def acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    document = scope.document_or_404(user, pk)
    if (refused := _post_only(request)) is not None:
        return refused
    if document.current is None:
        from django.http import Http404

        raise Http404
    try:
        ack = circulation.acknowledge(user, document.current)
    except ValidationError as e:
        if request.htmx:
            return render(request, "documents/_ack.html", {"document": document, "error": e.messages[0]})
        for m in e.messages:
            messages.error(request, m)
        return redirect(document)
    if request.htmx:
        return render(request, "documents/_ack.html", {"document": document, "mine": ack})
    messages.success(request, _("Confirmed as read."))
    return redirect(document)


@login_required
def attach(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    document = scope.document_or_404(user, pk)
    if (refused := _post_only(request)) is not None:
        return refused
    scope.require_document_write(user, document.org_path)
    version = _open_or_404(document)
    form = AttachForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.attach_files(user, version, form.cleaned_data["files"])
        except ValidationError as e:
            for m in e.messages:
                messages.error(request, m)
        else:
            messages.success(request, _("Attached."))
    else:
        for errors in form.errors.values():
            for m in errors:
                messages.error(request, m)
    return redirect("documents:draft", document.pk)


@login_required
def patterns(request: HttpRequest) -> HttpResponse:
    """Numbering patterns of the units whose documents the user writes."""
    user = request.user
    units = _write_units(user)
    form = PatternForm(request.POST or None, units=units)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        unit = next((u for u in units if u.code == data["unit"]), None)
        try:
            if unit is None:
                raise ValidationError(_("There is no unit with this code in your scope."))
            services.set_numbering_pattern(user, unit, data["tier"], data["pattern"], data["next_seq"])
        except ValidationError as e:
            add_service_error(form, e, "pattern")
        else:
            messages.success(request, _("Numbering pattern saved."))
            return redirect("documents:patterns")
    rows = NumberingPattern.objects.filter(scope._prefix_q("org_path", scope.document_reach(user).write)) \
        .select_related("unit").order_by("org_path", "tier")
    return render(request, "documents/patterns.html", {"form": form, "rows": rows})
