# Result.categories (jsonb {category id: "38.00"}) becomes Result.subtotals ("3:3800;4:1450"),
# decision 0009: the stored results are converted, both ways.

from decimal import ROUND_HALF_UP, Decimal

from django.db import migrations, models


def _cents(value):
    return int((Decimal(str(value)) * 100).quantize(Decimal(1), ROUND_HALF_UP))


def to_text(apps, schema_editor):
    Result = apps.get_model("assessment", "Result")
    batch = []
    for pk, cats in Result.objects.values_list("pk", "categories").iterator(chunk_size=5000):
        text = ";".join(f"{int(c)}:{_cents(v)}" for c, v in sorted((cats or {}).items(), key=lambda kv: int(kv[0])))
        batch.append(Result(pk=pk, subtotals=text))
        if len(batch) >= 5000:
            Result.objects.bulk_update(batch, ["subtotals"])
            batch = []
    Result.objects.bulk_update(batch, ["subtotals"])


def to_json(apps, schema_editor):
    Result = apps.get_model("assessment", "Result")
    batch = []
    for pk, text in Result.objects.values_list("pk", "subtotals").iterator(chunk_size=5000):
        cats = {}
        for pair in text.split(";") if text else ():
            cat, _sep, cents = pair.partition(":")
            cats[cat] = f"{Decimal(int(cents)) / 100:.2f}"
        batch.append(Result(pk=pk, categories=cats))
        if len(batch) >= 5000:
            Result.objects.bulk_update(batch, ["categories"])
            batch = []
    Result.objects.bulk_update(batch, ["categories"])


class Migration(migrations.Migration):

    dependencies = [
        ('assessment', '0003_result_history_through_periods'),
    ]

    operations = [
        migrations.AddField(
            model_name='result',
            name='subtotals',
            field=models.TextField(blank=True, default='', verbose_name='category subtotals'),
        ),
        migrations.RunPython(to_text, to_json),
        migrations.RemoveField(
            model_name='result',
            name='categories',
        ),
    ]
