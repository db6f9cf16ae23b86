from tortoise import migrations
from tortoise.migrations import operations as ops
from consult.models.comments import SubjectType
from tortoise import fields


class AlterFieldState(ops.AlterField):
    """Only the fields' descriptions changed (the list of subject types): nothing to do in the
    database. SQLite would rebuild each table for an AlterField and lose its unique constraints
    (comment_tally's, which the tally's upsert needs), so the change stays in the state."""

    async def database_forward(self, *args, **kwargs) -> None:
        return None

    async def database_backward(self, *args, **kwargs) -> None:
        return None


class Migration(migrations.Migration):
    dependencies = [("consult", "0002_comment_tally"), ("core", "0003_follows_and_notifications")]

    initial = False

    operations = [
        AlterFieldState(
            model_name="AgendaItem",
            name="subject_type",
            field=fields.CharEnumField(
                null=True,
                description="PROPOSAL: proposal\nROUND: round\nDELIBERATION: deliberation\nMEETING: meeting\nNEED: need\nCONSULTATION: consultation\nCLAUSE: clause\nQUESTIONNAIRE: questionnaire",
                enum_type=SubjectType,
                max_length=16,
            ),
        ),
        AlterFieldState(
            model_name="Comment",
            name="subject_type",
            field=fields.CharEnumField(
                description="PROPOSAL: proposal\nROUND: round\nDELIBERATION: deliberation\nMEETING: meeting\nNEED: need\nCONSULTATION: consultation\nCLAUSE: clause\nQUESTIONNAIRE: questionnaire",
                enum_type=SubjectType,
                max_length=16,
            ),
        ),
        AlterFieldState(
            model_name="CommentTally",
            name="subject_type",
            field=fields.CharEnumField(
                description="PROPOSAL: proposal\nROUND: round\nDELIBERATION: deliberation\nMEETING: meeting\nNEED: need\nCONSULTATION: consultation\nCLAUSE: clause\nQUESTIONNAIRE: questionnaire",
                enum_type=SubjectType,
                max_length=16,
            ),
        ),
        AlterFieldState(
            model_name="DeliberationLink",
            name="subject_type",
            field=fields.CharEnumField(
                description="PROPOSAL: proposal\nROUND: round\nDELIBERATION: deliberation\nMEETING: meeting\nNEED: need\nCONSULTATION: consultation\nCLAUSE: clause\nQUESTIONNAIRE: questionnaire",
                enum_type=SubjectType,
                max_length=16,
            ),
        ),
        AlterFieldState(
            model_name="FollowUpAction",
            name="subject_type",
            field=fields.CharEnumField(
                null=True,
                description="PROPOSAL: proposal\nROUND: round\nDELIBERATION: deliberation\nMEETING: meeting\nNEED: need\nCONSULTATION: consultation\nCLAUSE: clause\nQUESTIONNAIRE: questionnaire",
                enum_type=SubjectType,
                max_length=16,
            ),
        ),
    ]
