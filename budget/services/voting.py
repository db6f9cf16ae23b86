"""Voting: the ballot a resident sees, casting and changing it (online), paper ballots entered
by grid workers, receipts.

One ballot per resident per round. `cast_ballot` and `enter_paper_ballot` run in one
transaction that locks the resident's existing ballot row (SELECT … FOR UPDATE) or inserts it
in a savepoint; a concurrent insert that wins makes ours fail on the unique (round, voter)
constraint, and we then lock and update the winner's row. The choices are replaced in the same
transaction, so many simultaneous submissions leave exactly one ballot with one consistent set
of choices (the last to commit).

Online and paper are exclusive: a resident who voted online cannot get a paper ballot entered,
and a resident whose paper ballot was entered sees it (read-only) and cannot vote online; a
grid worker of their area may correct the paper ballot until voting closes.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tortoise.expressions import Q
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from budget.models import (
    Ballot,
    BallotChoice,
    BallotType,
    Channel,
    Envelope,
    Phase,
    Proposal,
    ProposalStatus,
    Round,
)
from budget.permissions import can, is_voter
from budget.rules import ballots as rules
from core.audit import record
from core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.i18n import _, format_money
from core.models import Area, Role, User
from core.prepared import Prepared

DISTRICT = "district"  # the key of the district-wide envelope (area null)
RECEIPT_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud, copied by hand
RECEIPT_LENGTH = 10
MAX_POINTS = 1_000_000
PAGE_SIZE = 20


# --- receipts ------------------------------------------------------------------------------


def new_receipt() -> str:
    return "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_LENGTH))


def normalise_receipt(code: str | None) -> str:
    """What a person typed → the stored code: case, spaces and dashes do not matter, and the
    look-alikes O/0, I/1/L read as what the alphabet has (nothing)."""
    return "".join(c for c in str(code or "").upper() if c.isalnum())[:32]


def format_receipt(code: str) -> str:
    """ABCDEFGHJK → ABCDE-FGHJK (easier to copy)."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}" if len(code) >= 8 else code


# --- the ballot a voter sees ---------------------------------------------------------------


@dataclass
class BallotEnvelope:
    key: str  # DISTRICT or str(area id)
    area: Area | None
    budget_fen: int
    projects: list[BallotProject]

    @property
    def name(self) -> str:
        return self.area.name if self.area is not None else _("District-wide")

    @property
    def spec(self) -> rules.EnvelopeSpec:
        return rules.EnvelopeSpec(
            key=self.key,
            budget_fen=self.budget_fen,
            costs={p.id: p.effective_cost_fen for p in self.projects},
        )


def envelope_key(area_id: int | None) -> str:
    return DISTRICT if area_id is None else str(area_id)


# What a ballot shows of a project (and what checking a ballot needs).
BALLOT_FIELDS = ("id", "title", "area_id", "cost_fen", "revised_cost_fen")

# What a voter's ballot shows is read anew on every call (a few small indexed queries): an
# area renamed or a project's cost revised shows at once, in every worker process.
_VOTER_ENVELOPES = Prepared(
    lambda rid, aid: (
        Envelope.filter(Q(area_id=aid) | Q(area_id__isnull=True), round_id=rid)
        .select_related("area")
        .limit(2)
    )
)
_DISTRICT_ENVELOPE = Prepared(
    lambda rid: Envelope.filter(round_id=rid, area_id__isnull=True).select_related("area").limit(1)
)
_VOTER_PROJECTS = Prepared(
    lambda rid, aid: (
        Proposal.filter(
            Q(area_id=aid) | Q(area_id__isnull=True), round_id=rid, status=ProposalStatus.FEASIBLE
        )
        .order_by("title", "id")
        .only(*BALLOT_FIELDS)
    )
)
_DISTRICT_PROJECTS = Prepared(
    lambda rid: (
        Proposal.filter(round_id=rid, area_id__isnull=True, status=ProposalStatus.FEASIBLE)
        .order_by("title", "id")
        .only(*BALLOT_FIELDS)
    )
)
# The projects a ballot chose, by id: one shape per number of ids, rounded up to a power of
# two (the list is padded with its last id), so that a few shapes serve every ballot.
_CHOSEN_PROJECTS = Prepared(
    lambda shape, rid, *ids: (
        Proposal.filter(round_id=rid, status=ProposalStatus.FEASIBLE, id__in=ids)
        .order_by("title", "id")
        .only(*BALLOT_FIELDS)
    )
)


@dataclass(frozen=True, slots=True)
class BallotProject:
    """A project as a ballot shows it (read as a bare row: a ballot lists hundreds)."""

    id: int
    title: str
    area_id: int | None
    effective_cost_fen: int

    @classmethod
    def from_row(cls, row: Any) -> BallotProject:
        revised = row["revised_cost_fen"]
        cost = revised if revised is not None else row["cost_fen"]
        return cls(row["id"], row["title"], row["area_id"], cost)


def _padded(ids: list[int]) -> list[int]:
    size = 1 << (len(ids) - 1).bit_length()
    return ids + [ids[-1]] * (size - len(ids))


async def ballot_envelopes(
    rnd: Round, area_id: int | None, using_db: Any = None, *, only: Iterable[int] | None = None
) -> list[BallotEnvelope]:
    """The envelopes on the ballot of a voter of `area_id` (their area first, then the
    district-wide one), each with its feasible projects in ballot order (title, id).

    `only`: keep just these projects (what a ballot chose) — enough to validate it or to
    show its running total, and only those are read."""
    if area_id is None:
        envelopes = await _DISTRICT_ENVELOPE.all(rnd.id, using_db=using_db)
    else:
        envelopes = await _VOTER_ENVELOPES.all(rnd.id, area_id, using_db=using_db)
    if only is not None:
        wanted = sorted({int(pid) for pid in only})
        rows = []
        if wanted:
            ids = _padded(wanted)
            rows = await _CHOSEN_PROJECTS.rows(rnd.id, *ids, shape=len(ids), using_db=using_db)
    elif area_id is None:
        rows = await _DISTRICT_PROJECTS.rows(rnd.id, using_db=using_db)
    else:
        rows = await _VOTER_PROJECTS.rows(rnd.id, area_id, using_db=using_db)
    by_area: dict[int | None, list[BallotProject]] = {}
    for row in rows:
        project = BallotProject.from_row(row)
        by_area.setdefault(project.area_id, []).append(project)
    result = [
        BallotEnvelope(envelope_key(e.area_id), e.area, e.budget_fen, by_area.get(e.area_id, []))
        for e in envelopes
    ]
    result.sort(key=lambda b: b.area is None)
    return result


def check_ballot(
    rnd: Round,
    envelopes: list[BallotEnvelope],
    choices: Mapping[int, int],
    *,
    require_choice: bool = True,
) -> rules.BallotCheck:
    return rules.validate_ballot(
        str(rnd.ballot_type),
        [e.spec for e in envelopes],
        choices,
        max_choices=rnd.max_choices,
        points_total=rnd.points_total,
        require_choice=require_choice,
    )


def problem_message(problem: rules.Problem) -> str:
    """A ballot problem in words, in the request's language."""
    p = problem.params
    match problem.code:
        case rules.EMPTY:
            return _("Choose at least one project.")
        case rules.UNKNOWN_PROJECT:
            return _(
                "One of your choices is not on this ballot any more (it may have been "
                "withdrawn, or it belongs to another area). Please check your choices."
            )
        case rules.BAD_POINTS:
            return _("Give each project a whole number of points (0 leaves it out).")
        case rules.OVER_BUDGET:
            if p["count"] == 1:
                return _(
                    "You chose 1 project costing {cost}; this envelope has {budget}.",
                    cost=format_money(p["cost"]),
                    budget=format_money(p["budget"]),
                )
            return _(
                "You chose {count} projects costing {cost}; this envelope has {budget}.",
                count=p["count"],
                cost=format_money(p["cost"]),
                budget=format_money(p["budget"]),
            )
        case rules.TOO_MANY:
            return _(
                "You chose {count} projects; choose at most {max} in this envelope.",
                count=p["count"],
                max=p["max"],
            )
        case rules.TOO_MANY_POINTS:
            return _(
                "You gave {used} points of {total}; take some back in this envelope.",
                used=p["used"],
                total=p["total"],
            )
    return _("This ballot is not valid.")


def error_messages(check: rules.BallotCheck) -> dict[str, list[str]]:
    """Messages per envelope key (and rules.BALLOT for the whole ballot)."""
    return {key: [problem_message(p) for p in problems] for key, problems in check.errors().items()}


def parse_choices(
    rnd: Round, form: Mapping[str, Any] | Any
) -> tuple[dict[int, int], dict[str, str]]:
    """The choices of a ballot form: checkboxes named `project` (approval types) or number
    inputs `points-<id>` (points). Returns (project id → points, field errors)."""
    choices: dict[int, int] = {}
    errors: dict[str, str] = {}
    if str(rnd.ballot_type) == BallotType.POINTS:
        for key in form.keys():
            if not key.startswith("points-"):
                continue
            try:
                pid = int(key.removeprefix("points-"))
            except ValueError:
                continue
            raw = str(form.get(key) or "").strip()
            if not raw:
                continue
            try:
                points = int(raw)
            except ValueError:
                errors[key] = _("Enter a whole number of points.")
                continue
            if points < 0 or points > MAX_POINTS:
                errors[key] = _("Enter a number of points of 0 or more.")
                continue
            if points:
                choices[pid] = points
    else:
        for raw in form.getlist("project"):
            try:
                choices[int(raw)] = 1
            except (TypeError, ValueError):
                continue
    return choices, errors


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


async def cast_ballot(
    voter: User | None, round_id: int | Round, choices: Mapping[int, int]
) -> Ballot:
    """Cast or change the voter's online ballot (one transaction). `round_id` may be the
    round itself (already loaded by the endpoint)."""
    rnd = round_id if isinstance(round_id, Round) else await get_round(round_id)
    if not can(voter, "vote", rnd):
        raise PermissionDenied(vote_refusal(voter, rnd))
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
        envelopes = await ballot_envelopes(rnd, voter.area_id, using_db=conn, only=choices)
        check = check_ballot(rnd, envelopes, choices)
        if not check.ok:
            messages = error_messages(check)
            raise ValidationError(
                _("Your ballot is not valid yet: please correct it."),
                errors={key: " ".join(msgs) for key, msgs in messages.items()},
            )
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
