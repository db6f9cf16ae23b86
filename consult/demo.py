"""The demo district's consultation, loaded after its budgeting (`budget.demo.load_demo_data`):
deliberation rounds (waste sorting, with two opinion groups), the monthly talks and briefings
with their minutes and actions (linked to the waste-sorting round, so after it),
discussions on proposals, two questionnaires (safety, closed; the canteen, open), a year of
needs, residents' conventions (one adopted after a revision, one in consultation), and last
the notifications of what the demo residents follow."""

from __future__ import annotations

from consult.demo_comments import load_comments_demo
from consult.demo_conventions import load_conventions_demo
from consult.demo_deliberation import load_deliberation_demo
from consult.demo_meetings import load_meetings_demo
from consult.demo_needs import load_needs_demo
from consult.demo_notifications import load_notifications_demo
from consult.demo_questionnaires import load_questionnaires_demo


async def load_consult_demo() -> None:
    await load_deliberation_demo()
    await load_meetings_demo()
    await load_comments_demo()
    await load_questionnaires_demo()
    await load_needs_demo()
    await load_conventions_demo()
    await load_notifications_demo()  # last: what the services would have followed and told
