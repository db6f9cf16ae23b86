from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('budget', '0001_initial'), ('budget', '0002_studies'), ('budget', '0003_procurements'), ('budget', '0004_procurement_indexes'), ('consult', '0008_conventions'), ('core', '0004_throttle_pruning')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Questionnaire',
            name='announced_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        # Those that opened when they were published were announced then; those published
        # before their opening time were not (nothing announced them): the ticker will.
        ops.RunSQL(
            [
                "UPDATE questionnaire SET announced_at = published_at"
                " WHERE published_at IS NOT NULL AND opens_at <= published_at"
            ]
        ),
    ]
