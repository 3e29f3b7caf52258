"""Plans filed before, not after (issue 22.8): every filing kept with its time. Each existing line
takes its plan's filing time, and is late (补报) when dated before the day it was filed."""

from django.db import migrations, models
from django.utils import timezone

import pbqms.core.clock


def stamp(apps, schema_editor):
    Plan = apps.get_model("activities", "ActivityPlan")
    Line = apps.get_model("activities", "PlannedActivity")
    for plan in Plan.objects.order_by("pk").iterator():
        Line.objects.filter(plan=plan).update(filed_at=plan.submitted_at)
        Line.objects.filter(plan=plan, planned_on__lt=timezone.localdate(plan.submitted_at)).update(late=True)


class Migration(migrations.Migration):

    dependencies = [
        ('activities', '0005_several_records_a_day'),
    ]

    operations = [
        migrations.AddField(
            model_name='activityplan',
            name='version',
            field=models.PositiveSmallIntegerField(default=1, help_text='How many times the plan was filed (报备次数).', verbose_name='filing'),
        ),
        migrations.AddField(
            model_name='plannedactivity',
            name='filed_at',
            field=models.DateTimeField(default=pbqms.core.clock.now, verbose_name='filed at'),
        ),
        migrations.AddField(
            model_name='plannedactivity',
            name='late',
            field=models.BooleanField(default=False, help_text='Dated before the day it was filed: reported after the event.', verbose_name='filed late (补报)'),
        ),
        migrations.AddField(
            model_name='plannedactivity',
            name='superseded_at',
            field=models.DateTimeField(blank=True, help_text='When a later filing of the plan dropped the line.', null=True, verbose_name='dropped at'),
        ),
        migrations.AddField(
            model_name='plannedactivity',
            name='version',
            field=models.PositiveSmallIntegerField(default=1, verbose_name='filing'),
        ),
        migrations.AlterModelOptions(
            name='plannedactivity',
            options={'default_manager_name': 'objects', 'ordering': ['planned_on', 'id'], 'verbose_name': 'planned activity (计划事项)', 'verbose_name_plural': 'planned activities (计划事项)'},
        ),
        migrations.RunPython(stamp, migrations.RunPython.noop),
    ]
