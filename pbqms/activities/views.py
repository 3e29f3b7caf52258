"""Organisational-life pages — 组织生活: the branch's month calendar, recording an activity with its
attendance, a record's page, the records list and each member's participation. Plans, the heat
map and the record books are in views_boards.py.

Views only translate HTTP: reads go through selectors.py (which starts from pbqms.scope), writes
through services.py, whose ValidationError lands on the form (nothing saved) and whose
PermissionDenied answers 403.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from pbqms import scope
from pbqms.core import clock
from pbqms.core import xlsx as core_xlsx
from pbqms.core.views import paginate
from pbqms.files import idempotency
from pbqms.files import services as files
from pbqms.members.models import MemberState
from pbqms.orgs.models import Unit, UnitKind

from . import exports, selectors, services
from .forms import AttendanceSheet, CorrectionForm, DeleteForm, RecordFilterForm, RecordForm, kind_choices, year_of
from .models import ActivityKind, ActivityRecord, ComplianceStatus

PER_PAGE = 50
WEEKDAYS = [WEEKDAYS_ABBR[i] for i in range(7)]  # Django's own catalogue: 星期一 … / Mon …
# Keys of the services' ValidationError that belong to the attendance checklist, not a field.
SHEET_KEYS = ("attendance", "absence")


# ---- helpers -----------------------------------------------------------------------------------

class _Refused(Exception):
    """An upload was refused; its message is already on the form."""


@contextmanager
def kept_files() -> Iterator[list[Any]]:
    """One transaction around storing uploads and the service that takes them: if anything fails,
    the rows roll back and the stored bytes are removed, so nothing is left behind."""
    kept: list[Any] = []
    try:
        with transaction.atomic():
            yield kept
    except BaseException:
        for f in kept:
            (files.storage_root() / f.path).unlink(missing_ok=True)
        raise


def put_errors(form: forms.Form, error: ValidationError, aside: list[str] | None = None,
               aside_keys: tuple[str, ...] = ()) -> None:
    """A service's ValidationError on the form: each keyed message on its field (keys in
    `aside_keys` go to the `aside` list, e.g. the attendance checklist), the rest above the fields."""
    if hasattr(error, "error_dict"):
        for key, errs in error.error_dict.items():
            msgs = [m for e in errs for m in e.messages]
            if aside is not None and key in aside_keys:
                aside.extend(msgs)
            else:
                form.add_error(key if key in form.fields else None, msgs)
    else:
        form.add_error(None, error.messages)


def unit_of(user: Any, code: str) -> Unit:
    return scope.unit_or_404(user, code)


def download(content: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


xlsx_response = core_xlsx.xlsx_response  # the one response of every export (pbqms.core.xlsx)


def nav(user: Any, unit: Unit | None, tab: str) -> dict[str, Any]:
    """What the app's tabs link to from this page."""
    s = scope.get_scope(user)
    return {"tab": tab, "nav_unit": unit, "nav_board": bool(s.is_superuser or s.read_paths),
            "nav_my": s.self_member_id is not None}


def unit_people(user: Any, unit: Unit) -> Any:
    """Who may host or record the unit's activity: its people (a group's: its branch's) the user reads."""
    home = unit.parent if unit.kind == UnitKind.GROUP and unit.parent_id else unit
    return scope.members(user).filter(unit=home, state=MemberState.ACTIVE).order_by("name_pinyin", "pk")


# ---- home --------------------------------------------------------------------------------------

@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Where organisational life opens: the committee's heat map, a branch's or group's calendar,
    a member's own participation."""
    user = request.user
    s = scope.get_scope(user)
    branch_roles = scope.paths_for(user, scope.RECT_RESPOND_ROLES)
    if scope.paths_for(user, scope.RECT_ISSUE_ROLES) or (s.read_paths and not branch_roles):
        return redirect("activities:heatmap_home")
    unit = selectors.home_unit(user)
    if unit is not None and (branch_roles or s.group_ids or s.self_member_id is None):
        return redirect("activities:calendar", code=unit.code)
    return redirect("activities:my")


@login_required
@require_GET
def calendar_home(request: HttpRequest) -> HttpResponse:
    unit = selectors.home_unit(request.user)
    if unit is None:
        raise PermissionDenied
    return redirect("activities:calendar", code=unit.code)


# ---- the calendar ------------------------------------------------------------------------------

def _calendar_data(request: HttpRequest, unit: Unit) -> dict[str, Any]:
    first = selectors.month_start(request.GET.get("month"))
    return selectors.calendar(request.user, unit, first)


@login_required
@require_GET
def calendar(request: HttpRequest, code: str) -> HttpResponse:
    """A unit's month: records and planned items on their days, and beside them what the rules
    still require this month, quarter and year (met / in time / at risk / missed)."""
    user = request.user
    unit = unit_of(user, code)
    data = _calendar_data(request, unit)
    first = data["first"]
    recordable = [u for u in data["units"] if scope.can_record_activity(user, u)]
    context = {
        **data, "unit": unit, "crumbs": selectors.readable_crumbs(user, unit), "weekdays": WEEKDAYS,
        "prev_month": f"{selectors.shift_month(first, -1):%Y-%m}",
        "next_month": f"{selectors.shift_month(first, 1):%Y-%m}",
        "this_month": f"{first:%Y-%m}", "is_this_month": first == data["today"].replace(day=1),
        "recordable": recordable, "can_record": unit in recordable,
        "open_count": data["counts"][ComplianceStatus.AT_RISK] + data["counts"][ComplianceStatus.OPEN],
        "can_board": scope.covers_path(user, unit.path) and unit.kind != UnitKind.GROUP,
        **nav(user, unit, "calendar"),
    }
    return render(request, "activities/calendar.html", context)


@login_required
@require_GET
def calendar_xlsx(request: HttpRequest, code: str) -> FileResponse:
    unit = unit_of(request.user, code)
    data = _calendar_data(request, unit)
    return xlsx_response(lambda out: exports.calendar_xlsx(unit, data, out),
                         f"{_('Calendar')}-{unit.name}-{data['first']:%Y-%m}.xlsx",
                         fallback=f"calendar-{unit.code}-{data['first']:%Y-%m}.xlsx")


# ---- recording an activity ---------------------------------------------------------------------

def _initial(request: HttpRequest, unit: Unit) -> dict[str, Any]:
    initial: dict[str, Any] = {"held_on": clock.today()}
    kind = request.GET.get("kind", "")
    if kind in {k for k, _label in kind_choices(unit)}:
        initial["kind"] = kind
    elif unit.kind == UnitKind.GROUP:
        initial["kind"] = ActivityKind.GROUP_MEETING
    day = request.GET.get("held_on") or request.GET.get("day", "")
    if day:
        initial["held_on"] = day
    return initial


def _roster(unit: Unit, source: Any, initial: dict[str, Any]) -> services.Roster:
    """The roster of the kind and date chosen (posted, or asked for by the htmx refresh, or the
    form's initial ones): a committee meeting expects its committee serving that day."""
    kinds = {k for k, _label in kind_choices(unit)}
    kind = source.get("kind") if source is not None and source.get("kind") in kinds else \
        initial.get("kind") or kind_choices(unit)[0][0]
    raw = (source.get("held_on") if source is not None else None) or initial.get("held_on")
    try:
        day = raw if isinstance(raw, dt.date) else dt.date.fromisoformat(str(raw))
    except ValueError:
        day = clock.today()
    return services.roster_for(unit, kind, day)


@login_required
def record_create(request: HttpRequest, code: str) -> HttpResponse:
    """Record an activity held: the facts, the attendance as a checklist of the roster (everyone
    ticked; an untick asks for the reason), photos and attachments."""
    user = request.user
    unit = unit_of(user, code)
    if not scope.can_record_activity(user, unit):
        raise PermissionDenied
    post = request.method == "POST"
    initial = _initial(request, unit)
    roster = _roster(unit, request.POST if post else request.GET, initial)
    if not post and request.htmx and request.htmx.target == "attendance":
        return render(request, "activities/_attendance.html",
                      {"sheet": AttendanceSheet(roster), "refresh": request.path})
    form = RecordForm(request.POST if post else None, request.FILES if post else None, unit=unit,
                      people=unit_people(user, unit), initial=initial)
    sheet = AttendanceSheet(roster, request.POST if post else None)
    if post and form.is_valid():
        if sheet.marks_only_readable(user):
            record = _save_record(request, unit, form, sheet)
            if record is not None:
                messages.success(request, _("The activity was recorded: %(present)d of %(expected)d present.") % {
                    "present": record.present, "expected": record.expected})
                return redirect("activities:record", record_pk=record.pk)
    context = {"unit": unit, "form": form, "sheet": sheet, "crumbs": selectors.readable_crumbs(user, unit),
               "refresh": request.path, **nav(user, unit, "calendar")}
    return render(request, "activities/record_form.html", context)


def _save_record(request: HttpRequest, unit: Unit, form: RecordForm, sheet: AttendanceSheet) -> ActivityRecord | None:
    user = request.user
    d = form.cleaned_data
    data = services.RecordInput(unit=unit, kind=d["kind"], held_on=d["held_on"], topic=d["topic"], place=d["place"],
                                start_time=d["start_time"], host=d["host"], recorder=d["recorder"],
                                minutes=d["minutes"], resolutions=d["resolutions"], attendance=sheet.presence())

    def save() -> ActivityRecord:
        with kept_files() as kept:
            stored: list[Any] = []
            if d["photos"]:
                try:
                    stored = files.store_many(user, d["photos"], unit=unit)
                except ValidationError as e:
                    form.add_error("photos", e.messages)
                    raise _Refused from e
                kept.extend(stored)
            return services.record_activity(user, data, files=stored)

    try:
        outcome = idempotency.once(user, idempotency.form_key(form), "activities.record", save)
    except _Refused:
        return None
    except ValidationError as e:
        put_errors(form, e, sheet.errors, SHEET_KEYS)
        return None
    return outcome.obj or ActivityRecord.objects.get(pk=outcome.pk)


# ---- a record ----------------------------------------------------------------------------------

def _record_page(request: HttpRequest, record: ActivityRecord, delete_form: DeleteForm,
                 status: int = 200) -> HttpResponse:
    user = request.user
    attendance = selectors.attendance_of(record)
    context = {
        "record": record, "unit": record.unit, "attendance": attendance,
        "absent": [a for a in attendance if not a.present],
        "present": [a for a in attendance if a.present and a.counted],
        "guests": [a for a in attendance if not a.counted], "files": selectors.record_files(record),
        "talk": services.roster_mode(record.kind) == services.ROSTER_CHOSEN,
        "delete_form": delete_form, "can_delete": scope.can_record_activity(user, record.unit),
        "crumbs": selectors.readable_crumbs(user, record.unit), **nav(user, record.unit, "records"),
    }
    return render(request, "activities/record_detail.html", context, status=status)


@login_required
@require_GET
def record_detail(request: HttpRequest, record_pk: int) -> HttpResponse:
    record = selectors.record_or_404(request.user, record_pk)
    return _record_page(request, record, DeleteForm())


@login_required
@require_POST
def record_delete(request: HttpRequest, record_pk: int) -> HttpResponse:
    """Withdraw a record entered by mistake; the reason stays in the audit trail."""
    user = request.user
    record = selectors.record_or_404(user, record_pk)
    form = DeleteForm(request.POST)
    form.is_valid()
    unit, month = record.unit, f"{record.held_on:%Y-%m}"
    try:
        services.delete_record(user, record, form.cleaned_data.get("reason", ""))
    except ValidationError as e:
        put_errors(form, e)
        return _record_page(request, selectors.record_or_404(user, record_pk), form)
    messages.success(request, _("The record was deleted."))
    return redirect(f"{reverse('activities:calendar', args=[unit.code])}?month={month}")


@login_required
def record_attendance(request: HttpRequest, record_pk: int) -> HttpResponse:
    """Correct a record's attendance afterwards: the checklist as stored, the reason for the change;
    the audit trail keeps each person's change."""
    user = request.user
    record = selectors.record_or_404(user, record_pk)
    if not scope.can_record_activity(user, record.unit):
        raise PermissionDenied
    roster = services.roster_for(record.unit, record.kind, record.held_on)
    post = request.method == "POST"
    form = CorrectionForm(request.POST if post else None)
    sheet = AttendanceSheet(roster, request.POST if post else None,
                            initial=None if post else selectors.attendance_of(record))
    if post and form.is_valid():
        if sheet.marks_only_readable(user):
            try:
                record = services.correct_attendance(user, record, sheet.presence(), form.cleaned_data["reason"])
            except ValidationError as e:
                put_errors(form, e, sheet.errors, SHEET_KEYS)
            else:
                messages.success(request, _("The attendance was corrected: %(present)d of %(expected)d present.")
                                 % {"present": record.present, "expected": record.expected})
                return redirect("activities:record", record_pk=record.pk)
    context = {"record": record, "unit": record.unit, "form": form, "sheet": sheet,
               "crumbs": selectors.readable_crumbs(user, record.unit), **nav(user, record.unit, "records")}
    return render(request, "activities/record_attendance.html", context, status=200)


# ---- the records list --------------------------------------------------------------------------

def _record_filters(request: HttpRequest) -> tuple[RecordFilterForm, dict[str, Any]]:
    form = RecordFilterForm(request.GET or None)
    form.is_valid()
    return form, form.filters()


@login_required
@require_GET
def record_list(request: HttpRequest, code: str) -> HttpResponse:
    """活动记录: the records of a unit and the units below it, newest first."""
    user = request.user
    unit = unit_of(user, code)
    form, filters = _record_filters(request)
    page = paginate(request, selectors.record_list(user, unit, **filters), PER_PAGE)
    query = request.GET.copy()
    query.pop("page", None)
    context = {"unit": unit, "form": form, "page": page, "filters": filters, "export_query": query.urlencode(),
               "can_record": scope.can_record_activity(user, unit), "crumbs": selectors.readable_crumbs(user, unit),
               **nav(user, unit, "records")}
    if request.htmx and request.htmx.target == "record-results":
        return render(request, "activities/_record_results.html", context)
    return render(request, "activities/record_list.html", context)


@login_required
@require_GET
def record_list_xlsx(request: HttpRequest, code: str) -> FileResponse:
    user = request.user
    unit = unit_of(user, code)
    _form, filters = _record_filters(request)
    rows = selectors.record_list(user, unit, **filters)
    return xlsx_response(lambda out: exports.records_xlsx(rows, out),
                         f"{_('Activity records')}-{unit.name}-{filters['year']}.xlsx",
                         fallback=f"records-{unit.code}-{filters['year']}.xlsx")


# ---- participation -----------------------------------------------------------------------------

def _participation(request: HttpRequest, member: Any, own: bool) -> HttpResponse:
    user = request.user
    year = year_of(request.GET.get("year"))
    data = selectors.participation(user, member, year)
    context = {"member": member, "data": data, "year": year, "own": own, "years": [y for y, _l in
               RecordFilterForm().fields["year"].choices], **nav(user, None, "my" if own else "")}
    return render(request, "activities/participation.html", context)


@login_required
@require_GET
def my_participation(request: HttpRequest) -> HttpResponse:
    """The signed-in member's own activities and attendance rate this year."""
    member_id = scope.get_scope(request.user).self_member_id
    if member_id is None:
        return render(request, "activities/participation_none.html", nav(request.user, None, "my"))
    return _participation(request, scope.member_or_404(request.user, member_id), own=True)


@login_required
@require_GET
def member_participation(request: HttpRequest, member_pk: int) -> HttpResponse:
    member = scope.member_or_404(request.user, member_pk)
    own = scope.is_self_member(request.user, member.pk)
    return _participation(request, member, own=own)


def _participation_xlsx(request: HttpRequest, member: Any) -> FileResponse:
    year = year_of(request.GET.get("year"))
    data = selectors.participation(request.user, member, year)
    return xlsx_response(lambda out: exports.participation_xlsx(member, data, out),
                         f"{_('Participation')}-{member.name}-{year}.xlsx",
                         fallback=f"participation-{member.pk}-{year}.xlsx")


@login_required
@require_GET
def my_participation_xlsx(request: HttpRequest) -> FileResponse:
    member_id = scope.get_scope(request.user).self_member_id
    if member_id is None:
        raise PermissionDenied
    return _participation_xlsx(request, scope.member_or_404(request.user, member_id))


@login_required
@require_GET
def member_participation_xlsx(request: HttpRequest, member_pk: int) -> FileResponse:
    return _participation_xlsx(request, scope.member_or_404(request.user, member_pk))
