from tortoise import migrations
from tortoise.migrations import operations as ops
from consult.models.questionnaires import QuestionKind
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import CheckConstraint

class Migration(migrations.Migration):
    dependencies = [('budget', '0001_initial'), ('budget', '0002_studies'), ('budget', '0003_procurements'), ('budget', '0004_procurement_indexes'), ('consult', '0004_needs'), ('core', '0001_initial'), ('core', '0002_sessions_and_reset_codes'), ('core', '0003_follows_and_notifications')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Questionnaire',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('title', fields.CharField(max_length=200)),
                ('introduction', fields.TextField(default='', unique=False)),
                ('opens_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('closes_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('published_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('closed_early_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('show_results_live', fields.BooleanField(default=False)),
                ('created_by', fields.ForeignKeyField('core.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='questionnaires_created', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'questionnaire', 'app': 'consult', 'constraints': [CheckConstraint(check='opens_at < closes_at', name='questionnaire_dates_ordered')], 'indexes': [Index(fields=['published_at', 'closes_at'])], 'pk_attr': 'id', 'table_description': 'A council survey with its dates and whether residents see results while it is open.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Question',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('questionnaire', fields.ForeignKeyField('consult.Questionnaire', source_field='questionnaire_id', db_constraint=True, to_field='id', related_name='questions', on_delete=OnDelete.CASCADE)),
                ('position', fields.IntField()),
                ('kind', fields.CharEnumField(description='SINGLE: single\nMULTIPLE: multiple\nSCALE: scale\nTEXT: text', enum_type=QuestionKind, max_length=8)),
                ('prompt', fields.CharField(max_length=300)),
                ('help_text', fields.CharField(default='', max_length=300)),
                ('required', fields.BooleanField(default=True)),
                ('max_choices', fields.SmallIntField(null=True)),
                ('low_label', fields.CharField(default='', max_length=40)),
                ('high_label', fields.CharField(default='', max_length=40)),
                ('max_length', fields.IntField(null=True)),
            ],
            options={'table': 'question', 'app': 'consult', 'indexes': [Index(fields=['questionnaire_id', 'position'])], 'pk_attr': 'id', 'table_description': 'One question, shown in `position` order. Choice questions have options, a scale has'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='QuestionOption',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('question', fields.ForeignKeyField('consult.Question', source_field='question_id', db_constraint=True, to_field='id', related_name='options', on_delete=OnDelete.CASCADE)),
                ('position', fields.IntField()),
                ('label', fields.CharField(max_length=200)),
            ],
            options={'table': 'question_option', 'app': 'consult', 'indexes': [Index(fields=['question_id', 'position'])], 'pk_attr': 'id', 'table_description': 'One choice of a single- or multiple-choice question.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='QuestionnaireArea',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('questionnaire', fields.ForeignKeyField('consult.Questionnaire', source_field='questionnaire_id', db_constraint=True, to_field='id', related_name='area_links', on_delete=OnDelete.CASCADE)),
                ('area', fields.ForeignKeyField('core.Area', source_field='area_id', db_constraint=True, to_field='id', related_name='questionnaire_links', on_delete=OnDelete.RESTRICT)),
            ],
            options={'table': 'questionnaire_area', 'app': 'consult', 'unique_together': [('questionnaire_id', 'area_id')], 'indexes': [Index(fields=['area_id'])], 'pk_attr': 'id', 'table_description': 'An area whose residents may answer (none: every verified resident).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='QuestionnaireResponse',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('questionnaire', fields.ForeignKeyField('consult.Questionnaire', source_field='questionnaire_id', db_constraint=True, to_field='id', related_name='responses', on_delete=OnDelete.CASCADE)),
                ('respondent', fields.ForeignKeyField('core.User', source_field='respondent_id', db_constraint=True, to_field='id', related_name='questionnaire_responses', on_delete=OnDelete.CASCADE)),
                ('area', fields.ForeignKeyField('core.Area', source_field='area_id', null=True, db_constraint=True, to_field='id', related_name='questionnaire_responses', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('version', fields.IntField(default=0)),
            ],
            options={'table': 'questionnaire_response', 'app': 'consult', 'unique_together': [('questionnaire_id', 'respondent_id')], 'pk_attr': 'id', 'table_description': 'The answers of one resident to one questionnaire, kept once per resident by the database.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Answer',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('response', fields.ForeignKeyField('consult.QuestionnaireResponse', source_field='response_id', db_constraint=True, to_field='id', related_name='answers', on_delete=OnDelete.CASCADE)),
                ('questionnaire', fields.ForeignKeyField('consult.Questionnaire', source_field='questionnaire_id', db_constraint=True, to_field='id', related_name='answers', on_delete=OnDelete.CASCADE)),
                ('question', fields.ForeignKeyField('consult.Question', source_field='question_id', db_constraint=True, to_field='id', related_name='answers', on_delete=OnDelete.CASCADE)),
                ('option', fields.ForeignKeyField('consult.QuestionOption', source_field='option_id', null=True, db_constraint=True, to_field='id', related_name='answers', on_delete=OnDelete.CASCADE)),
                ('scale', fields.SmallIntField(null=True)),
                ('text', fields.TextField(default='', unique=False)),
                ('hidden_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('hidden_by', fields.ForeignKeyField('core.User', source_field='hidden_by_id', null=True, db_constraint=True, to_field='id', related_name='answers_hidden', on_delete=OnDelete.SET_NULL)),
                ('hide_reason', fields.CharField(default='', max_length=200)),
            ],
            options={'table': 'answer', 'app': 'consult', 'constraints': [CheckConstraint(check='scale IS NULL OR scale BETWEEN 1 AND 5', name='answer_scale')], 'indexes': [Index(fields=['question_id', 'option_id']), Index(fields=['response_id']), Index(fields=['questionnaire_id'])], 'pk_attr': 'id', 'table_description': 'One answer to one question: a chosen option (one row per option chosen), a scale value'},
            bases=['Model'],
        ),
    ]
