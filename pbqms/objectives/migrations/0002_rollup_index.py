"""A covering index for the roll-up's one scan of member targets (PostgreSQL only): individual
targets in tree-path byte order with year, state and member, so recount() groups them with an
index-only scan instead of sorting 1.5 million rows."""

from django.db import migrations

CREATE = ('CREATE INDEX IF NOT EXISTS mtarget_rollup ON objectives_membertarget '
          '((org_path COLLATE "C"), year, state, member_id) WHERE part = \'individual\'')
DROP = "DROP INDEX IF EXISTS mtarget_rollup"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("objectives", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
