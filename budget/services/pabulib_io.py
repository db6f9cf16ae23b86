"""Pabulib `.pb` files in and out of the app: import a past election as a study (a finished
round kept apart from the district's rounds, see `budget.services.studies`), and export any
round's envelope as a `.pb` file that pabutools reads and that reproduces our count.

The file format itself (parsing, writing) is `budget.pabulib`; this module maps it onto rounds,
envelopes, proposals and anonymous ballots.

A file is imported once: a digest of its text is kept on the study (unique in the database),
and the same file again is refused naming the study it became. Another file whose title an
existing study already has gets a number: "Title (2)".

Amounts: a file's budget and costs are read as yuan (whatever its currency: the file's
currency is kept in the round's description and written back on export) and converted to
fen exactly; an amount with a fraction of a fen is refused. Project ids are kept in
`Proposal.external_id` and name the projects in the count (`counting.project_key`), so that
ties are broken on the same ids as in the original election.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import PurePath
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from budget.models import (
    Ballot,
    BallotType,
    Category,
    Channel,
    Envelope,
    Outcome,
    OutcomeRule,
    Phase,
    Proposal,
    ProposalStatus,
    Round,
)
from budget.pabulib import POINTS_TYPES, PabulibError, PbFile, PbVote, parse_pb, write_pb
from budget.permissions import can, is_staff
from budget.services import results, studies
from budget.services.counting import EnvelopeCount, load_round_ballots
from budget.services.voting import RECEIPT_ALPHABET, RECEIPT_LENGTH
from core.audit import record
from core.errors import NotFound, PermissionDenied, ValidationError
from core.i18n import _
from core.models import AuditEntry, User

MAX_FILE_BYTES = 20 * 1024 * 1024  # Łódź 2022, 90,494 voters, is 3.7 MB
BATCH = 1000  # rows per INSERT of the ORM's bulk inserts (proposals, ballots)
CHOICE_BATCH = 20_000  # rows per executemany of the ballot choices
IMPORT_ACTION = "round.import"

# Pabulib categories (lower case) that map onto ours; anything else is a public service.
CATEGORY_WORDS = {
    Category.ENGINEERING: (
        "public space",
        "infrastructure",
        "public transit and roads",
        "transport",
        "transportation",
        "roads",
        "streets",
        "construction",
        "urban greenery",
        "greenery",
        "environmental protection",
        "engineering",
    ),
    Category.EQUIPMENT: ("equipment", "procurement of equipment"),
    Category.SERVICE: (
        "service",
        "public service",
        "culture",
        "education",
        "welfare",
        "health",
        "sport",
    ),
}
_CATEGORY_OF = {word: category for category, words in CATEGORY_WORDS.items() for word in words}
for _category in Category:
    _CATEGORY_OF[_category.value] = _category


# --- import ---------------------------------------------------------------------------------


@dataclass
class ProjectPlan:
    external_id: str
    title: str
    description: str
    category: Category
    cost_fen: int


@dataclass
class ImportPlan:
    """What an import creates, worked out from the parsed file before touching the database."""

    title: str
    description: str
    fund_fen: int
    ballot_type: BallotType
    max_choices: int | None
    points_total: int | None
    rule: OutcomeRule
    projects: list[ProjectPlan]
    ballots: list[list[tuple[int, int]]]  # per voter: (project index, points)
    meta: dict[str, str] = field(default_factory=dict)
    voters: int = 0  # the file's own count of voters (META num_votes, else its votes)
    digest: str = ""  # of the file's text (`content_digest`)


def _refuse(line: int, message: str) -> ValidationError:
    if line:
        text = _("Line {line}: {message}", line=line, message=message)
    else:
        text = message
    return ValidationError(text, errors={"file": text})


def find_line(text: str, section: str, first_cell: str) -> int:
    """The 1-based line of the row of `section` whose first cell is `first_cell` (0 if none):
    used only to point at a row when refusing a file."""
    current = ""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    try:
        for row in reader:
            if not row:
                continue
            head = row[0].strip()
            if len(row) == 1 and head.lower() in ("meta", "projects", "votes"):
                current = head.lower()
            elif current == section and head == first_cell:
                return reader.line_num
    except csv.Error:
        return 0
    return 0


def to_fen(value: Fraction | int) -> int | None:
    """Yuan (exact) → fen, or None if that leaves a fraction of a fen."""
    amount = Fraction(value) * 100
    return int(amount) if amount.denominator == 1 else None


def _whole(text: str | None) -> int | None:
    try:
        value = Fraction(str(text).strip().replace(",", "."))
    except (ValueError, ZeroDivisionError):
        return None
    return int(value) if value.denominator == 1 and value > 0 else None


def map_category(raw: str) -> Category:
    """The file's category (maybe several, comma-separated) → ours; public service if none
    maps."""
    for part in raw.split(","):
        found = _CATEGORY_OF.get(part.strip().lower())
        if found is not None:
            return found
    return Category.SERVICE


def import_title(meta: Mapping[str, str], filename: str) -> str:
    description = meta.get("description", "").strip()
    instance = meta.get("instance", "").strip()
    if description and instance and instance not in description:
        title = f"{description} {instance}"
    else:
        title = (
            description
            or " ".join(x for x in (meta.get("unit", "").strip(), instance) if x)
            or PurePath(filename).stem
        )
    return title[:200]


def plan_import(pb: PbFile, text: str, filename: str) -> ImportPlan:
    """Pure: the round a parsed file becomes (raises ValidationError naming the line)."""
    meta = pb.meta
    fund = to_fen(pb.budget)
    if fund is None:
        raise _refuse(
            find_line(text, "meta", "budget"),
            _("the budget {amount} has a fraction of a fen.", amount=meta["budget"]),
        )
    if not pb.projects:
        raise _refuse(0, _("The file has no projects."))
    projects: list[ProjectPlan] = []
    index: dict[str, int] = {}
    for row in pb.projects:
        pid = row["project_id"]
        if len(pid) > 64:
            raise _refuse(
                find_line(text, "projects", pid),
                _("the project id {id} is longer than 64 characters.", id=pid),
            )
        cost = to_fen(pb.costs[pid])
        if cost is None:
            raise _refuse(
                find_line(text, "projects", pid),
                _(
                    "the cost of project {id} ({cost}) has a fraction of a fen.",
                    id=pid,
                    cost=row["cost"],
                ),
            )
        if cost <= 0:
            raise _refuse(
                find_line(text, "projects", pid),
                _("project {id} costs nothing; every project needs a cost.", id=pid),
            )
        name = " ".join(row.get("name", "").split())
        title = (name or _("Project {id}", id=pid))[:200]
        description = row.get("description", "").strip() or _(
            "Project {id} of the imported election {file}.", id=pid, file=filename
        )
        index[pid] = len(projects)
        projects.append(
            ProjectPlan(pid, title, description, map_category(row.get("category", "")), cost)
        )
    points_type = pb.vote_type in POINTS_TYPES
    ballots: list[list[tuple[int, int]]] = []
    longest = 0
    largest_sum = 0
    for vote in pb.votes:
        ballots.append(_ballot_choices(vote, index, points_type, text))
        longest = max(longest, len(ballots[-1]))
        largest_sum = max(largest_sum, sum(p for _i, p in ballots[-1]))
    ballot_type, max_choices, points_total = _ballot_rules(pb, longest, largest_sum)
    rule = (
        OutcomeRule.EQUAL_SHARES
        if meta.get("rule", "").strip().lower().startswith("equalshares")
        else OutcomeRule.GREEDY
    )
    return ImportPlan(
        title=import_title(meta, filename),
        description=_describe(meta, filename, len(pb.votes)),
        fund_fen=fund,
        ballot_type=ballot_type,
        max_choices=max_choices,
        points_total=points_total,
        rule=rule,
        projects=projects,
        ballots=ballots,
        meta=dict(meta),
        voters=_whole(meta.get("num_votes")) or len(pb.votes),
    )


def _ballot_choices(
    vote: PbVote, index: Mapping[str, int], points_type: bool, text: str
) -> list[tuple[int, int]]:
    if not points_type:  # approval, choose-1, ordinal: every named project is approved
        return [(index[p], 1) for p in vote.projects]
    choices = []
    for pid, points in zip(vote.projects, vote.points or [], strict=True):
        if points == 0:
            continue
        if points < 0 or Fraction(points).denominator != 1:
            raise _refuse(
                find_line(text, "votes", vote.voter_id),
                _(
                    "the points of voter {voter} must be whole numbers of at least 0.",
                    voter=vote.voter_id,
                ),
            )
        choices.append((index[pid], int(points)))
    return choices


def _ballot_rules(
    pb: PbFile, longest: int, largest_sum: int
) -> tuple[BallotType, int | None, int | None]:
    meta = pb.meta
    if pb.vote_type in POINTS_TYPES:
        return BallotType.POINTS, None, _whole(meta.get("max_sum_points")) or max(largest_sum, 1)
    max_length = _whole(meta.get("max_length"))
    if pb.vote_type == "ordinal":
        return BallotType.APPROVAL, max_length or max(longest, 1), None
    if pb.vote_type == "choose-1":
        max_length = max_length or 1
    if "max_sum_cost" in meta or not max_length:
        return BallotType.BUDGET_APPROVAL, None, None
    return BallotType.APPROVAL, max_length, None


def _describe(meta: Mapping[str, str], filename: str, voters: int) -> str:
    where = ", ".join(
        x
        for x in (
            meta.get("unit", ""),
            meta.get("district", ""),
            meta.get("country", ""),
            meta.get("instance", ""),
        )
        if x
    )
    text = _(
        "Imported from the Pabulib file {file} ({where}): {voters} voters, {vote_type} "
        "ballots; the rule used there: {rule}. Amounts are the file's ({currency}), shown "
        "as yuan.",
        file=filename,
        where=where or "?",
        voters=f"{voters:,}",
        vote_type=meta.get("vote_type", "?"),
        rule=meta.get("rule", "?"),
        currency=meta.get("currency", "?"),
    )
    comment = meta.get("comment", "").strip()
    return f"{text}\n\n{comment}" if comment else text


def decode_upload(data: bytes) -> str:
    """The file's text (UTF-8, an initial BOM dropped); refused with the line of a bad byte."""
    if len(data) > MAX_FILE_BYTES:
        raise _refuse(0, _("The file is larger than {n} MB.", n=MAX_FILE_BYTES // 1024 // 1024))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise _refuse(line, _("the file is not UTF-8 text.")) from None


def content_digest(text: str) -> str:
    """sha256 of a file's text, whatever its line endings and trailing blank lines: the same
    file saved on another system is the same file."""
    normal = text.replace("\r\n", "\n").replace("\r", "\n").rstrip()
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()


def parse_upload(filename: str, data: bytes) -> tuple[PbFile, ImportPlan]:
    """Decode, parse and plan an uploaded file (ValidationError with the line number)."""
    text = decode_upload(data)
    if not text.strip():
        raise _refuse(0, _("The file is empty."))
    try:
        pb = parse_pb(text)
    except PabulibError as exc:
        raise _refuse(exc.line, exc.message) from None
    plan = plan_import(pb, text, filename)
    plan.digest = content_digest(text)
    return pb, plan


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


async def import_pabulib(actor: User | None, filename: str, data: bytes) -> Round:
    """Create a study — a finished round (phase results, counted with its rule, private until
    the council publishes it) — from a .pb file: one envelope with the whole budget, the
    projects as feasible proposals, the votes as anonymous imported ballots. All in one
    transaction: a file that is refused, or a failure half-way, leaves nothing behind. The same
    file twice: `studies.AlreadyImported` (409). `actor` None: the command line.
    """
    if actor is not None and not can(actor, "import_pabulib"):
        raise PermissionDenied(_("Only council members import elections."))
    filename = clean_filename(filename)
    pb, plan = parse_upload(filename, data)
    await studies.refuse_known(plan.digest)  # before the long part; again while saving
    for _attempt in range(3):
        try:
            return await _save_import(actor, filename, pb, plan)
        except IntegrityError:
            # The same file saved meanwhile (the digest is unique), or a receipt code already
            # taken (vanishingly rare): then new codes, again.
            await studies.refuse_known(plan.digest)
    raise ValidationError(_("The election could not be imported just now. Please try again."))


async def _save_import(actor: User | None, filename: str, pb: PbFile, plan: ImportPlan) -> Round:
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
        await Ballot.bulk_create(
            [
                Ballot(
                    round_id=rnd.id,
                    voter_id=None,
                    area_id=None,
                    channel=Channel.IMPORTED,
                    receipt=code,
                )
                for code in receipts
            ],
            batch_size=BATCH,
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


# --- export ---------------------------------------------------------------------------------

EXPORT_RULE = {
    OutcomeRule.GREEDY.value: "greedy",
    OutcomeRule.EQUAL_SHARES.value: "equalshares/add1",
}
# META keys of an imported file that an export writes back unchanged.
KEPT_META = (
    "country",
    "unit",
    "subunit",
    "district",
    "instance",
    "language",
    "currency",
    "date_begin",
    "date_end",
    "edition",
)


@dataclass
class PbExport:
    filename: str
    text: str


def export_refusal(user: User | None, rnd: Round) -> str:
    if Phase(rnd.phase) == Phase.VOTING:
        return _("Ballots are secret until voting closes: this round cannot be exported now.")
    if not is_staff(user):
        return _("The ballots of this round can be downloaded once its results are published.")
    return _("You may not export this round.")


async def source_meta(rnd: Round) -> dict[str, str]:
    """The META of the file an imported round came from (kept in its import audit entry)."""
    if not rnd.source:
        return {}
    entry = (
        await AuditEntry.filter(
            action=IMPORT_ACTION, subject_type=Round._meta.db_table, subject_id=rnd.id
        )
        .order_by("-id")
        .first()
    )
    meta = (entry.detail or {}).get("meta") if entry is not None else None
    return {str(k): str(v) for k, v in meta.items()} if isinstance(meta, dict) else {}


async def export_envelopes(rnd: Round) -> list[Envelope]:
    """A round's envelopes in export order: district-wide first, then areas by name."""
    envelopes = await Envelope.filter(round_id=rnd.id).select_related("area").order_by("id")
    return sorted(envelopes, key=lambda e: (e.area is not None, e.area.name if e.area else ""))


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_.") or "round"


def yuan(fen: int) -> Fraction:
    return Fraction(int(fen), 100)


async def export_pb(actor: User | None, round_id: int, envelope_id: int | None = None) -> PbExport:
    """One envelope of a round as a .pb file (a .pb file has one budget): the district-wide
    envelope unless `envelope_id` names another. The votes are exactly those the count reads,
    so pabutools on the file reproduces our outcome (see `counting.load_round_ballots`).

    The secret ballot: residents' ballots are written in a fresh random order (shuffled
    anew for every download) and numbered 1..n after the shuffle — never in the order they
    were cast, never with names, user names, user ids, ballot ids, receipts or times. The
    anonymous ballots of an imported election keep the file's order, so that an export
    gives the file back. Which projects were selected is written only for those who may see
    the results (published, or staff)."""
    rnd = await results.get_round(round_id)
    if not can(actor, "export_pabulib", rnd):
        raise PermissionDenied(export_refusal(actor, rnd))
    envelopes = await export_envelopes(rnd)
    if envelope_id is None:
        if not envelopes:
            raise NotFound(_("This round has no envelope to export."))
        envelope = envelopes[0]
    else:
        envelope = next((e for e in envelopes if e.id == envelope_id), None)
        if envelope is None:
            raise NotFound(_("This envelope does not exist."))
    ballots = await load_round_ballots(rnd)
    count = ballots.count_of(envelope.id)
    proposals = {
        p.id: p for p in await Proposal.filter(id__in=[ballots.pid_of[k] for k in count.costs])
    }
    selected = None
    if can(actor, "see_results", rnd):
        outcome = await Outcome.get_or_none(round_id=rnd.id, envelope_id=envelope.id)
        selected = set(outcome.data.get("selected", [])) if outcome is not None else None
    source = await source_meta(rnd)
    points = rnd.ballot_type == BallotType.POINTS
    votes = list(count.ballots)
    if await Ballot.filter(round_id=rnd.id, voter_id__isnull=False).exists():
        secrets.SystemRandom().shuffle(votes)
    text = write_pb(
        _export_meta(rnd, envelope, source, len(count.costs), len(count.ballots)),
        _export_projects(count, ballots.pid_of, proposals, selected, points),
        _export_votes(count, votes, points),
    )
    stem = _slug(PurePath(rnd.source).stem) if rnd.source else f"yishi_round_{rnd.id}"
    where = "" if envelope.area is None else f"_area_{envelope.area_id}"
    return PbExport(f"{stem}{where}.pb", text)


def _export_meta(
    rnd: Round, envelope: Envelope, source: Mapping[str, str], projects: int, votes: int
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "description": rnd.title,
        "country": "China",
        "unit": "yishi",
        "instance": str((rnd.voting_starts or rnd.created_at).year),
        "currency": "CNY",
    }
    meta.update({k: source[k] for k in KEPT_META if source.get(k)})
    if envelope.area is not None:
        meta["district"] = envelope.area.name
    rule = EXPORT_RULE.get(str(rnd.rule), str(rnd.rule))
    source_rule = source.get("rule", "").strip()
    if source_rule.lower().startswith(("greedy", "equalshares")) and (
        OutcomeRule.EQUAL_SHARES.value
        if source_rule.lower().startswith("equalshares")
        else OutcomeRule.GREEDY.value
    ) == str(rnd.rule):
        rule = source_rule  # the rule's name as the imported file gave it
    budget = yuan(envelope.budget_fen)
    meta.update(
        {
            "num_projects": projects,
            "num_votes": votes,
            "budget": budget,
            "vote_type": "cumulative" if rnd.ballot_type == BallotType.POINTS else "approval",
            "rule": rule,
        }
    )
    if rnd.ballot_type == BallotType.APPROVAL and rnd.max_choices:
        meta["max_length"] = rnd.max_choices
    elif rnd.ballot_type == BallotType.POINTS and rnd.points_total:
        meta["max_sum_points"] = rnd.points_total
    elif rnd.ballot_type == BallotType.BUDGET_APPROVAL:
        meta["max_sum_cost"] = budget
    return meta


def _export_projects(
    count: EnvelopeCount,
    pid_of: Mapping[str, int],
    proposals: Mapping[int, Proposal],
    selected: set[str] | None,
    points: bool,
) -> list[dict[str, Any]]:
    votes = dict.fromkeys(count.costs, 0)
    score = dict.fromkeys(count.costs, 0)
    for ballot in count.ballots:
        for key, pts in ballot.items():
            if pts > 0:
                votes[key] += 1
                score[key] += pts
    rows = []
    for key in sorted(count.costs, key=lambda k: pid_of[k]):
        proposal = proposals[pid_of[key]]
        row: dict[str, Any] = {
            "project_id": key,
            "cost": yuan(count.costs[key]),
            "votes": votes[key],
        }
        if points:
            row["score"] = score[key]
        row["name"] = proposal.title
        row["category"] = Category(proposal.category).value
        if selected is not None:
            row["selected"] = 1 if key in selected else 0
        rows.append(row)
    return rows


def _export_votes(
    count: EnvelopeCount, ballots: Sequence[Mapping[str, int]], points: bool
) -> list[dict[str, Any]]:
    """The VOTES rows of `ballots` (the envelope's, in the order to write), voters numbered
    1..n in that order."""
    order = {key: i for i, key in enumerate(count.costs)}
    first = next(iter(count.costs), None)
    rows = []
    for number, ballot in enumerate(ballots, start=1):
        keys = sorted(ballot, key=order.__getitem__)
        row: dict[str, Any] = {"voter_id": str(number), "vote": keys}
        if points:
            row["points"] = [ballot[k] for k in keys]
            if not keys and first is not None:
                # A voter who gave nothing in this envelope still counts (equal shares
                # shares the budget among all voters), but pabutools cannot read an empty
                # points vote: write "no points for the first project", which means the same.
                row["vote"], row["points"] = [first], [0]
        rows.append(row)
    return rows


def export_choices(envelopes: Sequence[Envelope]) -> list[tuple[int, str]]:
    """(envelope id, name) for the export links of a round page."""
    return [(e.id, e.area.name if e.area else _("District-wide")) for e in envelopes]
