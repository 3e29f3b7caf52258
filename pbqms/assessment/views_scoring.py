"""Score sheets — 评分表: open a sheet, score it row by row (htmx) or all at once (without JS),
submit and withdraw.

Each row carries the version of the score its scorer saw; a save over someone else's newer score
comes back as a ScoreConflict, shown in the row with the other person's value, and nothing is lost.
Reads go through selectors (scope first), writes through services; a refusal is the service's
message, outside scope is 404, inside without the right role 403.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from pbqms import scope
from pbqms.assessment import selectors, services, targets
from pbqms.assessment.forms import SubmitForm, WithdrawForm
from pbqms.assessment.models import (
    ItemKind,
    Method,
    Period,
    SchemeItem,
    Score,
    Sheet,
    SheetKind,
    SheetStatus,
)
from pbqms.assessment.services import ScoreConflict, ScoreInput

INPUTS = ("occ", "level", "measured", "yes", "points")
FACTS = ("reason", "standard", "evidence", "note", "override")


# ---- reading and writing one row's fields ------------------------------------------------------

def _name(item: SchemeItem, field: str) -> str:
    return f"i{item.pk}-{field}"


def saved_values(item: SchemeItem, score: Score | None) -> dict[str, Any]:
    """What a row's inputs show for a saved score (or a fresh row)."""
    if score is None:
        return {"version": 0, "occ": "", "level": "", "measured": "", "yes": "", "veto": False, "points": "",
                "reason": "", "standard": item.standard if item.kind != ItemKind.BONUS else "", "evidence": "",
                "note": "", "override": ""}
    amount = abs(score.points)
    method_input = {Method.DEDUCT: score.occurrences, Method.GRADED: score.level or None,
                    Method.RATIO: score.measured,
                    Method.YESNO: ("yes" if amount == item.max_points and amount else "no")
                    if amount in (0, item.max_points) else None}[item.method]
    values = {"version": score.version, "occ": "", "level": "", "measured": "", "yes": "", "veto": score.vetoed,
              "points": "", "reason": score.reason, "standard": score.standard_applied,
              "evidence": score.evidence_ref, "note": score.note, "override": ""}
    key = {Method.DEDUCT: "occ", Method.GRADED: "level", Method.RATIO: "measured", Method.YESNO: "yes"}[item.method]
    if item.kind != ItemKind.VETO:
        if method_input is None:
            values["points"] = _plain(amount)
        else:
            values[key] = _plain(method_input) if isinstance(method_input, Decimal) else method_input
    return values


def _plain(value: Decimal | int | None) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def posted_values(post: Any, item: SchemeItem) -> dict[str, Any]:
    try:
        version = int(post.get(_name(item, "version")) or 0)
    except ValueError:
        version = 0
    values: dict[str, Any] = {"version": version, "veto": post.get(_name(item, "veto")) == "on"}
    for f in (*INPUTS, *FACTS):
        values[f] = (post.get(_name(item, f)) or "").strip()
    return values


def entered(values: dict[str, Any], item: SchemeItem, score: Score | None) -> bool:
    """Whether a row of a whole-sheet save carries anything to save."""
    if item.kind == ItemKind.VETO:
        return values["veto"] or score is not None
    return any(values[f] for f in INPUTS)


def to_input(item: SchemeItem, values: dict[str, Any]) -> ScoreInput:
    yes: bool | None
    if item.kind == ItemKind.VETO:
        yes = bool(values["veto"])
    else:
        yes = {"yes": True, "no": False}.get(values["yes"])
    return ScoreInput(item=item, version=values["version"], points=values["points"] or None,
                      occurrences=values["occ"] or None, level=values["level"], measured=values["measured"] or None,
                      yes=yes, reason=values["reason"], standard_applied=values["standard"],
                      evidence_ref=values["evidence"], note=values["note"], override_reason=values["override"])


def errors_by_item(messages_: list[str], items: list[SchemeItem]) -> tuple[dict[int, list[str]], list[str]]:
    """A service's messages on the rows they name (they start with the item's code)."""
    by_code = sorted(items, key=lambda i: -len(i.code))
    rows: dict[int, list[str]] = {}
    rest: list[str] = []
    for m in messages_:
        for item in by_code:
            if m.startswith(item.code + " ") or m.startswith(item.code + ":") or m.startswith(item.code + "："):
                rows.setdefault(item.pk, []).append(m)
                break
        else:
            rest.append(m)
    return rows, rest


# ---- the sheet ------------------------------------------------------------------------------------

def _attach_targets(user: Any, sheet: Sheet, rows: list[Any]) -> None:
    """Beside each item, the unit's letter targets it measures (22.4; two queries)."""
    found = targets.targets_by_item(user, sheet.unit, sheet.period.plan.year, [r.item.pk for r in rows]) \
        if not sheet.member_id else {}
    for r in rows:
        r.targets = found.get(r.item.pk, [])


def closed_reason(sheet: Sheet) -> str:
    """Why the sheet cannot be scored now (locked, not this period's step), or ''."""
    try:
        services._check_open_for(sheet.period, sheet.kind)
    except ValidationError as e:
        return e.messages[0]
    return ""


def _context(request: HttpRequest, sheet: Sheet, *, posted: dict[int, dict[str, Any]] | None = None,
             row_errors: dict[int, list[str]] | None = None, errors: list[str] | None = None,
             conflicts: dict[int, Any] | None = None) -> dict[str, Any]:
    user = request.user
    items = services.sheet_items(sheet.period)
    beside = selectors.self_sheet_for(sheet)
    blocks = selectors.sheet_blocks(sheet, beside, items)
    posted, row_errors = posted or {}, row_errors or {}
    for block in blocks:
        for row in block.rows:
            row.values = posted.get(row.item.pk) or saved_values(row.item, row.score)  # type: ignore[attr-defined]
            row.errors = row_errors.get(row.item.pk, [])  # type: ignore[attr-defined]
            row.conflict = (conflicts or {}).get(row.item.pk)  # type: ignore[attr-defined]
    _attach_targets(user, sheet, [row for block in blocks for row in block.rows])
    closed = closed_reason(sheet)
    may_write = services.may_write_sheet(user, sheet)
    editable = may_write and not closed and sheet.status == SheetStatus.DRAFT
    return {
        "sheet": sheet, "period": sheet.period, "scheme": sheet.period.scheme, "blocks": blocks, "beside": beside,
        "totals": selectors.sheet_totals(sheet, items), "closed": closed, "may_write": may_write,
        "editable": editable, "errors": errors or [], "is_self": sheet.kind == SheetKind.SELF,
        "submit_form": SubmitForm(initial={"summary": sheet.summary}), "withdraw_form": WithdrawForm(),
        "may_withdraw": may_write and not closed and sheet.status == SheetStatus.SUBMITTED,
    }


@login_required
def sheet_detail(request: HttpRequest, sheet_pk: int) -> HttpResponse:
    """The sheet; a POST (the page without JS) saves every row that carries a score, all or nothing."""
    sheet = selectors.sheet_or_404(request.user, sheet_pk)
    if request.method == "POST":
        items = services.sheet_items(sheet.period)
        scores = {s.item_id: s for s in Score.objects.filter(sheet=sheet)}
        posted = {i.pk: posted_values(request.POST, i) for i in items}
        entries = [to_input(i, posted[i.pk]) for i in items if entered(posted[i.pk], i, scores.get(i.pk))]
        try:
            saved = services.save_scores(request.user, sheet, entries)
        except ScoreConflict as e:
            for c in e.conflicts:  # show the newer score; saving again replaces it knowingly
                posted[c.item.pk]["version"] = scores[c.item.pk].version if c.item.pk in scores else 0
            rows, rest = errors_by_item(e.messages, items)
            return render(request, "assessment/sheet.html", _context(
                request, sheet, posted=posted, row_errors=rows, conflicts={c.item.pk: c for c in e.conflicts},
                errors=rest or [_("Nothing was saved: someone else changed the rows marked below.")]))
        except ValidationError as e:
            rows, rest = errors_by_item(e.messages, items)
            return render(request, "assessment/sheet.html", _context(
                request, sheet, posted=posted, row_errors=rows,
                errors=rest or [_("Nothing was saved: correct the rows marked below.")]))
        messages.success(request, ngettext("%(n)d score saved.", "%(n)d scores saved.", len(saved)) % {"n": len(saved)})
        return redirect("assessment:sheet", sheet_pk=sheet.pk)
    return render(request, "assessment/sheet.html", _context(request, sheet))


def _sheet_item(request: HttpRequest, sheet_pk: int, item_pk: int) -> tuple[Sheet, SchemeItem, list[SchemeItem]]:
    sheet = selectors.sheet_or_404(request.user, sheet_pk)
    items = services.sheet_items(sheet.period)
    item = next((i for i in items if i.pk == int(item_pk)), None)
    if item is None:
        raise Http404
    return sheet, item, items


@login_required
def sheet_row(request: HttpRequest, sheet_pk: int, item_pk: int) -> HttpResponse:
    """One row: GET draws it as saved; POST saves it (htmx swaps the row and the totals)."""
    sheet, item, items = _sheet_item(request, sheet_pk, item_pk)
    if request.method != "POST" and not request.htmx:  # without JS: the row on its page
        return redirect(reverse("assessment:sheet", kwargs={"sheet_pk": sheet.pk}) + f"#row-{item.pk}")
    beside = selectors.self_sheet_for(sheet)
    row = selectors.row_for(sheet, item, beside)
    row_errors: list[str] = []
    conflict = None
    values = saved_values(item, row.score)
    saved = False
    if request.method == "POST":
        values = posted_values(request.POST, item)
        try:
            services.save_scores(request.user, sheet, [to_input(item, values)])
        except ScoreConflict as e:
            conflict = e.conflicts[0]
            row_errors = e.messages
            row = selectors.row_for(sheet, item, beside)  # the newer score, shown beside the entry kept
            values["version"] = row.score.version if row.score else 0
        except ValidationError as e:
            row_errors = e.messages
        else:
            saved = True
            row = selectors.row_for(sheet, item, beside)
            values = saved_values(item, row.score)
        if not request.htmx:
            for m in row_errors:
                messages.error(request, m)
            if saved:
                messages.success(request, _("%(item)s saved.") % {"item": item.code})
            return redirect(reverse("assessment:sheet", kwargs={"sheet_pk": sheet.pk}) + f"#row-{item.pk}")
    closed = closed_reason(sheet)
    editable = services.may_write_sheet(request.user, sheet) and not closed and sheet.status == SheetStatus.DRAFT
    row.values, row.errors, row.conflict = values, row_errors, conflict  # type: ignore[attr-defined]
    _attach_targets(request.user, sheet, [row])
    block = next(b for b in selectors.sheet_blocks(sheet, beside, [i for i in items
                                                                  if i.category_id == item.category_id]))
    return render(request, "assessment/_score_row_swap.html", {
        "sheet": sheet, "row": row, "editable": editable, "conflict": conflict, "saved": saved,
        "is_self": sheet.kind == SheetKind.SELF, "beside": beside, "block": block,
        "totals": selectors.sheet_totals(sheet, items), "oob": request.method == "POST",
    })


@login_required
@require_POST
def sheet_submit(request: HttpRequest, sheet_pk: int) -> HttpResponse:
    sheet = selectors.sheet_or_404(request.user, sheet_pk)
    form = SubmitForm(request.POST)
    form.is_valid()
    try:
        services.submit_sheet(request.user, sheet, summary=form.cleaned_data.get("summary") or "")
    except ValidationError as e:
        for m in e.messages:
            messages.error(request, m)
    else:
        messages.success(request, _("The sheet was submitted."))
    return redirect("assessment:sheet", sheet_pk=sheet.pk)


@login_required
@require_POST
def sheet_withdraw(request: HttpRequest, sheet_pk: int) -> HttpResponse:
    sheet = selectors.sheet_or_404(request.user, sheet_pk)
    form = WithdrawForm(request.POST)
    form.is_valid()
    try:
        services.withdraw_submission(request.user, sheet, form.cleaned_data.get("reason") or "")
    except ValidationError as e:
        for m in e.messages:
            messages.error(request, m)
    else:
        messages.success(request, _("The submission was withdrawn: the sheet can be changed again."))
    return redirect("assessment:sheet", sheet_pk=sheet.pk)


# ---- opening a sheet --------------------------------------------------------------------------------

def _existing(request: HttpRequest, period: Period, unit: Any, member: Any, kind: str) -> Sheet | None:
    lookup: dict[str, Any] = {"period": period, "kind": kind}
    lookup.update({"member": member} if member else {"unit": unit, "member__isnull": True})
    if kind == SheetKind.ASSESSOR:
        on_panel = period.panel.filter(user_id=request.user.pk).exists()
        lookup["assessor"] = request.user if on_panel else None
    found = Sheet.objects.filter(**lookup).first()
    if found and scope.assessment_readable(request.user, Sheet).filter(pk=found.pk).exists():
        return found
    return None


def _open(request: HttpRequest, period: Period, unit: Any, member: Any, kind: str) -> HttpResponse:
    existing = _existing(request, period, unit, member, kind)
    if existing is not None:
        return redirect("assessment:sheet", sheet_pk=existing.pk)
    if request.method == "POST":
        try:
            sheet = services.open_sheet(request.user, period, unit, kind, member=member)
        except ValidationError as e:
            for m in e.messages:
                messages.error(request, m)
            return redirect("assessment:period", period_pk=period.pk)
        return redirect("assessment:sheet", sheet_pk=sheet.pk)
    return render(request, "assessment/sheet_open.html", {"period": period, "unit": unit, "member": member,
                                                          "kind": kind, "is_self": kind == SheetKind.SELF})


@login_required
def open_unit_sheet(request: HttpRequest, period_pk: int, code: str, kind: str) -> HttpResponse:
    period = scope.assessment_run_or_404(request.user, Period, period_pk)
    unit = scope.unit_or_404(request.user, code)
    return _open(request, period, unit, None, kind)


@login_required
def open_member_sheet(request: HttpRequest, period_pk: int, member_pk: int, kind: str) -> HttpResponse:
    period = scope.assessment_run_or_404(request.user, Period, period_pk)
    member = scope.member_or_404(request.user, member_pk)
    return _open(request, period, member.unit, member, kind)
