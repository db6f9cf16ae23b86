from tortoise import migrations
from tortoise.migrations import operations as ops

from core.page_stamps import Watched, watch


class Migration(migrations.Migration):
    dependencies = [('budget', '0005_import_jobs_and_comparisons'), ('core', '0006_page_stamp')]

    initial = False

    operations = [
        # What budgeting's public pages read (core.page_stamps). A procurement only for the
        # link from its proposal's page.
        ops.RunPython(
            watch(
                Watched("round"),
                Watched("envelope"),
                Watched("proposal"),
                Watched("proposal_photo"),
                Watched("procurement", columns=("proposal_id",)),
            )
        ),
    ]
