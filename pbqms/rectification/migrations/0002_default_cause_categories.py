"""The default cause categories (原因类别); administrators may rename, add or retire them."""

from django.db import migrations

DEFAULTS = [
    ("THINK", "思想认识不到位"),
    ("RULES", "制度不健全"),
    ("EXEC", "制度执行不严格"),
    ("DUTY", "责任落实不到位"),
    ("SKILL", "业务能力不足"),
    ("PROC", "工作流程缺陷"),
    ("SUPV", "监督检查不到位"),
    ("COND", "客观条件限制"),
    ("OTHER", "其他"),
]


def add(apps, schema_editor):
    CauseCategory = apps.get_model("rectification", "CauseCategory")
    for order, (code, name) in enumerate(DEFAULTS, 1):
        CauseCategory.objects.get_or_create(code=code, defaults={"name": name, "order": order})


class Migration(migrations.Migration):
    dependencies = [("rectification", "0001_initial")]
    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
