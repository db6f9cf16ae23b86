"""Budgeting routes, mounted at /budget (names: budget:round_list, budget:proposal_detail …)."""

from budget.routes import (
    disclosure,
    finance,
    pabulib,
    procurement_files,
    procurement_money,
    procurements,
    proposals,
    results,
    rounds,
    share,
    studies,
    voting,
)
from budget.services import notices

# The kinds of subject one may follow, each with its `exists` (core.web.follow).
FOLLOWABLES = notices.FOLLOWABLES

# The busiest first (casting; the proposal list and pages): no two routes match the same path
# (tests/test_route_table.py), so the order only decides how many patterns a request is tried on.
routes = (
    voting.routes
    + proposals.routes
    + rounds.routes
    + pabulib.routes
    + studies.routes
    + results.routes
    + procurements.routes
    + procurement_money.routes
    + procurement_files.routes
    + disclosure.routes
    + finance.routes
    + share.routes
)
