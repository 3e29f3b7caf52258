"""Objectives pages — 目标管理: objectives and their cascade, policy, unit targets, progress and the
dashboard. Views only translate HTTP: reads through pbqms.scope and objectives.selectors, writes
through the services. Member targets: views_members.py; letters: views_letters.py."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET

from pbqms import scope
from pbqms.core.views import add_service_error, paginate
from pbqms.files import idempotency
from pbqms.orgs import selectors as org_selectors
from pbqms.orgs.models import Unit, UnitKind

from . import letters, selectors, services
from .exports import wants_xlsx, xlsx_response
from .forms import ObjectiveForm, PolicyForm, ProgressForm, TargetForm
from .models import QualityPolicy, Target, TargetStatus, ValueKind

PER_PAGE = 50


def _year(request: HttpRequest) -> int:
    return selectors.parse_year(request.GET.get("year"))


def _years(current: int) -> list[int]:
    return list(range(current + 1, current - 4, -1))


def _value(obj: Any) -> str:
    return services.show_value(obj.value_kind, obj.target_value, obj.measure_unit)


# ---- objectives ----------------------------------------------------------------------------------

@login_required
@require_GET
def objective_list(request: HttpRequest) -> HttpResponse:
    """The objectives the user reads (their committees' and those above), by year."""
    user = request.user
    year = _year(request)
    code = request.GET.get("unit", "").strip()
    unit = scope.unit_or_404(user, code) if code else None
    qs = selectors.objective_list(user, year=year, unit=unit, q=request.GET.get("q", ""))
    if wants_xlsx(request):
        return xlsx_response(f"objectives-{year}", _("Objectives"), [
            _("Year"), _("Seq"), _("Committee"), _("Title"), _("Indicator"), _("Target value"),
            pgettext("objectives", "Deadline"),
            _("Responsible person"), _("How it is checked")],
            ([o.year, o.number, o.unit.name, o.title, o.indicator, _value(o), o.deadline.isoformat(),
              o.responsible, o.check_method] for o in qs.iterator(2000)))
    page = paginate(request, qs, PER_PAGE)
    for o in page.items:
        o.value_display = _value(o)
    committees = list(scope.objective_committees(user)[:1])
    policies = list(scope.quality_policies(user).filter(year=year).select_related("unit").order_by("org_path")[:5])
    return render(request, "objectives/list.html", {
        "page": page, "year": year, "years": _years(year), "unit": unit, "q": request.GET.get("q", ""),
        "can_create": bool(committees), "policies": policies,
        "own_committee": committees[0] if committees else None,
        "dashboard_unit": _default_unit(user),
    })


def _committee_choices(user: Any) -> list[Unit]:
    return list(scope.objective_committees(user).order_by("path")[:300])


@login_required
def objective_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    units = _committee_choices(user)
    if not units:
        raise PermissionDenied
    year = _year(request)
    form = ObjectiveForm(request.POST or None, units=units,
                         initial={"year": year, "unit": request.GET.get("unit", ""), "value_kind": ValueKind.NUMBER})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        unit = next((u for u in units if u.code == data.pop("unit")), None)
        try:
            if unit is None:
                raise ValidationError(_("Choose a committee you manage."))
            objective = services.create_objective(user, unit, **data)
        except ValidationError as e:
            add_service_error(form, e, _field_of(e, form))
        else:
            messages.success(request, _("The objective was created."))
            return redirect(objective)
    return render(request, "objectives/form.html", {"form": form, "title": _("New objective"),
                                                    "submit": _("Create"), "back": "/objectives/"})


def _field_of(error: ValidationError, form: Any) -> str | None:
    """The form field a service message is about (read from the message's own words)."""
    text = " ".join(error.messages)
    for name, words in (("indicator", ("定指标", "indicator", "指标")),
                        ("deadline", ("定时限", "deadline", "截止", "期限")),
                        ("target_value", ("value", "值")), ("task", ("定任务",)), ("person", ("定人员",)),
                        ("title", ("title", "标题")), ("responsible", ("responsible", "负责人"))):
        if name in form.fields and any(w in text for w in words):
            return name
    return None


@login_required
def objective_edit(request: HttpRequest, objective_pk: int) -> HttpResponse:
    user = request.user
    objective = scope.objective_or_404(user, objective_pk)
    if not scope.can_manage_objectives(user, objective.unit):
        raise PermissionDenied
    initial = {f: getattr(objective, f) for f in services.OBJECTIVE_FIELDS}
    form = ObjectiveForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_objective(user, objective, **form.cleaned_data)
        except ValidationError as e:
            objective.refresh_from_db()
            add_service_error(form, e, _field_of(e, form))
        else:
            messages.success(request, _("The objective was saved."))
            return redirect(objective)
    return render(request, "objectives/form.html", {
        "form": form, "title": _("Edit objective"), "submit": _("Save"), "back": objective.get_absolute_url()})


@login_required
@require_GET
def objective_detail(request: HttpRequest, objective_pk: int) -> HttpResponse:
    """The objective with its cascade: how the targets below cover it, and where there is none."""
    user = request.user
    objective = scope.objective_or_404(user, objective_pk)
    tree = selectors.cascade(user, objective)
    if wants_xlsx(request):
        return xlsx_response(f"objective-{objective.pk}-cascade", _("Cascade"), [
            _("Unit"), _("Member"), _("Task"), _("Responsible person"), _("Indicator"), _("Target value"),
            _("Quality standard"), pgettext("objectives", "Deadline"), _("Status"), _("Progress (%)")],
            _cascade_rows(tree.root))
    objective.value_display = _value(objective)
    _decorate(tree.root)
    return render(request, "objectives/objective.html", {
        "objective": objective, "tree": tree, "can_edit": scope.can_manage_objectives(user, objective.unit),
        "statuses": [(s, TargetStatus(s).label, tree.by_status[s]) for s in TargetStatus.values],
        "status_rows": [(str(TargetStatus(s).label), tree.by_status[s]) for s in TargetStatus.values],
        "policy": services.policy_for(objective.unit, objective.year),
    })


def _decorate(node: Any) -> None:
    if node.target is not None:
        node.target.value_display = _value(node.target)
    for child in node.children:
        _decorate(child)


def _cascade_rows(node: Any) -> Any:
    for child in node.children:
        t = child.target
        yield [t.unit.name, t.member.name if t.member_id else "", t.task, t.person, t.indicator, _value(t),
               t.quality, t.deadline.isoformat(), t.get_status_display(), t.progress]
        yield from _cascade_rows(child)


# ---- policy --------------------------------------------------------------------------------------

@login_required
def policy(request: HttpRequest, code: str) -> HttpResponse:
    """A committee's quality policy for a year: read by everyone below, written by its managers."""
    user = request.user
    unit = scope.unit_or_404(user, code)
    if unit.kind != UnitKind.COMMITTEE:
        raise Http404
    year = selectors.parse_year(request.POST.get("year") or request.GET.get("year"))
    current = QualityPolicy.objects.filter(unit=unit, year=year).first()
    can_edit = scope.can_manage_objectives(user, unit)
    initial = {"year": year, "text": current.text if current else "",
               "effective_on": current.effective_on if current else None,
               "member_targets_due": current.member_targets_due if current else None}
    form = PolicyForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.save_policy(user, unit, **form.cleaned_data)
            except ValidationError as e:
                add_service_error(form, e, "text" if "policy" in " ".join(e.messages).lower() else None)
            else:
                messages.success(request, _("The quality policy was saved."))
                return redirect(f"{request.path}?year={form.cleaned_data['year']}")
    return render(request, "objectives/policy.html", {"unit": unit, "year": year, "years": _years(year),
                                                      "policy": current, "form": form, "can_edit": can_edit})


# ---- unit targets --------------------------------------------------------------------------------

@login_required
@require_GET
def unit_targets(request: HttpRequest, code: str) -> HttpResponse:
    """A unit's targets for a year, with the five fixes, status and progress."""
    user = request.user
    unit = scope.unit_or_404(user, code)
    year = _year(request)
    qs = selectors.unit_targets(user, unit, year)
    if wants_xlsx(request):
        return xlsx_response(f"targets-{unit.code}-{year}", _("Targets"), [
            _("Objective"), _("Member"), _("Task"), _("Responsible person"), _("Indicator"), _("Target value"),
            _("Quality standard"), pgettext("objectives", "Deadline"), _("Status"), _("Progress (%)"),
            _("Latest reported value")],
            ([t.objective.title, t.member.name if t.member_id else "", t.task, t.person, t.indicator, _value(t),
              t.quality, t.deadline.isoformat(), t.get_status_display(), t.progress, t.actual_value]
             for t in qs.iterator(2000)))
    page = paginate(request, qs, PER_PAGE)
    for t in page.items:
        t.value_display = _value(t)
    letter = letters.current_letter(unit, year) if unit.kind in letters.LETTER_UNIT_KINDS else None
    return render(request, "objectives/unit_targets.html", {
        "unit": unit, "year": year, "years": _years(year), "page": page,
        "ancestors": _readable_ancestors(user, unit),
        "can_add": scope.can_manage_targets_in(user, unit) and unit.kind != UnitKind.GROUP,
        "letter": letter, "letter_needs_amendment": bool(letter and letters.needs_amendment(letter)),
        "can_draw_up": unit.kind in letters.LETTER_UNIT_KINDS and scope.can_manage_objectives(user, unit),
        "is_branch": unit.kind in (UnitKind.BRANCH, UnitKind.GENERAL_BRANCH),
        "can_read_members": scope.covers_path(user, unit.path),
    })


def _readable_ancestors(user: Any, unit: Unit) -> list[Unit]:
    chain = org_selectors.ancestors(unit)
    for a in chain:
        a.readable = scope.can_read_unit(user, a)  # type: ignore[attr-defined]
    return chain


@login_required
def target_create(request: HttpRequest, code: str) -> HttpResponse:
    user = request.user
    unit = scope.unit_or_404(user, code)
    if not scope.can_manage_targets_in(user, unit) or unit.kind == UnitKind.GROUP:
        raise PermissionDenied
    year = _year(request)
    objectives = selectors.objectives_for_unit(user, unit, year)
    parents = selectors.parent_choices(user, unit, year)
    people = list(scope.members(user).filter(unit=unit, state="active").order_by("name_pinyin")[:300])
    initial = {"objective": request.GET.get("objective", ""), "parent": request.GET.get("parent", ""),
               "value_kind": ValueKind.NUMBER}
    form = TargetForm(request.POST or None, objectives=objectives, parents=parents, members=people, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        objective = next(o for o in objectives if str(o.pk) == data.pop("objective"))
        parent_pk, member_pk, key = data.pop("parent"), data.pop("member"), data.pop(idempotency.FIELD, "")
        parent = next((t for t in parents if str(t.pk) == parent_pk), None)
        member = next((m for m in people if str(m.pk) == member_pk), None)
        try:
            outcome = idempotency.once(user, key, "objectives.target", lambda: services.create_target(
                user, objective=objective, unit=unit, parent=parent, member=member, **data))
            target = outcome.obj or scope.objective_target_or_404(user, outcome.pk)
        except ValidationError as e:
            add_service_error(form, e, _field_of(e, form))
        else:
            messages.success(request, _("The target was set."))
            return redirect(target)
    if not objectives:
        form.add_error(None, _("No objective for %(year)s above this unit yet.") % {"year": year})
    return render(request, "objectives/form.html", {
        "form": form, "title": _("New target for %(unit)s") % {"unit": unit.name}, "submit": _("Create"),
        "back": f"/objectives/units/{unit.code}/?year={year}",
        "intro": _("Fix the task, the person, the indicator, the quality and the deadline.")})


@login_required
def target_detail(request: HttpRequest, target_pk: int) -> HttpResponse:
    """A target with its five fixes, its children, and its progress reports; the owner reports here."""
    user = request.user
    target = scope.objective_target_or_404(user, target_pk)
    can_report = services.can_report_on_target(user, target)
    form = ProgressForm(request.POST or None, initial={"status": target.status, "progress": target.progress,
                                                       "reported_on": dt.date.today()})
    if request.method == "POST":
        if not can_report:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.report_progress(user, target=target, uploads=request.FILES.getlist("evidence"),
                                         **form.cleaned_data)
            except ValidationError as e:
                target.refresh_from_db()
                add_service_error(form, e, "value" if "kind" in str(e.messages) or "类型" in str(e.messages)
                                  else None)
            else:
                messages.success(request, _("The progress was reported."))
                return redirect(target)
    reports = list(target.reports.select_related("reported_by")[:50])
    evidence = services.evidence_of(reports)
    for r in reports:
        r.files = evidence.get(r.pk, [])
    children = list(scope.objective_targets(user).filter(parent=target).select_related("unit", "member"))
    for t in [target, *children]:
        t.value_display = _value(t)
    if target.parent_id and target.parent is not None:
        target.parent.value_display = _value(target.parent)
    return render(request, "objectives/target.html", {
        "target": target, "reports": reports, "children": children, "form": form, "can_report": can_report,
        "can_edit": scope.can_manage_targets_in(user, target.unit),
        "can_decompose": target.member_id is None and scope.units(user).filter(parent=target.unit).exists()
        and scope.can_manage_targets_in(user, target.unit),
    })


@login_required
def target_edit(request: HttpRequest, target_pk: int) -> HttpResponse:
    user = request.user
    target = scope.objective_target_or_404(user, target_pk)
    if not scope.can_manage_targets_in(user, target.unit):
        raise PermissionDenied
    form = TargetForm(request.POST or None, initial={f: getattr(target, f) for f in services.TARGET_FIELDS},
                      editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_target(user, target, **form.cleaned_data)
        except ValidationError as e:
            target = Target.objects.get(pk=target.pk)
            add_service_error(form, e, _field_of(e, form))
        else:
            messages.success(request, _("The target was saved."))
            return redirect(target)
    return render(request, "objectives/form.html", {
        "form": form, "title": _("Edit target"), "submit": _("Save"), "back": target.get_absolute_url(),
        "intro": _("A change after the responsibility letter was signed needs a signed amendment.")})


# ---- dashboard -----------------------------------------------------------------------------------

def _default_unit(user: Any) -> Unit | None:
    roots = org_selectors.roots(user)
    return roots[0] if roots else None


@login_required
@require_GET
def dashboard_home(request: HttpRequest) -> HttpResponse:
    unit = _default_unit(request.user)
    if unit is None:
        return render(request, "objectives/dashboard.html", {"unit": None, "year": _year(request)})
    return redirect(f"/objectives/dashboard/{unit.code}/?year={_year(request)}")


@login_required
@require_GET
def dashboard(request: HttpRequest, code: str) -> HttpResponse:
    """Target status and member-target coverage of a unit's subtree and of each child, rolled up
    from the stored totals (a fixed number of queries at any size)."""
    user = request.user
    unit = scope.unit_or_404(user, code)
    year = _year(request)
    top, rows, more = selectors.dashboard(user, unit, year)
    if wants_xlsx(request):
        return xlsx_response(f"dashboard-{unit.code}-{year}", _("Dashboard"), [
            _("Unit"), _("Targets"), *[str(label) for _s, label in TargetStatus.choices], _("Proposed"),
            _("Approved"), _("Returned"), _("Party members"), _("Without approved targets")],
            ([r.unit.name, r.targets, *[n for _s, _l, n in r.statuses], r.proposed, r.approved, r.returned,
              r.party_members, r.members_missing] for r in [top, *rows]))
    return render(request, "objectives/dashboard.html", {
        "unit": unit, "year": year, "years": _years(year), "top": top, "rows": rows, "more": more,
        "ancestors": _readable_ancestors(user, unit),
        "status_rows": [(str(label), n) for _s, label, n in top.statuses],
        "legend": top.segments,
    })
