"""Pure data types shared by the outcome rules: the election they count and the outcome they
return, with an explanation for every project.

Money is exact: `int` or `fractions.Fraction`, never `float`, so that an outcome can be
re-checked to the last fen and compared with the reference implementation (pabutools) without
rounding noise. The outcome is plain dataclasses; `Outcome.to_json()` writes every amount as a
string (`"12"` or `"125/3"`) so that the app can freeze it in a JSON column and read it back
unchanged with `Outcome.from_json()`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal

Money = int | Fraction

# Why a project ended up where it did (ProjectExplanation.reason).
FUNDED_MES = "funded_mes"  # bought by its supporters in a round of equal shares
FUNDED_GREEDY = "funded_greedy"  # taken by greedy (or by the greedy fill of equal-shares)
FUNDED_FREE = "funded_free"  # costs nothing and someone gave it points: taken up front
UNAFFORDABLE = "unaffordable"  # MES: its supporters had too little money left (mes, mes-add1)
DID_NOT_FIT = "did_not_fit"  # greedy: less money was left than it costs when its turn came
NO_SUPPORT = "no_support"  # nobody voted for it and the rule does not fund it


def money(value: int | Fraction) -> Money:
    """Normalise an amount: a Fraction with denominator 1 becomes an int (smaller JSON)."""
    if isinstance(value, Fraction) and value.denominator == 1:
        return int(value)
    return value


def money_to_str(value: Money) -> str:
    """`12` -> "12", `Fraction(125, 3)` -> "125/3" (exact, parseable by `Fraction`)."""
    return str(money(value))


def money_from_str(text: str) -> Money:
    """Inverse of `money_to_str`."""
    return money(Fraction(text))


@dataclass(frozen=True)
class Election:
    """One count: the budget, each project's cost and the ballots, in one unit of money.

    `ballots` holds one mapping per voter, project id -> points (1 for an approval). With
    `utility="cost"` (approval ballots) a voter's utility for a project they approve is its
    cost; with `utility="points"` (cumulative ballots) it is the points they gave it.
    `unit` is the step by which equal-shares raises every voter's share ("add1"): one currency
    unit, expressed in the money unit of `budget` and `costs` (the app counts in fen: 100).
    """

    budget: Money
    costs: Mapping[str, Money]
    ballots: Sequence[Mapping[str, int | Fraction]]
    utility: Literal["cost", "points"] = "cost"
    unit: Money = 1

    def __post_init__(self) -> None:
        if self.utility not in ("cost", "points"):
            raise ValueError(f"utility must be 'cost' or 'points', not {self.utility!r}")
        for value in (self.budget, self.unit, *self.costs.values()):
            if not isinstance(value, int | Fraction) or isinstance(value, bool):
                raise TypeError(f"money must be int or Fraction, not {type(value).__name__}")
        if self.budget < 0 or self.unit <= 0 or any(c < 0 for c in self.costs.values()):
            raise ValueError("budget and costs must be >= 0 and unit > 0")
        for ballot in self.ballots:
            for project, points in ballot.items():
                if project not in self.costs:
                    raise ValueError(f"a ballot names unknown project {project!r}")
                if points < 0:
                    raise ValueError(f"negative points for project {project!r}")


@dataclass
class PaymentGroup:
    """Voters who paid the same amount for one project: `amount` each, `voters` are indices
    into `Election.ballots`. Grouping keeps the certificate small for 90,000 voters."""

    amount: Money
    voters: list[int]


@dataclass
class ProjectExplanation:
    """Why one project was funded or not; doubles as a certificate that can be re-checked.

    Common: `cost`, `votes` (approvals, or total points), `supporters` (voters who gave it
    something), `reason` (one of the constants above).
    Equal shares: `step` (1-based round of the MES loop in which it was bought), `price`
    (the price per unit of utility, rho: a supporter with utility u pays min(rho*u, what they
    had left)) and `payments`; for a project MES did not buy, `supporters_money` is what its
    supporters had left at the end, less than its cost.
    Greedy (and the greedy fill of equal-shares): `rank` (1-based position in the greedy
    order) and `money_left` (budget left when its turn came).
    """

    project: str
    cost: Money
    votes: Money
    supporters: int
    reason: str
    funded: bool
    step: int | None = None
    price: Money | None = None
    payments: list[PaymentGroup] = field(default_factory=list)
    supporters_money: Money | None = None
    rank: int | None = None
    money_left: Money | None = None

    def summary(self, currency: str = "") -> str:
        """A plain-English sentence (the app translates from the structured fields instead)."""
        unit = f" {currency}" if currency else ""
        if self.reason == FUNDED_MES:
            payers = sum(len(g.voters) for g in self.payments)
            return (
                f"funded in step {self.step} of equal shares: its {payers} supporters paid "
                f"{_fmt(self.cost)}{unit} together"
            )
        if self.reason == FUNDED_GREEDY:
            return (
                f"funded as number {self.rank} by votes: {_fmt(self.money_left)}{unit} were "
                f"left, it costs {_fmt(self.cost)}{unit}"
            )
        if self.reason == FUNDED_FREE:
            return "funded: it costs nothing"
        if self.reason == UNAFFORDABLE:
            return (
                f"not funded: its {self.supporters} supporters had "
                f"{_fmt(self.supporters_money)}{unit} left of the {_fmt(self.cost)}{unit} "
                "it needs"
            )
        if self.reason == DID_NOT_FIT:
            text = (
                f"did not fit: {_fmt(self.money_left)}{unit} left, it costs {_fmt(self.cost)}{unit}"
            )
            if self.supporters_money is not None:
                text += (
                    f" (and its {self.supporters} supporters had only "
                    f"{_fmt(self.supporters_money)}{unit} left in equal shares)"
                )
            return text
        return "not funded: nobody voted for it"


def _fmt(value: Money | None) -> str:
    if value is None:
        return "?"
    if isinstance(value, Fraction) and value.denominator != 1:
        return f"{float(value):,.2f}"
    return f"{int(value):,}"


@dataclass
class Outcome:
    """The result of one rule on one election.

    `selected` is in selection order (MES steps first, then the greedy fill). For the MES
    rules `voter_budget` is each voter's final share (budget / voters + increments * unit),
    `increments` how many "add1" steps were taken and `mes_selected` what MES itself bought;
    `tie_breaking` says in one sentence how ties were broken.
    """

    rule: str
    selected: list[str]
    total_cost: Money
    budget: Money
    explanations: dict[str, ProjectExplanation]
    tie_breaking: str = ""
    voter_budget: Money | None = None
    increments: int | None = None
    mes_selected: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: every amount as an exact string, nothing else changed (the
        fields in order, as `dataclasses.asdict` would give them, without its deep copy:
        a district's 5,000 explanations took longer to copy than to count)."""
        return {
            "rule": self.rule,
            "selected": list(self.selected),
            "total_cost": _money_json(self.total_cost),
            "budget": _money_json(self.budget),
            "explanations": {k: _explanation_json(e) for k, e in self.explanations.items()},
            "tie_breaking": self.tie_breaking,
            "voter_budget": _money_json(self.voter_budget),
            "increments": self.increments,
            "mes_selected": list(self.mes_selected),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Outcome:
        """Inverse of `to_json`."""
        explanations = {}
        for pid, raw in data["explanations"].items():
            raw = dict(raw)
            raw["payments"] = [
                PaymentGroup(money_from_str(g["amount"]), list(g["voters"]))
                for g in raw.get("payments", [])
            ]
            for key in _MONEY_FIELDS:
                if raw.get(key) is not None:
                    raw[key] = money_from_str(raw[key])
            explanations[pid] = ProjectExplanation(**raw)
        return cls(
            rule=data["rule"],
            selected=list(data["selected"]),
            total_cost=money_from_str(data["total_cost"]),
            budget=money_from_str(data["budget"]),
            explanations=explanations,
            tie_breaking=data.get("tie_breaking", ""),
            voter_budget=(
                money_from_str(data["voter_budget"])
                if data.get("voter_budget") is not None
                else None
            ),
            increments=data.get("increments"),
            mes_selected=list(data.get("mes_selected", [])),
        )


_MONEY_FIELDS = ("cost", "votes", "price", "supporters_money", "money_left")


def _money_json(value: Money | None) -> str | None:
    return None if value is None else money_to_str(value)


def _explanation_json(e: ProjectExplanation) -> dict[str, Any]:
    return {
        "project": e.project,
        "cost": _money_json(e.cost),
        "votes": _money_json(e.votes),
        "supporters": e.supporters,
        "reason": e.reason,
        "funded": e.funded,
        "step": e.step,
        "price": _money_json(e.price),
        "payments": [
            {"amount": _money_json(g.amount), "voters": list(g.voters)} for g in e.payments
        ],
        "supporters_money": _money_json(e.supporters_money),
        "rank": e.rank,
        "money_left": _money_json(e.money_left),
    }


class CertificateError(AssertionError):
    """An outcome's explanation data does not prove what it claims."""
