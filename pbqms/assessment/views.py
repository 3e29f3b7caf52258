"""Assessment pages — 考核评价: home, schemes (考核细则), plans (考核计划) and periods (考核期).

Views only translate HTTP: reads through selectors (which start from pbqms.scope), writes through
schemes.py / services.py, whose ValidationError is shown as it is and whose PermissionDenied answers
403; a record outside the user's scope answers 404. Score sheets are in views_scoring.py; results,
rankings, dashboards, stars and bulletins in views_results.py.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from pbqms import scope
from pbqms.assessment import coverage, model_branches, schemes, selectors, services, targets
from pbqms.assessment.forms import (
    AnalysisForm,
    CopyForm,
    ItemForm,
    MoveForm,
    PanelForm,
    PeriodFilterForm,
    PlanForm,
    SchemeCreateForm,
    SchemeFilterForm,
)
from pbqms.assessment.models import PanelRule, Period, PeriodKind, PeriodStatus, Plan, Scheme, SchemeItem, YearRule
from pbqms.core import clock
from pbqms.core.views import paginate
from pbqms.members.forms import unit_options
from pbqms.orgs.models import UnitKind

PER_PAGE = 50
OWNER_KINDS = (UnitKind.COMMITTEE, UnitKind.GENERAL_BRANCH)
PANEL_LIMIT = 200


def optional_url(name: str, **kwargs: Any) -> str:
    """A page of views_results.py, when it exists (the two halves of the app are built apart)."""
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return ""


def results_url(period: Period | None) -> str:
    return optional_url("assessment:results", period_pk=period.pk) if period is not None else ""


def _errors(request: HttpRequest, error: ValidationError) -> None:
    for m in error.messages:
        messages.error(request, m)


def _put(form: Any, error: ValidationError) -> None:
    """A service's ValidationError on the form: keyed messages on their field, the rest above."""
    if hasattr(error, "error_dict"):
        for key, errs in error.error_dict.items():
            form.add_error(key if key in form.fields else None, [m for e in errs for m in e.messages])
    else:
        form.add_error(None, error.messages)


# ---- home ---------------------------------------------------------------------------------------

@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """What waits for this user: a manager's schemes and running periods with their progress, a
    branch's self-checks due and its latest results, a member's own points sheet."""
    user = request.user
    context: dict[str, Any] = {"is_manager": selectors.is_manager(user)}
    if context["is_manager"]:
        context.update(selectors.manager_home(user))
    context.update(selectors.branch_home(user))
    context.update(selectors.member_home(user))
    context["latest_url"] = results_url(context.get("latest"))
    context["result_links"] = selectors.results_links(user)
    context["nothing"] = not (context["is_manager"] or context.get("self_units") or context.get("member_periods")
                              or context["result_links"])
    return render(request, "assessment/home.html", context)


# ---- schemes ------------------------------------------------------------------------------------

@login_required
@require_GET
def scheme_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = SchemeFilterForm(request.GET or None, years=selectors.scheme_years(user))
    filters = form.cleaned_data if form.is_valid() else {}
    qs = selectors.scheme_list(user, year=filters.get("year"), status=filters.get("status") or "",
                               target_kind=filters.get("target_kind") or "")
    page = paginate(request, qs, PER_PAGE)
    return render(request, "assessment/scheme_list.html", {
        "form": form, "page": page, "may_create": selectors.is_manager(user)})


def _owners(user: Any) -> list[Any]:
    return list(scope.assessment_manage_units(user).filter(kind__in=OWNER_KINDS).order_by("path")[:300])


@login_required
def scheme_create(request: HttpRequest) -> HttpResponse:
    """A new draft: from one of the shipped schemes (六考一评, 动力厂) or blank with its categories."""
    owners = _owners(request.user)
    if not owners:
        raise PermissionDenied
    form = SchemeCreateForm(request.POST or None, owners=owners)
    if request.method == "POST" and form.is_valid():
        owner = next((u for u in owners if u.code == form.cleaned_data["owner"]), None)
        if owner is None:
            form.add_error("owner", _("Choose a committee whose assessment you run."))
        else:
            try:
                scheme = schemes.load_scheme(request.user, owner, form.cleaned_data["year"], form.data_for_service())
            except ValidationError as e:
                _put(form, e)
            else:
                messages.success(request, _("The draft scheme was created."))
                return redirect("assessment:scheme", scheme_pk=scheme.pk)
    return render(request, "assessment/scheme_form.html", {"form": form})


def _scheme_context(request: HttpRequest, scheme: Scheme, **more: Any) -> dict[str, Any]:
    blocks, total = selectors.scheme_blocks(scheme)
    may_manage = scope.can_manage_assessment(request.user, scheme.owner)
    plan = Plan.objects.filter(scheme=scheme).first()
    return {
        "scheme": scheme, "blocks": blocks, "total": total, "balanced": total == scheme.full_mark,
        "publish_errors": schemes.publish_errors(scheme) if not scheme.locked and may_manage else [],
        "may_manage": may_manage, "plan": plan, "copy_form": CopyForm(initial={"year": scheme.year + 1}),
        "base": selectors.default_base(request.user, scheme), "star_levels": list(scheme.star_levels.all()),
        "n_items": sum(len(b.items) for b in blocks), **more,
    }


@login_required
@require_GET
def scheme_detail(request: HttpRequest, scheme_pk: int) -> HttpResponse:
    scheme = scope.scheme_or_404(request.user, scheme_pk)
    return render(request, "assessment/scheme_detail.html", _scheme_context(request, scheme))


@login_required
@require_POST
def scheme_publish(request: HttpRequest, scheme_pk: int) -> HttpResponse:
    """Publish a draft; if the points do not add up (or anything else is wrong) nothing changes and
    every problem is listed."""
    scheme = scope.scheme_or_404(request.user, scheme_pk)
    try:
        schemes.publish_scheme(request.user, scheme)
    except ValidationError as e:
        return render(request, "assessment/scheme_detail.html",
                      _scheme_context(request, scheme, refused=e.messages), status=400)
    messages.success(request, _("The scheme was published and is now locked."))
    return redirect("assessment:scheme", scheme_pk=scheme.pk)


@login_required
@require_POST
def scheme_copy(request: HttpRequest, scheme_pk: int) -> HttpResponse:
    scheme = scope.scheme_or_404(request.user, scheme_pk)
    if not scope.can_manage_assessment(request.user, scheme.owner):
        raise PermissionDenied
    form = CopyForm(request.POST)
    if not form.is_valid():
        for errs in form.errors.values():
            for m in errs:
                messages.error(request, m)
        return redirect("assessment:scheme", scheme_pk=scheme.pk)
    try:
        copy = schemes.copy_for_year(request.user, scheme, form.cleaned_data["year"])
    except ValidationError as e:
        _errors(request, e)
        return redirect("assessment:scheme", scheme_pk=scheme.pk)
    messages.success(request, _("A draft copy for %(year)s was made: change it, compare it, then publish it.")
                     % {"year": copy.year})
    return redirect("assessment:scheme", scheme_pk=copy.pk)


@login_required
@require_GET
def scheme_compare(request: HttpRequest, scheme_pk: int) -> HttpResponse:
    """The differences between two versions, item by item (the yearly "raise the baseline")."""
    scheme = scope.scheme_or_404(request.user, scheme_pk)
    others = list(selectors.versions_to_compare(request.user, scheme)[:50])
    base = None
    if request.GET.get("base"):
        base = next((s for s in others if str(s.pk) == request.GET["base"]), None)
    base = base or selectors.default_base(request.user, scheme)
    changes = schemes.diff_schemes(base, scheme) if base else []
    counts = {k: sum(1 for c in changes if c.change == k) for k in ("added", "removed", "changed")}
    return render(request, "assessment/scheme_compare.html", {
        "scheme": scheme, "base": base, "others": others, "changes": changes, "counts": counts})


def _draft_or_back(request: HttpRequest, scheme: Scheme) -> HttpResponse | None:
    """A published scheme cannot change: say so and go back (403 for those who may not manage it)."""
    try:
        schemes.require_draft(request.user, scheme)
    except ValidationError as e:
        _errors(request, e)
        return redirect("assessment:scheme", scheme_pk=scheme.pk)
    return None


def _item_or_404(scheme: Scheme, item_pk: int) -> SchemeItem:
    item = scheme.items.select_related("category").filter(pk=item_pk).first()
    if item is None:
        raise Http404
    return item


@login_required
def item_edit(request: HttpRequest, scheme_pk: int, item_pk: int | None = None) -> HttpResponse:
    """Add an item to a draft scheme or change one (schemes.save_item checks it)."""
    scheme = scope.scheme_or_404(request.user, scheme_pk)
    item = _item_or_404(scheme, item_pk) if item_pk is not None else None
    back = _draft_or_back(request, scheme)
    if back is not None:
        return back
    more = {} if item else {"initial": {"category": request.GET.get("category") or None, "kind": "work",
                                        "method": "deduct"}}
    form = ItemForm(request.POST or None, scheme=scheme, item=item,
                    objectives=targets.objective_choices(request.user, scheme), **more)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():  # the item and the letter targets it measures, together
                saved = schemes.save_item(request.user, scheme, form.data_for_service(), item=item,
                                          category=form.cleaned_data["category"])
                targets.set_item_objectives(request.user, saved, [int(x) for x in form.cleaned_data["objectives"]])
        except ValidationError as e:
            _put(form, e)
        else:
            messages.success(request, _("Item %(code)s saved.") % {"code": saved.code})
            return redirect(reverse("assessment:scheme", kwargs={"scheme_pk": scheme.pk}) + f"#item-{saved.pk}")
    return render(request, "assessment/item_form.html", {"scheme": scheme, "item": item, "form": form})


@login_required
@require_POST
def item_delete(request: HttpRequest, scheme_pk: int, item_pk: int) -> HttpResponse:
    scheme = scope.scheme_or_404(request.user, scheme_pk)
    item = _item_or_404(scheme, item_pk)
    try:
        schemes.delete_item(request.user, item)
    except ValidationError as e:
        _errors(request, e)
    else:
        messages.success(request, _("Item %(code)s deleted.") % {"code": item.code})
    return redirect("assessment:scheme", scheme_pk=scheme.pk)


# ---- plans --------------------------------------------------------------------------------------

@login_required
def plan_create(request: HttpRequest, scheme_pk: int) -> HttpResponse:
    """The year's plan of a published scheme: the weights and how a panel's scores combine."""
    scheme = scope.scheme_or_404(request.user, scheme_pk)
    if not scope.can_manage_assessment(request.user, scheme.owner):
        raise PermissionDenied
    existing = Plan.objects.filter(scheme=scheme).first()
    if existing:
        return redirect("assessment:plan", plan_pk=existing.pk)
    form = PlanForm(request.POST or None, initial={"quarter_weight": "70", "annual_weight": "30",
                                                   "panel_rule": PanelRule.MEAN, "year_rule": "sum"})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            plan = services.create_plan(request.user, scheme, quarter_weight=d["quarter_weight"],
                                        annual_weight=d["annual_weight"], panel_rule=d["panel_rule"],
                                        year_rule=d["year_rule"] or YearRule.SUM)
        except ValidationError as e:
            _put(form, e)
        else:
            messages.success(request, _("The plan and its periods were created."))
            return redirect("assessment:plan", plan_pk=plan.pk)
    return render(request, "assessment/plan_form.html", {"scheme": scheme, "form": form})


def next_status(period: Period) -> tuple[str, str] | None:
    to = services.FORWARD.get(period.status)  # type: ignore[call-overload]
    return (to, PeriodStatus(to).label) if to else None


MOVE_LABELS = {PeriodStatus.SCORING: gettext_lazy("Start scoring"), PeriodStatus.REVIEW: gettext_lazy("Move to review"),
               PeriodStatus.PUBLISHED: gettext_lazy("Publish the results")}
SHORT_LABELS = {PeriodStatus.SCORING: gettext_lazy("Start scoring"), PeriodStatus.REVIEW: gettext_lazy("To review"),
                PeriodStatus.PUBLISHED: gettext_lazy("Publish")}


@login_required
@require_GET
def plan_detail(request: HttpRequest, plan_pk: int) -> HttpResponse:
    plan = scope.assessment_run_or_404(request.user, Plan, plan_pk)
    plan = Plan.objects.select_related("scheme", "owner").get(pk=plan.pk)
    groups = selectors.plan_periods(plan)
    for _kind, _label, periods in groups:
        for p in periods:
            p.next = next_status(p)  # type: ignore[attr-defined]
            p.move_label = SHORT_LABELS.get(p.next[0], "") if p.next else ""  # type: ignore[attr-defined]
            p.results_url = results_url(p) if p.status == PeriodStatus.PUBLISHED else ""  # type: ignore[attr-defined]
    current = [p for _k, _l, ps in groups for p in ps if p.kind != PeriodKind.HALF]
    current = [p for p in current if p.status in (PeriodStatus.SCORING, PeriodStatus.REVIEW)
               or p.starts_on <= clock.today() <= p.ends_on][:8]
    return render(request, "assessment/plan_detail.html", {
        "plan": plan, "groups": groups, "may_manage": scope.can_manage_assessment(request.user, plan.owner),
        "progress": selectors.progress(current, request.user), "current": current,
        "stars_url": optional_url("assessment:stars", plan_pk=plan.pk),
        "models": model_branches.models_of(plan.pk),
        "model_choices": unit_options(list(selectors.plan_branches(request.user, plan)[:PANEL_LIMIT]))
        if scope.can_manage_assessment(request.user, plan.owner) else [],
        "linkage_url": optional_url("assessment:linkage", plan_pk=plan.pk),
    })


@login_required
@require_POST
def plan_model_branches(request: HttpRequest, plan_pk: int) -> HttpResponse:
    """Name a model branch of the plan (标杆支部) with its reason, or withdraw one (22.9)."""
    plan = scope.assessment_run_or_404(request.user, Plan, plan_pk)
    plan = Plan.objects.select_related("scheme", "owner").get(pk=plan.pk)
    if not scope.can_manage_assessment(request.user, plan.owner):
        raise PermissionDenied
    code = (request.POST.get("withdraw") or request.POST.get("unit") or "").strip()[:40]
    unit = scope.units(request.user).filter(code=code).first() if code else None
    try:
        if unit is None:
            raise ValidationError(_("Choose a branch of this plan."))
        if request.POST.get("withdraw"):
            row = plan.model_branches.filter(unit=unit).select_related("plan__owner", "unit").first()
            if row is None:
                raise ValidationError(_("Choose a branch of this plan."))
            model_branches.withdraw(request.user, row)
        else:
            model_branches.designate(request.user, plan, unit, request.POST.get("reason", ""))
    except ValidationError as e:
        _errors(request, e)
    else:
        messages.success(request, _("The model branches were saved."))
    return redirect(reverse("assessment:plan", kwargs={"plan_pk": plan.pk}) + "#models")


# ---- periods ------------------------------------------------------------------------------------

def _period(request: HttpRequest, period_pk: int) -> Period:
    period = scope.assessment_run_or_404(request.user, Period, period_pk)
    return Period.objects.select_related("plan__owner", "scheme").get(pk=period.pk)


@login_required
@require_GET
def period_detail(request: HttpRequest, period_pk: int) -> HttpResponse:
    """The units (or members) of a period with the state of their sheets, paged and filtered."""
    user = request.user
    period = _period(request, period_pk)
    form = PeriodFilterForm(request.GET or None)
    status = form.cleaned_data.get("status", "") if form.is_valid() else ""
    member_mode = selectors.is_member_period(period)
    qs = selectors.period_members(user, period, status) if member_mode else selectors.period_units(
        user, period, status)
    page = paginate(request, qs, PER_PAGE)
    panel = selectors.panel(period)
    panel_ids = [m.user_id for m in panel]
    rows = selectors.period_rows(user, period, page.items, panel_ids)
    may_manage = scope.can_manage_assessment(user, period.plan.owner)
    nxt = next_status(period)
    earlier = services.ORDER[:services.ORDER.index(period.status)]  # type: ignore[arg-type]
    context = {
        "period": period, "plan": period.plan, "scheme": period.scheme, "form": form, "page": page, "rows": rows,
        "panel": panel, "member_mode": member_mode, "may_manage": may_manage, "steps": selectors.steps(period),
        "next": nxt, "move_label": MOVE_LABELS.get(nxt[0], "") if nxt else "",
        "reopen_to": [(s.value, s.label) for s in earlier],
        "analysis_form": AnalysisForm(initial={"analysis": period.analysis}),
        # the half-year lists the branches' own analyses (22.7); only quarters and the year are assessed
        "scored": not member_mode or period.kind != PeriodKind.HALF,
        "assessed": period.kind not in (PeriodKind.HALF, PeriodKind.MONTH),
        "results_url": results_url(period) if period.status == PeriodStatus.PUBLISHED else "",
        "flow": PeriodStatus.choices, "done": earlier,
        "self_open": (period.kind != PeriodKind.HALF or not member_mode)
        and period.status in (PeriodStatus.OPEN, PeriodStatus.SCORING),
        "assess_open": period.kind in (PeriodKind.QUARTER, PeriodKind.YEAR) and period.status == PeriodStatus.SCORING
        and (not panel_ids or user.pk in panel_ids),
    }
    if request.htmx and request.htmx.target == "period-rows" and not request.htmx.history_restore_request:
        return render(request, "assessment/_period_rows.html", context)
    return render(request, "assessment/period_detail.html", context)


@login_required
@require_POST
def period_move(request: HttpRequest, period_pk: int) -> HttpResponse:
    """Move a period forward, or reopen it with a reason (both logged as a PeriodStep)."""
    period = _period(request, period_pk)
    form = MoveForm(request.POST)
    if not form.is_valid():
        if not scope.can_manage_assessment(request.user, period.plan.owner):
            raise PermissionDenied
        messages.error(request, _("Choose a different status."))
    else:
        to, confirmed = form.cleaned_data["to"], bool(request.POST.get("confirm_unassessed"))
        if to == PeriodStatus.PUBLISHED and not confirmed and period.status == PeriodStatus.REVIEW:
            if not scope.can_manage_assessment(request.user, period.plan.owner):
                raise PermissionDenied
            missing = coverage.unassessed(request.user, period)
            if missing.count:  # the publisher sees who would have no result, and confirms
                return render(request, "assessment/period_publish_confirm.html", {
                    "period": period, "missing": missing, "reason": form.cleaned_data["reason"],
                    "back": request.POST.get("back", "")})
        try:
            services.move_period(request.user, period, to, form.cleaned_data["reason"],
                                 confirm_unassessed=confirmed)
        except ValidationError as e:
            _errors(request, e)
        else:
            period.refresh_from_db()
            messages.success(request, _("%(period)s is now: %(status)s.")
                             % {"period": period.key, "status": period.get_status_display()})
    if request.POST.get("back") == "plan":
        return redirect("assessment:plan", plan_pk=period.plan_id)
    return redirect("assessment:period", period_pk=period.pk)


@login_required
def period_panel(request: HttpRequest, period_pk: int) -> HttpResponse:
    """The assessment panel (考核评价小组): assessors over the owner, and the lead."""
    period = _period(request, period_pk)
    if not scope.can_manage_assessment(request.user, period.plan.owner):
        raise PermissionDenied
    candidates = list(scope.assessment_panel_candidates(period.plan.owner).order_by("username")[:PANEL_LIMIT])
    current = selectors.panel(period)
    initial = {"members": [str(m.user_id) for m in current],
               "lead": next((str(m.user_id) for m in current if m.is_lead), "")}
    form = PanelForm(request.POST or None, candidates=candidates, initial=initial)
    if request.method == "POST" and form.is_valid():
        chosen = [u for u in candidates if str(u.pk) in form.cleaned_data["members"]]
        lead = next((u for u in candidates if str(u.pk) == form.cleaned_data["lead"]), None)
        try:
            services.set_panel(request.user, period, chosen, lead=lead)
        except ValidationError as e:
            _put(form, e)
        else:
            messages.success(request, _("The panel was saved."))
            return redirect("assessment:period", period_pk=period.pk)
    return render(request, "assessment/panel_form.html", {"period": period, "form": form, "panel": current})


@login_required
@require_POST
def period_analysis(request: HttpRequest, period_pk: int) -> HttpResponse:
    """The half-year analysis or the annual summary's text (半年一分析 / 年底一总结)."""
    period = _period(request, period_pk)
    form = AnalysisForm(request.POST)
    form.is_valid()
    try:
        services.save_analysis(request.user, period, form.cleaned_data.get("analysis") or "")
    except ValidationError as e:
        _errors(request, e)
    else:
        messages.success(request, _("The analysis was saved."))
    return redirect(reverse("assessment:period", kwargs={"period_pk": period.pk}) + "#analysis")
