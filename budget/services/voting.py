"""Voting: casting and changing a ballot (online), paper ballots entered by grid workers,
receipts. What a ballot shows and how it is checked is in `budget.services.ballot_form`.

One ballot per resident per round. On PostgreSQL a resident's first online ballot (the
common case, and the busiest moment of a round) is written with one statement
(`budget.services.first_ballots`: the phase re-read FOR SHARE, the ballot, its choices and
the audit entry, atomic without BEGIN/COMMIT), checked against the round its process keeps
(`cast_on_kept_round`: written only if that round is still what the database holds), or else
against the round read with the chosen projects in one query; when the statement writes
nothing (a ballot exists, voting closed) the general path below decides. Otherwise `cast_ballot` and
`enter_paper_ballot` run in one transaction that locks the resident's existing ballot row
(SELECT … FOR UPDATE) or inserts it in a savepoint; a concurrent insert that wins makes ours
fail on the unique (round, voter) constraint, and we then lock and update the winner's row.
The choices are replaced in the same transaction, so many simultaneous submissions leave
exactly one ballot with one consistent set of choices (the last to commit).

Online and paper are exclusive: a resident who voted online cannot get a paper ballot entered,
and a resident whose paper ballot was entered sees it (read-only) and cannot vote online; a
grid worker of their area may correct the paper ballot until voting closes.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from tortoise import timezone
from tortoise.expressions import Q
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from budget.models import (
    Ballot,
    BallotChoice,
    Channel,
    Phase,
    Round,
)
from budget.permissions import can, is_staff, is_voter
from budget.rules.ballots import BallotCheck, EnvelopeSpec
from budget.services.ballot_form import (
    ballot_envelopes,
    check_ballot,
    check_specs,
    chosen_specs,
    error_messages,
    parse_choices,
    round_with_specs,
)
from budget.services.first_ballots import KEPT_ROUNDS, KeptRound, write_first_ballot
from core.audit import record
from core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.i18n import _
from core.models import Area, Role, User
from core.prepared import Prepared

RECEIPT_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud, copied by hand
RECEIPT_LENGTH = 10
PAGE_SIZE = 20


# --- receipts ------------------------------------------------------------------------------


_UNBIASED = 256 - 256 % len(RECEIPT_ALPHABET)  # bytes below this map evenly onto the alphabet


def new_receipt() -> str:
    """A random receipt code: one read of the system's random bytes (not one per letter),
    each byte kept only below `_UNBIASED` so that every letter is as likely."""
    letters: list[str] = []
    while len(letters) < RECEIPT_LENGTH:
        letters += [
            RECEIPT_ALPHABET[b % len(RECEIPT_ALPHABET)]
            for b in secrets.token_bytes(2 * RECEIPT_LENGTH)
            if b < _UNBIASED
        ]
    return "".join(letters[:RECEIPT_LENGTH])


def normalise_receipt(code: str | None) -> str:
    """What a person typed → the stored code: case, spaces and dashes do not matter, and the
    look-alikes O/0, I/1/L read as what the alphabet has (nothing)."""
    return "".join(c for c in str(code or "").upper() if c.isalnum())[:32]


def format_receipt(code: str) -> str:
    """ABCDEFGHJK → ABCDE-FGHJK (easier to copy)."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}" if len(code) >= 8 else code


# --- reading ballots -----------------------------------------------------------------------


async def ballot_of(round_id: int, voter_id: int) -> Ballot | None:
    """A voter's ballot in a round, with `.choice_map` (project id → points) and entered_by."""
    ballot = await Ballot.get_or_none(round_id=round_id, voter_id=voter_id).select_related(
        "entered_by"
    )
    if ballot is not None:
        rows = await BallotChoice.filter(ballot_id=ballot.id).values_list("proposal_id", "points")
        ballot.choice_map = dict(rows)
    return ballot


async def find_receipt(code: str | None) -> Ballot | None:
    """The ballot with this receipt code (with its round), or None."""
    code = normalise_receipt(code)
    if len(code) != RECEIPT_LENGTH:
        return None
    return await Ballot.get_or_none(receipt=code).select_related("round")


_ROUND = Prepared(lambda rid: Round.filter(id=rid).limit(2))


async def get_round(round_id: int) -> Round:
    rnd = await _ROUND.first(round_id)
    if rnd is None:
        raise NotFound(_("This round does not exist."))
    return rnd


# --- casting -------------------------------------------------------------------------------


def vote_refusal(user: User | None, rnd: Round) -> str:
    """Why `user` may not vote in `rnd` (for the 403 page)."""
    if rnd.phase != Phase.VOTING:
        return _("Voting is not open in this round.")
    return _("Only verified residents with an area can vote.")


def one_statement_ballots() -> bool:
    """Whether a first online ballot is written in one statement (PostgreSQL)."""
    return Ballot._meta.db.capabilities.dialect == "postgres"


async def round_for_ballot(
    round_id: int, voter: User, project_ids: list[int]
) -> tuple[Round, list[EnvelopeSpec]]:
    """The round and what checking the voter's ballot naming `project_ids` needs, in one
    query (PostgreSQL): pass both to `cast_ballot`."""
    found = await round_with_specs(round_id, voter.area_id, project_ids, Ballot._meta.db)
    if found is None:
        raise NotFound(_("This round does not exist."))
    return found


async def cast_ballot(
    voter: User | None,
    round_id: int | Round,
    choices: Mapping[int, int],
    *,
    specs: list[EnvelopeSpec] | None = None,
    first_tried: bool = False,
) -> Ballot:
    """Cast or change the voter's online ballot (one transaction). `round_id` may be the
    round itself (already loaded by the endpoint), and `specs` the voter's envelopes as
    `round_for_ballot` read them with it (naming at least the chosen projects);
    `first_tried`: `cast_on_kept_round` wrote nothing, which a second try would not change
    but for a changed round."""
    rnd = round_id if isinstance(round_id, Round) else await get_round(round_id)
    if not can(voter, "vote", rnd):
        raise PermissionDenied(vote_refusal(voter, rnd))
    if one_statement_ballots() and not first_tried:
        ballot = await _cast_first_ballot(rnd, voter, choices, specs)
        if ballot is not None:
            return ballot
    return await _save_ballot(rnd, voter, choices, channel=Channel.ONLINE, actor=voter)


async def enter_paper_ballot(
    worker: User | None, round_id: int, resident_id: int, choices: Mapping[int, int]
) -> Ballot:
    """A grid worker enters (or corrects) the paper ballot of a resident of their own area."""
    rnd = await get_round(round_id)
    resident = await paper_resident(worker, rnd, resident_id)
    return await _save_ballot(rnd, resident, choices, channel=Channel.PAPER, actor=worker)


async def paper_resident(worker: User | None, rnd: Round, resident_id: int) -> User:
    """The resident whose paper ballot `worker` may enter in `rnd` (403 otherwise)."""
    if not can(worker, "enter_paper_ballot", rnd):
        if rnd.phase != Phase.VOTING:
            raise PermissionDenied(_("Voting is not open in this round."))
        raise PermissionDenied(_("Only grid workers enter paper ballots."))
    resident = await User.get_or_none(id=resident_id).select_related("area")
    if resident is None:
        raise NotFound(_("This resident does not exist."))
    if worker.area_id is None or resident.area_id != worker.area_id:
        raise PermissionDenied(_("You can only enter paper ballots for residents of your area."))
    if resident.id == worker.id:
        raise PermissionDenied(_("Vote online for yourself; paper ballots are for others."))
    if not is_voter(resident):
        raise PermissionDenied(_("This person is not a verified resident who can vote."))
    return resident


async def _save_ballot(
    rnd: Round, voter: User, choices: Mapping[int, int], *, channel: Channel, actor: User
) -> Ballot:
    choices = {int(k): int(v) for k, v in choices.items()}
    async with in_transaction() as conn:
        await _hold_voting_open(conn, rnd)
        await _check_choices(rnd, voter, choices, conn)
        ballot, created = await _lock_or_create(conn, rnd, voter, channel, actor)
        if not created:
            if ballot.channel != channel:
                raise Conflict(_exclusive_message(ballot, channel))
            ballot.area_id = voter.area_id
            ballot.entered_by_id = actor.id if channel == Channel.PAPER else None
            await ballot.save(
                using_db=conn, update_fields=["area_id", "entered_by_id", "updated_at"]
            )
            await BallotChoice.filter(ballot_id=ballot.id).using_db(conn).delete()
        await BallotChoice.bulk_create(
            [
                BallotChoice(ballot_id=ballot.id, proposal_id=pid, points=pts)
                for pid, pts in sorted(choices.items())
            ],
            using_db=conn,
        )
        action = "ballot.paper_entered" if channel == Channel.PAPER else "ballot.cast"
        if not created:
            action = "ballot.paper_corrected" if channel == Channel.PAPER else "ballot.changed"
        # The secret ballot: the log says who voted in which round, by which channel (and, on
        # paper, which grid worker entered it for whom), never which ballot: its subject is
        # the round, and no ballot id, receipt or choice is written.
        await record(
            actor,
            action,
            rnd,
            using_db=conn,
            channel=channel.value,
            resident=voter.id if channel == Channel.PAPER else None,
        )
        return ballot


async def _check_choices(rnd: Round, voter: User, choices: dict[int, int], conn: Any) -> None:
    """Refuse (ValidationError, every problem by envelope) a ballot the round's rules do not
    accept, against the voter's envelopes as they are now."""
    if conn.capabilities.dialect == "postgres":
        specs = await chosen_specs(rnd, voter.area_id, choices, conn)
        check = check_specs(rnd, specs, choices)
    else:
        envelopes = await ballot_envelopes(rnd, voter.area_id, using_db=conn, only=choices)
        check = check_ballot(rnd, envelopes, choices)
    _refuse_invalid(check)


def _refuse_invalid(check: BallotCheck) -> None:
    if not check.ok:
        messages = error_messages(check)
        raise ValidationError(
            _("Your ballot is not valid yet: please correct it."),
            errors={key: " ".join(msgs) for key, msgs in messages.items()},
        )


async def _cast_first_ballot(
    rnd: Round,
    voter: User,
    choices: Mapping[int, int],
    specs: list[EnvelopeSpec] | None,
    kept: KeptRound | None = None,
) -> Ballot | None:
    """The voter's first online ballot, written in one statement (PostgreSQL:
    `first_ballots`); None when it was not written (a ballot exists, voting closed, the
    receipt was taken, or the kept round `kept` it was checked against has changed)."""
    choices = {int(k): int(v) for k, v in choices.items()}
    if specs is None:
        await _check_choices(rnd, voter, choices, Ballot._meta.db)
    elif kept is None:  # (a kept round's caller has checked the ballot)
        _refuse_invalid(check_specs(rnd, specs, choices))
    receipt = new_receipt()
    now = timezone.now()
    stamp = kept.stamp if kept is not None else None
    ballot_id, seen = await write_first_ballot(
        rnd, voter, choices, receipt=receipt, now=now, stamp=stamp
    )
    if ballot_id is None:
        if kept is not None and seen != kept.stamp:
            KEPT_ROUNDS.drop(rnd.id, voter.area_id, kept.stamp, Ballot._meta.db)
        return None
    # the row as written, made as Tortoise makes one read back (no field checks to redo;
    # tortoise-orm pinned; tests compare it with the row)
    return Ballot._init_from_db(
        id=ballot_id,
        round_id=rnd.id,
        voter_id=voter.id,
        area_id=voter.area_id,
        channel=Channel.ONLINE,
        entered_by_id=None,
        receipt=receipt,
        created_at=now,
        updated_at=now,
    )


async def cast_on_kept_round(voter: User, round_id: int, form: Any) -> Ballot | None:
    """A first online ballot (PostgreSQL) checked against the round this process keeps, and
    written only if that round is still what the database holds (`first_ballots`): one round
    trip. None when it was not written so — no round kept or found, not allowed, not valid,
    not the voter's first ballot, the round changed: the caller takes the ordinary way, which
    reads the round afresh and says why (a refusal never comes from a kept round)."""
    if voter.area_id is None:
        return None
    kept = await KEPT_ROUNDS.get(round_id, voter.area_id, Ballot._meta.db)
    if kept is None:
        return None
    choices, field_errors = parse_choices(kept.round, form)
    if (
        not can(voter, "vote", kept.round)
        or field_errors
        or not check_specs(kept.round, kept.specs, choices).ok
    ):
        # perhaps refused only because the kept round is old: the next ballot reads it again
        KEPT_ROUNDS.drop(round_id, voter.area_id, kept.stamp, Ballot._meta.db)
        return None
    return await _cast_first_ballot(kept.round, voter, choices, kept.specs, kept)


async def _hold_voting_open(conn: Any, rnd: Round) -> None:
    """Re-check, inside the ballot's transaction, that voting is open, and keep it open until
    the ballot commits: on PostgreSQL the round row is read FOR SHARE, so closing voting (which
    takes it FOR UPDATE) waits for ballots in flight, and a ballot that arrives while voting
    closes waits, then finds it closed. SQLite lets one transaction write at a time."""
    if conn.capabilities.dialect == "postgres":
        sql = f'SELECT "phase" FROM "{Round._meta.db_table}" WHERE "id" = $1 FOR SHARE'
    else:
        sql = f'SELECT "phase" FROM "{Round._meta.db_table}" WHERE "id" = ?'
    _count, rows = await conn.execute_query(sql, [rnd.id])
    if not rows or rows[0][0] != Phase.VOTING:
        raise PermissionDenied(_("Voting is not open in this round."))


_EXISTING_BALLOT = Prepared(
    lambda rid, vid: Ballot.filter(round_id=rid, voter_id=vid).select_for_update().limit(1)
)


async def _lock_or_create(
    conn: Any, rnd: Round, voter: User, channel: Channel, actor: User
) -> tuple[Ballot, bool]:
    """The voter's ballot row locked for this transaction, or a new one (created=True).

    The new row is inserted first with ON CONFLICT DO NOTHING: a resident's first ballot (the
    common case) costs one statement. When the unique (round, voter) constraint says a ballot
    exists — inserted by a concurrent submission that has now committed, or cast earlier —
    it is locked and returned instead."""
    for _attempt in range(5):
        ballot = Ballot(
            round_id=rnd.id,
            voter_id=voter.id,
            area_id=voter.area_id,
            channel=channel,
            entered_by_id=actor.id if channel == Channel.PAPER else None,
            receipt=new_receipt(),
        )
        if await _insert_if_absent(conn, ballot):
            return ballot, True
        existing = await _EXISTING_BALLOT.first(rnd.id, voter.id, using_db=conn)
        if existing is not None:
            return existing, False
        # Neither inserted nor there: (very rarely) the receipt code was taken; draw another.
    raise Conflict(_("Your ballot could not be saved just now. Please try again."))


# The columns a new ballot row is written with (all but the generated id), and the INSERT that
# lets the unique constraints decide: a conflict inserts nothing and returns no row. The same
# text on SQLite (3.35 or newer) and PostgreSQL but for the placeholders.
BALLOT_INSERT_COLUMNS = (
    "round_id",
    "voter_id",
    "area_id",
    "channel",
    "entered_by_id",
    "receipt",
    "created_at",
    "updated_at",
)


def _insert_ballot_sql(dialect: str) -> str:
    n = len(BALLOT_INSERT_COLUMNS)
    marks = [f"${i}" for i in range(1, n + 1)] if dialect == "postgres" else ["?"] * n
    columns = ", ".join(f'"{c}"' for c in BALLOT_INSERT_COLUMNS)
    return (
        f'INSERT INTO "{Ballot._meta.db_table}" ({columns}) VALUES ({", ".join(marks)}) '
        'ON CONFLICT DO NOTHING RETURNING "id"'
    )


async def _insert_if_absent(conn: Any, ballot: Ballot) -> bool:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id, with the values Tortoise's `create`
    would write. True (and `ballot.id` set) when the row went in; False when a unique
    constraint kept it out."""
    meta = Ballot._meta
    name_of = {column: name for name, column in meta.fields_db_projection.items()}
    values = []
    for column in BALLOT_INSERT_COLUMNS:
        name = name_of[column]
        values.append(meta.fields_map[name].to_db_value(getattr(ballot, name), ballot))
    rows = await conn.execute_query_dict(_insert_ballot_sql(conn.capabilities.dialect), values)
    if not rows:
        return False
    ballot.id = rows[0]["id"]
    ballot._saved_in_db = True  # as after `create` (tortoise-orm pinned; see tests)
    return True


def _exclusive_message(ballot: Ballot, wanted: Channel) -> str:
    if wanted == Channel.PAPER:
        return _(
            "This resident has already voted online in this round: a paper ballot cannot "
            "be entered for them."
        )
    return _(
        "A grid worker has entered your paper ballot for this round. It counts as your "
        "ballot; you cannot also vote online."
    )


# --- paper ballots: residents a grid worker may enter ballots for --------------------------


def paper_candidates(worker: User, q: str = "") -> QuerySet[User]:
    """Verified residents (and grid workers) of the worker's area, except the worker,
    searched by name or username, ordered by name."""
    qs = User.filter(
        area_id=worker.area_id,
        is_active=True,
        verified=True,
        role__in=[Role.RESIDENT, Role.GRID_WORKER],
    ).exclude(id=worker.id)
    if q:
        qs = qs.filter(Q(display_name__icontains=q) | Q(username__icontains=q))
    return qs.order_by("display_name", "id")


async def channels_of(round_id: int, voter_ids: list[int]) -> dict[int, str]:
    """voter id → channel of their ballot in the round (one query)."""
    if not voter_ids:
        return {}
    rows = await Ballot.filter(round_id=round_id, voter_id__in=voter_ids).values_list(
        "voter_id", "channel"
    )
    return {voter_id: str(channel) for voter_id, channel in rows}


async def voting_rounds() -> list[Round]:
    return await Round.filter(phase=Phase.VOTING).order_by("-created_at", "-id")


# --- the offline kit -------------------------------------------------------------------------


async def kit_area(user: User | None, area_id: int | None) -> tuple[Area, list[Area]]:
    """The area whose paper kit `user` may print, and the areas they may choose from: a grid
    worker their own area only; a council member or an administrator any area (`area_id`,
    else the first by name). 403 for anyone else."""
    if user is not None and user.role == Role.GRID_WORKER:
        if user.area_id is None:
            raise PermissionDenied(_("Your account has no area yet."))
        if area_id is not None and area_id != user.area_id:
            raise PermissionDenied(_("You can only print the kit of your own area."))
        area = await Area.get(id=user.area_id)
        return area, [area]
    if not is_staff(user):
        raise PermissionDenied(_("Only grid workers and the council print the paper kit."))
    areas = await Area.all().order_by("name", "id")
    if not areas:
        raise NotFound(_("There is no area yet."))
    area = next((a for a in areas if a.id == area_id), None)
    if area_id is not None and area is None:
        raise NotFound(_("This area does not exist."))
    return area or areas[0], areas


async def area_roll(round_id: int, area_id: int) -> list[tuple[User, bool]]:
    """The residents of an area who can vote, by name, each with whether they have voted in
    the round (yes or no: never how, nor which projects)."""
    residents = await User.filter(
        area_id=area_id,
        is_active=True,
        verified=True,
        role__in=[Role.RESIDENT, Role.GRID_WORKER],
    ).order_by("display_name", "id")
    voted = set(
        await Ballot.filter(round_id=round_id, voter_id__in=[u.id for u in residents]).values_list(
            "voter_id", flat=True
        )
    )
    return [(u, u.id in voted) for u in residents]
