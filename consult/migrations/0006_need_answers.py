from tortoise import migrations
from tortoise.migrations import operations as ops
from consult.models.needs import NeedState
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('budget', '0001_initial'), ('budget', '0002_studies'), ('budget', '0003_procurements'), ('budget', '0004_procurement_indexes'), ('consult', '0005_questionnaires'), ('core', '0001_initial'), ('core', '0002_sessions_and_reset_codes'), ('core', '0003_follows_and_notifications')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Need',
            name='answer',
            field=fields.CharEnumField(null=True, description='RECEIVED: received\nACCEPTED: accepted\nPROPOSED: proposed\nREFERRED: referred\nDECLINED: declined\nRESOLVED: resolved', enum_type=NeedState, max_length=16),
        ),
        ops.AddIndex(
            model_name='Need',
            index=Index(fields=['entered_by_id', 'created_at']),
        ),
        ops.AddIndex(
            model_name='Need',
            index=Index(fields=['area_id', 'state', 'created_at']),
        ),
        ops.AddIndex(
            model_name='Need',
            index=Index(fields=['proposal_id']),
        ),
        ops.AddIndex(
            model_name='Need',
            index=Index(fields=['created_at']),
        ),
    ]
