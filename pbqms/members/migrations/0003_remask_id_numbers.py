"""Rewrite every stored masked ID number to the narrower mask of decision 0011.

The old mask (3201**********1234) kept the first and last four characters; with the birth date
that roles without ID rights see in the clear it left about nine candidates. The new mask keeps
the first and last character only (3****************4) and is derived from the old one, so no
number is decrypted. The audit trail's copies (the `id_number_masked` field of member entries)
are rewritten too: this is a redaction, not a change of what happened, so the append-only rule
of AuditEntry.save() is bypassed with a queryset update on purpose.
"""

from django.db import migrations

BATCH = 2000


def _remask(value):
    if not isinstance(value, str) or len(value) < 2 or "*" not in value:
        return value
    return value[:1] + "*" * (len(value) - 2) + value[-1:]


def forwards(apps, schema_editor):
    Member = apps.get_model("members", "Member")
    AuditEntry = apps.get_model("audit", "AuditEntry")
    rows = Member.objects.exclude(id_number_masked="").values_list("pk", "id_number_masked").order_by("pk")
    batch = []
    for pk, masked in rows.iterator(chunk_size=BATCH):
        new = _remask(masked)
        if new != masked:
            batch.append(Member(pk=pk, id_number_masked=new))
        if len(batch) >= BATCH:
            Member.objects.bulk_update(batch, ["id_number_masked"])
            batch = []
    if batch:
        Member.objects.bulk_update(batch, ["id_number_masked"])
    entries = AuditEntry.objects.filter(changes__has_key="id_number_masked").values_list("pk", "changes")
    batch = []
    for pk, changes in entries.order_by("pk").iterator(chunk_size=BATCH):
        pair = changes.get("id_number_masked")
        if isinstance(pair, list):
            new = [_remask(v) for v in pair]
        else:
            new = _remask(pair)
        if new != pair:
            changes["id_number_masked"] = new
            batch.append(AuditEntry(pk=pk, changes=changes))
        if len(batch) >= BATCH:
            AuditEntry.objects.bulk_update(batch, ["changes"])
            batch = []
    if batch:
        AuditEntry.objects.bulk_update(batch, ["changes"])


class Migration(migrations.Migration):

    dependencies = [
        ("members", "0002_birth_date_index"),
        ("audit", "0003_step_actions"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True)]
