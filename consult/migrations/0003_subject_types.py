from tortoise import migrations
from tortoise.migrations import operations as ops
from consult.models.comments import SubjectType
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('consult', '0002_comment_tally'), ('core', '0003_follows_and_notifications')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='AgendaItem',
            name='subject_type',
            field=fields.CharEnumField(null=True, description='PROPOSAL: proposal\nROUND: round\nDELIBERATION: deliberation\nMEETING: meeting\nNEED: need\nCONSULTATION: consultation\nCLAUSE: clause\nQUESTIONNAIRE: questionnaire', enum_type=SubjectType, max_length=16),
        ),
        ops.AlterField(
            model_name='Comment',
            name='subject_type',
            field=fields.CharEnumField(description='PROPOSAL: proposal\nROUND: round\nDELIBERATION: deliberation\nMEETING: meeting\nNEED: need\nCONSULTATION: consultation\nCLAUSE: clause\nQUESTIONNAIRE: questionnaire', enum_type=SubjectType, max_length=16),
        ),
        ops.AlterField(
            model_name='CommentTally',
            name='subject_type',
            field=fields.CharEnumField(description='PROPOSAL: proposal\nROUND: round\nDELIBERATION: deliberation\nMEETING: meeting\nNEED: need\nCONSULTATION: consultation\nCLAUSE: clause\nQUESTIONNAIRE: questionnaire', enum_type=SubjectType, max_length=16),
        ),
        ops.AlterField(
            model_name='DeliberationLink',
            name='subject_type',
            field=fields.CharEnumField(description='PROPOSAL: proposal\nROUND: round\nDELIBERATION: deliberation\nMEETING: meeting\nNEED: need\nCONSULTATION: consultation\nCLAUSE: clause\nQUESTIONNAIRE: questionnaire', enum_type=SubjectType, max_length=16),
        ),
        ops.AlterField(
            model_name='FollowUpAction',
            name='subject_type',
            field=fields.CharEnumField(null=True, description='PROPOSAL: proposal\nROUND: round\nDELIBERATION: deliberation\nMEETING: meeting\nNEED: need\nCONSULTATION: consultation\nCLAUSE: clause\nQUESTIONNAIRE: questionnaire', enum_type=SubjectType, max_length=16),
        ),
    ]
