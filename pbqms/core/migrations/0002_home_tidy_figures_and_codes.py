"""Stored texts people read (#20.3): a computed figure quoted with its float expansion
("91.400000000000005684341886080801486968994140625%") rounded to one decimal place, in score
reasons and the findings raised from them; preventive-action titles naming a rule or an item by
its code ("GROUP_M") name it as the pages do (the rule's name; the item's code and title).
The audit trail keeps what was written at the time (it is append-only)."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from django.db import migrations

LONG = re.compile(r"\d+\.\d{4,}")
PATTERN = r"\d\.\d{4,}"


def _tidy(text: str) -> str:
    return LONG.sub(lambda m: format(Decimal(m.group(0)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP), "f"), text)


def tidy_figures(apps, schema_editor):
    for label, field in (("assessment.Score", "reason"), ("rectification.Finding", "description"),
                         ("rectification.Finding", "standard")):
        model = apps.get_model(label)
        for pk, text in model.objects.filter(**{f"{field}__regex": PATTERN}).values_list("pk", field).iterator():
            model.objects.filter(pk=pk).update(**{field: _tidy(text)})


def name_codes(apps, schema_editor):
    action = apps.get_model("rectification.PreventiveAction")
    rule = apps.get_model("activities.ComplianceRule")
    item = apps.get_model("assessment.SchemeItem")
    rows = list(action.objects.exclude(item_code="").values_list("pk", "item_code", "title"))
    codes = {code for _pk, code, _title in rows}
    if not codes:
        return
    found = dict(rule.objects.filter(code__in=codes).values_list("code", "name"))
    for code, title in (item.objects.filter(code__in=codes - set(found), scheme__status="published",
                                            scheme__target_kind="branch")
                        .order_by("-scheme__year", "-scheme__version").values_list("code", "title")):
        found.setdefault(code, f"{code} {title}")
    for pk, code, title in rows:
        name = found.get(code)
        if name and code in title and name not in title:
            action.objects.filter(pk=pk).update(title=title.replace(code, name, 1)[:200])


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("activities", "0003_derived_states_without_constraints"),
        ("assessment", "0004_result_subtotals_as_text"),
        ("rectification", "0005_open_totals_overdue_index"),
    ]

    operations = [
        migrations.RunPython(tidy_figures, migrations.RunPython.noop),
        migrations.RunPython(name_codes, migrations.RunPython.noop),
    ]
