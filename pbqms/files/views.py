"""Attachment pages — 附件: the scoped download, and the upload a form makes before its record exists.

Views only translate HTTP: pbqms.scope decides who reads a file (404 outside scope, even for a
valid token) and files.services checks and keeps uploads.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from pbqms import scope

from . import services
from .forms import UploadForm


@login_required
@require_GET
def download(request: HttpRequest, token: object) -> FileResponse:
    stored = scope.file_or_404(request.user, token)
    inline = request.GET.get("inline") == "1" and stored.can_show_inline
    try:
        handle = services.open_file(stored)
    except FileNotFoundError:
        raise Http404
    response = FileResponse(handle, as_attachment=not inline, filename=stored.original_name,
                            content_type=stored.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


@login_required
@require_POST
def upload(request: HttpRequest) -> HttpResponse:
    """Store files for the current user, unattached, and answer hidden inputs naming them (htmx).

    The unit must be one the user records work in: outside scope 404, inside without the right 403.
    A refused file answers the message and stores nothing (200 for htmx, so the message is swapped in)."""
    form = UploadForm(request.POST, request.FILES)
    code = request.POST.get("unit", "")
    unit = scope.unit_or_404(request.user, code)
    if not scope.can_upload_in(request.user, unit):
        raise PermissionDenied
    errors: list[str] = []
    stored = []
    if form.is_valid():
        try:
            stored = services.store_many(request.user, form.cleaned_data["upload"], unit=unit,
                                         kinds=form.cleaned_data["kinds"])
        except ValidationError as exc:
            errors = exc.messages
    else:
        errors = [e for field_errors in form.errors.values() for e in field_errors]
    status = 200 if request.htmx or not errors else 422
    return render(request, "files/_uploaded.html", {"files": stored, "errors": errors}, status=status)
