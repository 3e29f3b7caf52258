"""Roster pages — 花名册导入导出: the import page, a job's progress and report, the template and
the member-list export. Views only translate HTTP: the rules are in roster.services."""

from __future__ import annotations

import io
import tempfile

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from pbqms import scope
from pbqms.members.forms import MemberFilterForm

from . import selectors, services
from .columns import is_chinese
from .forms import UploadForm
from .importer import CHECKING, READING, WRITING
from .models import ImportJob

SHOWN_ERRORS = 500  # on the page; the downloadable report has them all
PHASE_LABELS = {
    READING: gettext_lazy("Reading the file"),
    CHECKING: gettext_lazy("Checking every row"),
    WRITING: gettext_lazy("Writing to the roster"),
}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _require_import(request: HttpRequest) -> None:
    if not scope.can_import_roster(request.user):
        raise PermissionDenied


@login_required
@require_http_methods(["GET", "POST"])
def import_page(request: HttpRequest) -> HttpResponse:
    _require_import(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        job = services.create_job(request.user, form.cleaned_data["file"], dry_run=form.cleaned_data["dry_run"],
                                  language=translation.get_language() or "")
        messages.success(request, _("The file was uploaded; it is being checked."))
        return redirect("roster:job", pk=job.pk)
    return render(request, "roster/import.html", {"form": form, "jobs": selectors.recent_jobs(request.user)})


@login_required
@require_GET
def template(request: HttpRequest) -> HttpResponse:
    _require_import(request)
    buf = io.BytesIO()
    services.write_template(buf, translation.get_language())
    buf.seek(0)
    name = "花名册模板.xlsx" if is_chinese() else "roster-template.xlsx"
    return FileResponse(buf, as_attachment=True, filename=name, content_type=XLSX)


def _job_context(job: ImportJob) -> dict[str, object]:
    errors = job.errors if job.finished else []
    summary = {k: v for k, v in (job.summary or {}).items() if k != "ignored_columns"}
    return {
        "job": job,
        "phase_label": PHASE_LABELS.get(job.phase, ""),
        "errors": errors[:SHOWN_ERRORS],
        "error_count": len(errors),
        "more_errors": max(0, len(errors) - SHOWN_ERRORS),
        "summary": summary,
        "ignored_columns": (job.summary or {}).get("ignored_columns", []),
        "written": job.state == ImportJob.State.DONE,
    }


@login_required
@require_GET
def job(request: HttpRequest, pk: int) -> HttpResponse:
    """A job's page; while it runs, htmx polls this URL for the status block alone."""
    job = selectors.job_or_404(request.user, pk)
    context = _job_context(job)
    if request.htmx:
        return render(request, "roster/_job_status.html", context)
    return render(request, "roster/job.html", context)


@login_required
@require_GET
def job_report(request: HttpRequest, pk: int) -> HttpResponse:
    job = selectors.job_or_404(request.user, pk)
    buf = io.BytesIO()
    services.write_error_report(job, buf)
    buf.seek(0)
    return FileResponse(buf, as_attachment=True, filename=f"roster-import-{job.pk}-problems.xlsx",
                        content_type=XLSX)


@login_required
@require_GET
def export(request: HttpRequest) -> HttpResponse:
    """The member list (same parameters as members:list) as .xlsx, within scope, masked."""
    form = MemberFilterForm(request.GET or None, units=None)
    form.is_valid()
    filters = form.filters()
    out = tempfile.TemporaryFile()  # streamed from disk; gone when the response closes it
    try:
        services.export_members(filters, request.user, out, language=translation.get_language())
    except BaseException:
        out.close()
        raise
    out.seek(0)
    suffix = f"-{filters['unit']}" if filters["unit"] else ""
    name = f"roster{suffix}-{timezone.localdate():%Y%m%d}.xlsx"
    return FileResponse(out, as_attachment=True, filename=name, content_type=XLSX)
