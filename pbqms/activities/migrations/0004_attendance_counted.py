"""Attendance by the kind of meeting (issue 20.1): a committee meeting (支委会) expects the committee
serving on its day, a talk (谈心谈话) has participants only. Records entered before counted every
member of the branch: a member outside the committee marked present becomes an attendee without
a vote (not counted), one marked absent is removed; a talk's "absent" rows are removed; the
records' figures are recomputed. (The compliance states follow at the next nightly run.)"""

from decimal import Decimal

from django.db import migrations, models
from django.db.models import Q


def recount(apps, schema_editor):
    Record = apps.get_model("activities", "ActivityRecord")
    Attendance = apps.get_model("activities", "Attendance")
    Post = apps.get_model("members", "CommitteeRole")
    changed = []
    for record in Record.objects.filter(kind__in=["committee", "talk"]).order_by("pk").iterator():
        rows = list(Attendance.objects.filter(record=record))
        if record.kind == "committee":
            committee = set(Post.objects.filter(unit_id=record.unit_id, started_on__lte=record.held_on)
                            .filter(Q(ended_on__isnull=True) | Q(ended_on__gte=record.held_on))
                            .exclude(role="group_leader").values_list("member_id", flat=True))
            if not committee & {a.member_id for a in rows}:
                continue  # no post registered for the day: the record stays as entered
            outside = [a for a in rows if a.member_id not in committee]
            Attendance.objects.filter(pk__in=[a.pk for a in outside if not a.present]).delete()
            Attendance.objects.filter(pk__in=[a.pk for a in outside if a.present]).update(counted=False)
            kept = [a for a in rows if a.member_id in committee]
        else:
            Attendance.objects.filter(pk__in=[a.pk for a in rows if not a.present]).delete()
            kept = [a for a in rows if a.present]
        expected, present = len(kept), sum(1 for a in kept if a.present)
        rate = Decimal(str(round(100 * present / expected, 1))) if expected else Decimal(0)
        if (record.expected, record.present, record.attendance_rate) != (expected, present, rate):
            record.expected, record.present, record.attendance_rate = expected, present, rate
            changed.append(record)
    Record.objects.bulk_update(changed, ["expected", "present", "attendance_rate"], batch_size=1000)


class Migration(migrations.Migration):

    dependencies = [
        ('activities', '0003_derived_states_without_constraints'),
        ('members', '0002_birth_date_index'),
    ]

    operations = [
        migrations.AddField(
            model_name='attendance',
            name='counted',
            field=models.BooleanField(default=True, help_text="On the meeting's roster: counts toward its attendance. A person attending without being expected (列席, e.g. a member at a committee meeting) is recorded present and not counted.", verbose_name='expected'),
        ),
        migrations.RunPython(recount, migrations.RunPython.noop),
    ]
