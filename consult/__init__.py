"""Consultation: discussion, deliberation rounds, meetings, needs and rule-making.

It stands on `core` (people, places, web plumbing) and, where a feature links to budgeting
(a need becomes a proposal), on `budget`'s services; `budget` never imports it.
"""
