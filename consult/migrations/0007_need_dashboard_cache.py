from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('budget', '0001_initial'), ('budget', '0002_studies'), ('budget', '0003_procurements'), ('budget', '0004_procurement_indexes'), ('consult', '0006_need_answers'), ('core', '0001_initial'), ('core', '0002_sessions_and_reset_codes'), ('core', '0003_follows_and_notifications')]

    initial = False

    operations = [
        ops.CreateModel(
            name='NeedDashboardCache',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(unique=True, max_length=64)),
                ('stamp', fields.CharField(max_length=120)),
                ('value', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('computed_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'need_dashboard_cache', 'app': 'consult', 'pk_attr': 'id', 'table_description': 'A computed part of the needs dashboard for one selection, valid while its stamp holds.'},
            bases=['Model'],
        ),
        ops.AddIndex(
            model_name='NeedStat',
            index=Index(fields=['month', 'channel', 'area_id', 'received', 'answered', 'resolved', 'rated', 'satisfied', 'id']),
        ),
    ]
