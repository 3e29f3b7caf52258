"""Organisational-life pages that read across units or periods: the committee's heat map, the
activity plans (报备) with the department's review, and the record books ("二图、三表、四本").

The heat map reads the stored per-subtree totals (ComplianceTally): one query for the page of
child units and one for their twelve months, whatever the size of the tree (a branch's party
groups, which keep no totals, cost one more: their own few states, counted).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from pbqms import scope
from pbqms.core import clock
from pbqms.core.views import paginate
from pbqms.orgs import selectors as org_selectors
from pbqms.orgs.models import Unit, UnitKind

from . import books, exports, selectors, services
from .forms import (
    PlanFilterForm,
    PlanForm,
    PlanLine,
    ReviewForm,
    kind_choices,
    period_suggestions,
    plan_items,
    plan_lines,
    year_of,
)
from .models import ActivityKind, ActivityPlan
from .views import PER_PAGE, download, nav, put_errors, unit_of, xlsx_response

HEAT_PER_PAGE = 50
EMPTY_LINES = 3


# ---- the heat map ------------------------------------------------------------------------------

def _board_unit(user: Any, code: str) -> Unit:
    """A unit whose whole subtree the user reads (its totals count all of it): outside scope 404,
    a unit read only as one's own branch or group 403."""
    unit = unit_of(user, code)
    if not scope.covers_path(user, unit.path):
        raise PermissionDenied
    return unit


@login_required
@require_GET
def heatmap_home(request: HttpRequest) -> HttpResponse:
    unit = selectors.home_unit(request.user, board=True)
    if unit is None:
        raise PermissionDenied
    return redirect("activities:heatmap", code=unit.code)


def _row_link(unit: Unit) -> str:
    return "calendar" if unit.kind in (UnitKind.BRANCH, UnitKind.GROUP) else "heatmap"


@login_required
@require_GET
def heatmap(request: HttpRequest, code: str) -> HttpResponse:
    """The committee's heat map: child units × 12 months, each cell the share of requirements met
    (met / (met + missed)); the current month shows what is at risk."""
    user = request.user
    unit = _board_unit(user, code)
    year = year_of(request.GET.get("year"))
    page = paginate(request, selectors.heat_children(user, unit), HEAT_PER_PAGE)
    rows = selectors.heat_rows(page.items, year, total=unit)
    for row in rows:
        row.link = _row_link(row.unit)  # type: ignore[attr-defined]
    this = clock.today().year
    context = {"unit": unit, "year": year, "page": page, "total_row": rows[0], "rows": rows[1:],
               "months": selectors.months_of(year), "years": list(range(this, this - 6, -1)),
               "current_month": clock.today().replace(day=1), "near_months": selectors.near_months(year),
               "crumbs": selectors.readable_crumbs(user, unit),
               "steps": selectors.HEAT_STEPS, **nav(user, unit, "heatmap")}
    return render(request, "activities/heatmap.html", context)


@login_required
@require_GET
def heatmap_xlsx(request: HttpRequest, code: str) -> FileResponse:
    user = request.user
    unit = _board_unit(user, code)
    year = year_of(request.GET.get("year"))

    def batches() -> Iterator[list[Any]]:
        yield selectors.heat_rows([], year, total=unit)
        chunk: list[Unit] = []
        for child in selectors.heat_children(user, unit).iterator(chunk_size=2000):
            chunk.append(child)
            if len(chunk) == 2000:
                yield selectors.heat_rows(chunk, year)
                chunk = []
        if chunk:
            yield selectors.heat_rows(chunk, year)

    return xlsx_response(lambda out: exports.heatmap_xlsx(batches(), out, year=year),
                         f"{_('Compliance heat map')}-{unit.name}-{year}.xlsx",
                         fallback=f"compliance-{unit.code}-{year}.xlsx")


# ---- plans -------------------------------------------------------------------------------------

def _plan_filters(request: HttpRequest) -> tuple[PlanFilterForm, dict[str, Any], Unit | None]:
    units, more = org_selectors.unit_choices(request.user)
    form = PlanFilterForm(request.GET or None, units=None if more else units)
    form.is_valid()
    filters = form.filters()
    code = filters.pop("unit")
    return form, filters, unit_of(request.user, code) if code else None


@login_required
@require_GET
def plan_list(request: HttpRequest) -> HttpResponse:
    """活动计划报备: the plans filed in the user's scope, with the department's comments."""
    user = request.user
    form, filters, unit = _plan_filters(request)
    page = paginate(request, selectors.plan_list(user, unit=unit, **filters), PER_PAGE)
    query = request.GET.copy()
    query.pop("page", None)
    home = selectors.home_unit(user)
    context = {"form": form, "page": page, "unit": unit, "export_query": query.urlencode(),
               "reviewer": bool(scope.paths_for(user, scope.RECT_ISSUE_ROLES)),
               "file_unit": home if home is not None and scope.can_record_activity(user, home)
               and not scope.paths_for(user, scope.RECT_ISSUE_ROLES) else None,
               "today": clock.today(), **nav(user, unit or home, "plans")}
    if request.htmx and request.htmx.target == "plan-results":
        return render(request, "activities/_plan_results.html", context)
    return render(request, "activities/plan_list.html", context)


@login_required
@require_GET
def plan_list_xlsx(request: HttpRequest) -> FileResponse:
    _form, filters, unit = _plan_filters(request)
    rows = selectors.plan_list(request.user, unit=unit, **filters)
    return xlsx_response(lambda out: exports.plans_xlsx(rows, out), f"{_('Activity plans')}.xlsx",
                         fallback="plans.xlsx")


def _plan_form(request: HttpRequest, unit: Unit, plan: ActivityPlan | None) -> HttpResponse:
    user = request.user
    if not scope.can_record_activity(user, unit):
        raise PermissionDenied
    post = request.method == "POST"
    period = plan.period if plan else (request.POST.get("period") if post else request.GET.get("period", "")) or ""
    if plan is None and not post and period:
        plan = selectors.plans(user).filter(unit=unit, period=period.strip().upper()).first()
    form = PlanForm(request.POST if post else None, initial={"period": period},
                    fixed_period=plan.period if plan else "")
    if post:
        lines = plan_lines(request.POST)
    elif plan is not None:
        lines = [PlanLine(i.kind, i.planned_on.isoformat(), i.topic) for i in plan.items.all()]
    else:
        lines = []
    lines += [PlanLine() for _i in range(max(0, EMPTY_LINES - sum(1 for line in lines if line.blank)))]
    if post and form.is_valid():
        items, ok = plan_items(lines)
        if ok:
            try:
                saved = services.file_plan(user, unit=unit, period=plan.period if plan else form.cleaned_data["period"],
                                           items=items)
            except ValidationError as e:
                put_errors(form, e)
            else:
                messages.success(request, _("The plan for %(period)s was filed.") % {"period": saved.period})
                return redirect("activities:plan", plan_pk=saved.pk)
    context = {"unit": unit, "plan": plan, "form": form, "lines": lines, "kinds": kind_choices(unit),
               "line_errors": [line.error for line in lines if line.error], "suggestions": period_suggestions(),
               "crumbs": selectors.readable_crumbs(user, unit), **nav(user, unit, "plans")}
    return render(request, "activities/plan_form.html", context)


@login_required
def plan_create(request: HttpRequest, code: str) -> HttpResponse:
    """File a plan for a month or a quarter (报备), or re-file it while its period is open."""
    return _plan_form(request, unit_of(request.user, code), None)


@login_required
def plan_edit(request: HttpRequest, plan_pk: int) -> HttpResponse:
    plan = selectors.plan_or_404(request.user, plan_pk)
    return _plan_form(request, plan.unit, plan)


@login_required
@require_GET
def plan_line(request: HttpRequest) -> HttpResponse:
    """One empty line of the plan form (htmx "add a line")."""
    code = request.GET.get("unit", "")
    unit = unit_of(request.user, code) if code else None
    kinds = kind_choices(unit) if unit is not None else list(ActivityKind.choices)
    return render(request, "activities/_plan_line.html", {"line": PlanLine(), "kinds": kinds})


def _plan_page(request: HttpRequest, plan: ActivityPlan, review: ReviewForm) -> HttpResponse:
    user = request.user
    items = list(plan.items.all())
    recs = list(selectors.records(user).filter(unit=plan.unit, held_on__gte=plan.period_start,
                                               held_on__lte=plan.period_end).order_by("held_on", "id"))
    for i in items:
        i.plan = plan
    held = books.match_held(items, recs)
    for i in items:
        i.held = held.get(i.pk)  # type: ignore[attr-defined]
    today = clock.today()
    context = {"plan": plan, "unit": plan.unit, "items": items, "review": review, "closed": plan.period_end < today,
               "history": selectors.plan_history(plan),
               "can_review": scope.can_review_activity_plans(user, plan.unit),
               "can_edit": plan.period_end >= today and scope.can_record_activity(user, plan.unit),
               "crumbs": selectors.readable_crumbs(user, plan.unit), **nav(user, plan.unit, "plans")}
    return render(request, "activities/plan_detail.html", context)


@login_required
@require_GET
def plan_detail(request: HttpRequest, plan_pk: int) -> HttpResponse:
    plan = selectors.plan_or_404(request.user, plan_pk)
    return _plan_page(request, plan, ReviewForm(initial={"comment": plan.comment}))


@login_required
@require_POST
def plan_review(request: HttpRequest, plan_pk: int) -> HttpResponse:
    """The department's comment on a plan (审核意见)."""
    user = request.user
    plan = selectors.plan_or_404(user, plan_pk)
    form = ReviewForm(request.POST)
    form.is_valid()
    try:
        services.review_plan(user, plan, form.cleaned_data.get("comment", ""))
    except ValidationError as e:
        put_errors(form, e)
        return _plan_page(request, plan, form)
    messages.success(request, _("The review was recorded."))
    return redirect("activities:plan", plan_pk=plan.pk)


# ---- record books ------------------------------------------------------------------------------

@login_required
@require_GET
def book_index(request: HttpRequest, code: str) -> HttpResponse:
    """二图、三表、四本: which books this unit's records make, each as a page, .docx and PDF."""
    user = request.user
    unit = unit_of(user, code)
    year = year_of(request.GET.get("year"))
    this = clock.today().year
    context = {"unit": unit, "kinds": books.available(unit), "elsewhere": books.ELSEWHERE, "year": year,
               "years": list(range(this, this - 6, -1)), "crumbs": selectors.readable_crumbs(user, unit),
               **nav(user, unit, "books")}
    return render(request, "activities/book_index.html", context)


def _book(request: HttpRequest, code: str, book: str) -> books.Book:
    user = request.user
    return books.build(user, unit_of(user, code), book, year_of(request.GET.get("year")))


def _book_name(b: books.Book) -> str:
    return f"{b.unit.code}-{b.key}" + (f"-{b.year}" if b.year else "")


@login_required
@require_GET
def book_page(request: HttpRequest, code: str, book: str) -> HttpResponse:
    b = _book(request, code, book)
    this = clock.today().year
    context = {"book": b, "unit": b.unit, "years": list(range(this, this - 6, -1)),
               "crumbs": selectors.readable_crumbs(request.user, b.unit), **nav(request.user, b.unit, "books")}
    return render(request, "activities/book.html", context)


@login_required
@require_GET
def book_docx(request: HttpRequest, code: str, book: str) -> HttpResponse:
    b = _book(request, code, book)
    return download(exports.book_docx(b), f"{_book_name(b)}.docx", exports.DOCX)


@login_required
@require_GET
def book_pdf(request: HttpRequest, code: str, book: str) -> HttpResponse:
    b = _book(request, code, book)
    return download(exports.book_pdf(b), f"{_book_name(b)}.pdf", exports.PDF)

