"""Responsibility-letter pages — 责任书: the list, a letter with its signatures, signing, editing
an unsigned letter, drawing one up (or an amendment) for a branch, and .docx / PDF."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from pbqms import scope
from pbqms.audit import services as audit
from pbqms.audit.models import AuditAction
from pbqms.core.views import paginate

from . import letters, printing, selectors
from .exports import wants_xlsx, xlsx_response
from .forms import LetterForm
from .models import LetterState

PER_PAGE = 50


@login_required
@require_GET
def letter_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    year = selectors.parse_year(request.GET.get("year"))
    code = request.GET.get("unit", "").strip()
    unit = scope.unit_or_404(user, code) if code else None
    state = request.GET.get("state", "")
    state = state if state in LetterState.values else ""
    qs = selectors.letter_list(user, year=year, unit=unit, state=state)
    if wants_xlsx(request):
        return xlsx_response(f"letters-{year}", _("Letters"), [
            _("Branch"), _("Title"), _("Version"), _("State"), _("Targets"), _("Committee secretary"),
            _("Committee signed at"), _("Branch secretary"), _("Branch signed at")],
            ([lt.unit.name, lt.title, lt.version, lt.get_state_display(), len(lt.rows), lt.committee_signer_name,
              printing._when(lt.committee_signed_at), lt.branch_signer_name, printing._when(lt.branch_signed_at)]
             for lt in qs.iterator(2000)))
    page = paginate(request, qs, PER_PAGE)
    return render(request, "objectives/letters.html", {
        "page": page, "year": year, "years": [year + 1, year, year - 1], "unit": unit, "state": state,
        "states": LetterState.choices})


def _letter_context(request: HttpRequest, letter: letters.ResponsibilityLetter, form: LetterForm | None = None
                    ) -> dict[str, object]:
    user = request.user
    draft = letter.state == LetterState.DRAFT
    return {
        "letter": letter, **printing.context(letter),
        "can_sign_committee": draft and not letter.committee_signed_at and scope.can_sign_letter(
            user, letter, "committee"),
        "can_sign_branch": draft and not letter.branch_signed_at and scope.can_sign_letter(user, letter, "branch"),
        "can_edit": draft and not letter.has_signature and scope.can_manage_objectives(user, letter.unit),
        "can_amend": letter.state == LetterState.SIGNED and scope.can_manage_objectives(user, letter.unit),
        "needs_amendment": letters.needs_amendment(letter),
        "versions": list(selectors.letter_list(user, year=letter.year, unit=letter.unit)
                         .filter(unit=letter.unit)),
        "form": form or LetterForm(initial={"title": letter.title, "preamble": letter.preamble}),
    }


@login_required
def letter_detail(request: HttpRequest, letter_pk: int) -> HttpResponse:
    """The letter as it will print, with its signatures; POST `action`: sign (side), edit."""
    user = request.user
    letter = scope.letter_or_404(user, letter_pk)
    form = None
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "sign":
                letters.sign_letter(user, letter, request.POST.get("side", ""))
                messages.success(request, _("You signed the letter."))
                return redirect(letter)
            if action == "edit":
                form = LetterForm(request.POST)
                if form.is_valid():
                    letters.update_letter(user, letter, **form.cleaned_data)
                    messages.success(request, _("The letter was saved."))
                    return redirect(letter)
        except ValidationError as e:
            messages.error(request, " ".join(e.messages))  # a signed letter shows no form to carry it
            letter = scope.letter_or_404(user, letter_pk)
    return render(request, "objectives/letter.html", _letter_context(request, letter, form))


@login_required
@require_POST
def letter_draw_up(request: HttpRequest, code: str) -> HttpResponse:
    """Draw up the branch's letter for the year (or refresh it while unsigned, or amend a signed one)."""
    user = request.user
    unit = scope.unit_or_404(user, code)
    if not scope.can_manage_objectives(user, unit):
        raise PermissionDenied
    year = selectors.parse_year(request.POST.get("year"))
    try:
        letter = letters.draw_up_letter(user, unit, year)
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
        return redirect(f"/objectives/units/{unit.code}/?year={year}")
    messages.success(request, _("The letter was drawn up; it now waits for both signatures."))
    return redirect(letter)


def _download(request: HttpRequest, letter_pk: int, kind: str) -> HttpResponse:
    user = request.user
    letter = scope.letter_or_404(user, letter_pk)
    if kind == "pdf":
        body, content_type = printing.letter_pdf(letter), "application/pdf"
    else:
        body = printing.letter_docx(letter)
        content_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    audit.record(user, AuditAction.EXPORT, letter, note=kind)
    response = HttpResponse(body, content_type=content_type)
    name = f"{letter.unit.name}-{letter.year}-v{letter.version}.{kind}"
    disposition = "inline" if kind == "pdf" else "attachment"
    response["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{quote(name)}"
    return response


@login_required
@require_GET
def letter_pdf(request: HttpRequest, letter_pk: int) -> HttpResponse:
    return _download(request, letter_pk, "pdf")


@login_required
@require_GET
def letter_docx(request: HttpRequest, letter_pk: int) -> HttpResponse:
    return _download(request, letter_pk, "docx")
