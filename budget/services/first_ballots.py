"""A resident's first online ballot on PostgreSQL, the busiest moment of a round, in as few
round trips as it can be (`budget.services.voting` decides when; measured by `make bench`).

- `write_first_ballot`: the ballot, its choices and its audit entry in one statement, atomic
  without BEGIN/COMMIT. The round row is read FOR SHARE while its phase is voting, as
  `voting._hold_voting_open` does: closing voting waits for the statement, and a ballot that
  arrives while voting closes finds it closed and writes nothing. The ballot goes in unless
  the unique (round, voter) or receipt constraint keeps it out; its choices and the audit
  entry (the one `core.audit.record` writes: subject the round, never the ballot) only with it.
- Kept rounds: each process keeps, per round and area, the round and the whole ballot of that
  area (envelopes, feasible projects and their costs) with the page stamp they were read at
  (`core.page_stamps`: a trigger moves it in the same transaction as any change to rounds,
  envelopes or proposals). A ballot checked against a kept round is written with that stamp,
  and the statement writes it only if the stamp is still the same in its own snapshot: so the
  ballot was checked against exactly what the database holds when it is written, in every
  process and host. When the stamp has moved nothing is written, the kept round is dropped,
  and the caller checks the ballot again against a fresh read.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from budget.models import Ballot, BallotChoice, Channel, Phase, Round
from budget.rules.ballots import EnvelopeSpec
from budget.services.ballot_form import round_ballot
from core.models import AuditEntry, User
from core.page_stamps import STAMP_TABLE

_STAMP = f'(SELECT "version" FROM "{STAMP_TABLE}" WHERE "id" = 1)'
_FIRST_BALLOT_SQL = f"""
WITH open_round AS (
    SELECT "id" FROM "{Round._meta.db_table}"
    WHERE "id" = $1 AND "phase" = $2 AND ($12::bigint IS NULL OR {_STAMP} = $12::bigint)
    FOR SHARE
), new_ballot AS (
    INSERT INTO "{Ballot._meta.db_table}"
        ("round_id", "voter_id", "area_id", "channel", "entered_by_id", "receipt",
         "created_at", "updated_at")
    SELECT "id", $3, $4, $5, NULL, $6, $7, $7 FROM open_round
    ON CONFLICT DO NOTHING
    RETURNING "id"
), chosen AS (
    INSERT INTO "{BallotChoice._meta.db_table}" ("ballot_id", "proposal_id", "points")
    SELECT new_ballot."id", c."proposal_id", c."points"
    FROM new_ballot, unnest($8::int[], $9::int[]) AS c("proposal_id", "points")
), logged AS (
    INSERT INTO "{AuditEntry._meta.db_table}"
        ("actor_id", "action", "subject_type", "subject_id", "public", "detail",
         "client_address", "created_at")
    SELECT $3, 'ballot.cast', $10, $1, FALSE, $11::jsonb, '', $7 FROM new_ballot
)
SELECT (SELECT "id" FROM new_ballot) AS "id", {_STAMP} AS "stamp"
"""


_ONLINE_DETAIL = json.dumps({"channel": Channel.ONLINE.value})  # the audit entry's detail


async def write_first_ballot(
    rnd: Round,
    voter: User,
    choices: Mapping[int, int],
    *,
    receipt: str,
    now: datetime,
    stamp: int | None = None,
) -> tuple[int | None, int]:
    """(the new ballot's id, or None when nothing was written; the page stamp the statement
    saw). With `stamp`, written only if the page stamp is still that one."""
    ids = sorted(choices)
    _count, rows = await Ballot._meta.db.execute_query(
        _FIRST_BALLOT_SQL,
        [
            rnd.id,
            Phase.VOTING.value,
            voter.id,
            voter.area_id,
            Channel.ONLINE.value,
            receipt,
            now,
            ids,
            [choices[pid] for pid in ids],
            Round._meta.db_table,
            _ONLINE_DETAIL,
            stamp,
        ],
    )
    return rows[0]["id"], rows[0]["stamp"]


# --- kept rounds -----------------------------------------------------------------------------


# A kept round is read again after this many seconds even if the stamp has not moved: the
# stamp is checked on every write, so this only bounds what could fool it, a database
# restored under running processes to a stamp that then comes back to the kept one.
LIFETIME = 60.0


@dataclass(frozen=True)
class KeptRound:
    round: Round  # never changed by its users: shared by the requests of this process
    specs: list[EnvelopeSpec]
    stamp: int
    expires: float = 0.0  # time.monotonic()


class KeptRounds:
    """A process's kept rounds: (database, round id, area id) → KeptRound, least recently
    used dropped first beyond `size`."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self.rounds: OrderedDict[tuple[tuple, int, int], KeptRound] = OrderedDict()

    async def get(self, round_id: int, area_id: int, using_db: Any) -> KeptRound | None:
        """The kept round, read (and kept) when this process has none; None when there is no
        such round."""
        key = (_where(using_db), round_id, area_id)
        kept = self.rounds.get(key)
        if kept is not None and kept.expires > time.monotonic():
            self.rounds.move_to_end(key)
            return kept
        found = await round_ballot(round_id, area_id, using_db)
        if found is None:
            self.rounds.pop(key, None)
            return None
        kept = self.rounds[key] = KeptRound(*found, expires=time.monotonic() + LIFETIME)
        self.rounds.move_to_end(key)
        while len(self.rounds) > self.size:
            self.rounds.popitem(last=False)
        return kept

    def drop(self, round_id: int, area_id: int, stamp: int, using_db: Any) -> None:
        """Forget the round kept at `stamp` (one read since may be kept already)."""
        key = (_where(using_db), round_id, area_id)
        kept = self.rounds.get(key)
        if kept is not None and kept.stamp == stamp:
            del self.rounds[key]


def _where(using_db: Any) -> tuple:
    """Which database a connection is to (ids and stamps are only unique within one)."""
    return tuple(getattr(using_db, name, None) for name in ("host", "port", "database"))


KEPT_ROUNDS = KeptRounds()
