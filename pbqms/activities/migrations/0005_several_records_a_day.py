"""Several records of a kind a day where the kind needs it (issue 22.12): talks are one-to-one, a
lecture may be given to two groups on one day. The one-a-day constraint stays for every other
meeting; the services refuse the same talk or lecture entered twice (same day, topic, people)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [('activities', '0004_attendance_counted')]

    operations = [
        migrations.RemoveConstraint(
            model_name='activityrecord',
            name='one_record_per_day',
        ),
        migrations.AddConstraint(
            model_name='activityrecord',
            constraint=models.UniqueConstraint(condition=models.Q(('kind__in', ('talk', 'lecture', 'other')), _negated=True), fields=('unit', 'kind', 'held_on'), name='one_meeting_per_day'),
        ),
    ]
