"""Consultation routes, mounted at /consult (names: consult:deliberation_list …), and the
few that live at the root (`root_routes`: the public calendar feed /meetings.ics, the needs
dashboard /needs and its open data /needs/stats.csv)."""

from consult.routes import (
    comments,
    conventions,
    deliberations,
    hub,
    meetings,
    need_answers,
    need_dashboard,
    needs,
    questionnaires,
)
from consult.services import notices

routes = hub.routes + comments.routes + deliberations.routes + meetings.routes
routes += questionnaires.routes + needs.routes + need_answers.routes
routes += conventions.routes
root_routes = list(getattr(meetings, "root_routes", [])) + need_dashboard.root_routes

# What consultation adds to the pages of other subjects (core.web.panels), in page order:
# the deliberation rounds and meetings that concern the subject, then its discussion.
PANELS = (deliberations.panel, meetings.panel, comments.panel, need_answers.panel)

# The kinds of subject one may follow, each with its `exists` (core.web.follow).
FOLLOWABLES = notices.FOLLOWABLES
