"""Results pages — 考核结果: the ranking, a unit's scorecard, the committee dashboard, star ratings,
the bulletin and the performance linkage.

Views only translate HTTP: reads through stats.py (which starts from pbqms.scope), writes through
results.py (stars), findings.py (deductions → findings) and linkage.py, whose ValidationError is
shown as it is and whose PermissionDenied answers 403; a record outside the user's scope answers 404.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Max
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from pbqms import scope
from pbqms.assessment import bulletin, charts, coverage, findings, linkage, marks, model_branches, stats, targets, tasks
from pbqms.assessment import stars as star_rules
from pbqms.assessment.models import Period, PeriodKind, PeriodStatus, Result, StarRating, StarStatus
from pbqms.core import clock
from pbqms.core import xlsx as core_xlsx
from pbqms.core.views import paginate


def _codes(request: HttpRequest, name: str) -> list[str]:
    """Unit codes from a query parameter given once with commas/spaces, or several times."""
    out: list[str] = []
    for raw in request.GET.getlist(name):
        out += [c for c in raw.replace("，", ",").replace(" ", ",").split(",") if c.strip()]
    return [c.strip()[:40] for c in out][: stats.HEAT_CAP]


def _decorate(rows: list[Result]) -> list[Result]:
    """What the tables show beside the stored figures: the movement arrow, its size, bonus ± penalty."""
    for r in rows:
        r.move = stats.movement(r.change)  # type: ignore[attr-defined]
        r.delta = stats.num(abs(r.change)) if r.change is not None else ""  # type: ignore[attr-defined]
        r.extra = r.bonus + r.penalty  # type: ignore[attr-defined]
        r.extra_s = ("+" if r.extra > 0 else "") + stats.num(r.extra)  # type: ignore[attr-defined]
        r.total_s = stats.num(r.total)  # type: ignore[attr-defined]
    return rows


def _head(request: HttpRequest, period: Any) -> dict[str, Any]:
    """What the results pages' header needs: the period switcher and which tabs show."""
    user = request.user
    return {"period": period, "periods": stats.visible_periods(user, stats.result_periods(user, period.plan_id)),
            "whole": scope.assessment_reads_whole(user, period.org_path),
            "manager": scope.can_manage_assessment(user, period.plan.owner)}


# ---- home ----------------------------------------------------------------------------------------

@login_required
@require_GET
def results_home(request: HttpRequest) -> HttpResponse:
    """The periods with results the user may open, newest first, and the plans' star ratings."""
    user = request.user
    qs = scope.assessment_runs(user, Period).filter(computed_at__isnull=False).select_related("scheme")
    page = paginate(request, qs.order_by("-ends_on", "kind", "id"), stats.PER_PAGE)
    page.items = [p for p in page.items if p.status == PeriodStatus.PUBLISHED
                  or scope.can_see_unpublished_results(user, p)]
    return render(request, "assessment/results_home.html", {"page": page})


# ---- ranking -------------------------------------------------------------------------------------

@login_required
@require_GET
def ranking(request: HttpRequest, period_pk: int) -> HttpResponse:
    user = request.user
    period = stats.open_period(user, period_pk)
    member = stats.is_member_scheme(period)
    ranked = not member or stats.may_rank_members(user, period)
    peer = request.GET.get("peer", "").strip()[:80] if ranked else ""
    qs = stats.ranking(user, period, peer=peer, ranked=ranked)
    cats = stats.categories(period)
    if request.GET.get("export") == "xlsx":
        return _ranking_xlsx(period, qs, cats, ranked, member)
    # The page's ids first (a narrow sort, even deep in 50,000 results), then their rows.
    # a reader of the whole period needs no count: compute stored it
    whole = not peer and scope.assessment_reads_whole(user, period.org_path)
    page = paginate(request, qs.values_list("pk", flat=True), stats.PER_PAGE,
                    total=period.result_count if whole else None)
    rows = {r.pk: r for r in qs.order_by().filter(pk__in=page.items)}
    page.items = [rows[pk] for pk in page.items if pk in rows]
    points = stats.category_points(period, page.items)
    scored = [c for c in cats if c.max_points]
    for r in _decorate(page.items):
        r.cat_points = [stats.num(points.get(r.pk, {}).get(c.id, Decimal(0))) for c in scored]
    return render(request, "assessment/results_ranking.html", {
        **_head(request, period), "page": page, "categories": scored, "peer": peer, "ranked": ranked,
        "member": member, "peers": stats.peer_choices(period, page.items, peer) if ranked else [],
        "unassessed": coverage.unassessed(user, period) if not peer and not member else None,
    })


def _ranking_xlsx(period: Any, qs: Any, cats: list[stats.Category], ranked: bool, member: bool) -> HttpResponse:
    def rows() -> Any:
        chunk: list[Result] = []
        for r in qs.iterator(chunk_size=2000):
            chunk.append(r)
            if len(chunk) == 2000:
                yield from _rows(chunk)
                chunk = []
        yield from _rows(chunk)

    def _rows(chunk: list[Result]) -> Any:
        points = stats.category_points(period, chunk)
        for r in chunk:
            name = r.member.name if member and r.member_id else r.unit.name
            yield [r.rank if ranked else "", r.unit.code, name, r.total, r.base, r.bonus, r.penalty,
                   *[points.get(r.pk, {}).get(c.id, Decimal(0)) for c in cats],
                   r.change if r.change is not None else "", (r.peer_rank if ranked else "") or "",
                   r.veto_items.replace(",", "、")]

    headers = [_("Rank"), _("Code"), _("Member") if member else _("Unit"), _("Total"), _("Indicator points"),
               _("Bonus"), _("Penalty"), *[c.name for c in cats], _("Change"), _("Rank among peers"), _("Veto items")]
    content = bulletin.xlsx(period.key, headers, rows())
    return core_xlsx.xlsx_response(content, core_xlsx.ranking_name(period.key),  # type: ignore[return-value]
                                   fallback=f"{period.key}-ranking.xlsx")


# ---- scorecard -----------------------------------------------------------------------------------

def _trend_chart(card: stats.Scorecard, name: str) -> Any:
    labels = [r.period.key for r in card.trend]
    series = charts.colour_series([charts.Series(name, [r.total for r in card.trend])])
    full = card.period.scheme.full_mark
    return charts.line_chart(labels, series, _("Total by period (full mark %(full)s)") % {"full": stats.num(full)},
                             y_max=max([float(full), *(float(r.total) for r in card.trend)]), width=520,
                             height=220) if labels else ""


def _letter(user: Any, period: Any, result: Result, card: stats.Scorecard) -> list[targets.LetterRow]:
    """The unit's responsibility-letter targets beside its scores, and on each deduction the target
    its item measures (22.4)."""
    if result.member_id:
        return []

    def points(item_ids: list[int]) -> dict[int, Any]:
        cells = stats.heat_cells(period, [result.unit_id], periods=stats.source_periods(period))
        return {i: cells.get((result.unit_id, i)) for i in item_ids}

    letter = targets.unit_letter(user, result.unit, period.plan.year, period.scheme_id, points)
    for d in card.deductions:
        d.targets = letter.by_item.get(d.item.pk, [])  # type: ignore[attr-defined]
    return letter.rows


def _scorecard_page(request: HttpRequest, period: Any, result: Result) -> HttpResponse:
    card = stats.scorecard(request.user, period, result)
    _decorate([result])
    name = result.member.name if result.member_id else result.unit.name
    return render(request, "assessment/results_scorecard.html", {
        **_head(request, period), "card": card, "r": result, "name": name, "trend_chart": _trend_chart(card, name),
        "member": bool(result.member_id), "fix_next": card.fix_next,
        "composition": marks.composition(period, result),
        "letter": [] if getattr(result, "as_model", False) else _letter(request.user, period, result, card),
        "today": clock.today(), "as_model": getattr(result, "as_model", False),
    })


@login_required
@require_GET
def scorecard(request: HttpRequest, period_pk: int, code: str) -> HttpResponse:
    result = stats.open_result(request.user, period_pk, code=code)
    return _scorecard_page(request, result.period, result)


@login_required
@require_GET
def member_scorecard(request: HttpRequest, period_pk: int, member_pk: int) -> HttpResponse:
    result = stats.open_result(request.user, period_pk, member_pk=member_pk)
    return _scorecard_page(request, result.period, result)


@login_required
@require_POST
def raise_findings(request: HttpRequest, period_pk: int, code: str) -> HttpResponse:
    """One deduction (`score`) or all of the unit's (`all`) → rectification findings."""
    user = request.user
    result = stats.open_result(user, period_pk, code=code)
    period = result.period
    back = reverse("assessment:scorecard", kwargs={"period_pk": period.pk, "code": result.unit.code})
    try:
        if request.POST.get("all"):
            ids = None
        else:
            try:
                ids = [int(request.POST.get("score", ""))]
            except ValueError:
                raise ValidationError(_("Choose the deduction to raise as a finding."))
        raised = findings.raise_findings(user, period, result.unit, ids)
    except ValidationError as e:
        for m in e.messages:
            messages.error(request, m)
        return redirect(back + "#deductions")
    if raised.created:
        messages.success(request, ngettext("%(n)d finding was raised for the rectification loop.",
                                           "%(n)d findings were raised for the rectification loop.",
                                           raised.count) % {"n": raised.count})
    if raised.existing:
        messages.info(request, ngettext("%(n)d deduction had already been raised; it was left as it is.",
                                        "%(n)d deductions had already been raised; they were left as they are.",
                                        len(raised.existing)) % {"n": len(raised.existing)})
    return redirect(back + "#deductions")


# ---- committee dashboard -------------------------------------------------------------------------

@login_required
@require_GET
def dashboard(request: HttpRequest, period_pk: int) -> HttpResponse:
    user = request.user
    period = stats.open_period(user, period_pk)
    member = stats.is_member_scheme(period)
    ranked = not member or stats.may_rank_members(user, period)
    ov = stats.overview(user, period)
    sources = stats.source_periods(period)
    context: dict[str, Any] = {
        **_head(request, period), "ov": ov, "member": member, "ranked": ranked,
        "histogram": charts.histogram(ov.bins, _("Distribution of totals"), ""),
        "items": stats.most_deducted(user, period, periods=sources),
        "vetoes": stats.veto_units(user, period),
    }
    if ranked:
        top, bottom = stats.top_bottom(user, period)
        context["top"], context["bottom"] = _decorate(top), _decorate(bottom)
    if not member and ov.count:
        context.update(_benchmarks(request, period, context.get("top") or [], sources))
    return render(request, "assessment/dashboard_committee.html", context)


PICK_CAP = 300  # units offered in the pickers; beyond that the codes are typed


def _pick_units(user: Any, period: Any) -> list[tuple[str, str]] | None:
    """The units with a result the user reads, in tree order and indented by depth, to pick from
    (issue 20.6: no codes to type); None when there are too many for a list (one query)."""
    rows = list(stats.results_in_scope(user, period).filter(member__isnull=True).order_by("org_path")
                .values_list("unit__code", "unit__name", "unit__depth")[:PICK_CAP + 1])
    if len(rows) > PICK_CAP:
        return None
    top = min((d for _c, _n, d in rows), default=0)
    return [(code, "\u00a0\u00a0" * (depth - top) + f"{name} ({code})") for code, name, depth in rows]


def _benchmarks(request: HttpRequest, period: Any, top: list[Result], sources: list[Any]) -> dict[str, Any]:
    """Radar (对标), trend lines and the heat map, for the units the query names (bounded)."""
    user = request.user
    focus_code = request.GET.get("unit", "").strip()[:40]
    model_codes = _codes(request, "models")[: stats.MODELS_CAP]
    trend_codes = _codes(request, "trend")[: stats.TREND_CAP]
    heat_codes = _codes(request, "heat")
    designated = model_branches.models_of(period.plan_id)
    if not model_codes and "models" not in request.GET:  # the committee's model branches by default (22.9)
        model_codes = [m.unit.code for m in designated][: stats.MODELS_CAP]
    picked = stats.pick_results(user, period, [focus_code, *model_codes, *trend_codes, *heat_codes])
    picked.update({c: r for c, r in stats.model_results(user, period, model_codes).items() if c not in picked})
    focus = picked.get(focus_code) or (top[0] if top else None)
    models = [picked[c] for c in model_codes if c in picked and (focus is None or picked[c].pk != focus.pk)]
    cats = [c for c in stats.categories(period) if c.max_points]
    named = [focus_code, *model_codes, *trend_codes, *heat_codes]
    out: dict[str, Any] = {"focus": focus, "models": models, "focus_code": focus_code,
                           "model_codes": ",".join(model_codes), "trend_codes": ",".join(trend_codes),
                           "heat_codes": ",".join(heat_codes),
                           "picked_missing": list(dict.fromkeys(c for c in named if c and c not in picked))}
    out["pick_units"] = _pick_units(user, period)
    out["designated"] = designated
    if out["pick_units"] is not None:  # the model branches are offered even outside the user's scope
        known = {c for c, _label in out["pick_units"]}
        out["model_options"] = out["pick_units"] + [
            (m.unit.code, f"★ {m.unit.name} ({m.unit.code})") for m in designated if m.unit.code not in known]
    out["chosen"] = {"models": set(model_codes), "trend": set(trend_codes), "heat": set(heat_codes)}
    if focus is not None and len(cats) >= 3:
        avgs = stats.category_averages(user, period)
        pts = stats.category_points(period, [focus, *models])
        series = [charts.Series(focus.unit.name, [pts[focus.pk].get(c.id, 0) / c.max_points for c in cats]),
                  charts.Series(_("Average of the units"), [avgs.get(c.id, 0) / c.max_points for c in cats],
                                colour=charts.AVERAGE_COLOUR, dashed=True)]
        series += [charts.Series(m.unit.name, [pts[m.pk].get(c.id, 0) / c.max_points for c in cats]) for m in models]
        series = charts.colour_series(series)
        out["radar"] = charts.radar([c.name for c in cats], series, _("Category scores against the average"))
        out["radar_legend"] = charts.legend(series)
        out["radar_rows"] = [(c, pts[focus.pk].get(c.id, Decimal(0)), avgs.get(c.id), [
            pts[m.pk].get(c.id, Decimal(0)) for m in models]) for c in cats]
    trend_units = [picked[c] for c in trend_codes if c in picked]
    if not trend_units:
        trend_units = top[:3] + ([focus] if focus is not None and focus not in top[:3] else [])
    periods, values = stats.trend_lines(period, trend_units)
    if periods and trend_units:
        lines = charts.colour_series([charts.Series(r.unit.name, [values[r.unit_id].get(p.pk) for p in periods])
                                      for r in trend_units])
        out["trend"] = charts.line_chart([p.key for p in periods], lines,
                                         _("Totals over the periods (full mark %(full)s)")
                                         % {"full": stats.num(period.scheme.full_mark)})
        out["trend_legend"] = charts.legend(lines)
    root = None
    root_code = request.GET.get("root", "").strip()[:40]
    if root_code:
        root = scope.units(user).filter(code=root_code).first()
    elif scope.can_read_unit(user, period.plan.owner):
        root = period.plan.owner
    heat_rows = [picked[c] for c in heat_codes if c in picked] or stats.heat_units(user, period, root)
    items = stats.scored_items(period)
    cells = stats.heat_cells(period, [r.unit_id for r in heat_rows], periods=sources)
    rows = []
    for r in heat_rows:
        row_cells = []
        for it in items:
            v = cells.get((r.unit_id, it.pk))
            share = float(v / it.max_points) if v is not None and it.max_points else None
            tip = f"{r.unit.name} · {it.code} {it.title}: " + (
                f"{charts._fmt(v, 2)} / {charts._fmt(it.max_points, 2)}" if v is not None else _("no score"))
            row_cells.append((share, tip))
        link = reverse("assessment:scorecard", kwargs={"period_pk": period.pk, "code": r.unit.code})
        rows.append(charts.HeatRow(r.unit.name, link, row_cells))
    if rows and items:
        out["heat"] = charts.heatmap([(it.code, f"{it.code} {it.title}") for it in items], rows,
                                     _("Share of each item's points by unit"))
        out["heat_key"] = charts.heat_scale([(0.0, "0%"), (0.5, "50%"), (0.8, "80%"), (1.0, "100%"),
                                             (None, _("no score"))])
    out["root"] = root
    return out


# ---- bulletin ------------------------------------------------------------------------------------

def _bulletin_or_403(request: HttpRequest, period_pk: int) -> tuple[Any, bulletin.Bulletin]:
    period = stats.open_period(request.user, period_pk)
    return period, bulletin.bulletin_data(request.user, period)


@login_required
@require_GET
def bulletin_page(request: HttpRequest, period_pk: int) -> HttpResponse:
    from pbqms.files.models import StoredFile

    period, b = _bulletin_or_403(request, period_pk)
    kept = [f for f in StoredFile.objects.filter(owner=tasks.OWNER.format(pk=period.pk)).order_by("-uploaded_at")[:10]
            if scope.can_read_file(request.user, f)]
    return render(request, "assessment/bulletin_preview.html", {
        **_head(request, period), "b": b, "h": bulletin.headings(), "rows": b.rows(), "headers": b.headers(),
        "kept": kept, "can_build": scope.can_issue_bulletin(request.user, period)})


@login_required
@require_GET
def bulletin_docx(request: HttpRequest, period_pk: int) -> HttpResponse:
    _period, b = _bulletin_or_403(request, period_pk)
    return bulletin.attachment(bulletin.bulletin_docx(b), bulletin.filename(b, "docx"), bulletin.DOCX)


@login_required
@require_GET
def bulletin_pdf(request: HttpRequest, period_pk: int) -> HttpResponse:
    _period, b = _bulletin_or_403(request, period_pk)
    return bulletin.attachment(bulletin.bulletin_pdf(b), bulletin.filename(b, "pdf"), "application/pdf")


@login_required
@require_POST
def bulletin_build(request: HttpRequest, period_pk: int) -> HttpResponse:
    period = stats.open_period(request.user, period_pk)
    if not scope.can_issue_bulletin(request.user, period):
        raise PermissionDenied
    tasks.request_bulletin(request.user, period, translation.get_language() or "zh-hans")
    messages.success(request, _("The bulletin is being built; you will find it in your messages and below."))
    return redirect(reverse("assessment:bulletin", kwargs={"period_pk": period.pk}))


# ---- star ratings --------------------------------------------------------------------------------

class PubliciseForm(forms.Form):
    days = forms.IntegerField(label=gettext_lazy("Days on public notice"), min_value=1, max_value=60, initial=5)


class ChangeStarsForm(forms.Form):
    stars = forms.TypedChoiceField(label=gettext_lazy("Stars"), coerce=int,
                                   choices=[(n, "★" * n if n else "—") for n in range(5, -1, -1)])
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))


def _ratings(user: Any, plan: Any, manager: bool) -> Any:
    qs = scope.assessment_readable(user, StarRating).filter(plan=plan).select_related("unit")
    return qs if manager else qs.exclude(status=StarStatus.PROPOSED)


@login_required
@require_GET
def stars(request: HttpRequest, plan_pk: int) -> HttpResponse:
    user = request.user
    plan = stats.open_plan(user, plan_pk)
    manager = scope.can_manage_assessment(user, plan.owner)
    qs = _ratings(user, plan, manager)
    status = request.GET.get("status", "")
    shown = qs.filter(status=status) if status in StarStatus.values else qs
    page = paginate(request, shown.order_by("-stars", "unit__path", "id"), stats.PER_PAGE)
    year = plan.periods.filter(kind=PeriodKind.YEAR).only("pk").first()
    for r in page.items:  # the rule that decided each rating, and where to check it (issue 20.5)
        r.basis_lines = star_rules.describe(r.basis)
        r.scorecard = reverse("assessment:scorecard", kwargs={"period_pk": year.pk, "code": r.unit.code}) \
            if year else ""
    today = clock.today()
    counts = {s: 0 for s in StarStatus.values}
    notice_end = None
    for s, n, until in qs.order_by().values_list("status").annotate(n=Count("id"), until=Max("notice_until")):
        counts[s] = n
        if s == StarStatus.PUBLICISED:
            notice_end = until
    return render(request, "assessment/stars_plan.html", {
        "plan": plan, "page": page, "manager": manager, "status": status,
        "statuses": [(s, StarStatus(s).label, counts[s]) for s in StarStatus.values],
        "publicise_form": PubliciseForm(), "can_publicise": manager and counts[StarStatus.PROPOSED] > 0,
        "can_confirm": manager and counts[StarStatus.PUBLICISED] > 0 and (notice_end is None or notice_end <= today),
        "notice_end": notice_end,
    })


@login_required
@require_POST
def stars_publicise(request: HttpRequest, plan_pk: int) -> HttpResponse:
    user = request.user
    plan = stats.open_plan(user, plan_pk)
    form = PubliciseForm(request.POST)
    back = reverse("assessment:stars", kwargs={"plan_pk": plan.pk})
    if not form.is_valid():
        if not scope.can_manage_assessment(user, plan.owner):
            raise PermissionDenied
        for errs in form.errors.values():
            for m in errs:
                messages.error(request, m)
        return redirect(back)
    try:
        n = star_rules.publicise_stars(user, plan, form.cleaned_data["days"])
    except ValidationError as e:
        for m in e.messages:
            messages.error(request, m)
        return redirect(back)
    messages.success(request, ngettext("%(n)d rating is on public notice.", "%(n)d ratings are on public notice.",
                                       n) % {"n": n})
    return redirect(back)


@login_required
@require_POST
def stars_confirm(request: HttpRequest, plan_pk: int) -> HttpResponse:
    user = request.user
    plan = stats.open_plan(user, plan_pk)
    back = reverse("assessment:stars", kwargs={"plan_pk": plan.pk})
    try:
        n = star_rules.confirm_stars(user, plan)
    except ValidationError as e:
        for m in e.messages:
            messages.error(request, m)
        return redirect(back)
    messages.success(request, ngettext("%(n)d rating was confirmed.", "%(n)d ratings were confirmed.", n)
                     % {"n": n})
    return redirect(back)


@login_required
def star_rating(request: HttpRequest, rating_pk: int) -> HttpResponse:
    """One unit's rating with its history (晋位升级); managers change it with a reason."""
    user = request.user
    try:
        rating = (scope.assessment_readable(user, StarRating).select_related("plan__owner", "plan__scheme", "unit")
                  .get(pk=int(rating_pk)))
    except (StarRating.DoesNotExist, ValueError):
        raise Http404
    manager = scope.can_manage_assessment(user, rating.plan.owner)
    if rating.status == StarStatus.PROPOSED and not manager:
        raise Http404
    may_change = manager and not scope.belongs_to(user, rating.unit)
    form = ChangeStarsForm(request.POST or None, initial={"stars": rating.stars})
    if request.method == "POST":
        if not may_change:
            raise PermissionDenied
        if form.is_valid():
            try:
                star_rules.change_stars(user, rating, form.cleaned_data["stars"], form.cleaned_data["reason"])
            except ValidationError as e:
                for m in e.messages:
                    form.add_error(None, m)
            else:
                messages.success(request, _("The rating was changed."))
                return redirect(reverse("assessment:star_rating", kwargs={"rating_pk": rating.pk}))
    history = list(rating.changes.all())
    year = rating.plan.periods.filter(kind=PeriodKind.YEAR).only("pk").first()
    return render(request, "assessment/stars_rating.html", {
        "rating": rating, "history": history, "form": form, "may_change": may_change, "manager": manager,
        "basis_lines": star_rules.describe(rating.basis),
        "scorecard": reverse("assessment:scorecard", kwargs={"period_pk": year.pk, "code": rating.unit.code})
        if year else ""})


# ---- performance linkage -------------------------------------------------------------------------

class LinkageRowForm(forms.Form):
    stars = forms.CharField(label=gettext_lazy("Stars"), required=False, max_length=3)
    min_total = forms.CharField(label=gettext_lazy("Total at least"), required=False, max_length=10)
    secretary = forms.CharField(label=gettext_lazy("Secretary's coefficient"), required=False, max_length=10)
    committee = forms.CharField(label=gettext_lazy("Committee members' coefficient"), required=False, max_length=10)
    head = forms.CharField(label=gettext_lazy("Administrative head's coefficient"), required=False, max_length=10)
    risk_fund = forms.CharField(label=gettext_lazy("Risk fund returned (%)"), required=False, max_length=10)


LinkageFormSet = forms.formset_factory(LinkageRowForm, extra=0, max_num=linkage.MAX_ROWS, absolute_max=40)
BLANK_ROWS = 3


def _managed_plan(request: HttpRequest, plan_pk: int) -> Any:
    plan = stats.open_plan(request.user, plan_pk)
    if not scope.can_manage_assessment(request.user, plan.owner):
        raise PermissionDenied
    return plan


@login_required
def linkage_page(request: HttpRequest, plan_pk: int) -> HttpResponse:
    user = request.user
    plan = _managed_plan(request, plan_pk)
    rows = list(plan.linkage.all())
    errors: list[str] = []
    if request.method == "POST":
        formset = LinkageFormSet(request.POST, prefix="rows")
        if formset.is_valid():
            entries = [linkage.LinkageInput(**f.cleaned_data) for f in formset.forms if f.cleaned_data]
            try:
                linkage.save_linkage(user, plan, entries)
            except ValidationError as e:
                errors = e.messages
            else:
                messages.success(request, _("The linkage table was saved."))
                return redirect(reverse("assessment:linkage", kwargs={"plan_pk": plan.pk}))
        else:
            errors = list(formset.non_form_errors()) or [_("Check the rows of the table.")]
    else:
        initial = [{"stars": "" if r.stars is None else r.stars,
                    "min_total": "" if r.min_total is None else r.min_total,
                    "secretary": r.secretary_coefficient, "committee": r.committee_coefficient,
                    "head": "" if r.head_coefficient is None else r.head_coefficient,
                    "risk_fund": "" if r.risk_fund_pct is None else r.risk_fund_pct} for r in rows]
        formset = LinkageFormSet(prefix="rows", initial=initial + [{}] * BLANK_ROWS)
    periods = stats.result_periods(user, plan.pk)
    return render(request, "assessment/results_linkage.html", {
        "plan": plan, "rows": rows, "formset": formset, "errors": errors, "periods": periods,
        "default_period": linkage.default_period(plan), "by_stars": linkage.by_stars(rows)})


@login_required
@require_GET
def linkage_xlsx(request: HttpRequest, plan_pk: int) -> HttpResponse:
    from pbqms.audit.models import AuditAction
    from pbqms.audit.services import record

    user = request.user
    plan = _managed_plan(request, plan_pk)
    raw = request.GET.get("period", "")
    if raw:
        try:
            period = Period.objects.get(plan=plan, pk=int(raw), computed_at__isnull=False)
        except (Period.DoesNotExist, ValueError):
            raise Http404
    else:
        period = linkage.default_period(plan)
        if period is None:
            messages.error(request, _("No period of this plan has results yet."))
            return redirect(reverse("assessment:linkage", kwargs={"plan_pk": plan.pk}))
    content = bulletin.xlsx(_("Linkage"), linkage.export_headers(), linkage.export_rows(user, plan, period))
    record(user, AuditAction.EXPORT, plan, {"linkage": [None, period.key]}, note=_("performance linkage export"))
    return core_xlsx.xlsx_response(content, core_xlsx.linkage_name(period.key),  # type: ignore[return-value]
                                   fallback=f"{period.key}-linkage.xlsx")
