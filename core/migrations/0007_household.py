from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('core', '0006_page_stamp')]

    initial = False

    operations = [
        ops.AddField(
            model_name='User',
            name='household',
            field=fields.CharField(default='', db_default='', max_length=100),
        ),
    ]
