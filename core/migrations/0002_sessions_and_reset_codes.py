from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('core', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ResetCode',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.OneToOneField('core.User', source_field='user_id', db_constraint=True, to_field='id', related_name='reset_code', on_delete=OnDelete.CASCADE)),
                ('code_hash', fields.CharField(max_length=200)),
                ('created_by', fields.ForeignKeyField('core.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='reset_codes_created', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'reset_code', 'app': 'core', 'pk_attr': 'id', 'table_description': 'A one-time code with which a resident sets a new password ("forgot my password").'},
            bases=['Model'],
        ),
        ops.AlterModelOptions(
            name='LoginThrottle',
            options={'table': 'login_throttle', 'app': 'core', 'pk_attr': 'id', 'table_description': 'Counted attempts per key (an account at one address, or an address), for throttling'},
        ),
        ops.RenameField(
            model_name='LoginThrottle',
            old_name='locked_until',
            new_name='last_attempt_at',
        ),
        ops.AddField(
            model_name='User',
            name='session_version',
            field=fields.IntField(default=0, db_default=0),
        ),
    ]
