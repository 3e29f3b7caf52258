"""Roster pages — 花名册导入导出: the import page, a job's progress and report, the template and
the member-list export. Views only translate HTTP: the rules are in roster.services."""

from __future__ import annotations

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from pbqms import scope
from pbqms.core.xlsx import xlsx_response
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
    name = "花名册模板.xlsx" if is_chinese() else "roster-template.xlsx"
    return xlsx_response(buf.getvalue(), name, fallback="roster-template.xlsx")


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
    return xlsx_response(buf.getvalue(), _("Roster import %(n)s problems") % {"n": job.pk},
                         fallback=f"roster-import-{job.pk}-problems.xlsx")


@login_required
@require_GET
def export(request: HttpRequest) -> HttpResponse:
    """The member list (same parameters as members:list) as .xlsx, within scope, masked.

    With `unmask=1`, for the roles that may read ID numbers only, ID numbers and phones are written
    in clear, so the file can be imported again; each such export is an audit entry."""
    form = MemberFilterForm(request.GET or None, units=None)
    form.is_valid()
    filters = form.filters()
    unmask = request.GET.get("unmask") == "1"
    if unmask and not scope.get_scope(request.user).id_paths:
        raise PermissionDenied
    day = f"{timezone.localdate():%Y%m%d}"
    suffix = f"-{filters['unit']}" if filters["unit"] else ""
    title = _("Roster with ID numbers") if unmask else _("Roster")
    return xlsx_response(lambda out: services.export_members(filters, request.user, out, unmask=unmask,
                                                             language=translation.get_language()),
                         f"{title}{suffix}-{day}.xlsx",
                         fallback=f"roster{'-full' if unmask else ''}{suffix}-{day}.xlsx")
