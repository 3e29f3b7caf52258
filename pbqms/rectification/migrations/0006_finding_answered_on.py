# 按期整改 (#20.4): a finding is on time when its accepted feedback arrived by the deadline, not when
# it was closed after the re-check. Each finding keeps the day its latest feedback arrived; the
# stored "rect:<year>:ontime" totals are rebuilt with that rule.

from collections import Counter

from django.db import migrations, models
from django.db.models import F, Max, Q
from django.utils import timezone


def _ids(path):
    return [int(p) for p in path.strip("/").split("/") if p]


def forwards(apps, schema_editor):
    Finding = apps.get_model("rectification", "Finding")
    Feedback = apps.get_model("rectification", "Feedback")
    UnitTally = apps.get_model("orgs", "UnitTally")
    latest = (Feedback.objects.values("finding_id").annotate(at=Max("submitted_at")).order_by()
              .values_list("finding_id", "at"))
    batch = []
    for finding_id, at in latest.iterator(chunk_size=5000):
        batch.append(Finding(pk=finding_id, answered_on=timezone.localdate(at) if timezone.is_aware(at) else at.date()))
        if len(batch) >= 5000:
            Finding.objects.bulk_update(batch, ["answered_on"])
            batch = []
    if batch:
        Finding.objects.bulk_update(batch, ["answered_on"])
    on_time = Q(status="closed", answered_on__isnull=False) & (Q(deadline__isnull=True)
                                                               | Q(answered_on__lte=F("deadline")))
    totals = Counter()
    for path, found_on in Finding.objects.filter(on_time).values_list("org_path", "found_on").iterator(
            chunk_size=20000):
        for uid in _ids(path):
            totals[(uid, f"rect:{found_on.year}:ontime")] += 1
    UnitTally.objects.filter(key__startswith="rect:", key__endswith=":ontime").delete()
    UnitTally.objects.bulk_create((UnitTally(unit_id=u, key=k, n=n) for (u, k), n in totals.items() if n),
                                  batch_size=5000)


class Migration(migrations.Migration):

    dependencies = [
        ('orgs', '0002_unit_tally'),
        ('rectification', '0005_open_totals_overdue_index'),
    ]

    operations = [
        migrations.AddField(
            model_name='finding',
            name='answered_on',
            field=models.DateField(blank=True, null=True, verbose_name='feedback received on'),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
