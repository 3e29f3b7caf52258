"""Clean the user text already stored (#21.3): what pbqms.core.text now refuses at the service layer
— C0/C1 control characters (tab, newline and carriage return kept), bidirectional overrides and
isolates — is removed from every text column of the capabilities that take user text; names made
of invisible characters only become "未命名"; birth dates in the future or before 1900 are cleared.

Only rows holding such characters are read (one regex filter per table), so the migration costs a
scan per table and writes only what changes.
"""

import datetime as dt
import re

from django.db import migrations, models
from django.db.models import Q

APPS = ("members", "orgs", "activities", "rectification", "documents", "objectives", "assessment")
CONTROL = "\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
BIDI = "\u202a-\u202e\u2066-\u2069"
INVISIBLE = "\u200b-\u200f\u2060-\u2064\ufeff"
BAD = re.compile(f"[\x00{CONTROL}{BIDI}]")
BLANK = re.compile(f"^[\\s{INVISIBLE}]*$")
NAMES = {("members", "member"): "name", ("orgs", "unit"): "name"}
UNNAMED = "未命名"
BATCH = 1000


def _text_fields(model):
    return [f for f in model._meta.get_fields()
            if isinstance(f, (models.CharField, models.TextField)) and not f.choices and f.concrete
            and not f.primary_key]


def forwards(apps, schema_editor):
    nul = "\x00" if schema_editor.connection.vendor != "postgresql" else ""  # PostgreSQL text holds no NUL
    pattern = f"[{nul}{CONTROL}{BIDI}]"
    for label in APPS:
        for model in apps.get_app_config(label).get_models():
            fields = _text_fields(model)
            if not fields:
                continue
            name_field = NAMES.get((model._meta.app_label, model._meta.model_name))
            query = Q()
            for f in fields:
                query |= Q(**{f"{f.name}__regex": pattern})
            if name_field:
                query |= Q(**{f"{name_field}__regex": f"^[{INVISIBLE} ]*$"})
            names = [f.name for f in fields]
            changed = []
            for row in model.objects.filter(query).only("pk", *names).iterator(chunk_size=BATCH):
                dirty = set()
                for f in names:
                    value = getattr(row, f)
                    if isinstance(value, str) and BAD.search(value):
                        setattr(row, f, BAD.sub("", value))
                        dirty.add(f)
                if name_field and BLANK.match(getattr(row, name_field) or ""):
                    setattr(row, name_field, UNNAMED)
                    dirty.add(name_field)
                    if label == "members":
                        row.name_pinyin, row.name_initials = "weimingming", "wmm"
                        dirty |= {"name_pinyin", "name_initials"}
                if dirty:
                    changed.append((row, dirty))
                if len(changed) >= BATCH:
                    _save(model, changed)
                    changed = []
            if changed:
                _save(model, changed)
    Member = apps.get_model("members", "Member")
    Member.objects.filter(Q(birth_date__gt=dt.date.today()) | Q(birth_date__lt=dt.date(1900, 1, 1))).update(
        birth_date=None)


def _save(model, changed):
    fields = sorted(set().union(*(d for _row, d in changed)))
    model.objects.bulk_update([row for row, _d in changed], fields)


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0001_initial"),
        ("members", "0003_remask_id_numbers"),
        ("orgs", "0003_unit_kind_path_prefix"),
        ("activities", "0003_derived_states_without_constraints"),
        ("rectification", "0005_open_totals_overdue_index"),
        ("documents", "0002_applicability_subtree"),
        ("objectives", "0002_rollup_index"),
        ("assessment", "0004_result_subtotals_as_text"),
        ("audit", "0003_step_actions"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True)]
