from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('budget', '0003_procurements'), ('core', '0001_initial'), ('core', '0002_sessions_and_reset_codes')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Procurement',
            index=Index(fields=['round_id', 'id']),
        ),
        ops.AddIndex(
            model_name='Procurement',
            index=Index(fields=['round_id', 'envelope_id', 'kind', 'status', 'cap_fen', 'committed_fen', 'paid_fen', 'planned_end', 'delivered_on']),
        ),
    ]
