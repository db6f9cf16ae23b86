from tortoise import migrations
from tortoise.migrations import operations as ops
from consult.models.needs import NeedCategory, NeedChannel, NeedState
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import CheckConstraint

class Migration(migrations.Migration):
    dependencies = [('budget', '0004_procurement_indexes'), ('consult', '0003_subject_types'), ('core', '0001_initial'), ('core', '0002_sessions_and_reset_codes'), ('core', '0003_follows_and_notifications')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Need',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('number', fields.CharField(unique=True, max_length=16)),
                ('resident', fields.ForeignKeyField('core.User', source_field='resident_id', null=True, db_constraint=True, to_field='id', related_name='needs', on_delete=OnDelete.SET_NULL)),
                ('entered_by', fields.ForeignKeyField('core.User', source_field='entered_by_id', null=True, db_constraint=True, to_field='id', related_name='needs_entered', on_delete=OnDelete.SET_NULL)),
                ('channel', fields.CharEnumField(default=NeedChannel.ONLINE, description='ONLINE: online\nTALK_STATION: talk_station\nTALK_BOX: talk_box\nPHONE: phone\nHOME_VISIT: home_visit', enum_type=NeedChannel, max_length=16)),
                ('area', fields.ForeignKeyField('core.Area', source_field='area_id', db_constraint=True, to_field='id', related_name='needs', on_delete=OnDelete.RESTRICT)),
                ('place', fields.CharField(default='', max_length=200)),
                ('category', fields.CharEnumField(description='ENVIRONMENT: environment\nROADS: roads\nSAFETY: safety\nELDERLY: elderly\nCHILDREN: children\nFACILITIES: facilities\nSERVICES: services\nOTHER: other', enum_type=NeedCategory, max_length=16)),
                ('title', fields.CharField(max_length=120)),
                ('body', fields.TextField(unique=False)),
                ('state', fields.CharEnumField(default=NeedState.RECEIVED, description='RECEIVED: received\nACCEPTED: accepted\nPROPOSED: proposed\nREFERRED: referred\nDECLINED: declined\nRESOLVED: resolved', enum_type=NeedState, max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('answered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('answered_by', fields.ForeignKeyField('core.User', source_field='answered_by_id', null=True, db_constraint=True, to_field='id', related_name='needs_answered', on_delete=OnDelete.SET_NULL)),
                ('answer_note', fields.TextField(default='', unique=False)),
                ('owner', fields.CharField(default='', max_length=100)),
                ('due_on', fields.DateField(null=True)),
                ('referred_to', fields.CharField(default='', max_length=200)),
                ('proposal', fields.ForeignKeyField('budget.Proposal', source_field='proposal_id', null=True, db_constraint=True, to_field='id', related_name='needs', on_delete=OnDelete.SET_NULL)),
                ('resolved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('resolved_by', fields.ForeignKeyField('core.User', source_field='resolved_by_id', null=True, db_constraint=True, to_field='id', related_name='needs_resolved', on_delete=OnDelete.SET_NULL)),
                ('resolution_note', fields.TextField(default='', unique=False)),
                ('rating', fields.SmallIntField(null=True)),
                ('rating_comment', fields.TextField(default='', unique=False)),
                ('rated_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'need', 'app': 'consult', 'constraints': [CheckConstraint(check='rating IS NULL OR rating BETWEEN 1 AND 5', name='need_rating')], 'indexes': [Index(fields=['state', 'created_at']), Index(fields=['area_id', 'created_at']), Index(fields=['resident_id', 'created_at'])], 'pk_attr': 'id', 'table_description': "A resident's need and every step of its answer, each with its date."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='NeedPhoto',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('need', fields.ForeignKeyField('consult.Need', source_field='need_id', db_constraint=True, to_field='id', related_name='photos', on_delete=OnDelete.CASCADE)),
                ('stored_name', fields.CharField(unique=True, max_length=64)),
                ('content_type', fields.CharField(max_length=32)),
                ('size', fields.IntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'need_photo', 'app': 'consult', 'indexes': [Index(fields=['need_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='NeedResponseTime',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('month', fields.CharField(max_length=7)),
                ('area', fields.ForeignKeyField('core.Area', source_field='area_id', db_constraint=True, to_field='id', related_name='need_response_times', on_delete=OnDelete.CASCADE)),
                ('channel', fields.CharEnumField(description='ONLINE: online\nTALK_STATION: talk_station\nTALK_BOX: talk_box\nPHONE: phone\nHOME_VISIT: home_visit', enum_type=NeedChannel, max_length=16)),
                ('hours', fields.IntField()),
                ('count', fields.IntField(default=0)),
            ],
            options={'table': 'need_response_time', 'app': 'consult', 'unique_together': (('month', 'area', 'channel', 'hours'),), 'pk_attr': 'id', 'table_description': 'How many needs of a month, area and channel were answered after so many whole hours.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='NeedStat',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('month', fields.CharField(max_length=7)),
                ('area', fields.ForeignKeyField('core.Area', source_field='area_id', db_constraint=True, to_field='id', related_name='need_stats', on_delete=OnDelete.CASCADE)),
                ('channel', fields.CharEnumField(description='ONLINE: online\nTALK_STATION: talk_station\nTALK_BOX: talk_box\nPHONE: phone\nHOME_VISIT: home_visit', enum_type=NeedChannel, max_length=16)),
                ('received', fields.IntField(default=0)),
                ('answered', fields.IntField(default=0)),
                ('resolved', fields.IntField(default=0)),
                ('rated', fields.IntField(default=0)),
                ('satisfied', fields.IntField(default=0)),
            ],
            options={'table': 'need_stat', 'app': 'consult', 'unique_together': (('month', 'area', 'channel'),), 'pk_attr': 'id', 'table_description': 'Counts of the needs received in one month, area and channel: how many were received,'},
            bases=['Model'],
        ),
    ]
