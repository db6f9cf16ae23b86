from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('budget', '0001_initial'), ('core', '0001_initial')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Round',
            name='is_study',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='Round',
            name='source_digest',
            field=fields.CharField(null=True, unique=True, max_length=64),
        ),
        ops.AddField(
            model_name='Round',
            name='study_public',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='Round',
            name='study_voters',
            field=fields.IntField(null=True),
        ),
        # Rounds imported before this migration are studies; their turnout is their ballots.
        ops.RunSQL(
            [
                "UPDATE round SET is_study = TRUE WHERE source <> ''",
                "UPDATE round SET study_voters = "
                "(SELECT COUNT(*) FROM ballot WHERE ballot.round_id = round.id) "
                "WHERE source <> ''",
            ],
            reverse_sql=[],
        ),
    ]
