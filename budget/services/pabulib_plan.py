"""What a Pabulib `.pb` file becomes, worked out before anything is saved: the upload decoded
and parsed (the file format itself is `budget.pabulib`) and mapped onto a round's rules, its
projects and its voters' choices — an `ImportPlan`, or a ValidationError naming the line. No
database: saving the plan is `budget.services.pabulib_import`.

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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import PurePath

from budget.models import BallotType, Category, OutcomeRule
from budget.pabulib import (
    POINTS_TYPES,
    PabulibError,
    PbFile,
    PbVote,
    TooLarge,
    parse_number,
    parse_pb,
)
from core.errors import ValidationError
from core.i18n import _

# Caps on what one import may hold, checked while the file is read (a file beyond them is
# refused as soon as the first row too many is read, naming it). The largest Pabulib files
# are far below: Łódź 2022 has 90,494 voters, 160 projects and 325,964 choices in 3.7 MB;
# Warsaw's and Budapest's city-wide files have about 100,000 voters and a few hundred
# projects. At these caps a file stays within the import worker's memory limit
# (`budget.services.pabulib_worker`).
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_PROJECTS = 2_000
MAX_VOTERS = 500_000
MAX_CHOICES = 2_000_000  # projects named by all the votes together (Łódź: 325,964)
# What the columns hold: amounts (BIGINT fen) far beyond any city's budget — a trillion
# yuan — and points, choices and counts in a 32-bit INTEGER.
MAX_AMOUNT_FEN = 10**14
MAX_INT = 2**31 - 1

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
    """A META count (num_votes, max_length, max_sum_points) as a whole number > 0 that a
    column holds, else None (not given, not a number, or out of range)."""
    try:
        value = Fraction(parse_number(str(text)))
    except ValueError:
        return None
    if value.denominator != 1 or not 0 < value <= MAX_INT:
        return None
    return int(value)


def _too_large(text: str, section: str, first_cell: str, amount: str) -> ValidationError:
    return _refuse(
        find_line(text, section, first_cell),
        _(
            "the amount {amount} is larger than yishi accepts (at most {max} yuan).",
            amount=amount,
            max=f"{MAX_AMOUNT_FEN // 100:,}",
        ),
    )


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
    if fund > MAX_AMOUNT_FEN:
        raise _too_large(text, "meta", "budget", meta["budget"])
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
        if cost > MAX_AMOUNT_FEN:
            raise _too_large(text, "projects", pid, row["cost"])
        if cost <= 0:
            raise _refuse(
                find_line(text, "projects", pid),
                _("project {id} costs nothing; every project needs a cost.", id=pid),
            )
        name = " ".join(row.get("name", "").split())
        title = (name or _("Project {id}", id=pid))[:200]
        # the file's own description; none is written for it here, the proposal's page says
        # where it came from in the reader's language
        description = row.get("description", "").strip()
        index[pid] = len(projects)
        projects.append(
            ProjectPlan(pid, title, description, map_category(row.get("category", "")), cost)
        )
    points_type = pb.vote_type in POINTS_TYPES
    ballots: list[list[tuple[int, int]]] = []
    longest = 0
    largest_sum = 0
    choices = 0
    for vote in pb.votes:
        ballots.append(_ballot_choices(vote, index, points_type, text))
        longest = max(longest, len(ballots[-1]))
        largest_sum = max(largest_sum, sum(p for _i, p in ballots[-1]))
        choices += len(ballots[-1])
        if choices > MAX_CHOICES:
            raise _refuse(
                find_line(text, "votes", vote.voter_id),
                _(
                    "the votes name more than {n} projects in all: more than yishi imports "
                    "at once.",
                    n=f"{MAX_CHOICES:,}",
                ),
            )
        if largest_sum > MAX_INT:
            raise _refuse(
                find_line(text, "votes", vote.voter_id),
                _("the points of voter {voter} add up to too much.", voter=vote.voter_id),
            )
    ballot_type, max_choices, points_total = _ballot_rules(pb, longest, largest_sum)
    rule = (
        OutcomeRule.EQUAL_SHARES
        if meta.get("rule", "").strip().lower().startswith("equalshares")
        else OutcomeRule.GREEDY
    )
    return ImportPlan(
        title=import_title(meta, filename),
        # only the file's own comment: the sentence about the file is written when the page
        # is shown, in the reader's language (describe_import, from the import's audit entry)
        description=meta.get("comment", "").strip(),
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


def describe_import(
    meta: Mapping[str, str],
    filename: str,
    voters: int,
    ballot_type: BallotType,
    data: Callable[[str], str] = str,
) -> str:
    """The sentence about an imported file, in the current language. The file's own words
    (places, an unknown rule, its currency) go through `data`, which the page uses to mark them
    as not in the page's language."""
    where = _(", ").join(
        data(x)
        for x in (
            meta.get("unit", ""),
            meta.get("district", ""),
            meta.get("country", ""),
            meta.get("instance", ""),
        )
        if x
    )
    rule = meta.get("rule", "").strip()
    if rule.lower().startswith("equalshares"):
        rule_name = OutcomeRule.EQUAL_SHARES.label
    elif rule.lower().startswith("greedy"):
        rule_name = OutcomeRule.GREEDY.label
    else:
        rule_name = data(rule or "?")
    return _(
        "Imported from the Pabulib file {file} ({where}): {voters} voters, {vote_type} "
        "ballots; the rule used there: {rule}. Amounts are the file's ({currency}), shown "
        "as yuan.",
        file=filename,
        where=where or "?",
        voters=f"{voters:,}",
        vote_type=ballot_type.label,
        rule=rule_name,
        currency=data(meta.get("currency", "") or "?"),
    )


def too_big_message() -> str:
    return _("The file is larger than {n} MB.", n=MAX_FILE_BYTES // 1024 // 1024)


def decode_upload(data: bytes) -> str:
    """The file's text (UTF-8, an initial BOM dropped); refused with the line of a bad byte."""
    if len(data) > MAX_FILE_BYTES:
        raise _refuse(0, too_big_message())
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


def parse_upload(
    filename: str, data: bytes, progress: Callable[[int], None] | None = None
) -> tuple[PbFile, ImportPlan]:
    """Decode, parse and plan an uploaded file (ValidationError with the line number), within
    the caps above. `progress(line)` is called now and then while the file is read."""
    text = decode_upload(data)
    if not text.strip():
        raise _refuse(0, _("The file is empty."))
    try:
        pb = parse_pb(text, max_projects=MAX_PROJECTS, max_votes=MAX_VOTERS, progress=progress)
    except TooLarge as exc:
        if exc.what == "projects":
            message = _("the file has more than {n} projects.", n=f"{MAX_PROJECTS:,}")
        else:
            message = _("the file has more than {n} voters.", n=f"{MAX_VOTERS:,}")
        raise _refuse(
            exc.line, message + " " + _("yishi imports elections up to that size.")
        ) from None
    except PabulibError as exc:
        raise _refuse(exc.line, exc.message) from None
    plan = plan_import(pb, text, filename)
    plan.digest = content_digest(text)
    return pb, plan
