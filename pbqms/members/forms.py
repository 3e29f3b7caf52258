"""Forms of the people pages. They only shape input; every rule lives in members.services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from pbqms.orgs.forms import DateInput
from pbqms.orgs.models import Unit

from .models import CommitteeRoleKind, Education, Gender, MemberState, PartyStatus, TransferDirection

ANY = [("", _("Any"))]
SORT_CHOICES = [
    ("name", _("Name (pinyin)")),
    ("-name", _("Name (pinyin, reversed)")),
    ("status", _("Party status")),
    ("unit", _("Unit")),
    ("birth", _("Birth date (oldest first)")),
    ("-birth", _("Birth date (youngest first)")),
]
ALL_STATES = "all"


def unit_options(units: list[Unit], blank: str | None = None, current: str = "") -> list[tuple[str, str]]:
    """Drop-down options for units in tree order, indented by depth."""
    top = min((u.depth for u in units), default=0)
    options = [("", blank)] if blank is not None else []
    options += [(u.code, "\u00a0\u00a0" * (u.depth - top) + f"{u.name} ({u.code})") for u in units]
    if current and current not in {code for code, _label in options}:
        options.append((current, current))
    return options


def group_options(groups: list[Unit]) -> list[tuple[str, str]]:
    return [("", _("No party group"))] + [
        (g.code, f"{g.parent.name} · {g.name}" if g.parent_id and g.parent else g.name) for g in groups]


def _unit_field(form: forms.Form, name: str, options: list[tuple[str, str]] | None) -> None:
    """A unit picked from a drop-down when the list is short, typed as a code when it is long."""
    field = form.fields[name]
    if options is not None:
        field.widget = forms.Select(choices=options)
    else:
        field.widget = forms.TextInput(attrs={"placeholder": _("Unit code")})
        field.help_text = _("Type the unit's code.")


class MemberFilterForm(forms.Form):
    q = forms.CharField(label=_("Name or pinyin initials"), required=False, max_length=60,
                        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off",
                                                      "placeholder": _("e.g. 张三, zhangsan or zs")}))
    unit = forms.CharField(label=_("Unit (and below)"), required=False, max_length=40)
    status = forms.ChoiceField(label=_("Party status"), required=False, choices=ANY + PartyStatus.choices)
    state = forms.ChoiceField(label=_("Organisational relation"), required=False,
                              choices=MemberState.choices + [(ALL_STATES, _("Any"))])
    gender = forms.ChoiceField(label=_("Gender"), required=False, choices=ANY + Gender.choices)
    education = forms.ChoiceField(label=_("Education"), required=False, choices=ANY + Education.choices)
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=SORT_CHOICES)

    def __init__(self, *args: Any, units: list[Unit] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = (self.data.get("unit") or "") if self.is_bound else ""
        _unit_field(self, "unit", None if units is None else unit_options(units, _("All my units"), current))

    def filters(self) -> dict[str, str]:
        """The valid filters, with defaults for what is missing or wrong."""
        data = self.cleaned_data if self.is_bound and hasattr(self, "cleaned_data") else {}
        state = data.get("state") or MemberState.ACTIVE
        return {
            "q": data.get("q") or "",
            "unit": (data.get("unit") or "").strip(),
            "status": data.get("status") or "",
            "state": "" if state == ALL_STATES else state,
            "gender": data.get("gender") or "",
            "education": data.get("education") or "",
            "sort": data.get("sort") or "name",
        }


class MemberForm(forms.Form):
    """A new person (with `unit`, `status`) or changes to one (ID number and phone blank = keep)."""

    unit = forms.CharField(label=_("Unit"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=60)
    gender = forms.ChoiceField(label=_("Gender"), choices=Gender.choices)
    status = forms.ChoiceField(label=_("Party status"), choices=PartyStatus.choices)
    status_date = forms.DateField(label=_("Date of that status"), required=False, widget=DateInput(),
                                  help_text=_("Leave empty for today."))
    id_number = forms.CharField(label=_("ID number"), max_length=18, required=False,
                                widget=forms.TextInput(attrs={"autocomplete": "off"}))
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False,
                            widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}))
    birth_date = forms.DateField(label=_("Birth date"), required=False, widget=DateInput())
    ethnicity = forms.CharField(label=_("Ethnicity"), max_length=20, initial="汉族")
    education = forms.ChoiceField(label=_("Education"), required=False,
                                  choices=[("", "—")] + Education.choices)
    post = forms.CharField(label=_("Post in the enterprise"), max_length=120, required=False)
    group = forms.CharField(label=_("Party group"), max_length=40, required=False)
    joined_on = forms.DateField(label=_("Joined the party on"), required=False, widget=DateInput())

    def __init__(self, *args: Any, units: list[Unit] | None = None, groups: list[Unit] | None = None,
                 editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            for name in ("unit", "status", "status_date"):
                del self.fields[name]
            for name in ("id_number", "phone"):
                self.fields[name].help_text = _("Leave empty to keep the number on record.")
        else:
            current = (self.data.get("unit") or "") if self.is_bound else (self.initial.get("unit") or "")
            _unit_field(self, "unit",
                        None if units is None else unit_options(units, _("Choose a unit"), current))
        if groups is not None:
            self.fields["group"].widget = forms.Select(choices=group_options(groups))
        else:
            self.fields["group"].widget = forms.TextInput(attrs={"placeholder": _("Group code")})


class StatusForm(forms.Form):
    new_status = forms.ChoiceField(
        label=_("New party status"),
        choices=[(s.value, s.label) for s in PartyStatus if s != PartyStatus.MASSES])
    date = forms.DateField(label=_("Date"), initial=dt.date.today, widget=DateInput())
    note = forms.CharField(label=_("Note"), max_length=255, required=False,
                           help_text=_("For example the resolution of the branch assembly."))


class TransferForm(forms.Form):
    to_unit = forms.CharField(label=_("To unit"), max_length=40)
    group = forms.CharField(label=_("Party group"), max_length=40, required=False)
    external_org = forms.CharField(label=_("Outside organisation"), max_length=200)
    date = forms.DateField(label=_("Date"), initial=dt.date.today, widget=DateInput())
    letter_number = forms.CharField(label=_("Introduction letter number"), max_length=60, required=False)
    reason = forms.CharField(label=_("Reason"), max_length=255, required=False)

    FIELDS = {
        TransferDirection.INTERNAL: ("to_unit", "group", "date", "reason"),
        TransferDirection.OUT: ("external_org", "date", "letter_number", "reason"),
        TransferDirection.IN: ("external_org", "to_unit", "group", "date", "letter_number"),
    }

    def __init__(self, *args: Any, direction: str, units: list[Unit] | None = None,
                 groups: list[Unit] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        keep = self.FIELDS[TransferDirection(direction)]
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        if direction == TransferDirection.IN:
            self.fields["external_org"].label = _("Coming from (organisation)")
        if "to_unit" in self.fields:
            current = (self.data.get("to_unit") or "") if self.is_bound else ""
            _unit_field(self, "to_unit",
                        None if units is None else unit_options(units, _("Choose a unit"), current))
        if "group" in self.fields:
            self.fields["group"].widget = (forms.Select(choices=group_options(groups)) if groups is not None
                                           else forms.TextInput(attrs={"placeholder": _("Group code")}))


class AppointForm(forms.Form):
    unit = forms.ChoiceField(label=_("Committee of"), choices=())
    role = forms.ChoiceField(label=_("Post"), choices=CommitteeRoleKind.choices)
    started_on = forms.DateField(label=_("Start"), initial=dt.date.today, widget=DateInput())

    def __init__(self, *args: Any, units: list[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [(u.code, f"{u.name} ({u.get_kind_display()})") for u in units]


class EndPostForm(forms.Form):
    post = forms.IntegerField(widget=forms.HiddenInput)
    ended_on = forms.DateField(label=_("End"), initial=dt.date.today, widget=DateInput())
