"""Pabulib `.pb` files: parse, turn into an `Election`, write; and a small CLI.

The format (pabulib.org): three sections, META, PROJECTS and VOTES, each a line with its name
followed by `;`-separated CSV rows under a header row. We read it strictly and say where a
file is wrong (1-based line numbers), because files come from outside (imports by a council)
and a silent misreading would change an outcome. Numbers are read exactly (int or Fraction;
a decimal comma is accepted, as pabutools does), ids are kept as strings.

    python -m budget.pabulib FILE.pb --rule equal-shares [--json]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from budget.rules.election import Election, Money, money, money_to_str
from core.i18n import _

SECTIONS = ("meta", "projects", "votes")
APPROVAL_TYPES = ("approval", "choose-1")
POINTS_TYPES = ("cumulative", "scoring")
VOTE_TYPES = (*APPROVAL_TYPES, *POINTS_TYPES, "ordinal")


class PabulibError(ValueError):
    """A malformed .pb file: `line` is 1-based (0 when the file as a whole is wrong)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line
        self.message = message


class TooLarge(PabulibError):
    """A file with more projects or votes than the reader was told to accept (`what` is
    "projects" or "votes", `limit` the number)."""

    def __init__(self, line: int, what: str, limit: int) -> None:
        super().__init__(line, _("more than {n} {what}", n=f"{limit:,}", what=what))
        self.what = what
        self.limit = limit


PROGRESS_EVERY = 10_000  # lines between two calls of parse_pb's `progress`


@dataclass
class PbVote:
    """One VOTES row: `projects` in the order written (preference order for ordinal),
    `points` in the same order for cumulative / scoring (else None), `extra` the other
    columns (age, sex, ...)."""

    voter_id: str
    projects: list[str]
    points: list[Money] | None = None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class PbFile:
    """A parsed .pb file. `projects` keeps every column as written (strings), in file order;
    `costs` has the parsed costs."""

    meta: dict[str, str]
    projects: list[dict[str, str]]
    votes: list[PbVote]
    project_columns: list[str]
    vote_columns: list[str]
    budget: Money
    costs: dict[str, Money]

    @property
    def vote_type(self) -> str:
        return self.meta["vote_type"]


# Bounds on a number's text, checked BEFORE its exact value is made:
# `Fraction(Decimal("1e7000000"))` builds a seven-million-digit integer (30 s of one CPU for
# a 50-byte file). No real amount or point count comes near them; what a column can hold is
# checked where a file is imported (`budget.services.pabulib_plan`).
MAX_NUMBER_CHARS = 40
MAX_EXPONENT = 30  # |adjusted exponent| of the decimal: 1e30 and 1e-30 are the extremes


class NumberOutOfRange(ValueError):
    """A number too long, too large or too small to be read exactly."""


def parse_number(text: str) -> Money:
    """'12' -> 12, '12.5' or '12,5' -> Fraction(25, 2); ValueError otherwise
    (NumberOutOfRange for more than MAX_NUMBER_CHARS characters or an exponent beyond
    MAX_EXPONENT, refused before the exact value is computed)."""
    text = text.strip().replace(",", ".")
    if len(text) > MAX_NUMBER_CHARS:
        raise NumberOutOfRange(_("number too long: {number}...", number=text[:MAX_NUMBER_CHARS]))
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(_("not a number: {number}", number=repr(text))) from None
    if not value.is_finite():
        raise ValueError(_("not a number: {number}", number=repr(text)))
    if value and abs(value.adjusted()) > MAX_EXPONENT:
        raise NumberOutOfRange(_("number out of range: {number}", number=repr(text)))
    return money(Fraction(value))


def parse_pb(
    text: str,
    *,
    max_projects: int | None = None,
    max_votes: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> PbFile:
    """Parse the text of a .pb file (raises PabulibError with the line number; TooLarge as
    soon as a row beyond `max_projects` or `max_votes` is read). `progress(line)` is called
    every PROGRESS_EVERY lines."""
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    section = ""
    header: list[str] | None = None
    seen: list[str] = []
    meta: dict[str, str] = {}
    meta_lines: dict[str, int] = {}
    projects: list[dict[str, str]] = []
    costs: dict[str, Money] = {}
    votes: list[PbVote] = []
    voter_ids: set[str] = set()
    project_columns: list[str] = []
    vote_columns: list[str] = []
    points_column = False
    line = 0
    next_report = PROGRESS_EVERY
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise PabulibError(reader.line_num, _("unreadable CSV: {error}", error=exc)) from None
        line = reader.line_num
        if progress is not None and line >= next_report:
            progress(line)
            next_report = line + PROGRESS_EVERY
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        first = row[0].strip().lower()
        if len(row) == 1 and first in SECTIONS:
            expected = SECTIONS[len(seen)] if len(seen) < len(SECTIONS) else None
            if first != expected:
                raise PabulibError(
                    line,
                    _(
                        "section {found} where {expected} was expected",
                        found=first.upper(),
                        expected=str(expected).upper(),
                    ),
                )
            seen.append(first)
            section, header = first, None
            continue
        if not section:
            raise PabulibError(line, _("the file must start with the META section"))
        cells = [c.strip() for c in row]
        if header is None:
            header = cells
            _check_header(section, header, line)
            if section == "projects":
                _check_meta(meta, meta_lines)
                project_columns = header
            elif section == "votes":
                vote_columns = header
                points_column = "points" in header
                if meta["vote_type"] in POINTS_TYPES and not points_column:
                    raise PabulibError(
                        line, _("a cumulative or scoring file needs a points column")
                    )
            continue
        if len(cells) != len(header):
            raise PabulibError(
                line,
                _("{n} fields where the header has {m}", n=len(cells), m=len(header)),
            )
        if section == "meta":
            key, value = cells
            if key in meta:
                raise PabulibError(line, _("META key {key} given twice", key=repr(key)))
            meta[key], meta_lines[key] = value, line
        elif section == "projects":
            record = dict(zip(header, cells, strict=True))
            pid = record["project_id"]
            if not pid:
                raise PabulibError(line, _("empty project_id"))
            if pid in costs:
                raise PabulibError(line, _("duplicate project id {project}", project=repr(pid)))
            if max_projects is not None and len(costs) >= max_projects:
                raise TooLarge(line, "projects", max_projects)
            try:
                cost = parse_number(record["cost"])
            except NumberOutOfRange as exc:
                raise PabulibError(
                    line, _("cost of {project}: {error}", project=repr(pid), error=exc)
                ) from None
            except ValueError:
                raise PabulibError(
                    line,
                    _(
                        "cost of {project} is not a number: {cost}",
                        project=repr(pid),
                        cost=repr(record["cost"]),
                    ),
                ) from None
            if cost < 0:
                raise PabulibError(line, _("negative cost for {project}", project=repr(pid)))
            costs[pid] = cost
            projects.append(record)
        else:
            if max_votes is not None and len(votes) >= max_votes:
                raise TooLarge(line, "votes", max_votes)
            votes.append(_parse_vote(header, cells, line, meta, costs, points_column))
            if votes[-1].voter_id in voter_ids:
                raise PabulibError(
                    line, _("duplicate voter id {voter}", voter=repr(votes[-1].voter_id))
                )
            voter_ids.add(votes[-1].voter_id)
    if len(seen) < len(SECTIONS):
        missing = SECTIONS[len(seen)].upper()
        raise PabulibError(line + 1 if line else 1, _("missing {section} section", section=missing))
    if header is None:
        raise PabulibError(line + 1, _("missing VOTES header"))
    budget = parse_number(meta["budget"])
    return PbFile(meta, projects, votes, project_columns, vote_columns, budget, costs)


def _check_header(section: str, header: list[str], line: int) -> None:
    if section == "meta" and (len(header) != 2 or header[0].lower() != "key"):
        raise PabulibError(line, _("the META header must be 'key;value'"))
    if section == "projects" and header[:2] != ["project_id", "cost"]:
        raise PabulibError(line, _("the PROJECTS header must start with 'project_id;cost'"))
    if section == "votes" and header[:2] != ["voter_id", "vote"]:
        raise PabulibError(line, _("the VOTES header must start with 'voter_id;vote'"))
    if len(set(header)) != len(header):
        raise PabulibError(line, _("a column name is repeated in the header"))


def _check_meta(meta: dict[str, str], lines: dict[str, int]) -> None:
    end = max(lines.values(), default=0) + 1
    for key in ("budget", "vote_type"):
        if key not in meta:
            raise PabulibError(end, _("META has no {key}", key=repr(key)))
    try:
        if parse_number(meta["budget"]) < 0:
            raise ValueError
    except NumberOutOfRange as exc:
        raise PabulibError(lines["budget"], _("budget: {error}", error=exc)) from None
    except ValueError:
        raise PabulibError(
            lines["budget"],
            _("budget is not a number >= 0: {budget}", budget=repr(meta["budget"])),
        ) from None
    if meta["vote_type"] not in VOTE_TYPES:
        raise PabulibError(
            lines["vote_type"],
            _(
                "unknown vote_type {found}; expected one of {types}",
                found=repr(meta["vote_type"]),
                types=", ".join(VOTE_TYPES),
            ),
        )


def _parse_vote(
    header: list[str],
    cells: list[str],
    line: int,
    meta: Mapping[str, str],
    costs: Mapping[str, Money],
    points_column: bool,
) -> PbVote:
    record = dict(zip(header, cells, strict=True))
    voter_id = record.pop("voter_id")
    if not voter_id:
        raise PabulibError(line, _("empty voter_id"))
    raw = record.pop("vote")
    chosen = [p.strip() for p in raw.split(",")] if raw else []
    for pid in chosen:
        if pid not in costs:
            raise PabulibError(
                line,
                _(
                    "vote of {voter} names unknown project {project}",
                    voter=repr(voter_id),
                    project=repr(pid),
                ),
            )
    if len(set(chosen)) != len(chosen):
        raise PabulibError(line, _("vote of {voter} names a project twice", voter=repr(voter_id)))
    if meta["vote_type"] == "choose-1" and len(chosen) > 1:
        raise PabulibError(
            line,
            _(
                "choose-1 vote of {voter} names {n} projects",
                voter=repr(voter_id),
                n=len(chosen),
            ),
        )
    points: list[Money] | None = None
    raw_points = record.pop("points", None) if points_column else None
    if meta["vote_type"] in POINTS_TYPES:
        parts = [p for p in (raw_points or "").split(",")] if raw_points else []
        if len(parts) != len(chosen):
            raise PabulibError(
                line,
                _(
                    "vote of {voter} has {n} projects but {m} points",
                    voter=repr(voter_id),
                    n=len(chosen),
                    m=len(parts),
                ),
            )
        try:
            points = [parse_number(p) for p in parts]
        except ValueError as exc:
            raise PabulibError(
                line, _("points of {voter}: {error}", voter=repr(voter_id), error=exc)
            ) from None
    elif raw_points is not None:
        record["points"] = raw_points
    return PbVote(voter_id, chosen, points, record)


def election_from_pb(pb: PbFile, unit: Money = 1) -> Election:
    """The election a .pb file describes: approval and choose-1 count as approvals (cost
    utilities), cumulative and scoring as points, ordinal as approval of every ranked
    project. `unit` is the add1 step (one currency unit of the file: 1)."""
    points_type = pb.vote_type in POINTS_TYPES
    ballots: list[dict[str, Money]] = []
    for vote in pb.votes:
        if points_type:
            assert vote.points is not None
            ballots.append({p: x for p, x in zip(vote.projects, vote.points, strict=True) if x})
        else:
            ballots.append(dict.fromkeys(vote.projects, 1))
    return Election(
        budget=pb.budget,
        costs=dict(pb.costs),
        ballots=ballots,
        utility="points" if points_type else "cost",
        unit=unit,
    )


def anonymise(votes: Sequence[PbVote]) -> list[PbVote]:
    """The same votes with voter ids 1, 2, 3 ... (and no extra columns): what an export of a
    real round should publish."""
    return [
        PbVote(str(i), list(v.projects), list(v.points) if v.points is not None else None)
        for i, v in enumerate(votes, start=1)
    ]


def write_pb(
    meta: Mapping[str, Any],
    projects: Sequence[Mapping[str, Any]],
    votes: Iterable[PbVote | Mapping[str, Any]],
) -> str:
    """A .pb file. `meta` needs `budget` and `vote_type` (num_projects / num_votes are filled in
    when missing); each project needs `project_id` and `cost` (other keys become columns);
    each vote is a PbVote or a mapping with `voter_id`, `vote` (list of ids) and, for
    cumulative / scoring, `points`. Newlines in values become spaces; amounts are written
    exactly (decimals when finite, else num/den is refused)."""
    vote_rows = [_vote_row(v) for v in votes]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    meta_rows = {str(k): _cell(v) for k, v in meta.items()}
    meta_rows.setdefault("num_projects", str(len(projects)))
    meta_rows.setdefault("num_votes", str(len(vote_rows)))
    for key in ("budget", "vote_type"):
        if key not in meta_rows:
            raise ValueError(f"meta needs {key!r}")
    out.write("META\n")
    writer.writerow(["key", "value"])
    for key, value in meta_rows.items():
        writer.writerow([key, value])
    out.write("PROJECTS\n")
    columns = ["project_id", "cost"]
    for project in projects:
        columns += [str(k) for k in project if str(k) not in columns]
    writer.writerow(columns)
    for project in projects:
        writer.writerow([_cell(project.get(c, "")) for c in columns])
    out.write("VOTES\n")
    vote_columns = ["voter_id", "vote"]
    if meta_rows["vote_type"] in POINTS_TYPES:
        vote_columns.append("points")
    for row in vote_rows:
        vote_columns += [k for k in row if k not in vote_columns]
    writer.writerow(vote_columns)
    for row in vote_rows:
        writer.writerow([row.get(c, "") for c in vote_columns])
    return out.getvalue()


def _vote_row(vote: PbVote | Mapping[str, Any]) -> dict[str, str]:
    if isinstance(vote, PbVote):
        row = {"voter_id": vote.voter_id, "vote": ",".join(vote.projects)}
        if vote.points is not None:
            row["points"] = ",".join(_cell(x) for x in vote.points)
        row.update({k: _cell(v) for k, v in vote.extra.items()})
        return row
    row = {}
    for key, value in vote.items():
        if key in ("vote", "points") and not isinstance(value, str):
            row[key] = ",".join(_cell(x) for x in value)
        else:
            row[str(key)] = _cell(value)
    return row


def _cell(value: Any) -> str:
    if isinstance(value, Fraction):
        value = money(value)
        if isinstance(value, Fraction):
            d = value.denominator
            while d % 2 == 0:
                d //= 2
            while d % 5 == 0:
                d //= 5
            if d != 1:
                raise ValueError(f"{value} has no finite decimal form")
            digits = 0
            while (value * 10**digits).denominator != 1:
                digits += 1
            value = Decimal(value.numerator) / Decimal(value.denominator)
            return f"{value:.{digits}f}"
    if isinstance(value, float):
        raise TypeError("floats are not written: pass int, Fraction, Decimal or str")
    return " ".join(str(value).splitlines())


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: count a .pb file with one rule and print the funded project ids and their cost."""
    from budget.rules import RULES, compute_outcome

    parser = argparse.ArgumentParser(
        prog="python -m budget.pabulib", description="Count a Pabulib .pb file."
    )
    parser.add_argument("file", help="a .pb file")
    parser.add_argument("--rule", choices=RULES, default="equal-shares")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    try:
        with open(args.file, encoding="utf-8-sig", newline="") as f:
            pb = parse_pb(f.read())
        election = election_from_pb(pb)
    except (OSError, PabulibError, ValueError) as exc:
        print(f"{args.file}: {exc}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    outcome = compute_outcome(args.rule, election)
    seconds = time.perf_counter() - start
    if args.json:
        print(
            json.dumps(
                {
                    "rule": args.rule,
                    "selected": outcome.selected,
                    "total_cost": money_to_str(outcome.total_cost),
                    "seconds": round(seconds, 6),
                }
            )
        )
    else:
        for pid in outcome.selected:
            print(pid)
        print(
            f"total cost: {money_to_str(outcome.total_cost)} of {money_to_str(pb.budget)} "
            f"({len(outcome.selected)} projects, {args.rule}, {seconds:.3f} s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
