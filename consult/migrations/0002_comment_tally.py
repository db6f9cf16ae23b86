from tortoise import migrations
from tortoise.migrations import operations as ops
from consult.models.comments import SubjectType
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('consult', '0001_initial'), ('core', '0001_initial'), ('core', '0002_sessions_and_reset_codes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CommentTally',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('subject_type', fields.CharEnumField(description='PROPOSAL: proposal\nROUND: round\nDELIBERATION: deliberation\nMEETING: meeting', enum_type=SubjectType, max_length=16)),
                ('subject_id', fields.IntField()),
                ('in_favour', fields.IntField(default=0)),
                ('against', fields.IntField(default=0)),
                ('neutral', fields.IntField(default=0)),
            ],
            options={'table': 'comment_tally', 'app': 'consult', 'unique_together': [('subject_type', 'subject_id')], 'pk_attr': 'id', 'table_description': 'How many comments on a subject take each stance, replies and hidden ones included.'},
            bases=['Model'],
        ),
    ]
