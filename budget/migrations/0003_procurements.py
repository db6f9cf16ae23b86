from tortoise import migrations
from tortoise.migrations import operations as ops
from budget.models.procurements import CapChangeStatus, DocumentKind, EntryKind, ProcurementKind, ProcurementStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import CheckConstraint

class Migration(migrations.Migration):
    dependencies = [('budget', '0002_studies'), ('core', '0002_sessions_and_reset_codes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Procurement',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('round', fields.ForeignKeyField('budget.Round', source_field='round_id', db_constraint=True, to_field='id', related_name='procurements', on_delete=OnDelete.RESTRICT)),
                ('envelope', fields.ForeignKeyField('budget.Envelope', source_field='envelope_id', db_constraint=True, to_field='id', related_name='procurements', on_delete=OnDelete.RESTRICT)),
                ('proposal', fields.OneToOneField('budget.Proposal', source_field='proposal_id', db_constraint=True, to_field='id', related_name='procurement', on_delete=OnDelete.RESTRICT)),
                ('area', fields.ForeignKeyField('core.Area', source_field='area_id', null=True, db_constraint=True, to_field='id', related_name='procurements', on_delete=OnDelete.RESTRICT)),
                ('kind', fields.CharEnumField(description='WORKS: works\nGOODS: goods\nSERVICES: services', enum_type=ProcurementKind, max_length=10)),
                ('title', fields.CharField(max_length=200)),
                ('officer', fields.ForeignKeyField('core.User', source_field='officer_id', null=True, db_constraint=True, to_field='id', related_name='procurements', on_delete=OnDelete.SET_NULL)),
                ('planned_start', fields.DateField()),
                ('planned_end', fields.DateField()),
                ('cap_fen', fields.BigIntField()),
                ('committed_fen', fields.BigIntField(default=0)),
                ('paid_fen', fields.BigIntField(default=0)),
                ('status', fields.CharEnumField(default=ProcurementStatus.PLANNED, description='PLANNED: planned\nTENDERING: tendering\nCONTRACTED: contracted\nIN_PROGRESS: in_progress\nDELIVERED: delivered\nCLOSED: closed\nCANCELLED: cancelled', enum_type=ProcurementStatus, max_length=12)),
                ('cancel_reason', fields.TextField(default='', unique=False)),
                ('supplier_name', fields.CharField(default='', max_length=200)),
                ('supplier_code', fields.CharField(default='', max_length=18)),
                ('contract_ref', fields.CharField(default='', max_length=100)),
                ('contract_date', fields.DateField(null=True)),
                ('contract_amount_fen', fields.BigIntField(null=True)),
                ('delivered_on', fields.DateField(null=True)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_by', fields.ForeignKeyField('core.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='procurements_created', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'procurement', 'app': 'budget', 'constraints': [CheckConstraint(check='cap_fen > 0', name='procurement_cap_positive'), CheckConstraint(check='paid_fen >= 0', name='procurement_paid_nonnegative'), CheckConstraint(check='paid_fen <= committed_fen', name='procurement_paid_le_committed'), CheckConstraint(check='committed_fen <= cap_fen', name='procurement_committed_le_cap'), CheckConstraint(check='planned_start <= planned_end', name='procurement_dates_ordered')], 'indexes': [Index(fields=['round_id', 'status']), Index(fields=['envelope_id']), Index(fields=['round_id', 'area_id', 'kind']), Index(fields=['officer_id'])], 'pk_attr': 'id', 'table_description': 'A funded proposal being bought: works, goods or services, never above its cap.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CapChange',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('procurement', fields.ForeignKeyField('budget.Procurement', source_field='procurement_id', db_constraint=True, to_field='id', related_name='cap_changes', on_delete=OnDelete.CASCADE)),
                ('old_cap_fen', fields.BigIntField()),
                ('new_cap_fen', fields.BigIntField()),
                ('reason', fields.TextField(unique=False)),
                ('status', fields.CharEnumField(default=CapChangeStatus.PENDING, description='PENDING: pending\nAPPROVED: approved\nREFUSED: refused', enum_type=CapChangeStatus, max_length=10)),
                ('requested_by', fields.ForeignKeyField('core.User', source_field='requested_by_id', null=True, db_constraint=True, to_field='id', related_name='cap_changes_requested', on_delete=OnDelete.SET_NULL)),
                ('decided_by', fields.ForeignKeyField('core.User', source_field='decided_by_id', null=True, db_constraint=True, to_field='id', related_name='cap_changes_decided', on_delete=OnDelete.SET_NULL)),
                ('decision_note', fields.TextField(default='', unique=False)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'cap_change', 'app': 'budget', 'indexes': [Index(fields=['procurement_id', 'status'])], 'pk_attr': 'id', 'table_description': 'A request to raise a cap, decided by a council member (lowering needs no request).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LedgerEntry',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('procurement', fields.ForeignKeyField('budget.Procurement', source_field='procurement_id', db_constraint=True, to_field='id', related_name='entries', on_delete=OnDelete.RESTRICT)),
                ('kind', fields.CharEnumField(description='COMMIT: commit\nPAY: pay\nRELEASE: release\nREVERSAL: reversal', enum_type=EntryKind, max_length=10)),
                ('amount_fen', fields.BigIntField()),
                ('entry_date', fields.DateField()),
                ('officer', fields.ForeignKeyField('core.User', source_field='officer_id', null=True, db_constraint=True, to_field='id', related_name='ledger_entries', on_delete=OnDelete.SET_NULL)),
                ('document_ref', fields.CharField(default='', max_length=100)),
                ('note', fields.TextField(default='', unique=False)),
                ('reverses', fields.OneToOneField('budget.LedgerEntry', source_field='reverses_id', null=True, db_constraint=True, to_field='id', related_name='reversed_by', on_delete=OnDelete.RESTRICT)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'ledger_entry', 'app': 'budget', 'constraints': [CheckConstraint(check='amount_fen > 0', name='ledger_amount_positive')], 'indexes': [Index(fields=['procurement_id', 'kind']), Index(fields=['entry_date']), Index(fields=['officer_id'])], 'pk_attr': 'id', 'table_description': 'One movement of money on a procurement. Never edited or deleted: a mistake is corrected'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Milestone',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('procurement', fields.ForeignKeyField('budget.Procurement', source_field='procurement_id', db_constraint=True, to_field='id', related_name='milestones', on_delete=OnDelete.CASCADE)),
                ('title', fields.CharField(max_length=200)),
                ('planned_date', fields.DateField()),
                ('done_date', fields.DateField(null=True)),
                ('note', fields.TextField(default='', unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'milestone', 'app': 'budget', 'indexes': [Index(fields=['procurement_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ProcurementDocument',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('procurement', fields.ForeignKeyField('budget.Procurement', source_field='procurement_id', db_constraint=True, to_field='id', related_name='documents', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='CONTRACT: contract\nACCEPTANCE: acceptance\nINVOICE: invoice\nOTHER: other', enum_type=DocumentKind, max_length=12)),
                ('title', fields.CharField(max_length=200)),
                ('stored_name', fields.CharField(unique=True, max_length=64)),
                ('content_type', fields.CharField(max_length=32)),
                ('size', fields.IntField()),
                ('public', fields.BooleanField(default=False)),
                ('uploaded_by', fields.ForeignKeyField('core.User', source_field='uploaded_by_id', null=True, db_constraint=True, to_field='id', related_name='procurement_documents', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'procurement_document', 'app': 'budget', 'indexes': [Index(fields=['procurement_id'])], 'pk_attr': 'id', 'table_description': 'A contract, acceptance report or invoice: checked by content, stored under a random'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ProcurementEvent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('procurement', fields.ForeignKeyField('budget.Procurement', source_field='procurement_id', db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.CASCADE)),
                ('from_status', fields.CharField(default='', max_length=12)),
                ('to_status', fields.CharField(max_length=12)),
                ('actor', fields.ForeignKeyField('core.User', source_field='actor_id', null=True, db_constraint=True, to_field='id', related_name='procurement_events', on_delete=OnDelete.SET_NULL)),
                ('note', fields.TextField(default='', unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'procurement_event', 'app': 'budget', 'indexes': [Index(fields=['procurement_id'])], 'pk_attr': 'id', 'table_description': "One step of a procurement's life (converted, a transition, the contract): who and when."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Rating',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('procurement', fields.ForeignKeyField('budget.Procurement', source_field='procurement_id', db_constraint=True, to_field='id', related_name='ratings', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('core.User', source_field='user_id', db_constraint=True, to_field='id', related_name='ratings', on_delete=OnDelete.CASCADE)),
                ('score', fields.SmallIntField()),
                ('comment', fields.TextField(default='', unique=False)),
                ('hidden_reason', fields.CharField(default='', max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'rating', 'app': 'budget', 'unique_together': [('procurement', 'user')], 'constraints': [CheckConstraint(check='score BETWEEN 1 AND 5', name='rating_score_1_to_5')], 'indexes': [Index(fields=['procurement_id', 'score'])], 'pk_attr': 'id', 'table_description': "A resident's verdict on what was delivered: 1–5, once each, changeable for 30 days."},
            bases=['Model'],
        ),
    ]
