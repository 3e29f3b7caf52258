"""Member-target pages — 党员目标: a member's own targets (propose, revise, report), the branch's
approval queue and to-do list, year-end scores, and the committee's common targets."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pbqms import scope
from pbqms.core.views import add_service_error, paginate
from pbqms.members.models import Member
from pbqms.orgs.models import UnitKind

from . import member_services, selectors, services
from .exports import wants_xlsx, xlsx_response
from .forms import CommonForm, EvaluateForm, MemberTargetForm, ProgressForm, ReviewForm
from .models import COMMON_CATEGORIES, CommonStandard, ReviewState, TargetPart

PER_PAGE = 50


def _year(request: HttpRequest) -> int:
    return selectors.parse_year(request.POST.get("year") or request.GET.get("year"))


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    """A member's own targets for the year: the common part, and the individual part they propose."""
    user = request.user
    member_id = scope.get_scope(user).self_member_id
    if member_id is None:
        return render(request, "objectives/mine.html", {"member": None, "year": _year(request)})
    member = Member.objects.select_related("unit").get(pk=member_id)
    year = _year(request)
    form = MemberTargetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            member_services.propose_member_target(user, member, year=year, **form.cleaned_data)
        except ValidationError as e:
            add_service_error(form, e, "title" if "target" in str(e.messages).lower() or "目标" in str(e.messages)
                              else None)
        else:
            messages.success(request, _("Your target was sent to the branch for approval."))
            return redirect(f"{request.path}?year={year}")
    targets = selectors.member_targets_of(user, member.pk, year)
    policy = services.policy_for(member.unit, year)
    return render(request, "objectives/mine.html", {
        "member": member, "year": year, "years": [year + 1, year, year - 1], "form": form,
        "common": [t for t in targets if t.part == TargetPart.COMMON],
        "individual": [t for t in targets if t.part == TargetPart.INDIVIDUAL],
        "policy": policy,
        "has_approved": any(t.state == ReviewState.APPROVED and t.part == TargetPart.INDIVIDUAL for t in targets),
    })


@login_required
def member_target(request: HttpRequest, mt_pk: int) -> HttpResponse:
    """One member target: its review, progress and score. POST `action`: revise (the member),
    review / evaluate (the branch), report (the member or the branch)."""
    user = request.user
    mt = scope.member_target_or_404(user, mt_pk)
    own = scope.is_self_member(user, mt.member_id)
    reviewer = scope.can_review_member_targets_in(user, mt.org_path) and not own
    action = request.POST.get("action", "")
    revise = MemberTargetForm(initial={"category": mt.category, "title": mt.title, "measure": mt.measure,
                                       "deadline": mt.deadline})
    review, evaluate = ReviewForm(), EvaluateForm(initial={"score": mt.score, "grade": mt.grade})
    report = ProgressForm(initial={"status": mt.status, "progress": mt.progress, "reported_on": dt.date.today()})
    if request.method == "POST":
        try:
            if action == "revise":
                revise = MemberTargetForm(request.POST)
                if revise.is_valid():
                    member_services.revise_member_target(user, mt, **revise.cleaned_data)
                    messages.success(request, _("Your target was sent to the branch again."))
                    return redirect(mt)
            elif action == "review":
                review = ReviewForm(request.POST)
                if review.is_valid():
                    approve = review.cleaned_data["decision"] == "approve"
                    member_services.review_member_target(user, mt, approve=approve,
                                                         comment=review.cleaned_data["comment"])
                    messages.success(request, _("The target was approved.") if approve
                                     else _("The target was returned to the member."))
                    return redirect(request.POST.get("next") or mt.get_absolute_url())
            elif action == "evaluate":
                evaluate = EvaluateForm(request.POST)
                if evaluate.is_valid():
                    member_services.evaluate_member_target(user, mt, score=evaluate.cleaned_data["score"],
                                                           grade=evaluate.cleaned_data["grade"])
                    messages.success(request, _("The score was recorded."))
                    return redirect(mt)
            elif action == "report":
                report = ProgressForm(request.POST)
                if report.is_valid():
                    services.report_progress(user, member_target=mt, uploads=request.FILES.getlist("evidence"),
                                             **report.cleaned_data)
                    messages.success(request, _("The progress was reported."))
                    return redirect(mt)
        except ValidationError as e:
            # shown above the page: the form of the refused action may not be on it (one's own target)
            messages.error(request, " ".join(e.messages))
            mt = scope.member_target_or_404(user, mt_pk)
    reports = list(mt.reports.select_related("reported_by")[:50])
    evidence = services.evidence_of(reports)
    for r in reports:
        r.files = evidence.get(r.pk, [])
    return render(request, "objectives/member_target.html", {
        "mt": mt, "own": own, "reviewer": reviewer, "reports": reports, "revise": revise, "review": review,
        "evaluate": evaluate, "report": report, "action": action,
        "can_revise": own and mt.part == TargetPart.INDIVIDUAL and mt.state != ReviewState.APPROVED,
        "can_review": reviewer and mt.part == TargetPart.INDIVIDUAL and mt.state == ReviewState.PROPOSED,
        "can_evaluate": reviewer and mt.state == ReviewState.APPROVED,
        "can_report": (own or reviewer) and mt.state == ReviewState.APPROVED,
    })


@login_required
def member_targets(request: HttpRequest, code: str) -> HttpResponse:
    """A branch's member targets: the approval queue, the to-do list of members without approved
    targets, and every member target of the year (filterable, exportable)."""
    user = request.user
    unit = scope.unit_or_404(user, code)
    if not scope.covers_path(user, unit.path):
        raise Http404  # a member reads their own targets on their own page
    year = _year(request)
    state, part = request.GET.get("state", ""), request.GET.get("part", "")
    qs = selectors.branch_member_targets(user, unit, year, state=state, part=part)
    if wants_xlsx(request):
        return xlsx_response(f"member-targets-{unit.code}-{year}", _("Member targets"), [
            _("Member"), _("Part"), _("Kind"), _("Target"), _("Measure and standard"), _("Review state"),
            _("Review comment"), _("Status"), _("Progress (%)"), _("Score"), _("Grade")],
            ([t.member.name, t.get_part_display(), t.get_category_display(), t.title, t.measure,
              t.get_state_display(), t.review_comment, t.get_status_display(), t.progress,
              "" if t.score is None else float(t.score), t.get_grade_display()] for t in qs.iterator(2000)))
    can_review = scope.can_review_member_targets_in(user, unit.path)
    queue = list(selectors.review_queue(user, unit, year)[:100]) if can_review else []
    policy = services.policy_for(unit, year)
    missing: list[Member] = []
    if unit.kind in (UnitKind.BRANCH, UnitKind.GENERAL_BRANCH):
        missing = list(member_services.members_without_approved_targets(unit, year)[:200])
    page = paginate(request, qs, PER_PAGE)
    return render(request, "objectives/member_targets.html", {
        "unit": unit, "year": year, "years": [year + 1, year, year - 1], "page": page, "queue": queue,
        "missing": missing, "policy": policy, "can_review": can_review, "state": state, "part": part,
        "overdue": bool(policy and policy.member_targets_due and policy.member_targets_due < dt.date.today()),
        "states": ReviewState.choices, "parts": TargetPart.choices,
        "self_member_id": scope.get_scope(user).self_member_id,
    })


@login_required
@require_POST
def review(request: HttpRequest, mt_pk: int) -> HttpResponse:
    """Approve or return from the queue (htmx swaps the row)."""
    user = request.user
    mt = scope.member_target_or_404(user, mt_pk)
    form = ReviewForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            member_services.review_member_target(user, mt, approve=form.cleaned_data["decision"] == "approve",
                                                 comment=form.cleaned_data["comment"])
        except ValidationError as e:
            error = " ".join(e.messages)
    else:
        error = _("Choose approve or return.")
    mt = scope.member_target_or_404(user, mt_pk)
    if request.htmx:
        return render(request, "objectives/_queue_row.html", {"t": mt, "error": error, "can_review": True})
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("The target was approved.") if mt.state == ReviewState.APPROVED
                         else _("The target was returned to the member."))
    return redirect(request.POST.get("next") or f"/objectives/units/{mt.unit.code}/members/?year={mt.year}")


@login_required
def common(request: HttpRequest, code: str) -> HttpResponse:
    """The committee's common targets (党性观念、思想道德、遵纪守法、联系群众) and applying them."""
    user = request.user
    unit = scope.unit_or_404(user, code)
    if unit.kind != UnitKind.COMMITTEE:
        raise Http404
    year = _year(request)
    can_edit = scope.can_manage_objectives(user, unit)
    existing = {s.category: s for s in CommonStandard.objects.filter(unit=unit, year=year)}
    form = CommonForm(request.POST or None, initial={"year": year, **{c: s.standard for c, s in existing.items()}})
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        if form.is_valid():
            data = dict(form.cleaned_data)
            y = data.pop("year")
            try:
                member_services.set_common_standards(user, unit, y, data)
                added = member_services.apply_common_targets(user, unit, y) if request.POST.get("apply") else None
            except ValidationError as e:
                add_service_error(form, e)
            else:
                messages.success(request, _("The common targets were saved.") if added is None else
                                 _("The common targets were saved and given to %(n)s members' target lists.")
                                 % {"n": added})
                return redirect(f"{request.path}?year={y}")
    rows = [(c, existing.get(c)) for c in COMMON_CATEGORIES]
    return render(request, "objectives/common.html", {"unit": unit, "year": year, "form": form, "rows": rows,
                                                      "can_edit": can_edit})

