"""Forms of the unit pages. They only shape input; every rule lives in orgs.services."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import ALLOWED_PARENTS, BranchVariant, Unit, UnitKind


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class UnitForm(forms.Form):
    """Create (with `kind`) or edit a unit."""

    code = forms.CharField(label=_("Code"), max_length=40)
    name = forms.CharField(label=_("Unit name"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=())
    variant = forms.ChoiceField(label=_("Branch variant"), choices=BranchVariant.choices,
                                initial=BranchVariant.REGULAR,
                                help_text=_("Only a branch can be joint or temporary."))
    order = forms.IntegerField(label=_("Order"), min_value=0, initial=0,
                               help_text=_("Sub-units are listed by this number."))
    founded_on = forms.DateField(label=_("Founding date"), required=False, widget=DateInput())
    department = forms.CharField(label=_("Enterprise department"), max_length=120, required=False)

    def __init__(self, *args, parent: Unit | None = None, instance: Unit | None = None, **kwargs) -> None:
        if instance is not None:
            kwargs.setdefault("initial", {f: getattr(instance, f) for f in
                                          ("code", "name", "variant", "order", "founded_on", "department")})
        super().__init__(*args, **kwargs)
        if instance is not None:
            del self.fields["kind"]  # a unit's kind never changes; dissolve and recreate instead
            if instance.kind != UnitKind.BRANCH:
                del self.fields["variant"]
        else:
            parent_kind = parent.kind if parent else None
            self.fields["kind"].choices = [(k.value, k.label) for k in UnitKind
                                           if parent_kind in ALLOWED_PARENTS[k]]
            # The lowest kind allowed is the usual one (a branch under a committee, a group under a branch).
            self.fields["kind"].initial = self.fields["kind"].choices[-1][0]


class MoveForm(forms.Form):
    new_parent = forms.CharField(
        label=_("New parent unit (code)"), max_length=40,
        widget=forms.TextInput(attrs={"list": "move-targets", "autocomplete": "off"}))
    moved_on = forms.DateField(label=_("Date of the move"), initial=dt.date.today, widget=DateInput())
    reason = forms.CharField(label=_("Reason"), max_length=255, required=False)

    def __init__(self, *args, targets: list[Unit] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if targets is not None:  # a short list: pick from it; a long one: type the code
            self.fields["new_parent"].label = _("New parent unit")
            self.fields["new_parent"].widget = forms.Select(
                choices=[("", _("Choose a unit"))] + [(u.code, f"{u.name} ({u.code})") for u in targets])


class DissolveForm(forms.Form):
    dissolved_on = forms.DateField(label=_("Dissolved on"), initial=dt.date.today, widget=DateInput())
    reason = forms.CharField(label=_("Reason"), max_length=255, required=False,
                             widget=forms.Textarea(attrs={"rows": 3}))
