"""Rectification pages — 纠错整改: the to-do list, findings, notices with their feedback and
verification, and the print of the two-part form.

Views only translate HTTP: reads go through selectors (which start from pbqms.scope), every step
through services.py, whose ValidationError lands on the form and whose PermissionDenied answers
403. The ledger, the dashboard, preventive actions and settings are in views_boards.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_GET, require_POST

from pbqms import scope
from pbqms.core import clock
from pbqms.core.codes import name_rows
from pbqms.core.views import paginate
from pbqms.files import idempotency
from pbqms.files import services as files
from pbqms.orgs import selectors as org_selectors
from pbqms.orgs.models import Unit

from . import exports, selectors, services
from .forms import (
    AnswerForm,
    CloseForm,
    FindingFilterForm,
    FindingForm,
    NoticeFilterForm,
    NoticeForm,
    ReasonForm,
    ReturnForm,
    VerifyForm,
    today_plus,
)
from .models import OWED_FINDING, CauseCategory, Finding, FindingStatus, Notice, NoticeStatus

PER_PAGE = 50
DEFAULT_DEADLINE_DAYS = 15

STEP_LABELS = {
    "draft": pgettext_lazy("notice step", "Drafted"), "issue": pgettext_lazy("notice step", "Issued"),
    "receive": pgettext_lazy("notice step", "Received"), "submit": pgettext_lazy("notice step", "Feedback submitted"),
    "verify": pgettext_lazy("notice step", "Verified"), "return": pgettext_lazy("notice step", "Returned"),
    "close": pgettext_lazy("notice step", "Closed"),
}
# The notice's life, as the stepper on its page draws it.
LIFE = [NoticeStatus.DRAFT, NoticeStatus.ISSUED, NoticeStatus.RECEIVED, NoticeStatus.ANSWERED, NoticeStatus.CLOSED]


# ---- helpers -----------------------------------------------------------------------------------

class _Refused(Exception):
    """An upload was refused; its message is already on the form."""


def put_errors(form: forms.Form, error: ValidationError, field: str | None = None) -> None:
    """A service's ValidationError on the form: each keyed message on its field (or above the
    fields when the form has no such field), a plain message on `field` or above the fields."""
    if hasattr(error, "error_dict"):
        for key, errs in error.error_dict.items():
            msgs = [m for e in errs for m in e.messages]
            form.add_error(key if key in form.fields else None, msgs)
    else:
        form.add_error(field if field in form.fields else None, error.messages)


@contextmanager
def kept_files() -> Iterator[list[Any]]:
    """One transaction around storing uploads and the service that takes them: if anything
    fails, the rows roll back and the stored bytes are removed, so nothing is left behind."""
    kept: list[Any] = []
    try:
        with transaction.atomic():
            yield kept
    except BaseException:
        for f in kept:
            (files.storage_root() / f.path).unlink(missing_ok=True)
        raise


def store(user: Any, uploads: list[Any], unit: Unit, form: forms.Form, field: str, kept: list[Any]) -> list[Any]:
    if not uploads:
        return []
    try:
        rows = files.store_many(user, uploads, unit=unit)
    except ValidationError as e:
        form.add_error(field, e.messages)
        raise _Refused from e
    kept.extend(rows)
    return rows


def _unit_choices(user: Any) -> list[Unit] | None:
    units, more = org_selectors.unit_choices(user)
    return None if more else units


def _scoped_unit(user: Any, code: str) -> Unit | None:
    return scope.unit_or_404(user, code) if code else None


def _said_once(request: HttpRequest, outcome: idempotency.Outcome, message: str) -> None:
    """The success message, or on a second submission of the same form, that nothing new was made."""
    if outcome.created:
        messages.success(request, message)
    else:
        messages.info(request, idempotency.replayed_message())


def _hx_target(request: HttpRequest, target: str) -> bool:
    return bool(request.htmx) and request.htmx.target == target and not request.htmx.history_restore_request


# ---- to-do -------------------------------------------------------------------------------------

@login_required
@require_GET
def todo(request: HttpRequest) -> HttpResponse:
    """整改待办: what waits for this user, by role."""
    user = request.user
    data = selectors.todo(user)
    is_issuer, is_responder = scope.rect_is_issuer(user), scope.rect_is_responder(user)
    answer = data.get("to_answer", [])
    context = {
        **data,
        "to_receive": [n for n in answer if n.status == NoticeStatus.ISSUED],
        "to_answer": [n for n in answer if n.status != NoticeStatus.ISSUED],
        "is_issuer": is_issuer, "is_responder": is_responder,
        "can_issue": bool(scope.paths_for(user, scope.RECT_ISSUE_ROLES)),
    }
    waiting = [context.get(k) for k in ("drafts", "to_verify", "overdue", "to_receive", "to_answer", "preventive")]
    context["nothing"] = not any(waiting) and not data.get("open_findings")
    return render(request, "rectification/todo.html", context)


# ---- findings ----------------------------------------------------------------------------------

@login_required
@require_GET
def finding_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = FindingFilterForm(request.GET or None, units=_unit_choices(user))
    form.is_valid()
    filters = form.filters()
    unit = _scoped_unit(user, filters.pop("unit"))
    page = paginate(request, selectors.finding_list(user, unit=unit, **filters), PER_PAGE)
    context = {"form": form, "page": page, "unit": unit, "can_record": scope.rect_is_issuer(user)}
    if _hx_target(request, "finding-results"):
        return render(request, "rectification/_finding_results.html", context)
    return render(request, "rectification/finding_list.html", context)


def _recordable_units(user: Any, limit: int = 300) -> tuple[list[Unit], bool]:
    own = scope.get_scope(user).role_unit_ids
    rows = list(scope.rect_issue_units(user).exclude(pk__in=own).order_by("path")
                .only("pk", "code", "name", "kind", "depth", "path", "parent_id")[:limit + 1])
    return rows[:limit], len(rows) > limit


@login_required
def finding_create(request: HttpRequest) -> HttpResponse:
    """Record a finding (问题) with its evidence, for a unit the user inspects."""
    user = request.user
    units, more = _recordable_units(user)
    if not units:
        raise PermissionDenied
    initial = {"unit": request.GET.get("unit", "")}
    form = FindingForm(request.POST or None, request.FILES or None, units=None if more else units,
                       initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        unit = scope.rect_issue_units(user).filter(code=data["unit"].strip()).first()
        if unit is None:
            form.add_error("unit", _("Choose a unit you inspect."))
        else:
            def record() -> Finding:
                with kept_files() as kept:
                    evidence = store(user, data["evidence"], unit, form, "evidence", kept)
                    return services.record_finding(user, services.FindingInput(
                        unit=unit, description=data["description"], found_on=data["found_on"],
                        source=data["source"], item_code=data["item_code"], standard=data["standard"],
                        severity=data["severity"], period=data["period"], source_ref=data["source_ref"]),
                        evidence=evidence)
            try:
                outcome = idempotency.once(user, idempotency.form_key(form), "rectification.finding", record)
            except _Refused:
                pass
            except ValidationError as e:
                put_errors(form, e)
            else:
                _said_once(request, outcome, _("The finding was recorded."))
                if request.POST.get("next") == "another":
                    return redirect(f"{reverse('rectification:finding_create')}?unit={unit.code}")
                return redirect("rectification:finding", finding_pk=outcome.pk)
    return render(request, "rectification/finding_form.html", {"form": form})


@login_required
@require_GET
def finding_detail(request: HttpRequest, finding_pk: int) -> HttpResponse:
    user = request.user
    finding = selectors.finding_or_404(user, finding_pk)
    return _finding_page(request, finding, ReasonForm())


def _finding_page(request: HttpRequest, finding: Finding, withdraw: ReasonForm) -> HttpResponse:
    user = request.user
    can_record = finding.status == FindingStatus.OPEN and scope.can_record_finding(user, finding.unit)
    name_rows([finding])
    return render(request, "rectification/finding_detail.html", {
        "finding": finding, **selectors.finding_history(finding), "withdraw": withdraw,
        "can_withdraw": can_record,
        "can_notify": finding.status == FindingStatus.OPEN and not finding.notice_id
        and scope.can_issue_to(user, finding.unit),
    })


@login_required
@require_POST
def finding_withdraw(request: HttpRequest, finding_pk: int) -> HttpResponse:
    user = request.user
    finding = selectors.finding_or_404(user, finding_pk)
    form = ReasonForm(request.POST)
    form.is_valid()
    try:
        services.withdraw_finding(user, finding, form.cleaned_data.get("reason", ""))
    except ValidationError as e:
        put_errors(form, e, "reason")
        finding.refresh_from_db()
        return _finding_page(request, finding, form)
    messages.success(request, _("The finding was withdrawn."))
    return redirect("rectification:finding", finding_pk=finding.pk)


@login_required
@require_POST
def finding_verify(request: HttpRequest, finding_pk: int) -> HttpResponse:
    """复查验收 of one finding, inline on the notice page (htmx swaps the finding's block)."""
    user = request.user
    finding = selectors.finding_or_404(user, finding_pk)
    form = VerifyForm(request.POST)
    done = False
    if form.is_valid():
        try:
            services.verify_finding(user, finding, effective=form.cleaned_data["effective"],
                                    note=form.cleaned_data["note"])
        except ValidationError as e:
            put_errors(form, e)
        else:
            if not request.htmx:
                messages.success(request, _("The verification was recorded."))
                return redirect("rectification:notice", notice_pk=finding.notice_id)
            done = True
    if finding.notice_id is None:  # a finding not on a notice has nothing to verify
        for message in [m for errs in form.errors.values() for m in errs]:
            messages.error(request, message)
        return redirect("rectification:finding", finding_pk=finding.pk)
    notice = Notice.objects.select_related("unit", "issuing_unit").get(pk=finding.notice_id)
    forms_ = {} if done else {finding.pk: form}
    if request.htmx:
        ctx = _notice_context(request, notice, verify_forms=forms_)
        ctx["f"] = next(f for f in ctx["findings"] if f.pk == finding.pk)
        ctx["oob"] = True
        return render(request, "rectification/_verified.html", ctx)
    return render(request, "rectification/notice_detail.html", _notice_context(request, notice, verify_forms=forms_))


# ---- notices -----------------------------------------------------------------------------------

@login_required
@require_GET
def notice_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = NoticeFilterForm(request.GET or None, units=_unit_choices(user))
    form.is_valid()
    filters = form.filters()
    unit = _scoped_unit(user, filters.pop("unit"))
    page = paginate(request, selectors.notice_list(user, unit=unit, **filters), PER_PAGE)
    context = {"form": form, "page": page, "unit": unit, "today": clock.today(),
               "can_issue": bool(scope.paths_for(user, scope.RECT_ISSUE_ROLES))}
    if _hx_target(request, "notice-results"):
        return render(request, "rectification/_notice_results.html", context)
    return render(request, "rectification/notice_list.html", context)


@login_required
def notice_create(request: HttpRequest) -> HttpResponse:
    """A new notice: choose a unit, tick its open findings, state the requirement and the deadline."""
    user = request.user
    if not scope.paths_for(user, scope.RECT_ISSUE_ROLES):
        raise PermissionDenied
    if (first := idempotency.previous(user, idempotency.post_key(request), "rectification.notice")) is not None:
        messages.info(request, idempotency.replayed_message())  # the same form sent again
        return redirect("rectification:notice", notice_pk=first)
    units = selectors.open_finding_units(user)
    code = (request.POST.get("unit") or request.GET.get("unit") or "").strip()
    unit = scope.unit_or_404(user, code) if code else None
    open_findings = list(selectors.open_findings_of(user, unit).select_related("unit")) if unit else []
    initial = {"title": _("Rectification of the problems found in %(unit)s") % {"unit": unit.name} if unit else "",
               "requirement": _("Rectify each problem listed below, find its cause, and submit the feedback with "
                                "the measures taken and the evidence by the deadline."),
               "deadline": today_plus(DEFAULT_DEADLINE_DAYS),
               "findings": [str(f.pk) for f in open_findings]}
    form = NoticeForm(request.POST or None, open_findings=open_findings, initial=initial)
    if request.method == "POST" and unit is not None and form.is_valid():
        data = form.cleaned_data
        chosen = [f for f in open_findings if str(f.pk) in set(data["findings"])]
        def draft() -> Notice:
            notice = services.draft_notice(user, unit=unit, findings=chosen, title=data["title"],
                                           requirement=data["requirement"], deadline=data["deadline"])
            if request.POST.get("issue") == "1":
                notice = services.issue_notice(user, notice)
            return notice
        try:
            outcome = idempotency.once(user, idempotency.form_key(form), "rectification.notice", draft)
        except ValidationError as e:
            put_errors(form, e)
        else:
            notice = outcome.obj or Notice.objects.get(pk=outcome.pk)
            if not outcome.created:
                _said_once(request, outcome, "")
            elif notice.status == NoticeStatus.ISSUED:
                messages.success(request, _("Notice %(number)s was issued.") % {"number": notice.number})
            else:
                messages.success(request, _("The draft notice was saved; issue it when it is ready."))
            return redirect("rectification:notice", notice_pk=notice.pk)
    context = {"form": form, "unit": unit, "units": units, "open_findings": open_findings}
    if _hx_target(request, "notice-findings"):
        return render(request, "rectification/_notice_findings.html", context)
    return render(request, "rectification/notice_form.html", context)


def _notice_context(request: HttpRequest, notice: Notice, *, verify_forms: dict[int, Any] | None = None,
                    return_form: ReturnForm | None = None, close_form: CloseForm | None = None,
                    errors: list[str] | None = None) -> dict[str, Any]:
    user = request.user
    today = clock.today()
    detail = selectors.notice_detail(notice)
    can_issue = scope.can_issue_to(user, notice.unit)
    can_respond = scope.can_respond_for(user, notice.unit)
    verify_forms = verify_forms or {}
    for no, f in enumerate(detail["findings"], 1):
        f.no = no
        f.can_verify = can_issue and f.status == FindingStatus.ANSWERED and notice.status == NoticeStatus.ANSWERED
        f.verify_form = verify_forms.get(f.pk) or (VerifyForm(prefix=None) if f.can_verify else None)
    for s in detail["steps"]:
        s.label = STEP_LABELS.get(s.action, s.action)
    findings = detail["findings"]
    all_closed = bool(findings) and all(f.status == FindingStatus.CLOSED for f in findings)
    reached = LIFE.index(NoticeStatus.ANSWERED if notice.status == NoticeStatus.RETURNED else notice.status)
    return {
        "notice": notice, **detail, "today": today,
        "days_left": notice.days_left(today), "owed": notice.is_owed,
        "life": [(s, NoticeStatus(s).label, i <= reached) for i, s in enumerate(LIFE)],
        "can_issue": can_issue, "can_respond": can_respond,
        "may_issue": can_issue and notice.status == NoticeStatus.DRAFT,
        "may_receive": can_respond and notice.status == NoticeStatus.ISSUED,
        "may_answer": can_respond and notice.status in (NoticeStatus.ISSUED, NoticeStatus.RECEIVED,
                                                        NoticeStatus.RETURNED),
        "may_judge": can_issue and notice.status == NoticeStatus.ANSWERED,
        "all_closed": all_closed,
        "return_form": return_form or ReturnForm(initial={"deadline": today_plus(DEFAULT_DEADLINE_DAYS // 2)}),
        "close_form": close_form or CloseForm(),
        "errors": errors or [],
    }


@login_required
@require_GET
def notice_detail(request: HttpRequest, notice_pk: int) -> HttpResponse:
    notice = selectors.notice_or_404(request.user, notice_pk)
    return render(request, "rectification/notice_detail.html", _notice_context(request, notice))


def _step(request: HttpRequest, notice_pk: int, run: Any, done: str) -> HttpResponse:
    """A step taken by one button (issue, discard, receive): done → back to the page with a message;
    refused → the page with the service's message."""
    notice = selectors.notice_or_404(request.user, notice_pk)
    try:
        result = run(request.user, notice)
    except ValidationError as e:
        notice.refresh_from_db()
        return render(request, "rectification/notice_detail.html",
                      _notice_context(request, notice, errors=e.messages))
    messages.success(request, done % {"number": getattr(result, "number", "") or notice.title})
    if result is None:
        return redirect("rectification:notices")
    return redirect("rectification:notice", notice_pk=notice.pk)


@login_required
@require_POST
def notice_issue(request: HttpRequest, notice_pk: int) -> HttpResponse:
    return _step(request, notice_pk, services.issue_notice, _("Notice %(number)s was issued."))


@login_required
@require_POST
def notice_discard(request: HttpRequest, notice_pk: int) -> HttpResponse:
    return _step(request, notice_pk, services.discard_draft,
                 _("The draft “%(number)s” was discarded; its findings are open again."))


@login_required
@require_POST
def notice_receive(request: HttpRequest, notice_pk: int) -> HttpResponse:
    return _step(request, notice_pk, services.receive_notice, _("Notice %(number)s was received."))


@login_required
@require_POST
def notice_return(request: HttpRequest, notice_pk: int) -> HttpResponse:
    """Send the notice back with a reason and a new deadline."""
    user = request.user
    notice = selectors.notice_or_404(user, notice_pk)
    form = ReturnForm(request.POST)
    if form.is_valid():
        try:
            services.return_notice(user, notice, reason=form.cleaned_data["reason"],
                                   deadline=form.cleaned_data["deadline"])
        except ValidationError as e:
            put_errors(form, e)
        else:
            messages.success(request, _("The notice was returned with a new deadline."))
            return redirect("rectification:notice", notice_pk=notice.pk)
    notice.refresh_from_db()
    return render(request, "rectification/notice_detail.html", _notice_context(request, notice, return_form=form))


@login_required
@require_POST
def notice_close(request: HttpRequest, notice_pk: int) -> HttpResponse:
    user = request.user
    notice = selectors.notice_or_404(user, notice_pk)
    form = CloseForm(request.POST)
    form.is_valid()
    try:
        services.close_notice(user, notice, form.cleaned_data.get("note", ""))
    except ValidationError as e:
        put_errors(form, e)
        notice.refresh_from_db()
        return render(request, "rectification/notice_detail.html", _notice_context(request, notice, close_form=form))
    messages.success(request, _("The notice was closed: every fix is verified effective."))
    return redirect("rectification:notice", notice_pk=notice.pk)


@login_required
def notice_feedback(request: HttpRequest, notice_pk: int) -> HttpResponse:
    """整改反馈单: one block per finding owed — cause category, cause, measures, completion date, evidence."""
    user = request.user
    notice = selectors.notice_or_404(user, notice_pk)
    if not scope.can_respond_for(user, notice.unit):
        raise PermissionDenied
    found = name_rows(selectors.notice_detail(notice)["findings"])
    owed = [f for f in found if f.status in OWED_FINDING]
    categories = list(CauseCategory.objects.filter(active=True))
    blocks = []
    for f in owed:
        last = f.latest
        initial = {"cause_category": str(last.cause_category_id), "cause": last.cause, "measures": last.measures} \
            if last else {"completed_on": clock.today()}
        form = AnswerForm(request.POST or None, request.FILES or None, prefix=f"f{f.pk}", categories=categories,
                          initial=initial)
        blocks.append((f, form))
    errors: list[str] = []
    submission_key = idempotency.post_key(request)
    if request.method == "POST" and all(form.is_valid() for _f, form in blocks):
        def submit() -> Notice:
            with kept_files() as kept:
                answers = {}
                for f, form in blocks:
                    d = form.cleaned_data
                    answers[f.pk] = services.Answer(
                        cause_category=d["cause_category"], cause=d["cause"], measures=d["measures"],
                        completed_on=d["completed_on"],
                        evidence=store(user, d["evidence"], notice.unit, form, "evidence", kept))
                services.submit_feedback(user, notice, answers)
            return notice
        try:
            outcome = idempotency.once(user, submission_key, f"rectification.feedback:{notice.pk}", submit)
        except _Refused:
            pass
        except ValidationError as e:
            by_key = {f"finding_{f.pk}": form for f, form in blocks}
            if hasattr(e, "error_dict"):
                for key, errs in e.error_dict.items():
                    msgs = [m for err in errs for m in err.messages]
                    if key in by_key:
                        by_key[key].add_error(None, msgs)
                    else:
                        errors += msgs
            else:
                errors += e.messages
        else:
            _said_once(request, outcome, _("The feedback was submitted for verification."))
            return redirect("rectification:notice", notice_pk=notice.pk)
    notice.refresh_from_db()
    return render(request, "rectification/feedback_form.html", {
        "notice": notice, "blocks": blocks, "errors": errors, "findings": found,
        "days_left": notice.days_left(clock.today()), "submission_key": submission_key or idempotency.new_key(),
    })


# ---- the two-part form, printed ----------------------------------------------------------------

def _download(content: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "private, no-store"
    return response


def _print_name(notice: Notice) -> str:
    return notice.number or _("draft notice %(pk)s") % {"pk": notice.pk}


@login_required
@require_GET
def notice_docx(request: HttpRequest, notice_pk: int) -> HttpResponse:
    notice = selectors.notice_or_404(request.user, notice_pk)
    content = exports.notice_docx(notice, selectors.notice_detail(notice))
    return _download(content, f"{_print_name(notice)}.docx", exports.DOCX)


@login_required
@require_GET
def notice_pdf(request: HttpRequest, notice_pk: int) -> HttpResponse:
    notice = selectors.notice_or_404(request.user, notice_pk)
    content = exports.notice_pdf(notice, selectors.notice_detail(notice))
    return _download(content, f"{_print_name(notice)}.pdf", "application/pdf")
