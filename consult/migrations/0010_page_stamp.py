from tortoise import migrations
from tortoise.migrations import operations as ops

from core.page_stamps import Watched, watch


class Migration(migrations.Migration):
    dependencies = [('consult', '0009_questionnaire_announced'), ('core', '0006_page_stamp')]

    initial = False

    operations = [
        # What consultation shows on budgeting's public pages (its panels) and the
        # questionnaires they link to (core.page_stamps).
        ops.RunPython(
            watch(
                Watched("comment"),
                Watched("comment_tally"),
                Watched("deliberation"),
                Watched("deliberation_area"),
                Watched("deliberation_link"),
                Watched("meeting"),
                Watched("agenda_item"),
                Watched("meeting_record"),
                Watched("follow_up_action"),
                Watched("need"),
                Watched("questionnaire"),
                Watched("questionnaire_area"),
            )
        ),
    ]
