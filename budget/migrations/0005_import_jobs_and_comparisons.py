from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from budget.models.imports import ImportPhase
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('budget', '0001_initial'), ('budget', '0002_studies'), ('budget', '0003_procurements'), ('budget', '0004_procurement_indexes'), ('core', '0004_throttle_pruning')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ComparisonCache',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('round', fields.OneToOneField('budget.Round', source_field='round_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('stamp', fields.CharField(max_length=64)),
                ('value', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('computed_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'comparison_cache', 'app': 'budget', 'pk_attr': 'id', 'table_description': "The counts of a round's comparison of rules (per rule, per envelope: what was funded"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ImportJob',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_by', fields.ForeignKeyField('core.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('filename', fields.CharField(max_length=200)),
                ('phase', fields.CharEnumField(default=ImportPhase.READING, description='READING: reading\nSAVING: saving\nDONE: done\nFAILED: failed', enum_type=ImportPhase, max_length=10)),
                ('lines_read', fields.IntField(default=0)),
                ('lines_total', fields.IntField(default=0)),
                ('round', fields.ForeignKeyField('budget.Round', source_field='round_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('existing', fields.ForeignKeyField('budget.Round', source_field='existing_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('error', fields.TextField(default='', unique=False)),
                ('error_status', fields.IntField(default=422)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'import_job', 'app': 'budget', 'pk_attr': 'id', 'table_description': 'One import of a .pb file, as its page shows it.'},
            bases=['Model'],
        ),
    ]
