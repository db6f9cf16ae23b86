"""Needs' pure rules: tracking numbers, when a need is overdue, until when its answer may be
rated, and which budgeting category a need's category becomes in a proposal. No I/O.

A tracking number looks like "XQ-7K3M-9P2D" (XQ for 需求): eight characters drawn at random
from an alphabet without the look-alikes 0/O, 1/I/L and U, so that one read out over the
phone or copied from a slip is typed right. 31^8 ≈ 8.5 × 10^11 numbers: guessing one of a
few hundred thousand needs takes millions of tries.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from consult.models.needs import NeedCategory

PREFIX = "XQ"
ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # no 0 O 1 I L U
GROUP = 4
GROUPS = 2

OVERDUE_AFTER = timedelta(days=7)  # a need not answered this long after receipt is overdue
RATING_WINDOW = timedelta(days=30)  # the resident rates the answer within this long of it

MAX_TITLE = 120
MAX_BODY = 5000
MAX_PLACE = 200
MAX_NOTE = 2000
MAX_OWNER = 100
MAX_BODY_NAME = 200  # the body a need is referred to
MAX_COMMENT = 1000  # a rating's comment

_NUMBER = re.compile(r"^XQ([" + ALPHABET + r"]{" + str(GROUP * GROUPS) + r"})$")


def new_number() -> str:
    """A fresh random tracking number ("XQ-7K3M-9P2D")."""
    chars = "".join(secrets.choice(ALPHABET) for _ in range(GROUP * GROUPS))
    groups = [chars[i : i + GROUP] for i in range(0, len(chars), GROUP)]
    return "-".join([PREFIX, *groups])


def normalize_number(raw: str) -> str | None:
    """A tracking number as typed ("xq 7k3m 9p2d", "XQ-7K3M-9P2D", "XQ7K3M9P2D") in its
    stored form, or None when it cannot be one."""
    compact = re.sub(r"[\s\-–—_.]", "", str(raw or "")[:40]).upper()
    match = _NUMBER.match(compact)
    if match is None:
        return None
    chars = match.group(1)
    groups = [chars[i : i + GROUP] for i in range(0, len(chars), GROUP)]
    return "-".join([PREFIX, *groups])


def age_days(received: datetime, now: datetime) -> int:
    """Whole days since a need was received."""
    return max(0, (now - received).days)


def is_overdue(received: datetime, answered: datetime | None, now: datetime) -> bool:
    """Not answered and received more than 7 days ago."""
    return answered is None and now - received > OVERDUE_AFTER


def overdue_before(now: datetime) -> datetime:
    """Needs received before this moment and still unanswered are overdue."""
    return now - OVERDUE_AFTER


def rating_deadline(answered: datetime) -> datetime:
    """The last moment the resident may rate an answer given at `answered`."""
    return answered + RATING_WINDOW


def may_still_rate(answered: datetime | None, now: datetime) -> bool:
    return answered is not None and now <= rating_deadline(answered)


# A need's category → the budgeting category its proposal most likely has (the council may
# choose another on the form).
PROPOSAL_CATEGORY = {
    NeedCategory.ENVIRONMENT: "service",
    NeedCategory.ROADS: "engineering",
    NeedCategory.SAFETY: "equipment",
    NeedCategory.ELDERLY: "service",
    NeedCategory.CHILDREN: "service",
    NeedCategory.FACILITIES: "engineering",
    NeedCategory.SERVICES: "service",
    NeedCategory.OTHER: "engineering",
}


def proposal_category(category: str) -> str:
    return PROPOSAL_CATEGORY.get(NeedCategory(category), "engineering")
