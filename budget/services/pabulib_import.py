"""Importing a Pabulib `.pb` file as a study: a past election kept as a finished round apart
from the district's rounds (see `budget.services.studies`) — its projects as proposals, its
votes as anonymous ballots, counted with its rule — all in one transaction. What the file
becomes is planned first, without the database (`budget.services.pabulib_plan`).

A file is imported once: a digest of its text is kept on the study (unique in the database),
and the same file again is refused naming the study it became. Another file whose title an
existing study already has gets a number: "Title (2)".
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Iterable
from pathlib import PurePath
from typing import Any

from starlette_babel import get_locale
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from budget.models import Ballot, Channel, Envelope, Phase, Proposal, ProposalStatus, Round
from budget.permissions import can
from budget.services import results, studies
from budget.services.pabulib_plan import MAX_FILE_BYTES, ImportPlan, too_big_message
from budget.services.pabulib_worker import plan_in_worker
from budget.services.voting import RECEIPT_ALPHABET, RECEIPT_LENGTH
from core.audit import record
from core.errors import PermissionDenied, ValidationError
from core.i18n import _
from core.models import User

BATCH = 1000  # rows per INSERT of the ORM's bulk inserts (proposals, ballots)
CHOICE_BATCH = 20_000  # rows per executemany of the ballot choices
IMPORT_ACTION = "round.import"


def _receipts(n: int) -> list[str]:
    """`n` distinct random receipt codes (as `voting.new_receipt` makes them, faster: one
    random number per code)."""
    base = len(RECEIPT_ALPHABET)
    space = base**RECEIPT_LENGTH
    seen: set[str] = set()
    codes: list[str] = []
    while len(codes) < n:
        number = secrets.randbelow(space)
        chars = []
        for _n in range(RECEIPT_LENGTH):
            number, digit = divmod(number, base)
            chars.append(RECEIPT_ALPHABET[digit])
        code = "".join(chars)
        if code not in seen:
            seen.add(code)
            codes.append(code)
    return codes


async def _insert_choices(conn: Any, rows: Iterable[tuple[int, int, int]]) -> None:
    """Insert (ballot id, proposal id, points) rows, CHOICE_BATCH at a time: a city's 300,000
    choices as ORM objects would take most of the import's time. PostgreSQL gets one INSERT
    from three arrays per batch, SQLite an executemany. The values travel as parameters,
    never in the SQL text."""
    postgres = conn.capabilities.dialect == "postgres"

    async def flush(batch: list[tuple[int, int, int]]) -> None:
        if postgres:
            await conn.execute_query(
                "INSERT INTO ballot_choice (ballot_id, proposal_id, points) "
                "SELECT * FROM unnest($1::int[], $2::int[], $3::int[])",
                [list(column) for column in zip(*batch, strict=True)],
            )
        else:
            await conn.execute_many(
                "INSERT INTO ballot_choice (ballot_id, proposal_id, points) VALUES (?, ?, ?)",
                batch,
            )

    batch: list[tuple[int, int, int]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= CHOICE_BATCH:
            await flush(batch)
            batch = []
    if batch:
        await flush(batch)


def clean_filename(filename: str) -> str:
    name = PurePath(str(filename or "").replace("\\", "/")).name.strip()
    return name[:200] or "upload.pb"


def require_importer(actor: User | None) -> None:
    if actor is not None and not can(actor, "import_pabulib"):
        raise PermissionDenied(_("Only council members import elections."))


async def prepare_import(
    actor: User | None,
    filename: str,
    data: bytes,
    progress: Callable[[int], Awaitable[None]] | None = None,
) -> ImportPlan:
    """Read and plan a file in a worker process with a time and memory limit (never in the
    event loop: `budget.services.pabulib_worker`), refusing a file imported before. Nothing is
    written. `progress(lines read)` is awaited now and then."""
    require_importer(actor)
    if len(data) > MAX_FILE_BYTES:  # before starting a worker
        raise ValidationError(too_big_message(), errors={"file": too_big_message()})
    plan = await plan_in_worker(clean_filename(filename), data, str(get_locale()), progress)
    await studies.refuse_known(plan.digest)  # before the long part; again while saving
    return plan


async def import_pabulib(
    actor: User | None,
    filename: str,
    data: bytes,
    progress: Callable[[int], Awaitable[None]] | None = None,
) -> Round:
    """Create a study — a finished round (phase results, counted with its rule, private until
    the council publishes it) — from a .pb file: one envelope with the whole budget, the
    projects as feasible proposals, the votes as anonymous imported ballots. The file is read
    in a worker process (`prepare_import`), then saved in one transaction: a file that is
    refused, or a failure half-way, leaves nothing behind. The same file twice:
    `studies.AlreadyImported` (409). `actor` None: the command line.
    """
    plan = await prepare_import(actor, filename, data, progress)
    return await save_import(actor, filename, plan)


async def save_import(actor: User | None, filename: str, plan: ImportPlan) -> Round:
    """Save a planned import as a study (see `import_pabulib`)."""
    require_importer(actor)
    filename = clean_filename(filename)
    for _attempt in range(3):
        try:
            return await _save_import(actor, filename, plan)
        except IntegrityError:
            # The same file saved meanwhile (the digest is unique), or a receipt code already
            # taken (vanishingly rare): then new codes, again.
            await studies.refuse_known(plan.digest)
    raise ValidationError(_("The election could not be imported just now. Please try again."))


async def _save_import(actor: User | None, filename: str, plan: ImportPlan) -> Round:
    async with in_transaction() as conn:
        await studies.lock_imports(conn)
        await studies.refuse_known(plan.digest, conn)
        title = await studies.numbered_title(conn, plan.title)
        rnd = await Round.create(
            title=title,
            description=plan.description,
            fund_fen=plan.fund_fen,
            phase=Phase.RESULTS,
            ballot_type=plan.ballot_type,
            max_choices=plan.max_choices,
            points_total=plan.points_total,
            rule=plan.rule.value,
            source=filename,
            is_study=True,
            study_public=False,
            source_digest=plan.digest,
            study_voters=plan.voters,
            created_by=actor,
            using_db=conn,
        )
        await Envelope.create(round=rnd, area=None, budget_fen=plan.fund_fen, using_db=conn)
        await Proposal.bulk_create(
            [
                Proposal(
                    round_id=rnd.id,
                    title=p.title,
                    description=p.description,
                    category=p.category,
                    cost_fen=p.cost_fen,
                    status=ProposalStatus.FEASIBLE,
                    external_id=p.external_id,
                    author_id=None,
                )
                for p in plan.projects
            ],
            batch_size=BATCH,
            using_db=conn,
        )
        by_external = dict(
            await Proposal.filter(round_id=rnd.id).using_db(conn).values_list("external_id", "id")
        )
        proposal_ids = [by_external[p.external_id] for p in plan.projects]
        receipts = _receipts(len(plan.ballots))
        # BATCH ballots at a time, made as objects only when inserted: 90,000 ORM objects made
        # at once held the event loop for seconds
        for start in range(0, len(receipts), BATCH):
            await Ballot.bulk_create(
                [
                    Ballot(
                        round_id=rnd.id,
                        voter_id=None,
                        area_id=None,
                        channel=Channel.IMPORTED,
                        receipt=code,
                    )
                    for code in receipts[start : start + BATCH]
                ],
                using_db=conn,
            )
        by_receipt = dict(
            await Ballot.filter(round_id=rnd.id).using_db(conn).values_list("receipt", "id")
        )
        await _insert_choices(
            conn,
            (
                (by_receipt[code], proposal_ids[i], pts)
                for code, choices in zip(receipts, plan.ballots, strict=True)
                for i, pts in choices
            ),
        )
        await results.freeze_count(conn, rnd, actor)
        # A study's count is its result: who may see it is the study's own visibility
        # (`study_public`), not the district's publishing step.
        funded = await results.apply_outcome(conn, rnd)
        await record(
            actor,
            IMPORT_ACTION,
            rnd,
            using_db=conn,
            source=filename,
            title=title,
            digest=plan.digest,
            voters=plan.voters,
            projects=len(plan.projects),
            ballots=len(plan.ballots),
            rule=plan.rule.value,
            ballot_type=plan.ballot_type.value,
            funded=funded,
            meta=plan.meta,
        )
        return rnd
