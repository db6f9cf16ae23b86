from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from budget.models import BallotType, Category, Channel, Phase, ProposalStatus
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import CheckConstraint

class Migration(migrations.Migration):
    initial = True
    dependencies = [('core', '0001_initial')]

    operations = [
        ops.CreateModel(
            name='Round',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('title', fields.CharField(max_length=200)),
                ('description', fields.TextField(default='', unique=False)),
                ('fund_fen', fields.BigIntField()),
                ('phase', fields.CharEnumField(default=Phase.PROPOSING, description='PROPOSING: proposing\nREVIEWING: reviewing\nVOTING: voting\nRESULTS: results\nIMPLEMENTING: implementing\nCLOSED: closed', enum_type=Phase, max_length=16)),
                ('ballot_type', fields.CharEnumField(default=BallotType.BUDGET_APPROVAL, description='APPROVAL: approval\nBUDGET_APPROVAL: budget_approval\nPOINTS: points', enum_type=BallotType, max_length=20)),
                ('max_choices', fields.IntField(null=True)),
                ('points_total', fields.IntField(null=True)),
                ('rule', fields.CharField(default='greedy', max_length=20)),
                ('proposing_starts', fields.DateField(null=True)),
                ('reviewing_starts', fields.DateField(null=True)),
                ('voting_starts', fields.DateField(null=True)),
                ('results_starts', fields.DateField(null=True)),
                ('implementing_starts', fields.DateField(null=True)),
                ('closes', fields.DateField(null=True)),
                ('results_published_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('source', fields.CharField(default='', max_length=200)),
                ('created_by', fields.ForeignKeyField('core.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='rounds_created', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'round', 'app': 'budget', 'constraints': [CheckConstraint(check='fund_fen >= 0', name='round_fund_nonnegative')], 'pk_attr': 'id', 'table_description': 'One participatory-budgeting cycle.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Ballot',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('round', fields.ForeignKeyField('budget.Round', source_field='round_id', db_constraint=True, to_field='id', related_name='ballots', on_delete=OnDelete.CASCADE)),
                ('voter', fields.ForeignKeyField('core.User', source_field='voter_id', null=True, db_constraint=True, to_field='id', related_name='ballots', on_delete=OnDelete.RESTRICT)),
                ('area', fields.ForeignKeyField('core.Area', source_field='area_id', null=True, db_constraint=True, to_field='id', related_name='ballots', on_delete=OnDelete.RESTRICT)),
                ('channel', fields.CharEnumField(default=Channel.ONLINE, description='ONLINE: online\nPAPER: paper\nIMPORTED: imported', enum_type=Channel, max_length=10)),
                ('entered_by', fields.ForeignKeyField('core.User', source_field='entered_by_id', null=True, db_constraint=True, to_field='id', related_name='ballots_entered', on_delete=OnDelete.SET_NULL)),
                ('receipt', fields.CharField(unique=True, max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'ballot', 'app': 'budget', 'unique_together': [('round', 'voter')], 'indexes': [Index(fields=['round_id', 'area_id', 'channel'])], 'pk_attr': 'id', 'table_description': "One resident's ballot in one round. The unique (round, voter) constraint is what keeps"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Envelope',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('round', fields.ForeignKeyField('budget.Round', source_field='round_id', db_constraint=True, to_field='id', related_name='envelopes', on_delete=OnDelete.CASCADE)),
                ('area', fields.ForeignKeyField('core.Area', source_field='area_id', null=True, db_constraint=True, to_field='id', related_name='envelopes', on_delete=OnDelete.RESTRICT)),
                ('budget_fen', fields.BigIntField()),
            ],
            options={'table': 'envelope', 'app': 'budget', 'unique_together': [('round', 'area')], 'constraints': [CheckConstraint(check='budget_fen >= 0', name='envelope_budget_nonnegative')], 'pk_attr': 'id', 'table_description': "A part of a round's fund: one per area, plus the district-wide rest (area is null)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Outcome',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('round', fields.ForeignKeyField('budget.Round', source_field='round_id', db_constraint=True, to_field='id', related_name='outcomes', on_delete=OnDelete.CASCADE)),
                ('envelope', fields.ForeignKeyField('budget.Envelope', source_field='envelope_id', db_constraint=True, to_field='id', related_name='outcomes', on_delete=OnDelete.CASCADE)),
                ('rule', fields.CharField(max_length=20)),
                ('budget_fen', fields.BigIntField()),
                ('total_cost_fen', fields.BigIntField()),
                ('ballots_counted', fields.IntField()),
                ('data', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('computed_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('computed_by', fields.ForeignKeyField('core.User', source_field='computed_by_id', null=True, db_constraint=True, to_field='id', related_name='outcomes_computed', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'outcome', 'app': 'budget', 'unique_together': [('round', 'envelope')], 'pk_attr': 'id', 'table_description': 'The frozen count of one envelope: which proposals are funded, and why (explanations).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Proposal',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('round', fields.ForeignKeyField('budget.Round', source_field='round_id', db_constraint=True, to_field='id', related_name='proposals', on_delete=OnDelete.CASCADE)),
                ('area', fields.ForeignKeyField('core.Area', source_field='area_id', null=True, db_constraint=True, to_field='id', related_name='proposals', on_delete=OnDelete.RESTRICT)),
                ('title', fields.CharField(max_length=200)),
                ('description', fields.TextField(unique=False)),
                ('category', fields.CharEnumField(description='ENGINEERING: engineering\nEQUIPMENT: equipment\nSERVICE: service', enum_type=Category, max_length=16)),
                ('cost_fen', fields.BigIntField()),
                ('revised_cost_fen', fields.BigIntField(null=True)),
                ('beneficiaries', fields.IntField(default=0)),
                ('location', fields.CharField(default='', max_length=200)),
                ('author', fields.ForeignKeyField('core.User', source_field='author_id', null=True, db_constraint=True, to_field='id', related_name='proposals', on_delete=OnDelete.SET_NULL)),
                ('status', fields.CharEnumField(default=ProposalStatus.SUBMITTED, description='SUBMITTED: submitted\nFEASIBLE: feasible\nINFEASIBLE: infeasible\nMERGED: merged\nWITHDRAWN: withdrawn\nFUNDED: funded\nNOT_FUNDED: not_funded', enum_type=ProposalStatus, max_length=16)),
                ('merged_into', fields.ForeignKeyField('budget.Proposal', source_field='merged_into_id', null=True, db_constraint=True, to_field='id', related_name='merged_from', on_delete=OnDelete.SET_NULL)),
                ('review_reason', fields.TextField(default='', unique=False)),
                ('support_count', fields.IntField(default=0)),
                ('vote_count', fields.IntField(default=0)),
                ('external_id', fields.CharField(default='', max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'proposal', 'app': 'budget', 'constraints': [CheckConstraint(check='cost_fen > 0', name='proposal_cost_positive'), CheckConstraint(check='beneficiaries >= 0', name='proposal_beneficiaries_nonneg')], 'indexes': [Index(fields=['round_id', 'status']), Index(fields=['round_id', 'area_id']), Index(fields=['round_id', 'category']), Index(fields=['round_id', 'created_at']), Index(fields=['merged_into_id'])], 'pk_attr': 'id', 'table_description': 'A micro-project.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='BallotChoice',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('ballot', fields.ForeignKeyField('budget.Ballot', source_field='ballot_id', db_constraint=True, to_field='id', related_name='choices', on_delete=OnDelete.CASCADE)),
                ('proposal', fields.ForeignKeyField('budget.Proposal', source_field='proposal_id', db_constraint=True, to_field='id', related_name='ballot_choices', on_delete=OnDelete.CASCADE)),
                ('points', fields.IntField(default=1)),
            ],
            options={'table': 'ballot_choice', 'app': 'budget', 'unique_together': [('ballot', 'proposal')], 'constraints': [CheckConstraint(check='points > 0', name='ballot_choice_points_positive')], 'indexes': [Index(fields=['proposal_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ProposalPhoto',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('proposal', fields.ForeignKeyField('budget.Proposal', source_field='proposal_id', db_constraint=True, to_field='id', related_name='photos', on_delete=OnDelete.CASCADE)),
                ('stored_name', fields.CharField(unique=True, max_length=64)),
                ('content_type', fields.CharField(max_length=32)),
                ('size', fields.IntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'proposal_photo', 'app': 'budget', 'indexes': [Index(fields=['proposal_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Review',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('proposal', fields.ForeignKeyField('budget.Proposal', source_field='proposal_id', db_constraint=True, to_field='id', related_name='reviews', on_delete=OnDelete.CASCADE)),
                ('reviewer', fields.ForeignKeyField('core.User', source_field='reviewer_id', null=True, db_constraint=True, to_field='id', related_name='reviews', on_delete=OnDelete.SET_NULL)),
                ('feasible', fields.BooleanField()),
                ('reason', fields.TextField(unique=False)),
                ('revised_cost_fen', fields.BigIntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'review', 'app': 'budget', 'indexes': [Index(fields=['proposal_id'])], 'pk_attr': 'id', 'table_description': "A council member's verdict, the latest one is the proposal's status."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Support',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('proposal', fields.ForeignKeyField('budget.Proposal', source_field='proposal_id', db_constraint=True, to_field='id', related_name='supports', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('core.User', source_field='user_id', db_constraint=True, to_field='id', related_name='supports', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'support', 'app': 'budget', 'unique_together': [('proposal', 'user')], 'indexes': [Index(fields=['user_id'])], 'pk_attr': 'id', 'table_description': "A resident's endorsement of a proposal (one each)."},
            bases=['Model'],
        ),
    ]
