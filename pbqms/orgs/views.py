"""Unit pages — 组织: the tree browser, a unit's page and tabs, and the forms that change units.

Views only translate HTTP: reads go through pbqms.scope and orgs.selectors, writes through
orgs.services. Reading outside scope answers 404, writing without the right 403.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from pbqms import scope
from pbqms.audit.selectors import history_of
from pbqms.core.views import add_service_error, paginate
from pbqms.members import selectors as member_selectors
from pbqms.members.models import PartyStatus
from pbqms.members.services import MEMBER_UNIT_KINDS

from . import selectors, services
from .forms import DissolveForm, MoveForm, UnitForm
from .models import Unit, UnitKind

CHILDREN_PER_REQUEST = 200
SUB_UNITS_ON_PAGE = 50  # the unit page lists the first sub-units; the tree pages through the rest
SEARCH_LIMIT = 30
MEMBERS_PER_PAGE = 50
HISTORY_PER_PAGE = 50
MOVE_TARGETS = 200


def _rows_with_counts(user: Any, units: list[Unit]) -> list[Unit]:
    counts = selectors.subtree_member_counts(user, units)
    for u in units:
        u.member_count = counts.get(u.pk, 0)  # type: ignore[attr-defined]
    return units


def _search_results(user: Any, q: str) -> list[Unit]:
    if not q.strip():
        return []
    hits = selectors.attach_parents(list(selectors.search(user, q, limit=SEARCH_LIMIT)))
    return _rows_with_counts(user, selectors.mark_has_children(user, hits))


@login_required
@require_GET
def tree(request: HttpRequest) -> HttpResponse:
    """The user's scope roots; each level below loads when opened. A lone root opens at once."""
    user = request.user
    q = request.GET.get("q", "")
    roots = _rows_with_counts(user, selectors.mark_has_children(user, selectors.roots(user)))
    opened: dict[str, Any] = {}
    if len(roots) == 1 and getattr(roots[0], "has_children", False):
        rows, more = selectors.child_rows(user, roots[0], limit=CHILDREN_PER_REQUEST)
        opened = {"unit": roots[0], "rows": _rows_with_counts(user, rows), "more": more,
                  "next_offset": CHILDREN_PER_REQUEST}
    return render(request, "orgs/tree.html", {
        "roots": roots, "opened": opened, "q": q, "results": _search_results(user, q),
        "search_limit": SEARCH_LIMIT,
    })


@login_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")
    if not request.htmx:  # without script the tree page shows the same results
        return redirect(f"{reverse('orgs:tree')}?{request.GET.urlencode()}")
    return render(request, "orgs/_search_results.html", {
        "q": q, "results": _search_results(request.user, q), "search_limit": SEARCH_LIMIT})


@login_required
@require_GET
def children(request: HttpRequest, code: str) -> HttpResponse:
    """One level of the tree under `code`, as list items (htmx), a page of them at a time."""
    unit = scope.unit_or_404(request.user, code)
    try:
        offset = max(0, int(request.GET.get("offset", "0")))
    except ValueError:
        offset = 0
    rows, more = selectors.child_rows(request.user, unit, offset=offset, limit=CHILDREN_PER_REQUEST)
    return render(request, "orgs/_tree_nodes.html", {
        "units": _rows_with_counts(request.user, rows), "more": more, "parent": unit,
        "next_offset": offset + CHILDREN_PER_REQUEST})


# ---- the unit page and its tabs -------------------------------------------------------------

def _unit_page(request: HttpRequest, code: str, tab: str) -> tuple[Unit, dict[str, Any]]:
    user = request.user
    unit = scope.unit_or_404(user, code)
    can_write = scope.can_write_unit(user, unit)
    partial = request.htmx and not request.htmx.history_restore_request
    ancestors = [] if partial else selectors.ancestors(unit)
    for a in ancestors:
        a.readable = scope.can_read_unit(user, a)  # type: ignore[attr-defined]
    return unit, {
        "unit": unit,
        "tab": tab,
        "ancestors": ancestors,
        "can_write": can_write,
        "can_add_member": (unit.is_active and unit.kind in MEMBER_UNIT_KINDS
                           and scope.can_write_members_in(user, unit)),
        "is_group": unit.kind == UnitKind.GROUP,
    }


def _render_tab(request: HttpRequest, partial: str, context: dict[str, Any]) -> HttpResponse:
    # htmx swaps only the tab's panel (e.g. a members page); a plain request gets the whole page.
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, partial, context)
    return render(request, "orgs/unit_detail.html", {**context, "panel": partial})


def _sub_unit_counts(user: Any, obj: Unit) -> list[tuple[str, int]]:
    """Active units below `obj` by kind (the unit itself not counted)."""
    if obj.kind == UnitKind.GROUP:
        return []
    counts = selectors.unit_counts(obj.path, user)
    if obj.is_active:
        counts[obj.kind] -= 1
    return [(UnitKind(k).label, n) for k, n in counts.items() if n > 0]


@login_required
@require_GET
def unit(request: HttpRequest, code: str) -> HttpResponse:
    user = request.user
    obj, ctx = _unit_page(request, code, "overview")
    rows, more = selectors.child_rows(user, obj, limit=SUB_UNITS_ON_PAGE)
    counts = selectors.unit_member_counts(user, obj)
    ctx.update({
        "sub_units": _rows_with_counts(user, rows),
        "more_sub_units": more,
        "committee": selectors.current_committee(obj),
        "status_rows": [(PartyStatus(k).label, counts.get(k, 0)) for k in PartyStatus.values],
        "people_total": sum(counts.values()),
        "sub_unit_counts": _sub_unit_counts(user, obj),
    })
    for post in ctx["committee"]:
        post.readable = scope.can_read_member(user, post.member)
    return _render_tab(request, "orgs/_unit_overview.html", ctx)


@login_required
@require_GET
def members(request: HttpRequest, code: str) -> HttpResponse:
    obj, ctx = _unit_page(request, code, "members")
    people = member_selectors.filtered_members(request.user, unit=obj)
    ctx["page"] = paginate(request, people, MEMBERS_PER_PAGE)
    return _render_tab(request, "orgs/_unit_members.html", ctx)


@login_required
@require_GET
def history(request: HttpRequest, code: str) -> HttpResponse:
    obj, ctx = _unit_page(request, code, "history")
    ctx["page"] = paginate(request, history_of(obj), HISTORY_PER_PAGE)
    ctx["moves"] = list(selectors.unit_moves(obj)[:HISTORY_PER_PAGE])
    return _render_tab(request, "orgs/_unit_history.html", ctx)


# ---- forms ----------------------------------------------------------------------------------

def _form_page(request: HttpRequest, form: Any, *, title: str, submit: str, unit: Unit | None = None,
               **extra: Any) -> HttpResponse:
    return render(request, "orgs/form.html", {"form": form, "title": title, "submit": submit, "unit": unit,
                                              **extra})


@login_required
def create(request: HttpRequest) -> HttpResponse:
    """A new unit under ?parent=CODE (a root unit only for a superuser)."""
    user = request.user
    parent_code = request.GET.get("parent", "")
    if parent_code:
        parent = scope.unit_or_404(user, parent_code)
        scope.require_unit_write(user, parent)
    else:
        parent = None
        if not scope.can_create_root(user):
            raise PermissionDenied
    form = UnitForm(request.POST or None, parent=parent)
    if request.method == "POST" and form.is_valid():
        try:
            new = services.create_unit(user, parent=parent, **form.cleaned_data)
        except ValidationError as e:
            add_service_error(form, e)
        else:
            messages.success(request, _("The unit “%(name)s” was created.") % {"name": new.name})
            return redirect(new)
    title = (_("New unit under %(parent)s") % {"parent": parent.name}) if parent else _("New top unit")
    return _form_page(request, form, title=title, submit=_("Create"), unit=parent)


@login_required
def edit(request: HttpRequest, code: str) -> HttpResponse:
    user = request.user
    obj = scope.unit_or_404(user, code)
    scope.require_unit_write(user, obj)
    form = UnitForm(request.POST or None, instance=obj)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_unit(user, obj, **form.cleaned_data)
        except ValidationError as e:
            obj.refresh_from_db()
            add_service_error(form, e)
        else:
            messages.success(request, _("The unit was saved."))
            return redirect(obj)
    return _form_page(request, form, title=_("Edit %(name)s") % {"name": obj.name}, submit=_("Save"),
                      unit=obj)


@login_required
def move(request: HttpRequest, code: str) -> HttpResponse:
    user = request.user
    obj = scope.unit_or_404(user, code)
    scope.require_unit_write(user, obj)
    targets = selectors.move_targets(user, obj, limit=MOVE_TARGETS)
    form = MoveForm(request.POST or None, targets=targets if len(targets) < MOVE_TARGETS else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        target = scope.units(user).filter(code=data["new_parent"].strip()).first()
        if target is None or not scope.can_write_unit(user, target):
            form.add_error("new_parent", _("You cannot move units under that unit, or it does not exist."))
        else:
            try:
                services.move_unit(user, obj, target, moved_on=data["moved_on"], reason=data["reason"])
            except ValidationError as e:
                obj.refresh_from_db()
                add_service_error(form, e)
            else:
                messages.success(request, _("The unit now sits under %(parent)s.") % {"parent": target.name})
                return redirect(obj)
    return _form_page(request, form, title=_("Move %(name)s") % {"name": obj.name}, submit=_("Move"),
                      unit=obj, targets=targets,
                      intro=_("The unit moves with its sub-units and people; "
                              "the move is kept in its history."))


@login_required
def dissolve(request: HttpRequest, code: str) -> HttpResponse:
    user = request.user
    obj = scope.unit_or_404(user, code)
    scope.require_unit_write(user, obj)
    form = DissolveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.dissolve_unit(user, obj, dissolved_on=form.cleaned_data["dissolved_on"],
                                   reason=form.cleaned_data["reason"])
        except ValidationError as e:
            obj.refresh_from_db()
            add_service_error(form, e)
        else:
            messages.success(request, _("The unit was dissolved; its records stay readable."))
            return redirect(obj)
    return _form_page(request, form, title=_("Dissolve %(name)s") % {"name": obj.name}, submit=_("Dissolve"),
                      unit=obj, danger=True,
                      intro=_("A dissolved unit stays in the tree and its records stay readable. "
                              "Move or dissolve its sub-units and transfer its people first."))
