from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('core', '0004_throttle_pruning')]

    initial = False

    operations = [
        ops.AddField(
            model_name='AuditEntry',
            name='client_address',
            field=fields.CharField(default='', db_default='', max_length=64),
        ),
    ]
