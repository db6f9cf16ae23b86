from tortoise import migrations
from tortoise.migrations import operations as ops
from consult.models.conventions import ConventionState, Majority, VotingUnit
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import CheckConstraint

class Migration(migrations.Migration):
    dependencies = [('budget', '0001_initial'), ('budget', '0002_studies'), ('budget', '0003_procurements'), ('budget', '0004_procurement_indexes'), ('consult', '0007_need_dashboard_cache'), ('core', '0001_initial'), ('core', '0002_sessions_and_reset_codes'), ('core', '0003_follows_and_notifications')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Convention',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('title', fields.CharField(max_length=200)),
                ('state', fields.CharEnumField(default=ConventionState.DRAFT, description='DRAFT: draft\nCONSULTING: consulting\nRATIFYING: ratifying\nADOPTED: adopted\nREJECTED: rejected', enum_type=ConventionState, max_length=10)),
                ('opens_on', fields.DateField()),
                ('closes_on', fields.DateField()),
                ('turnout_percent', fields.SmallIntField(default=50)),
                ('majority', fields.CharEnumField(default=Majority.SIMPLE, description='SIMPLE: simple\nTWO_THIRDS: two_thirds\nTHREE_QUARTERS: three_quarters', enum_type=Majority, max_length=16)),
                ('voting_unit', fields.CharEnumField(default=VotingUnit.RESIDENT, description='RESIDENT: resident\nHOUSEHOLD: household', enum_type=VotingUnit, max_length=10)),
                ('version', fields.SmallIntField(default=1)),
                ('revision', fields.SmallIntField(default=0)),
                ('yes_votes', fields.IntField(default=0)),
                ('no_votes', fields.IntField(default=0)),
                ('abstentions', fields.IntField(default=0)),
                ('eligible', fields.IntField(null=True)),
                ('opened_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('ratification_opened_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('amends', fields.ForeignKeyField('consult.Convention', source_field='amends_id', null=True, db_constraint=True, to_field='id', related_name='amendments', on_delete=OnDelete.SET_NULL)),
                ('created_by', fields.ForeignKeyField('core.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='conventions_created', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'convention', 'app': 'consult', 'constraints': [CheckConstraint(check='opens_on <= closes_on', name='convention_dates_ordered'), CheckConstraint(check='turnout_percent BETWEEN 0 AND 100', name='convention_turnout_percent')], 'indexes': [Index(fields=['state', 'opens_on'])], 'pk_attr': 'id', 'table_description': 'A residents convention and its consultation, with the rule fixed at opening.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Clause',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('convention', fields.ForeignKeyField('consult.Convention', source_field='convention_id', db_constraint=True, to_field='id', related_name='clauses', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'convention_clause', 'app': 'consult', 'pk_attr': 'id', 'table_description': 'A clause as a subject of discussion, the same across versions (its words: ClauseText).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ConventionArea',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('convention', fields.ForeignKeyField('consult.Convention', source_field='convention_id', db_constraint=True, to_field='id', related_name='area_links', on_delete=OnDelete.CASCADE)),
                ('area', fields.ForeignKeyField('core.Area', source_field='area_id', db_constraint=True, to_field='id', related_name='convention_links', on_delete=OnDelete.RESTRICT)),
            ],
            options={'table': 'convention_area', 'app': 'consult', 'unique_together': [('convention_id', 'area_id')], 'indexes': [Index(fields=['area_id'])], 'pk_attr': 'id', 'table_description': 'An area whose residents take part (none: the whole district).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ConventionVersion',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('convention', fields.ForeignKeyField('consult.Convention', source_field='convention_id', db_constraint=True, to_field='id', related_name='versions', on_delete=OnDelete.CASCADE)),
                ('number', fields.SmallIntField()),
                ('preamble', fields.TextField(default='', unique=False)),
                ('summary', fields.CharField(default='', max_length=500)),
                ('published_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'convention_version', 'app': 'consult', 'unique_together': [('convention_id', 'number')], 'pk_attr': 'id', 'table_description': 'One version of the text: its preamble and a summary of what changed. Unpublished while'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ClauseText',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('clause', fields.ForeignKeyField('consult.Clause', source_field='clause_id', db_constraint=True, to_field='id', related_name='texts', on_delete=OnDelete.CASCADE)),
                ('version', fields.ForeignKeyField('consult.ConventionVersion', source_field='version_id', db_constraint=True, to_field='id', related_name='clause_texts', on_delete=OnDelete.CASCADE)),
                ('position', fields.SmallIntField()),
                ('heading', fields.CharField(max_length=100)),
                ('body', fields.TextField(unique=False)),
                ('change_note', fields.CharField(default='', max_length=500)),
            ],
            options={'table': 'convention_clause_text', 'app': 'consult', 'unique_together': [('version_id', 'clause_id')], 'indexes': [Index(fields=['version_id', 'position'])], 'pk_attr': 'id', 'table_description': 'The words of a clause in one version, its place there, and why it changed.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RatificationVoter',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('convention', fields.ForeignKeyField('consult.Convention', source_field='convention_id', db_constraint=True, to_field='id', related_name='voters', on_delete=OnDelete.CASCADE)),
                ('voter', fields.ForeignKeyField('core.User', source_field='voter_id', null=True, db_constraint=True, to_field='id', related_name='ratification_votes', on_delete=OnDelete.SET_NULL)),
                ('ballot_key', fields.CharField(max_length=160)),
            ],
            options={'table': 'ratification_voter', 'app': 'consult', 'unique_together': [('convention_id', 'ballot_key'), ('convention_id', 'voter_id')], 'pk_attr': 'id', 'table_description': 'That a resident, or their household, has voted on a convention: one row each, kept'},
            bases=['Model'],
        ),
    ]
