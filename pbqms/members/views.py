"""People pages — 党员: the member list, a person's page and the forms that change people.

Views only translate HTTP: reads go through pbqms.scope and members.selectors, writes through
members.services. Reading outside scope answers 404, writing without the right 403.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from pbqms import scope
from pbqms.audit.selectors import history_of
from pbqms.core.views import add_service_error, paginate
from pbqms.orgs import selectors as org_selectors
from pbqms.orgs.models import Unit, UnitKind

from . import selectors, services
from .forms import (
    AppointForm,
    EndPostForm,
    MemberFilterForm,
    MemberForm,
    StatusForm,
    TransferForm,
)
from .models import Member, MemberState, TransferDirection

PER_PAGE = 50
HISTORY_PER_PAGE = 50
EXPORT_PATH = "/roster/export/"  # roster:export, built by the roster app


# ---- the member list ------------------------------------------------------------------------

@login_required
@require_GET
def member_list(request: HttpRequest) -> HttpResponse:
    """Search, filter, sort and page the people in scope; htmx swaps only the results."""
    user = request.user
    units, more = org_selectors.unit_choices(user)
    form = MemberFilterForm(request.GET or None, units=None if more else units)
    form.is_valid()
    filters = form.filters()
    code = filters.pop("unit")
    unit = scope.unit_or_404(user, code) if code else None
    people = selectors.filtered_members(user, unit=unit, **filters)
    page = paginate(request, people, PER_PAGE, total=selectors.known_total(user, unit=unit, **filters))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "unit": unit, "sort_links": _sort_links(request, filters["sort"]),
               "export_url": f"{EXPORT_PATH}?{query.urlencode()}",
               # the audited export with ID numbers in clear, to import again (roles that may read them)
               "full_export_url": f"{EXPORT_PATH}?{query.urlencode()}{'&' if query else ''}unmask=1"
               if scope.get_scope(user).id_paths else "",
               "can_create": scope.can_import_roster(user)}
    if request.htmx and request.htmx.target == "member-results":
        return render(request, "members/_results.html", context)
    return render(request, "members/list.html", context)


# Column → the sort keys a click cycles through (members.selectors.SORTS).
SORT_TOGGLES = {"name": ("name", "-name"), "status": ("status",), "unit": ("unit",),
                "birth": ("birth", "-birth")}


def _sort_links(request: HttpRequest, current: str) -> dict[str, dict[str, str]]:
    links = {}
    for column, keys in SORT_TOGGLES.items():
        nxt = keys[1] if current == keys[0] and len(keys) > 1 else keys[0]
        query = request.GET.copy()
        query["sort"] = nxt
        query.pop("page", None)
        state = "asc" if current == keys[0] else "desc" if current in keys[1:] else ""
        links[column] = {"url": f"?{query.urlencode()}", "state": state}
    return links


# ---- a person's page ------------------------------------------------------------------------

def _member_page(request: HttpRequest, member: Member, tab: str) -> dict[str, Any]:
    user = request.user
    ancestors = org_selectors.ancestors(member.unit) + [member.unit]
    for a in ancestors:
        a.readable = scope.can_read_unit(user, a)  # type: ignore[attr-defined]
    can_write = scope.can_write_member(user, member)
    own = scope.get_scope(user).self_member_id == member.pk
    return {
        "member": member,
        "tab": tab,
        "ancestors": ancestors,
        "can_write": can_write,
        "can_reveal_id": bool(member.id_number_masked) and scope.can_see_id_number(user, member),
        "can_reveal_phone": bool(member.phone_masked) and (can_write or own),
        "is_active": member.state == MemberState.ACTIVE,
        "next_status": selectors.next_status(member) if member.state == MemberState.ACTIVE else None,
    }


def _overview(request: HttpRequest, member: Member, revealed: dict[str, str] | None = None) -> HttpResponse:
    ctx = _member_page(request, member, "overview")
    ctx.update({
        "steps": list(selectors.status_steps(member)),
        "posts": list(selectors.committee_posts(member)),
        "transfers": list(selectors.transfers(member)),
        "revealed": revealed or {},
    })
    return render(request, "members/detail.html", ctx)


@login_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _overview(request, scope.member_or_404(request.user, pk))


@login_required
@require_GET
def history(request: HttpRequest, pk: int) -> HttpResponse:
    member = scope.member_or_404(request.user, pk)
    page = paginate(request, history_of(member), HISTORY_PER_PAGE)
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "members/_history.html", {"member": member, "page": page})
    ctx = _member_page(request, member, "history")
    ctx["page"] = page
    return render(request, "members/history.html", ctx)


@login_required
def reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """The ID number (or phone) in clear, for the roles allowed; services log every ID reveal."""
    member = scope.member_or_404(request.user, pk)  # outside scope: 404 whatever the method
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    field = request.POST.get("field", "id_number")
    if field == "phone":
        value = services.reveal_phone(request.user, member)
    else:
        field = "id_number"
        value = services.reveal_id_number(request.user, member)
    if request.htmx:
        response = render(request, "members/_revealed.html", {"value": value, "field": field})
        response["Cache-Control"] = "no-store"
        return response
    response = _overview(request, member, revealed={field: value})
    response["Cache-Control"] = "no-store"
    return response


# ---- forms ----------------------------------------------------------------------------------

def _form_page(request: HttpRequest, template: str, form: Any, *, title: str, submit: str,
               member: Member | None = None, **extra: Any) -> HttpResponse:
    return render(request, template, {"form": form, "title": title, "submit": submit, "member": member,
                                      **extra})


def _group_from_code(user: Any, code: str) -> Unit | None:
    """A party group named by code, read through scope; None when the code is empty."""
    if not code:
        return None
    group = scope.units(user).filter(code=code.strip(), kind=UnitKind.GROUP).first()
    if group is None:
        raise ValidationError(_("There is no party group with this code in your scope."))
    return group


def _unit_from_code(user: Any, code: str) -> Unit:
    unit = scope.units(user).filter(code=code.strip()).first()
    if unit is None:
        raise ValidationError(_("There is no unit with this code in your scope."))
    return unit


def _groups_for_forms(user: Any) -> list[Unit] | None:
    groups, more = selectors.member_group_choices(user)
    return None if more else groups


@login_required
def create(request: HttpRequest) -> HttpResponse:
    """A new person in a unit the user may add people to (?unit=CODE preselects it)."""
    user = request.user
    units, more = selectors.member_unit_choices(user)
    if not units:
        raise PermissionDenied
    initial = {"unit": request.GET.get("unit", ""), "group": request.GET.get("group", "")}
    form = MemberForm(request.POST or None, units=None if more else units, groups=_groups_for_forms(user),
                      initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            unit = _unit_from_code(user, data.pop("unit"))
        except ValidationError as e:
            add_service_error(form, e, "unit")
        else:
            try:
                data["group"] = _group_from_code(user, data.pop("group"))
                member = services.create_member(user, unit=unit, **data)
            except ValidationError as e:
                add_service_error(form, e, _error_field(e))
            else:
                messages.success(request, _("%(name)s was added.") % {"name": member.name})
                return redirect(member)
    return _form_page(request, "members/form.html", form, title=_("New person"), submit=_("Create"))


def _error_field(error: ValidationError) -> str | None:
    """The form field an ID-number error from the services belongs to."""
    codes = {getattr(e, "code", None) for e in error.error_list} if hasattr(error, "error_list") else set()
    id_codes = {"format", "check_digit", "birth_date", "birth_mismatch", "gender_mismatch"}
    return "id_number" if codes & id_codes else None


@login_required
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    member = scope.member_or_404(user, pk)
    scope.require_member_write(user, member)
    initial = {f: getattr(member, f) for f in ("name", "gender", "ethnicity", "birth_date", "education",
                                                "post", "joined_on")}
    initial["group"] = member.group.code if member.group else ""
    groups = list(org_selectors.groups_of(member.unit))
    form = MemberForm(request.POST or None, initial=initial, groups=groups, editing=True)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        for secret in ("id_number", "phone"):  # blank keeps what is on record
            if not data[secret].strip():
                data.pop(secret)
        try:
            data["group"] = _group_from_code(user, data.pop("group"))
            services.update_member(user, member, **data)
        except ValidationError as e:
            member.refresh_from_db()
            add_service_error(form, e, _error_field(e))
        else:
            messages.success(request, _("The record was saved."))
            return redirect(member)
    return _form_page(request, "members/form.html", form, title=_("Edit %(name)s") % {"name": member.name},
                      submit=_("Save"), member=member)


@login_required
def status(request: HttpRequest, pk: int) -> HttpResponse:
    """Advance one step along the development ladder."""
    user = request.user
    member = scope.member_or_404(user, pk)
    scope.require_member_write(user, member)
    nxt = selectors.next_status(member)
    form = StatusForm(request.POST or None, initial={"new_status": nxt})
    if request.method == "POST" and form.is_valid():
        try:
            data = form.cleaned_data
            services.advance_status(user, member, data["new_status"], date=data["date"], note=data["note"])
        except ValidationError as e:
            member.refresh_from_db()
            add_service_error(form, e)
        else:
            messages.success(request, _("The party status was changed to “%(s)s”.")
                             % {"s": member.get_status_display()})
            return redirect(member)
    return _form_page(request, "members/form.html", form, member=member, submit=_("Save"),
                      title=_("Party status of %(name)s") % {"name": member.name},
                      intro=_("Now: %(s)s.") % {"s": member.get_status_display()})


@login_required
def transfer(request: HttpRequest, pk: int) -> HttpResponse:
    """Transfer the organisational relation: inside the system, out of it, or back in."""
    user = request.user
    member = scope.member_or_404(user, pk)
    active = member.state == MemberState.ACTIVE
    allowed = [TransferDirection.INTERNAL, TransferDirection.OUT] if active else [TransferDirection.IN]
    direction = request.GET.get("direction") or allowed[0]
    if direction not in allowed:
        direction = allowed[0]
    if active:
        scope.require_member_write(user, member)
    elif not scope.get_scope(user).member_write_paths:
        raise PermissionDenied
    units, more = selectors.member_unit_choices(user)
    form = TransferForm(request.POST or None, direction=direction, units=None if more else units,
                        groups=_groups_for_forms(user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if direction == TransferDirection.OUT:
                services.transfer_out(user, member, external_org=data["external_org"], date=data["date"],
                                      letter_number=data["letter_number"], reason=data["reason"])
            else:
                to_unit = _unit_from_code(user, data["to_unit"])
                group = _group_from_code(user, data["group"])
                if direction == TransferDirection.INTERNAL:
                    services.transfer_internal(user, member, to_unit, date=data["date"],
                                               reason=data["reason"], group=group)
                else:
                    services.transfer_in(user, member, to_unit, external_org=data["external_org"],
                                         date=data["date"], letter_number=data["letter_number"], group=group)
        except ValidationError as e:
            member.refresh_from_db()
            add_service_error(form, e)
        else:
            messages.success(request, _("The transfer was recorded."))
            return redirect(member)
    return _form_page(request, "members/transfer.html", form, member=member, submit=_("Record the transfer"),
                      title=_("Transfer %(name)s") % {"name": member.name}, direction=direction,
                      directions=[(d, TransferDirection(d).label) for d in allowed])


def _post_units(user: Any, member: Member) -> list[Unit]:
    """Committees the person may sit on (their unit, its ancestors, their group) that the user may staff."""
    candidates = org_selectors.ancestors(member.unit) + [member.unit]
    if member.group_id and member.group:
        candidates.append(member.group)
    return [u for u in candidates if u.is_active and (
        scope.can_write_members_in(user, u) if u.kind in (UnitKind.BRANCH, UnitKind.GROUP)
        else scope.can_write_unit(user, u))]


@login_required
def committee(request: HttpRequest, pk: int) -> HttpResponse:
    """Appoint the person to a committee post, or end a post they hold."""
    user = request.user
    member = scope.member_or_404(user, pk)
    scope.require_member_write(user, member)
    units = _post_units(user, member)
    appoint = AppointForm(units=units, initial={"unit": member.unit.code})
    end = None
    action = request.POST.get("action")
    if request.method == "POST" and action == "appoint":
        appoint = AppointForm(request.POST, units=units)
        if appoint.is_valid():
            unit = next(u for u in units if u.code == appoint.cleaned_data["unit"])
            try:
                services.assign_committee_role(user, member, unit, appoint.cleaned_data["role"],
                                               started_on=appoint.cleaned_data["started_on"])
            except ValidationError as e:
                add_service_error(appoint, e)
            else:
                messages.success(request, _("The appointment was recorded."))
                return redirect("members:committee", pk=member.pk)
    elif request.method == "POST" and action == "end":
        end = EndPostForm(request.POST)
        if end.is_valid():
            post = get_object_or_404(selectors.committee_posts(member), pk=end.cleaned_data["post"])
            try:
                services.end_committee_role(user, post, ended_on=end.cleaned_data["ended_on"])
            except ValidationError as e:
                add_service_error(end, e)
            else:
                messages.success(request, _("The term was ended."))
                return redirect("members:committee", pk=member.pk)
    posts = list(selectors.committee_posts(member))
    return render(request, "members/committee.html", {
        "member": member, "appoint": appoint, "end": end, "posts": posts,
        "end_error_post": end.data.get("post") if end is not None and end.errors else None,
        "title": _("Committee posts of %(name)s") % {"name": member.name},
    })
