"""Metrics the system computes from its own records — 自动计分指标, offered to the assessment engine.

An assessment item bound to a metric is pre-filled from it (the assessor confirms or overrides
with a reason), so no branch types in a figure the system already holds (一次录入、多处复用).
A metric is a function (ids, start, end) → {id: value or None}, value a percentage (or, for a
metric whose `measure` is "count", a number of occurrences), where the ids
are units (subject "unit", for schemes assessing organisations) or members (subject "member",
for 党员量化积分); capabilities list theirs here by dotted path, so new metrics plug in without
touching the engine.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

MetricFn = Callable[[Iterable[int], dt.date, dt.date], dict[int, Decimal | None]]


@dataclass(frozen=True)
class Metric:
    code: str
    label: str
    path: str
    evidence_url: str  # where the assessor sees the records behind the figure: {code} = unit code
    subject: str = "unit"  # "unit" or "member": what the ids passed to the function are
    # "percent": a rate (ratio and yes/no items); "count": a number of occurrences (per-occurrence items)
    measure: str = "percent"

    def compute(self, unit_ids: Iterable[int], start: dt.date, end: dt.date) -> dict[int, Decimal | None]:
        module, _sep, name = self.path.rpartition(".")
        fn: MetricFn = getattr(importlib.import_module(module), name)
        return fn(list(unit_ids), start, end)


METRICS: dict[str, Metric] = {m.code: m for m in [
    Metric("activities.compliance_rate", str(_("Organisational-life compliance rate (%)")),
           "pbqms.activities.metrics.compliance_rate", "/activities/units/{code}/calendar/"),
    Metric("activities.attendance_rate", str(_("Average attendance rate of activities (%)")),
           "pbqms.activities.metrics.attendance_rate", "/activities/units/{code}/calendar/"),
    Metric("activities.filed_in_advance", str(_("Activities filed in a plan in advance (%)")),
           "pbqms.activities.metrics.filed_in_advance", "/activities/plans/?unit={code}"),
    Metric("objectives.member_target_score", str(_("Year-end evaluation of the member's targets (%)")),
           "pbqms.objectives.metrics.member_target_score", "/objectives/units/{code}/members/", subject="member"),
    Metric("assessment.self_checks_missed", str(_("Monthly self-checks missed")),
           "pbqms.assessment.metrics.self_checks_missed", "/assessment/", measure="count"),
]}


def get(code: str) -> Metric:
    return METRICS[code]
