"""Rectification pages that read across many records — 整改台账, 看板 — and preventive actions
(预防措施) and the issuing unit's settings (整改设置).

The ledger and the dashboard read their counts from the stored subtree totals (stats.py), so a
page costs the same few queries for a hundred findings or a million.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from pbqms import scope
from pbqms.core import clock, xlsx
from pbqms.core.codes import names
from pbqms.core.views import paginate
from pbqms.orgs import selectors as org_selectors
from pbqms.orgs.models import Unit

from . import exports, numbering, preventive, selectors, services
from .forms import (
    AcceptForm,
    LedgerFilterForm,
    PreventiveFilterForm,
    ReasonForm,
    ResultForm,
    SettingsForm,
    VerifyForm,
    YearForm,
)
from .models import PreventiveAction, PreventiveStatus
from .views import _hx_target, put_errors

PER_PAGE = 50
SETTINGS_FIELDS = ("number_pattern", "reminder_days", "escalate_after_days", "recurrence_periods",
                   "recurrence_units", "preventive_days")


def _board_unit(user: Any, code: str) -> Unit:
    """A unit whose whole subtree the user reads (the ledger and the dashboard count all of it):
    outside scope 404; a unit read only as one's own branch or group 403."""
    unit = scope.unit_or_404(user, code)
    if not scope.covers_path(user, unit.path):
        raise PermissionDenied
    return unit


def _crumbs(user: Any, unit: Unit) -> list[Unit]:
    chain = org_selectors.ancestors(unit) + [unit]
    for u in chain:
        u.readable = scope.covers_path(user, u.path)  # type: ignore[attr-defined]
    return [u for u in chain if u.readable]  # type: ignore[attr-defined]


def _home_or_403(user: Any) -> Unit:
    unit = selectors.home_unit(user)
    if unit is None:
        raise PermissionDenied
    return unit


# ---- ledger ------------------------------------------------------------------------------------

@login_required
@require_GET
def ledger_home(request: HttpRequest) -> HttpResponse:
    return redirect("rectification:ledger", code=_home_or_403(request.user).code)


@login_required
@require_GET
def ledger(request: HttpRequest, code: str) -> HttpResponse:
    """整改台账 of a unit's subtree: every finding with its notice, deadline and outcome."""
    user = request.user
    unit = _board_unit(user, code)
    form = LedgerFilterForm(request.GET or None)
    form.is_valid()
    filters = form.filters()
    rows = selectors.ledger_rows(user, unit, **filters)
    page = paginate(request, rows, PER_PAGE, total=selectors.ledger_total(user, unit, **filters))
    query = request.GET.copy()
    query.pop("page", None)
    year = filters["year"] or clock.today().year
    context = {"unit": unit, "form": form, "page": page, "filters": filters, "crumbs": _crumbs(user, unit),
               "totals": selectors.unit_totals(user, unit, year), "year": year,
               "export_query": query.urlencode(), "today": clock.today()}
    if _hx_target(request, "ledger-results"):
        return render(request, "rectification/_ledger_results.html", context)
    return render(request, "rectification/ledger.html", context)


@login_required
@require_GET
def ledger_xlsx(request: HttpRequest, code: str) -> FileResponse:
    user = request.user
    unit = _board_unit(user, code)
    form = LedgerFilterForm(request.GET or None)
    form.is_valid()
    filters = form.filters()
    year = filters["year"] or "all"
    return xlsx.xlsx_response(  # type: ignore[return-value]
        lambda out: exports.ledger_xlsx(selectors.ledger_rows(user, unit, **filters), out, unit=unit,
                                        year=filters["year"]),
        f"{_('Rectification ledger')}-{unit.name}" + (f"-{filters['year']}" if filters["year"] else "") + ".xlsx",
        fallback=f"ledger-{unit.code}-{year}.xlsx")


# ---- dashboard ---------------------------------------------------------------------------------

@login_required
@require_GET
def dashboard_home(request: HttpRequest) -> HttpResponse:
    return _dashboard(request, _home_or_403(request.user))


@login_required
@require_GET
def dashboard(request: HttpRequest, code: str) -> HttpResponse:
    return _dashboard(request, _board_unit(request.user, code))


def _dashboard(request: HttpRequest, unit: Unit) -> HttpResponse:
    """The committee's dashboard: open, overdue and closed per child unit, on-time closure rate,
    mean days to close, the most recurring items."""
    user = request.user
    form = YearForm(request.GET or None)
    form.is_valid()
    year = form.chosen_year() or clock.today().year
    data = selectors.dashboard(user, unit, year)
    item_names = names(code for code, _n in data["items"])
    top = max([r.total for r in data["rows"]] + [1])
    for r in data["rows"]:
        r.share = round(100 * r.total / top)  # type: ignore[attr-defined]
    return render(request, "rectification/dashboard.html", {
        "unit": unit, "year": year, "form": form, **data, "crumbs": _crumbs(user, unit),
        "can_settings": scope.can_write_unit(user, unit),
        "item_rows": [(item_names.get(code, code), n) for code, n in data["items"]],
        "unit_rows": [(r.unit.name, r.live) for r in data["rows"] if r.live][:15],
    })


@login_required
@require_GET
def dashboard_xlsx(request: HttpRequest, code: str) -> FileResponse:
    user = request.user
    unit = _board_unit(user, code)
    form = YearForm(request.GET or None)
    form.is_valid()
    year = form.chosen_year() or clock.today().year
    return xlsx.xlsx_response(  # type: ignore[return-value]
        lambda out: exports.dashboard_xlsx(selectors.dashboard(user, unit, year, limit=None), out, unit=unit,
                                           year=year),
        f"{_('Rectification dashboard')}-{unit.name}-{year}.xlsx", fallback=f"dashboard-{unit.code}-{year}.xlsx")


# ---- preventive actions ------------------------------------------------------------------------

@login_required
@require_GET
def preventive_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = PreventiveFilterForm(request.GET or None)
    form.is_valid()
    status = form.cleaned_data.get("status", "live") if request.GET else "live"
    page = paginate(request, selectors.preventive_list(user, status=status), PER_PAGE)
    return render(request, "rectification/preventive_list.html",
                  {"form": form, "page": page, "today": clock.today()})


def _preventive_page(request: HttpRequest, action: PreventiveAction, **forms_: Any) -> HttpResponse:
    user = request.user
    can_issue = scope.can_issue_to(user, action.unit)
    is_owner = action.owner_id is not None and action.owner_id == user.pk
    s = action.status
    owners = selectors.preventive_owner_choices(action) if can_issue and s == PreventiveStatus.PROPOSED else []
    accept = forms_.get("accept") or AcceptForm(owners=owners, initial={
        "due_on": action.due_on, "measures": action.measures,
        "owner": str(action.owner_id or "")})
    return render(request, "rectification/preventive_detail.html", {
        "action": action, "findings": selectors.preventive_findings(action), "today": clock.today(),
        "may_accept": can_issue and s == PreventiveStatus.PROPOSED,
        "may_complete": (is_owner or can_issue) and s == PreventiveStatus.OPEN,
        "may_verify": can_issue and not is_owner and s == PreventiveStatus.DONE,
        "may_dismiss": can_issue and s in (PreventiveStatus.PROPOSED, PreventiveStatus.OPEN),
        "accept": accept, "done": forms_.get("done") or ResultForm(),
        "verify": forms_.get("verify") or VerifyForm(), "dismiss": forms_.get("dismiss") or ReasonForm(),
        "open_panel": next(iter(forms_), ""),
    })


@login_required
@require_GET
def preventive_detail(request: HttpRequest, action_pk: int) -> HttpResponse:
    return _preventive_page(request, selectors.preventive_or_404(request.user, action_pk))


def _preventive_step(request: HttpRequest, action_pk: int, name: str, form: Any, run: Any,
                     done: str) -> HttpResponse:
    user = request.user
    action = selectors.preventive_or_404(user, action_pk)
    if form.is_valid():
        try:
            run(user, action, form.cleaned_data)
        except ValidationError as e:
            put_errors(form, e)
        else:
            messages.success(request, done)
            return redirect("rectification:preventive", action_pk=action.pk)
    action.refresh_from_db()
    return _preventive_page(request, action, **{name: form})


@login_required
@require_POST
def preventive_accept(request: HttpRequest, action_pk: int) -> HttpResponse:
    action = selectors.preventive_or_404(request.user, action_pk)
    if not scope.can_issue_to(request.user, action.unit):
        raise PermissionDenied
    form = AcceptForm(request.POST, owners=selectors.preventive_owner_choices(action))
    return _preventive_step(request, action_pk, "accept", form, lambda u, a, d: preventive.accept(
        u, a, owner=d["owner"], due_on=d["due_on"], measures=d["measures"]),
        _("The preventive action was accepted."))


@login_required
@require_POST
def preventive_complete(request: HttpRequest, action_pk: int) -> HttpResponse:
    return _preventive_step(request, action_pk, "done", ResultForm(request.POST),
                            lambda u, a, d: preventive.complete(u, a, result=d["result"]),
                            _("The action was reported done; it now awaits verification."))


@login_required
@require_POST
def preventive_verify(request: HttpRequest, action_pk: int) -> HttpResponse:
    return _preventive_step(request, action_pk, "verify", VerifyForm(request.POST),
                            lambda u, a, d: preventive.close(u, a, effective=d["effective"], note=d["note"]),
                            _("The verification was recorded."))


@login_required
@require_POST
def preventive_dismiss(request: HttpRequest, action_pk: int) -> HttpResponse:
    return _preventive_step(request, action_pk, "dismiss", ReasonForm(request.POST),
                            lambda u, a, d: preventive.dismiss(u, a, reason=d["reason"]),
                            _("The preventive action was dismissed."))


# ---- settings ----------------------------------------------------------------------------------

@login_required
def settings_page(request: HttpRequest, code: str) -> HttpResponse:
    """整改设置 of an issuing unit: number pattern, reminders, escalation, recurrence thresholds."""
    user = request.user
    unit = scope.unit_or_404(user, code)
    if not scope.can_write_unit(user, unit):
        raise PermissionDenied
    current = numbering.settings_for(unit)
    initial = {f: getattr(current, f) for f in SETTINGS_FIELDS}
    form = SettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_settings(user, unit, **form.cleaned_data)
        except ValidationError as e:
            put_errors(form, e, "number_pattern")
        else:
            messages.success(request, _("The rectification settings of %(unit)s were saved.") % {"unit": unit.name})
            return redirect("rectification:settings", code=unit.code)
    inherited = current.unit if current.pk and current.unit_id != unit.pk else None
    sample = ""
    try:
        sample = numbering.validate_pattern(form["number_pattern"].value() or "").format(
            year=clock.today().year, seq=17)
    except ValidationError:
        pass
    return render(request, "rectification/settings.html", {
        "unit": unit, "form": form, "inherited": inherited, "own": bool(current.pk and current.unit_id == unit.pk),
        "sample": sample})
