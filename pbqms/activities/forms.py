"""Forms of the organisational-life pages. They only shape input: every rule (a date in the future,
people outside the unit, an absence without a reason, a meeting recorded twice, a closed period)
is decided by services.py, whose messages the views put back here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pbqms.core import clock
from pbqms.files import idempotency
from pbqms.files.forms import MultipleFileField
from pbqms.orgs.forms import DateInput
from pbqms.orgs.models import Unit, UnitKind

from . import services
from .models import ActivityKind, PlanStatus

ANY = [("", gettext_lazy("Any"))]


def needed(form: forms.Form, *names: str) -> None:
    """Fields the services require but leave the form to pass on (so the service's message shows)."""
    for name in names:
        form.fields[name].widget.attrs["aria-required"] = "true"


def kind_choices(unit: Unit) -> list[tuple[str, str]]:
    """What a unit records: a party group its group meetings (and other activities), any other unit
    everything but a group meeting."""
    if unit.kind == UnitKind.GROUP:
        return [(k.value, k.label) for k in (ActivityKind.GROUP_MEETING, ActivityKind.OTHER)]
    return [(k.value, k.label) for k in ActivityKind if k != ActivityKind.GROUP_MEETING]


def year_choices(span: int = 6) -> list[tuple[str, str]]:
    this = clock.today().year
    return [(str(y), str(y)) for y in range(this, this - span, -1)]


def year_of(raw: Any) -> int:
    """A year from the query string (this year when missing or absurd)."""
    try:
        y = int(raw)
    except (TypeError, ValueError):
        return clock.today().year
    return y if 2000 <= y <= 2100 else clock.today().year


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%H:%M")


class RecordForm(idempotency.OnceFormMixin, forms.Form):
    """An activity held (全程纪实); the attendance checklist travels beside it (AttendanceSheet)."""

    kind = forms.ChoiceField(label=gettext_lazy("Activity"))
    held_on = forms.DateField(label=gettext_lazy("Date"), widget=DateInput())
    start_time = forms.TimeField(label=gettext_lazy("Time"), required=False, widget=TimeInput())
    place = forms.CharField(label=gettext_lazy("Place"), max_length=100, required=False)
    topic = forms.CharField(label=gettext_lazy("Topic"), max_length=200, required=False,
                            widget=forms.TextInput(attrs={"wide": True}))
    host = forms.ModelChoiceField(label=gettext_lazy("Host"), queryset=None, required=False)  # type: ignore[arg-type]
    recorder = forms.ModelChoiceField(label=gettext_lazy("Recorder"), queryset=None,  # type: ignore[arg-type]
                                      required=False)
    minutes = forms.CharField(label=gettext_lazy("Minutes"), required=False,
                              widget=forms.Textarea(attrs={"rows": 6, "wide": True}))
    resolutions = forms.CharField(label=gettext_lazy("Resolutions"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 3, "wide": True}))
    photos = MultipleFileField(label=gettext_lazy("Photos and attachments"), required=False)

    def __init__(self, *args: Any, unit: Unit, people: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kind_choices(unit)
        for name in ("host", "recorder"):
            f = self.fields[name]
            f.queryset = people  # type: ignore[attr-defined]
            f.empty_label = _("— choose —")  # type: ignore[attr-defined]
            f.label_from_instance = lambda m: m.name  # type: ignore[attr-defined]
        self.fields["held_on"].widget.attrs["max"] = clock.today().isoformat()
        needed(self, "topic")


@dataclass
class AttendanceRow:
    member: Any
    present: bool = True
    reason: str = ""


class AttendanceSheet:
    """The roster of the activity's kind as a checklist (services.roster_for): everyone expected
    ticked present, an untick asks for the reason; below, whoever else may be marked, unticked
    (a committee meeting's attendees without a vote, a talk's participants).

    Posted as `attendee` (every person on the sheet), `present` (the ticked ones) and
    `reason-<pk>`; ids the sheet did not show are kept so the services can refuse them."""

    def __init__(self, roster: services.Roster, data: QueryDict | None = None,
                 initial: list[Any] | None = None) -> None:
        self.roster = roster
        self.mode = roster.mode
        self.errors: list[str] = []
        self.extra_ids: list[int] = []
        self.posted: dict[int, services.Presence] = {}
        expected = {m.pk: m for m in roster.expected}
        others = {m.pk: m for m in roster.others}
        if data is None:
            if initial is None:
                self.rows = [AttendanceRow(m) for m in roster.expected]
                self.other_rows = [AttendanceRow(m, False) for m in roster.others]
                return
            # a record's attendance as stored (a correction): the roster first, then anyone else marked
            stored = {a.member_id: a for a in initial}
            self.rows = [AttendanceRow(m, stored[m.pk].present if m.pk in stored else True,
                                       stored[m.pk].absence_reason if m.pk in stored else "")
                         for m in roster.expected]
            self.other_rows = [AttendanceRow(m, m.pk in stored and stored[m.pk].present) for m in roster.others]
            shown = set(expected) | set(others)
            self.other_rows += [AttendanceRow(a.member, a.present, a.absence_reason) for a in initial
                                if a.member_id not in shown]
            return
        ids = []
        for raw in data.getlist("attendee"):
            try:
                ids.append(int(raw))
            except (TypeError, ValueError):
                continue
        present = set(data.getlist("present"))
        unique = list(dict.fromkeys(ids))
        self.posted = {pk: services.Presence(str(pk) in present, data.get(f"reason-{pk}", "").strip()[:100])
                       for pk in unique}
        self.rows = [AttendanceRow(expected[pk], self.posted[pk].present, self.posted[pk].reason)
                     for pk in unique if pk in expected]
        self.other_rows = [AttendanceRow(others[pk], self.posted[pk].present) for pk in unique if pk in others]
        self.extra_ids = [pk for pk in unique if pk not in expected and pk not in others]

    def presence(self) -> dict[int, services.Presence]:
        return dict(self.posted)

    def marks_only_readable(self, user: Any) -> bool:
        """False (with the error) when someone marked beyond the sheet is a person the user may not
        even read: refused without naming them. The services refuse the rest (not of this unit)."""
        from pbqms import scope

        if not self.extra_ids:
            return True
        readable = set(scope.members(user).filter(pk__in=self.extra_ids).values_list("pk", flat=True))
        if set(self.extra_ids) - readable:
            self.errors.append(_("Some of the people marked are not people of this unit."))
            return False
        return True

    @property
    def present_count(self) -> int:
        return sum(1 for r in self.rows if r.present)


class CorrectionForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason for the correction"), max_length=200, required=False,
                             widget=forms.TextInput(attrs={"wide": True}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        needed(self, "reason")


class DeleteForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason for deleting"), max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        needed(self, "reason")


class RecordFilterForm(forms.Form):
    year = forms.ChoiceField(label=gettext_lazy("Year"), required=False)
    kind = forms.ChoiceField(label=gettext_lazy("Activity"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = year_choices()
        self.fields["kind"].choices = ANY + list(ActivityKind.choices)

    def filters(self) -> dict[str, Any]:
        data = self.cleaned_data if self.is_bound and hasattr(self, "cleaned_data") else {}
        return {"year": year_of(data.get("year") or None), "kind": data.get("kind", "")}


# ---- plans -------------------------------------------------------------------------------------

def period_suggestions(today: dt.date | None = None) -> list[tuple[str, str]]:
    """This month, the next two, this quarter and the next: what a branch usually files."""
    today = today or clock.today()
    out = []
    for n in range(3):
        m = today.month - 1 + n
        y, mo = today.year + m // 12, m % 12 + 1
        out.append((f"{y}-{mo:02d}", _("%(year)d, month %(month)d") % {"year": y, "month": mo}))
    q = (today.month - 1) // 3 + 1
    for n in range(2):
        qq = q - 1 + n
        y, qn = today.year + qq // 4, qq % 4 + 1
        out.append((f"{y}Q{qn}", _("%(year)d, quarter %(quarter)d") % {"year": y, "quarter": qn}))
    return out


class PlanForm(forms.Form):
    period = forms.CharField(label=gettext_lazy("Period"), max_length=7, required=False,
                             help_text=gettext_lazy("2026-05 for a month, 2026Q2 for a quarter."))

    def __init__(self, *args: Any, fixed_period: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        f = self.fields["period"]
        f.widget.attrs.update({"list": "period-suggestions", "autocomplete": "off", "placeholder": "2026-06"})
        if fixed_period:
            f.widget.attrs["readonly"] = True
        needed(self, "period")


@dataclass
class PlanLine:
    kind: str = ""
    planned_on: str = ""
    topic: str = ""
    error: str = ""

    @property
    def blank(self) -> bool:
        return not (self.planned_on or self.topic.strip())


def plan_lines(data: QueryDict) -> list[PlanLine]:
    kinds, days, topics = data.getlist("line-kind"), data.getlist("line-date"), data.getlist("line-topic")
    n = max(len(kinds), len(days), len(topics))
    pad = lambda xs: list(xs) + [""] * (n - len(xs))  # noqa: E731
    return [PlanLine(k, d.strip(), t.strip()[:200]) for k, d, t in zip(pad(kinds), pad(days), pad(topics), strict=True)]


def plan_items(lines: list[PlanLine]) -> tuple[list[services.PlanItem], bool]:
    """The filled lines as the services' PlanItems; a line whose date cannot be read gets its error."""
    items, ok = [], True
    n = 0
    for line in lines:
        if line.blank:
            continue
        n += 1
        try:
            day = dt.date.fromisoformat(line.planned_on)
        except ValueError:
            line.error = _("Line %(n)d: give the date.") % {"n": n}
            ok = False
            continue
        items.append(services.PlanItem(line.kind, day, line.topic))
    return items, ok


class ReviewForm(forms.Form):
    comment = forms.CharField(label=gettext_lazy("Review comment"), required=False, max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        needed(self, "comment")


class PlanFilterForm(forms.Form):
    unit = forms.CharField(label=gettext_lazy("Unit"), required=False, max_length=40,
                           widget=forms.TextInput(attrs={"placeholder": gettext_lazy("Unit code")}))
    status = forms.ChoiceField(label=gettext_lazy("Status"), required=False)
    period = forms.CharField(label=gettext_lazy("Period"), required=False, max_length=7,
                             widget=forms.TextInput(attrs={"placeholder": "2026-06"}))

    def __init__(self, *args: Any, units: list[Unit] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = ANY + list(PlanStatus.choices)
        if units is not None:
            from pbqms.members.forms import unit_options

            self.fields["unit"].widget = forms.Select(choices=unit_options(units, _("All units")))

    def filters(self) -> dict[str, str]:
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return {"unit": (data.get("unit") or "").strip(), "status": data.get("status") or "",
                "period": (data.get("period") or "").strip()}
