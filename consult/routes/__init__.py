"""Consultation routes, mounted at /consult (names: consult:deliberation_list …), and the
few that live at the root (`root_routes`: the public calendar feed /meetings.ics)."""

from consult.routes import comments, conventions, deliberations, meetings

routes = comments.routes + deliberations.routes + meetings.routes + conventions.routes
root_routes = list(getattr(meetings, "root_routes", []))

# What consultation adds to the pages of other subjects (core.web.panels), in page order:
# the deliberation rounds and meetings that concern the subject, then its discussion.
PANELS = (deliberations.panel, meetings.panel, comments.panel)
