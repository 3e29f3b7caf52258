"""Forms of the objectives pages. Fields the services check (indicator, deadline, values by kind)
are not required here, so the service's own clear message is the one people see."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from pbqms.files import idempotency

from .models import INDIVIDUAL_CATEGORIES, Category, Grade, TargetStatus, ValueKind


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


def _wide(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, "wide": True})


class PolicyForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    effective_on = forms.DateField(label=_("Effective from"), widget=DateInput())
    member_targets_due = forms.DateField(label=_("Members' individual targets approved by"), required=False,
                                         widget=DateInput(),
                                         help_text=_("After this date a member without an approved individual "
                                                     "target shows on the branch secretary's to-do list."))
    text = forms.CharField(label=_("Policy statement"), widget=_wide(4), required=False)


class ObjectiveForm(forms.Form):
    unit = forms.ChoiceField(label=_("Committee"))
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    title = forms.CharField(label=_("Title"), max_length=200, required=False, widget=forms.TextInput(
        attrs={"wide": True}))
    indicator = forms.CharField(label=_("Indicator"), max_length=200, required=False)
    value_kind = forms.ChoiceField(label=_("Value kind"), choices=ValueKind.choices)
    target_value = forms.CharField(label=_("Target value"), max_length=200, required=False)
    measure_unit = forms.CharField(label=_("Unit of measure"), max_length=30, required=False)
    deadline = forms.DateField(label=pgettext_lazy("objectives", "Deadline"), required=False, widget=DateInput())
    responsible = forms.CharField(label=_("Responsible person"), max_length=120, required=False)
    check_method = forms.CharField(label=_("How it is checked"), required=False, widget=_wide(2))

    def __init__(self, *args: Any, units: list[Any] | None = None, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["unit"], self.fields["year"]
        else:
            self.fields["unit"].choices = [(u.code, u.name) for u in units or []]


class TargetForm(idempotency.OnceFormMixin, forms.Form):
    objective = forms.ChoiceField(label=_("Objective"))
    parent = forms.ChoiceField(label=_("Decomposes"), required=False)
    member = forms.ChoiceField(label=_("Member (for a member's share)"), required=False)
    task = forms.CharField(label=_("Task (定任务)"), required=False, widget=_wide(2))
    person = forms.CharField(label=_("Responsible person (定人员)"), max_length=120, required=False)
    indicator = forms.CharField(label=_("Indicator (定指标)"), max_length=200, required=False)
    value_kind = forms.ChoiceField(label=_("Value kind"), choices=ValueKind.choices)
    target_value = forms.CharField(label=_("Target value"), max_length=200, required=False)
    measure_unit = forms.CharField(label=_("Unit of measure"), max_length=30, required=False)
    deadline = forms.DateField(label=_("Deadline (定时限)"), required=False, widget=DateInput())
    quality = forms.CharField(label=_("Quality standard (定质量)"), required=False, widget=_wide(2))

    def __init__(self, *args: Any, objectives: list[Any] | None = None, parents: list[Any] | None = None,
                 members: list[Any] | None = None, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            for name in ("objective", "parent", "member"):
                del self.fields[name]
            return
        self.fields["objective"].choices = [(str(o.pk), f"{o.year} · {o.unit.name} · {o.title}")
                                            for o in objectives or []]
        self.fields["parent"].choices = [("", _("— the objective itself —"))] + [
            (str(t.pk), f"{t.unit.name} · {t.indicator}") for t in parents or []]
        self.fields["member"].choices = [("", _("— the whole unit —"))] + [(str(m.pk), m.name) for m in members or []]


class ProgressForm(forms.Form):
    reported_on = forms.DateField(label=_("Date"), widget=DateInput())
    progress = forms.IntegerField(label=_("Progress (%)"), min_value=0, max_value=100)
    status = forms.ChoiceField(label=_("Status"), choices=TargetStatus.choices)
    value = forms.CharField(label=_("Value reached"), max_length=200, required=False)
    note = forms.CharField(label=_("What was done"), required=False, widget=_wide(3))


class MemberTargetForm(forms.Form):
    category = forms.ChoiceField(label=_("Kind"), choices=[(c.value, c.label) for c in INDIVIDUAL_CATEGORIES])
    title = forms.CharField(label=_("Target"), max_length=200, required=False, widget=forms.TextInput(
        attrs={"wide": True}))
    measure = forms.CharField(label=_("Measure and standard"), required=False, widget=_wide(2))
    deadline = forms.DateField(label=pgettext_lazy("objectives", "Deadline"), required=False, widget=DateInput())


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("return", _("Return"))])
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class EvaluateForm(forms.Form):
    score = forms.DecimalField(label=_("Score"), max_digits=5, decimal_places=1, required=False)
    grade = forms.ChoiceField(label=_("Grade"), required=False,
                              choices=[("", _("— from the score —"))] + list(Grade.choices))


class CommonForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    party_spirit = forms.CharField(label=Category.PARTY_SPIRIT.label, required=False, widget=_wide(2))
    morality = forms.CharField(label=Category.MORALITY.label, required=False, widget=_wide(2))
    discipline = forms.CharField(label=Category.DISCIPLINE.label, required=False, widget=_wide(2))
    masses = forms.CharField(label=Category.MASSES.label, required=False, widget=_wide(2))


class LetterForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200, required=False, widget=forms.TextInput(
        attrs={"wide": True}))
    preamble = forms.CharField(label=_("Preamble"), required=False, widget=_wide(4))
