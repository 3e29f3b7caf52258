"""Forms of the rectification pages. They only shape input; every rule lives in services.py and
preventive.py, whose messages the views put back on these forms."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from pbqms.core import clock
from pbqms.files import idempotency
from pbqms.files.forms import MultipleFileField
from pbqms.members.forms import unit_options
from pbqms.orgs.forms import DateInput
from pbqms.orgs.models import Unit

from .models import CauseCategory, FindingSource, FindingStatus, NoticeStatus, PreventiveStatus, Severity

ANY = [("", _("Any"))]
YEARS_BACK = 6
ALL_YEARS = "all"


def year_choices(blank: str | None = None) -> list[tuple[str, str]]:
    """This year first (what a list shows when the query names no year), then earlier years, then
    "all years" when `blank` names it."""
    this = clock.today().year
    years = [(str(y), str(y)) for y in range(this, this - YEARS_BACK, -1)]
    return years + ([(ALL_YEARS, blank)] if blank else [])


def _text(rows: int = 3, placeholder: str = "") -> forms.Textarea:
    attrs: dict[str, Any] = {"rows": rows, "wide": True}
    if placeholder:
        attrs["placeholder"] = placeholder
    return forms.Textarea(attrs=attrs)


def _unit_picker(field: forms.Field, units: list[Unit] | None, blank: str | None, current: str = "") -> None:
    """A drop-down of units when the list is short, a code box when it is long."""
    if units is not None:
        field.widget = forms.Select(choices=unit_options(units, blank, current))
    else:
        field.widget = forms.TextInput(attrs={"placeholder": _("Unit code")})
        field.help_text = _("Type the unit's code.")


def needed(form: forms.Form, *names: str) -> None:
    """Fields the services require but the form leaves to them (so their message is the one shown):
    marked required for the reader, not for the browser."""
    for name in names:
        form.fields[name].widget.attrs["aria-required"] = "true"


class Form(forms.Form):
    NEEDED: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        needed(self, *self.NEEDED)


class YearMixin:
    """`year` as a drop-down; the current year when the query string names none."""

    cleaned_data: dict[str, Any]

    def chosen_year(self) -> int | None:
        raw = self.cleaned_data.get("year") if hasattr(self, "cleaned_data") else None
        if raw == ALL_YEARS:
            return None
        try:
            return int(raw) if raw else clock.today().year
        except (TypeError, ValueError):
            return clock.today().year


# ---- findings ----------------------------------------------------------------------------------

FINDING_STATUS_FILTER = [("", _("All but withdrawn")), ("live", _("Not closed"))] + list(
    FindingStatus.choices) + [("all", _("All, withdrawn included"))]


class FindingFilterForm(YearMixin, forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=60,
                        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off",
                                                      "placeholder": _("Description or item")}))
    unit = forms.CharField(label=_("Unit (and below)"), required=False, max_length=40)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=FINDING_STATUS_FILTER)
    source = forms.ChoiceField(label=_("Source"), required=False, choices=ANY + FindingSource.choices)
    item = forms.CharField(label=_("Item or clause"), required=False, max_length=40)
    year = forms.ChoiceField(label=_("Year found"), required=False, choices=())
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    def __init__(self, *args: Any, units: list[Unit] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = year_choices(str(_("All years")))
        current = (self.data.get("unit") or "") if self.is_bound else ""
        _unit_picker(self.fields["unit"], units, str(_("All my units")), current)

    def filters(self) -> dict[str, Any]:
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return {"q": data.get("q") or "", "unit": (data.get("unit") or "").strip(),
                "status": data.get("status") or "", "source": data.get("source") or "",
                "item": (data.get("item") or "").strip(), "overdue": bool(data.get("overdue")),
                "year": self.chosen_year()}


class FindingForm(idempotency.OnceFormMixin, forms.Form):
    unit = forms.CharField(label=_("Unit"), max_length=40)
    source = forms.ChoiceField(label=_("Source"), choices=FindingSource.choices, initial=FindingSource.INSPECTION)
    item_code = forms.CharField(label=_("Item or clause"), required=False, max_length=40,
                                widget=forms.TextInput(attrs={"placeholder": _("e.g. DJ-3.2")}))
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices, initial=Severity.GENERAL)
    found_on = forms.DateField(label=_("Found on"), widget=DateInput())
    period = forms.CharField(label=_("Period"), required=False, max_length=10,
                             help_text=_("For example 2026Q3 or 2026-07; empty: the month found."))
    source_ref = forms.CharField(
        label=_("Source reference"), required=False, max_length=200, widget=forms.TextInput(attrs={"wide": True}),
        help_text=_("For example the inspection visit or the assessment it comes from."))
    description = forms.CharField(label=_("Description of the problem"), required=False, widget=_text(4))
    standard = forms.CharField(label=_("Standard applied"), required=False, widget=_text(2))
    evidence = MultipleFileField(label=_("Evidence"), required=False)

    def __init__(self, *args: Any, units: list[Unit] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = (self.data.get("unit") or "") if self.is_bound else ""
        _unit_picker(self.fields["unit"], units, None if units else "", current)
        self.fields["found_on"].initial = clock.today()
        needed(self, "description")


class ReasonForm(Form):
    NEEDED = ("reason",)
    reason = forms.CharField(label=_("Reason"), required=False, widget=_text(2))


# ---- notices -----------------------------------------------------------------------------------

class NoticeFilterForm(YearMixin, forms.Form):
    q = forms.CharField(label=_("Number or title"), required=False, max_length=60,
                        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off",
                                                      "placeholder": _("e.g. 党纠〔2026〕017号")}))
    unit = forms.CharField(label=_("Unit (and below)"), required=False, max_length=40)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=ANY + NoticeStatus.choices)
    year = forms.ChoiceField(label=_("Year"), required=False, choices=())
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    def __init__(self, *args: Any, units: list[Unit] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = year_choices(str(_("All years")))
        current = (self.data.get("unit") or "") if self.is_bound else ""
        _unit_picker(self.fields["unit"], units, str(_("All my units")), current)

    def filters(self) -> dict[str, Any]:
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        year = self.chosen_year() if data.get("year") else None
        return {"q": data.get("q") or "", "unit": (data.get("unit") or "").strip(),
                "status": data.get("status") or "", "overdue": bool(data.get("overdue")), "year": year}


class NoticeForm(idempotency.OnceFormMixin, forms.Form):
    findings = forms.MultipleChoiceField(label=_("Findings on the notice"), required=False,
                                         widget=forms.CheckboxSelectMultiple)
    title = forms.CharField(label=_("Title"), required=False, max_length=200)
    requirement = forms.CharField(label=_("Requirement"), required=False, widget=_text(4))
    deadline = forms.DateField(label=_("Deadline for the feedback"), required=False, widget=DateInput())

    def __init__(self, *args: Any, open_findings: list[Any] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.open_findings = list(open_findings)
        self.fields["findings"].choices = [(str(f.pk), str(f)) for f in self.open_findings]
        needed(self, "findings", "title", "requirement", "deadline")


class AnswerForm(forms.Form):
    """The feedback on one finding; its prefix names the finding (f<pk>)."""

    cause_category = forms.ChoiceField(label=_("Cause category"), required=False)
    completed_on = forms.DateField(label=_("Completed on"), required=False, widget=DateInput())
    cause = forms.CharField(label=_("Cause"), required=False, widget=_text(3))
    measures = forms.CharField(label=_("Measures taken"), required=False, widget=_text(3))
    evidence = MultipleFileField(label=_("Evidence"), required=False)

    def __init__(self, *args: Any, categories: list[CauseCategory], **kwargs: Any) -> None:
        """`categories`: the cause categories in use, read once for every block of the page."""
        super().__init__(*args, **kwargs)
        self.categories = {str(c.pk): c for c in categories}
        self.fields["cause_category"].choices = [("", _("— choose —"))] + [(str(c.pk), c.name) for c in categories]
        needed(self, "cause_category", "cause", "measures", "completed_on")

    def clean_cause_category(self) -> CauseCategory | None:
        return self.categories.get(str(self.cleaned_data.get("cause_category") or ""))


class VerifyForm(Form):
    NEEDED = ("effective", "note")
    effective = forms.ChoiceField(label=_("Result"), required=False, widget=forms.RadioSelect,
                                  choices=[("yes", _("Effective")), ("no", _("Not effective"))])
    note = forms.CharField(label=_("What was checked"), required=False, widget=_text(2))

    def clean_effective(self) -> bool | None:
        value = self.cleaned_data.get("effective")
        if value not in ("yes", "no"):
            raise forms.ValidationError(_("Choose whether the fix was effective."))
        return value == "yes"


class ReturnForm(Form):
    NEEDED = ("reason", "deadline")
    reason = forms.CharField(label=_("Reason for returning"), required=False, widget=_text(2))
    deadline = forms.DateField(label=_("New deadline"), required=False, widget=DateInput())


class CloseForm(forms.Form):
    note = forms.CharField(label=_("Closing note"), required=False, widget=_text(2))


# ---- ledger, dashboard -------------------------------------------------------------------------

class LedgerFilterForm(YearMixin, forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False, choices=FINDING_STATUS_FILTER)
    source = forms.ChoiceField(label=_("Source"), required=False, choices=ANY + FindingSource.choices)
    item = forms.CharField(label=_("Item or clause"), required=False, max_length=40)
    year = forms.ChoiceField(label=_("Year found"), required=False, choices=())
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = year_choices(str(_("All years")))

    def filters(self) -> dict[str, Any]:
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return {"status": data.get("status") or "", "source": data.get("source") or "",
                "item": (data.get("item") or "").strip(), "overdue": bool(data.get("overdue")),
                "year": self.chosen_year()}


class YearForm(YearMixin, forms.Form):
    year = forms.ChoiceField(label=_("Year"), required=False, choices=())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = year_choices()


# ---- preventive actions, settings --------------------------------------------------------------

class PreventiveFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("live", _("Not finished")), ("", _("Any"))] + list(PreventiveStatus.choices))


class AcceptForm(Form):
    NEEDED = ("owner", "due_on", "measures")
    owner = forms.ChoiceField(label=_("Owner"), required=False)
    due_on = forms.DateField(label=_("Due on"), required=False, widget=DateInput())
    measures = forms.CharField(label=_("Preventive measures"), required=False, widget=_text(4))

    def __init__(self, *args: Any, owners: list[Any] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.owners = {str(u.pk): u for u in owners}
        self.fields["owner"].choices = [("", _("— choose —"))] + [(str(u.pk), _person(u)) for u in owners]

    def clean_owner(self) -> Any:
        return self.owners.get(self.cleaned_data.get("owner") or "")


def _person(user: Any) -> str:
    name = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return f"{name} ({user.username})" if name and name != user.username else user.username


class ResultForm(Form):
    NEEDED = ("result",)
    result = forms.CharField(label=_("What was done"), required=False, widget=_text(4))


class SettingsForm(forms.Form):
    number_pattern = forms.CharField(label=_("Notice number pattern"), max_length=60,
                                     help_text=_("Use {year} and {seq}; {seq:03d} pads the sequence to three "
                                                 "digits. Example: 党纠〔{year}〕{seq:03d}号"))
    reminder_days = forms.CharField(label=_("Remind days before the deadline"), max_length=30,
                                    help_text=_("Comma-separated, e.g. 3,1"))
    escalate_after_days = forms.IntegerField(label=_("Escalate after days overdue"), min_value=0, max_value=365)
    recurrence_periods = forms.IntegerField(label=_("Recurrence: same item in the same unit in N periods"),
                                            min_value=2, max_value=24)
    recurrence_units = forms.IntegerField(label=_("Recurrence: same item in N units in one period"),
                                          min_value=2, max_value=500)
    preventive_days = forms.IntegerField(label=_("Days to complete a preventive action"), min_value=1,
                                         max_value=365)


def today_plus(days: int) -> dt.date:
    return clock.today() + dt.timedelta(days=days)
