from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from consult.models.comments import Stance, SubjectType
from consult.models.deliberations import Choice, DeliberationPhase, StatementStatus
from consult.models.meetings import MeetingKind
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import CheckConstraint

class Migration(migrations.Migration):
    dependencies = [('core', '0001_initial'), ('core', '0002_sessions_and_reset_codes')]

    initial = True

    operations = [
        ops.CreateModel(
            name='Comment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('subject_type', fields.CharEnumField(description='PROPOSAL: proposal\nROUND: round\nDELIBERATION: deliberation\nMEETING: meeting', enum_type=SubjectType, max_length=16)),
                ('subject_id', fields.IntField()),
                ('parent', fields.ForeignKeyField('consult.Comment', source_field='parent_id', null=True, db_constraint=True, to_field='id', related_name='replies', on_delete=OnDelete.RESTRICT)),
                ('root', fields.ForeignKeyField('consult.Comment', source_field='root_id', null=True, db_constraint=True, to_field='id', related_name='thread', on_delete=OnDelete.RESTRICT)),
                ('depth', fields.SmallIntField(default=0)),
                ('author', fields.ForeignKeyField('core.User', source_field='author_id', null=True, db_constraint=True, to_field='id', related_name='comments', on_delete=OnDelete.SET_NULL)),
                ('stance', fields.CharEnumField(default=Stance.NEUTRAL, description='FOR: for\nAGAINST: against\nNEUTRAL: neutral', enum_type=Stance, max_length=8)),
                ('body', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('edited_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('hidden_reason', fields.CharField(default='', max_length=200)),
                ('hidden_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('hidden_by', fields.ForeignKeyField('core.User', source_field='hidden_by_id', null=True, db_constraint=True, to_field='id', related_name='comments_hidden', on_delete=OnDelete.SET_NULL)),
                ('report_count', fields.IntField(default=0)),
                ('reply_count', fields.IntField(default=0)),
            ],
            options={'table': 'comment', 'app': 'consult', 'constraints': [CheckConstraint(check='depth BETWEEN 0 AND 2', name='comment_depth')], 'indexes': [Index(fields=['subject_type', 'subject_id', 'depth', 'id']), Index(fields=['subject_type', 'subject_id', 'stance']), Index(fields=['root_id', 'id']), Index(fields=['author_id', 'created_at']), Index(fields=['report_count'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CommentReport',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('comment', fields.ForeignKeyField('consult.Comment', source_field='comment_id', db_constraint=True, to_field='id', related_name='reports', on_delete=OnDelete.CASCADE)),
                ('reporter', fields.ForeignKeyField('core.User', source_field='reporter_id', null=True, db_constraint=True, to_field='id', related_name='comment_reports', on_delete=OnDelete.SET_NULL)),
                ('reason', fields.CharField(default='', max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'comment_report', 'app': 'consult', 'unique_together': [('comment_id', 'reporter_id')], 'pk_attr': 'id', 'table_description': 'A report of a comment to the council by a resident, one per resident and comment.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Deliberation',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('title', fields.CharField(max_length=200)),
                ('description', fields.TextField(default='', unique=False)),
                ('phase', fields.CharEnumField(default=DeliberationPhase.COLLECTING, description='COLLECTING: collecting\nDISCUSSING: discussing\nDECIDING: deciding\nPUBLISHED: published', enum_type=DeliberationPhase, max_length=12)),
                ('starts_on', fields.DateField()),
                ('ends_on', fields.DateField()),
                ('summary', fields.TextField(default='', unique=False)),
                ('decision', fields.TextField(default='', unique=False)),
                ('published_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_by', fields.ForeignKeyField('core.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='deliberations_created', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('votes_version', fields.IntField(default=0)),
            ],
            options={'table': 'deliberation', 'app': 'consult', 'constraints': [CheckConstraint(check='starts_on <= ends_on', name='deliberation_dates_ordered')], 'indexes': [Index(fields=['phase', 'starts_on'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DeliberationAnalysis',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('deliberation', fields.OneToOneField('consult.Deliberation', source_field='deliberation_id', db_constraint=True, to_field='id', related_name='analysis', on_delete=OnDelete.CASCADE)),
                ('votes_version', fields.IntField()),
                ('result', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('computed_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'deliberation_analysis', 'app': 'consult', 'pk_attr': 'id', 'table_description': 'Common ground, opinion groups and divisive statements of a deliberation round,'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DeliberationArea',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('deliberation', fields.ForeignKeyField('consult.Deliberation', source_field='deliberation_id', db_constraint=True, to_field='id', related_name='area_links', on_delete=OnDelete.CASCADE)),
                ('area', fields.ForeignKeyField('core.Area', source_field='area_id', db_constraint=True, to_field='id', related_name='deliberation_links', on_delete=OnDelete.RESTRICT)),
            ],
            options={'table': 'deliberation_area', 'app': 'consult', 'unique_together': [('deliberation_id', 'area_id')], 'indexes': [Index(fields=['area_id'])], 'pk_attr': 'id', 'table_description': 'An area a deliberation round concerns (none: the whole district).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DeliberationLink',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('deliberation', fields.ForeignKeyField('consult.Deliberation', source_field='deliberation_id', db_constraint=True, to_field='id', related_name='links', on_delete=OnDelete.CASCADE)),
                ('subject_type', fields.CharEnumField(description='PROPOSAL: proposal\nROUND: round\nDELIBERATION: deliberation\nMEETING: meeting', enum_type=SubjectType, max_length=16)),
                ('subject_id', fields.IntField()),
            ],
            options={'table': 'deliberation_link', 'app': 'consult', 'unique_together': [('deliberation_id', 'subject_type', 'subject_id')], 'indexes': [Index(fields=['subject_type', 'subject_id'])], 'pk_attr': 'id', 'table_description': 'What the decision of a deliberation round concerns: a proposal, a budgeting round or a'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Meeting',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('title', fields.CharField(max_length=200)),
                ('kind', fields.CharEnumField(default=MeetingKind.COUNCIL, description='TALK: talk\nBRIEFING: briefing\nCOUNCIL: council\nHEARING: hearing', enum_type=MeetingKind, max_length=10)),
                ('description', fields.TextField(default='', unique=False)),
                ('place', fields.CharField(max_length=200)),
                ('area', fields.ForeignKeyField('core.Area', source_field='area_id', null=True, db_constraint=True, to_field='id', related_name='meetings', on_delete=OnDelete.RESTRICT)),
                ('starts_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('duration_minutes', fields.IntField(default=90)),
                ('rrule', fields.CharField(default='', max_length=200)),
                ('cancelled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('cancel_reason', fields.CharField(default='', max_length=200)),
                ('created_by', fields.ForeignKeyField('core.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='meetings_created', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('sequence', fields.IntField(default=0)),
            ],
            options={'table': 'meeting', 'app': 'consult', 'constraints': [CheckConstraint(check='duration_minutes > 0 AND duration_minutes <= 1440', name='meeting_duration_range')], 'indexes': [Index(fields=['area_id', 'starts_at']), Index(fields=['starts_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AgendaItem',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('meeting', fields.ForeignKeyField('consult.Meeting', source_field='meeting_id', db_constraint=True, to_field='id', related_name='agenda', on_delete=OnDelete.CASCADE)),
                ('occurrence_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('position', fields.IntField(default=0)),
                ('title', fields.CharField(max_length=200)),
                ('subject_type', fields.CharEnumField(null=True, description='PROPOSAL: proposal\nROUND: round\nDELIBERATION: deliberation\nMEETING: meeting', enum_type=SubjectType, max_length=16)),
                ('subject_id', fields.IntField(null=True)),
            ],
            options={'table': 'agenda_item', 'app': 'consult', 'indexes': [Index(fields=['meeting_id', 'occurrence_at']), Index(fields=['subject_type', 'subject_id'])], 'pk_attr': 'id', 'table_description': 'One item on the agenda of a meeting, optionally about a proposal, a budgeting round or a'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MeetingRecord',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('meeting', fields.ForeignKeyField('consult.Meeting', source_field='meeting_id', db_constraint=True, to_field='id', related_name='records', on_delete=OnDelete.CASCADE)),
                ('occurrence_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('attendance', fields.IntField()),
                ('minutes', fields.TextField(unique=False)),
                ('recorded_by', fields.ForeignKeyField('core.User', source_field='recorded_by_id', null=True, db_constraint=True, to_field='id', related_name='meeting_records', on_delete=OnDelete.SET_NULL)),
                ('recorded_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'meeting_record', 'app': 'consult', 'unique_together': [('meeting_id', 'occurrence_at')], 'constraints': [CheckConstraint(check='attendance >= 0', name='meeting_attendance')], 'pk_attr': 'id', 'table_description': 'What happened at one occurrence of a meeting: attendance and minutes. Only for an'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FollowUpAction',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('meeting', fields.ForeignKeyField('consult.Meeting', source_field='meeting_id', db_constraint=True, to_field='id', related_name='actions', on_delete=OnDelete.CASCADE)),
                ('record', fields.ForeignKeyField('consult.MeetingRecord', source_field='record_id', db_constraint=True, to_field='id', related_name='actions', on_delete=OnDelete.CASCADE)),
                ('title', fields.CharField(max_length=200)),
                ('owner', fields.CharField(max_length=100)),
                ('due_on', fields.DateField()),
                ('done_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('subject_type', fields.CharEnumField(null=True, description='PROPOSAL: proposal\nROUND: round\nDELIBERATION: deliberation\nMEETING: meeting', enum_type=SubjectType, max_length=16)),
                ('subject_id', fields.IntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'follow_up_action', 'app': 'consult', 'indexes': [Index(fields=['subject_type', 'subject_id']), Index(fields=['record_id'])], 'pk_attr': 'id', 'table_description': 'A follow-up decided at a meeting: who does what by when, and whether it is done. Shown'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Statement',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('deliberation', fields.ForeignKeyField('consult.Deliberation', source_field='deliberation_id', db_constraint=True, to_field='id', related_name='statements', on_delete=OnDelete.CASCADE)),
                ('author', fields.ForeignKeyField('core.User', source_field='author_id', null=True, db_constraint=True, to_field='id', related_name='statements', on_delete=OnDelete.SET_NULL)),
                ('body', fields.CharField(max_length=140)),
                ('status', fields.CharEnumField(default=StatementStatus.PENDING, description='PENDING: pending\nAPPROVED: approved\nREJECTED: rejected', enum_type=StatementStatus, max_length=10)),
                ('reject_reason', fields.CharField(default='', max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('decided_by', fields.ForeignKeyField('core.User', source_field='decided_by_id', null=True, db_constraint=True, to_field='id', related_name='statements_decided', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'statement', 'app': 'consult', 'indexes': [Index(fields=['deliberation_id', 'status', 'id']), Index(fields=['author_id', 'created_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StatementVote',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('statement', fields.ForeignKeyField('consult.Statement', source_field='statement_id', db_constraint=True, to_field='id', related_name='votes', on_delete=OnDelete.CASCADE)),
                ('deliberation', fields.ForeignKeyField('consult.Deliberation', source_field='deliberation_id', db_constraint=True, to_field='id', related_name='statement_votes', on_delete=OnDelete.CASCADE)),
                ('voter', fields.ForeignKeyField('core.User', source_field='voter_id', db_constraint=True, to_field='id', related_name='statement_votes', on_delete=OnDelete.CASCADE)),
                ('area', fields.ForeignKeyField('core.Area', source_field='area_id', null=True, db_constraint=True, to_field='id', related_name='statement_votes', on_delete=OnDelete.SET_NULL)),
                ('choice', fields.CharEnumField(description='AGREE: agree\nDISAGREE: disagree\nPASS: pass', enum_type=Choice, max_length=8)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'statement_vote', 'app': 'consult', 'unique_together': [('statement_id', 'voter_id')], 'indexes': [Index(fields=['deliberation_id', 'voter_id'])], 'pk_attr': 'id', 'table_description': 'The vote of one resident on one statement, the database keeps one per resident and'},
            bases=['Model'],
        ),
    ]
