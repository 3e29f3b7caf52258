"""Assessment forms — 考核评价: what the pages ask for. They only shape input; every rule (the
points adding up, the five facts of a deduction, who may act) is the services' to check, so numbers
are taken as text and the service's message is what the user reads."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from pbqms.assessment.fixtures import SCHEMES
from pbqms.assessment.models import (
    OFFERED_VETO_EFFECTS,
    ItemKind,
    Method,
    PanelRule,
    PeriodStatus,
    SchemeCategory,
    SchemeItem,
    SchemeStatus,
    TargetKind,
    YearRule,
)
from pbqms.assessment.selectors import STATUS_FILTERS
from pbqms.core import clock
from pbqms.core.metrics import METRICS

TEXTAREA = forms.Textarea(attrs={"rows": 3, "wide": True})


def _blank(choices: Any, label: Any = "—") -> list[tuple[str, Any]]:
    return [("", label), *list(choices)]


class SchemeFilterForm(forms.Form):
    year = forms.TypedChoiceField(label=_("Year"), required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=_blank(SchemeStatus.choices, _("All")))
    target_kind = forms.ChoiceField(label=_("Assesses"), required=False,
                                    choices=_blank(TargetKind.choices, _("All")))

    def __init__(self, *args: Any, years: list[int], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = _blank([(y, str(y)) for y in years], _("All"))


def sources() -> list[tuple[str, Any]]:
    """The shipped schemes (fixtures.SCHEMES, by their own names) and a blank one."""
    return [*[(key, f"{data['name']} ({TargetKind(data.get('target_kind') or 'branch').label})")
              for key, data in SCHEMES.items()],
            ("blank", _("Blank: categories only, items added one by one"))]


class SchemeCreateForm(forms.Form):
    owner = forms.ChoiceField(label=_("Drawn up by"))
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    source = forms.ChoiceField(label=_("Start from"), choices=sources, widget=forms.RadioSelect, initial="liukao")
    name = forms.CharField(label=_("Scheme name"), max_length=150, required=False,
                           help_text=_("Leave empty to keep the template's name."))
    target_kind = forms.ChoiceField(label=_("Assesses"), choices=TargetKind.choices, initial=TargetKind.BRANCH,
                                    help_text=_("For a blank scheme; a shipped scheme says whom it assesses."))
    categories = forms.CharField(
        label=_("Categories (blank scheme)"), required=False, widget=forms.Textarea(attrs={"rows": 4, "wide": True}),
        help_text=_("One per line: code and name, e.g. “DJ 党建工作”."))

    def __init__(self, *args: Any, owners: list[Any], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [(u.code, f"{u.name} ({u.code})") for u in owners]
        self.fields["year"].initial = clock.today().year

    def data_for_service(self) -> dict[str, Any]:
        """The scheme as the data `schemes.load_scheme` takes."""
        d = self.cleaned_data
        if d["source"] in SCHEMES:
            data = dict(SCHEMES[d["source"]])
            if d["name"].strip():
                data["name"] = d["name"].strip()
            return data
        categories = []
        for line in (d["categories"] or "").splitlines():
            line = line.strip()
            if not line:
                continue
            code, _sep, name = line.partition(" ")
            categories.append({"code": code.strip(), "name": name.strip(), "items": []})
        return {"name": d["name"], "target_kind": d["target_kind"], "full_mark": "100", "categories": categories}


class CopyForm(forms.Form):
    year = forms.IntegerField(label=_("Year of the copy"), min_value=2000, max_value=2100)


def _number(label: Any, required: bool = False, help_text: Any = "") -> forms.CharField:
    return forms.CharField(label=label, required=required, max_length=12, help_text=help_text,
                           widget=forms.TextInput(attrs={"inputmode": "decimal"}))


class ItemForm(forms.Form):
    """One item of a draft scheme; the service checks it (and says what is wrong)."""

    category = forms.ModelChoiceField(label=_("Category"), queryset=SchemeCategory.objects.none())
    code = forms.CharField(label=_("Code"), max_length=20)
    title = forms.CharField(label=_("Title"), max_length=200)
    standard = forms.CharField(label=_("Content and standard"), widget=TEXTAREA)
    kind = forms.ChoiceField(label=_("Kind"), choices=ItemKind.choices)
    method = forms.ChoiceField(label=_("Scoring method"), choices=Method.choices)
    max_points = _number(_("Maximum points"), required=True)
    deduct_per = _number(_("Points per occurrence"),
                         help_text=_("Taken per occurrence until the item's points are used up (扣完为止)."))
    levels = forms.CharField(label=_("Levels"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=_("Graded items: one level per line, highest first, e.g. “好=20”."))
    ratio_floor = _number(_("Rate giving 0 points (%)"))
    ratio_full = _number(_("Rate giving full points (%)"))
    metric = forms.ChoiceField(label=_("Computed from"), required=False)
    evidence_required = forms.BooleanField(label=_("Evidence required"), required=False)
    annual_only = forms.BooleanField(label=_("Annual summary only"), required=False)
    veto_effect = forms.ChoiceField(
        label=_("Veto effect"), required=False,
        choices=_blank([(e.value, e.label) for e in OFFERED_VETO_EFFECTS]),
        help_text=_("A triggered veto always makes the unit ineligible for stars and awards (评先评优) in the "
                    "period; a fixed deduction is a penalty item."))
    objectives = forms.MultipleChoiceField(
        label=_("Letter targets measured"), required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("The committee's objectives whose targets, in each branch's responsibility letter, this item "
                    "measures: a deduction shows the branch's target (考核评价对照责任目标)."))

    def __init__(self, *args: Any, scheme: Any, item: SchemeItem | None = None, objectives: Any = (),
                 **kwargs: Any):
        if item is not None and "initial" not in kwargs:
            kwargs["initial"] = item_initial(item)
            kwargs["initial"]["objectives"] = [str(pk) for pk in item.objectives.values_list("pk", flat=True)]
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = scheme.categories.all()
        self.fields["metric"].choices = _blank([(m.code, m.label) for m in METRICS.values()])
        self.fields["objectives"].choices = [(str(o.pk), f"{o.number}. {o.title}") for o in objectives]

    def data_for_service(self) -> dict[str, Any]:
        d = dict(self.cleaned_data)
        d.pop("category", None)
        d.pop("objectives", None)
        d["levels"] = parse_levels(d.get("levels") or "")
        return d


def item_initial(item: SchemeItem) -> dict[str, Any]:
    def text(v: Any) -> str:
        return "" if v is None else format(v.normalize(), "f") if isinstance(v, Decimal) else str(v)

    return {"category": item.category_id, "code": item.code, "title": item.title, "standard": item.standard,
            "kind": item.kind, "method": item.method, "max_points": text(item.max_points),
            "deduct_per": text(item.deduct_per), "levels": "\n".join(f"{a}={b}" for a, b in item.levels or []),
            "ratio_floor": text(item.ratio_floor), "ratio_full": text(item.ratio_full), "metric": item.metric,
            "evidence_required": item.evidence_required, "annual_only": item.annual_only,
            "veto_effect": item.veto_effect}


def parse_levels(text: str) -> list[list[str]]:
    """“好=20” lines → [["好", "20"], ...]; a line without points keeps an empty figure (the service says so)."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        parts = re.split(r"\s*[=:：]\s*|\s+", line, maxsplit=1)
        out.append([parts[0], parts[1] if len(parts) > 1 else ""])
    return out


class PlanForm(forms.Form):
    year_rule = forms.ChoiceField(label=_("Annual total"), choices=YearRule.choices, required=False,
                                  help_text=_("By default the year is one 100-point whole: the quarterly items' mean "
                                              "over the quarters plus the year-end items at their own points. The "
                                              "weights below apply only to the weighted formula."))
    quarter_weight = _number(_("Weight of the quarters (%)"), required=True)
    annual_weight = _number(_("Weight of the annual-only items (%)"), required=True)
    panel_rule = forms.ChoiceField(label=_("Panel scores combine by"), choices=PanelRule.choices)


class MoveForm(forms.Form):
    to = forms.ChoiceField(label=_("Move to"), choices=PeriodStatus.choices)
    reason = forms.CharField(label=_("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text=_("Required when reopening."))


class AnalysisForm(forms.Form):
    analysis = forms.CharField(label=_("Analysis"), required=False, widget=forms.Textarea(attrs={"rows": 8}))


class PanelForm(forms.Form):
    members = forms.MultipleChoiceField(label=_("Panel members"), required=False,
                                        widget=forms.CheckboxSelectMultiple)
    lead = forms.ChoiceField(label=_("Lead assessor"), required=False)

    def __init__(self, *args: Any, candidates: list[Any], **kwargs: Any):
        super().__init__(*args, **kwargs)
        choices = [(str(u.pk), str(u)) for u in candidates]
        self.fields["members"].choices = choices
        self.fields["lead"].choices = _blank(choices)


class PeriodFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Sheets"), required=False)

    LABELS = {
        "self_none": _("No self-check yet"), "self_draft": _("Self-check in progress"),
        "self_submitted": _("Self-check submitted"), "assessor_none": _("Not assessed yet"),
        "assessor_draft": _("Assessment in progress"), "assessor_submitted": _("Assessment submitted"),
    }

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = _blank([(k, self.LABELS[k]) for k in STATUS_FILTERS], _("All"))


class SubmitForm(forms.Form):
    summary = forms.CharField(label=_("Summary"), required=False, widget=forms.Textarea(attrs={"rows": 4}))


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("Reason for withdrawing"), required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))
