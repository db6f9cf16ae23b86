from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

from core.page_stamps import Watched, create_stamp, watch

class Migration(migrations.Migration):
    dependencies = [('core', '0005_audit_client_address')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PageStamp',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('version', fields.BigIntField(default=0)),
                ('writer', fields.BigIntField(null=True)),
            ],
            options={'table': 'page_stamp', 'app': 'core', 'pk_attr': 'id', 'table_description': 'One row: how many times what public pages show has changed (`core.page_stamps`: moved'},
            bases=['Model'],
        ),
        ops.RunPython(create_stamp),
        # What public pages show of accounts: names, roles, areas, whether active; not what
        # signing in changes (password, last sign-in, session version, language).
        ops.RunPython(
            watch(
                Watched("area"),
                Watched(
                    "account",
                    columns=("username", "display_name", "role", "area_id", "verified", "is_active"),
                ),
                # the public entries only: a proposal's history (not a ballot's entry)
                Watched("audit_entry", only="ROW.public"),
                Watched("follow"),
            )
        ),
    ]
