from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('core', '0001_initial'), ('core', '0002_sessions_and_reset_codes'), ('core', '0003_follows_and_notifications')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='LoginThrottle',
            index=Index(fields=['window_started_at']),
        ),
    ]
