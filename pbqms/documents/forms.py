"""Forms of the document pages. They only shape input; the rules live in documents.services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from pbqms.files import idempotency

from .models import LinkKind, ReviewOutcome, Tier, VersionStatus

STATE_CHOICES = [("", _("Any state")), ("in_force", _("In force")), ("pending", _("Published, not yet in force")),
                 ("draft", _("Being drafted")), ("abolished", _("Abolished"))]


def _unit_choices(units: list[Any] | None, blank: str | None = None) -> list[tuple[str, str]]:
    rows = [(u.code, f"{u.name}（{u.code}）") for u in (units or [])]
    return ([("", blank)] if blank is not None else []) + rows


class FilterForm(forms.Form):
    q = forms.CharField(label=_("Number or title"), required=False,
                        widget=forms.TextInput(attrs={"placeholder": _("e.g. ZD-003 or 党员大会")}))
    tier = forms.ChoiceField(label=_("Tier"), required=False, choices=[("", _("All tiers"))] + Tier.choices)
    state = forms.ChoiceField(label=_("State"), required=False, choices=STATE_CHOICES)
    unit = forms.CharField(label=_("Owning unit"), required=False)

    def __init__(self, *args: Any, units: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if units is not None:
            self.fields["unit"] = forms.ChoiceField(label=_("Owning unit"), required=False,
                                                    choices=_unit_choices(units, str(_("All units"))))

    def filters(self) -> dict[str, str]:
        data = self.cleaned_data if self.is_valid() else {}
        return {k: (data.get(k) or "").strip() for k in ("q", "tier", "state", "unit")}


class DocumentForm(idempotency.OnceFormMixin, forms.Form):
    """A new document: its metadata and the first draft's title."""

    unit = forms.ChoiceField(label=_("Owning unit"))
    tier = forms.ChoiceField(label=_("Tier"), choices=Tier.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    number = forms.CharField(label=_("Number"), max_length=60, required=False,
                             help_text=_("Leave empty to take the next number of the unit's pattern."))
    applies_to = forms.CharField(label=_("Applies to"), max_length=500, required=False,
                                 help_text=_("Unit codes separated by spaces; empty: the owning unit."))
    include_subtree = forms.BooleanField(label=_("Applies to the units below too"), required=False, initial=True)
    book_part = forms.CharField(label=_("Part of the book"), max_length=60, required=False)
    order = forms.IntegerField(label=_("Order in the book"), min_value=0, initial=0, required=False)
    review_interval_months = forms.IntegerField(label=_("Review interval (months)"), min_value=1, max_value=120,
                                                initial=12)
    assessment_items = forms.CharField(label=_("Assessment items"), max_length=255, required=False,
                                       help_text=_("Codes of the assessment items this document serves, e.g. 2.3 4.1."))

    def __init__(self, *args: Any, units: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = _unit_choices(units)


class DocumentEditForm(forms.Form):
    """What is not versioned: reach, book part, review interval, assessment items, links."""

    applies_to = DocumentForm.base_fields["applies_to"]
    include_subtree = DocumentForm.base_fields["include_subtree"]
    book_part = DocumentForm.base_fields["book_part"]
    order = DocumentForm.base_fields["order"]
    review_interval_months = DocumentForm.base_fields["review_interval_months"]
    assessment_items = DocumentForm.base_fields["assessment_items"]
    links = forms.CharField(label=_("Linked documents"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                            help_text=_("One per line: a document number, optionally followed by its kind "
                                        "(work_instruction, record_form, regulation, related)."))


class DraftForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    change_summary = forms.CharField(label=_("What changed and why"), required=False,
                                     widget=forms.Textarea(attrs={"rows": 2}))
    purpose = forms.CharField(label=_("Purpose (目的)"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    scope_text = forms.CharField(label=_("Scope (范围)"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    duties = forms.CharField(label=_("Duties (职责)"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    procedure = forms.CharField(label=_("Procedure (工作程序)"), required=False,
                                widget=forms.Textarea(attrs={"rows": 10}))
    body = forms.CharField(label=_("Other text"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    what = forms.CharField(label=_("What is done"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    why = forms.CharField(label=_("Why"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    who = forms.CharField(label=_("Who does it"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    when = forms.CharField(label=_("When"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    how = forms.CharField(label=_("How"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    standard = forms.CharField(label=_("To what standard"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    FIVE_W = ("what", "why", "who", "when", "how", "standard")


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=[("pass", _("Pass to approval")),
                                                              ("return", _("Return for rework"))],
                                 widget=forms.RadioSelect, initial="pass")
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ApproveForm(forms.Form):
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class PublishForm(forms.Form):
    effective_from = forms.DateField(label=_("In force from"), required=False,
                                     widget=forms.DateInput(attrs={"type": "date"}),
                                     help_text=_("Empty: today."))


class AbolishForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=255, widget=forms.Textarea(attrs={"rows": 2}))


class PeriodicReviewForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=ReviewOutcome.choices, widget=forms.RadioSelect)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class PatternForm(forms.Form):
    unit = forms.ChoiceField(label=_("Unit"))
    tier = forms.ChoiceField(label=_("Tier"), choices=Tier.choices)
    pattern = forms.CharField(label=_("Pattern"), max_length=100,
                              help_text=_("e.g. QYZ-CX-{seq:03d}; placeholders {seq} (once), {year}, {unit}."))
    next_seq = forms.IntegerField(label=_("Next sequence number"), required=False, min_value=1)

    def __init__(self, *args: Any, units: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = _unit_choices(units)


class AttachForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from pbqms.files.forms import MultipleFileField

        super().__init__(*args, **kwargs)
        self.fields["files"] = MultipleFileField(label=_("Attachments (PDF or Word)"), kinds=["pdf", "word"])


def parse_links(text: str) -> list[tuple[str, str]]:
    """Lines "NUMBER [kind]" → [(number, kind)]."""
    out = []
    for line in (text or "").splitlines():
        parts = line.split()
        if not parts:
            continue
        kind = parts[1] if len(parts) > 1 else LinkKind.RELATED
        out.append((parts[0], kind))
    return out


OPEN = (VersionStatus.DRAFT, VersionStatus.IN_REVIEW, VersionStatus.APPROVED)
