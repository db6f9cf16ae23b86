"""Whether a convention is ratified: a pure function of the counts and of the rule fixed when
its consultation opened. No I/O, exact `Fraction` arithmetic.

The rule has two thresholds, both of which must be met:

- **turnout**: those who voted (yes, no *or abstain*) as a share of those eligible — verified
  residents of the consultation's areas, or their distinct households in household mode — must
  be at least `turnout_percent` %;
- **majority**: yes as a share of yes + no must be *more than* half (a simple majority: a tie
  fails), or *at least* two thirds / three quarters for a qualified majority.

Abstentions count toward turnout, not toward the majority: an abstaining resident took part,
but neither helps nor hinders the text. With nobody eligible, or nobody saying yes or no, the
convention is not ratified (there is no majority to speak of).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

SIMPLE = "simple"
TWO_THIRDS = "two_thirds"
THREE_QUARTERS = "three_quarters"

# majority → (threshold, strict): strict means "more than", else "at least".
MAJORITIES: dict[str, tuple[Fraction, bool]] = {
    SIMPLE: (Fraction(1, 2), True),
    TWO_THIRDS: (Fraction(2, 3), False),
    THREE_QUARTERS: (Fraction(3, 4), False),
}


@dataclass(frozen=True)
class Outcome:
    """The result with the figures that decide it, for the page to show."""

    eligible: int
    yes: int
    no: int
    abstain: int
    turnout_percent: int  # the minimum, from the rule
    majority: str  # SIMPLE, TWO_THIRDS or THREE_QUARTERS
    turnout: Fraction | None  # voted / eligible (None: nobody eligible)
    yes_share: Fraction | None  # yes / (yes + no) (None: nobody said yes or no)
    turnout_met: bool
    majority_met: bool

    @property
    def voted(self) -> int:
        return self.yes + self.no + self.abstain

    @property
    def passed(self) -> bool:
        return self.turnout_met and self.majority_met

    @property
    def majority_threshold(self) -> Fraction:
        return MAJORITIES[self.majority][0]


def majority_met(yes: int, no: int, majority: str) -> bool:
    """Whether yes among yes + no reaches the majority (never when both are zero)."""
    threshold, strict = MAJORITIES[majority]
    decided = yes + no
    if decided == 0:
        return False
    share = Fraction(yes, decided)
    return share > threshold if strict else share >= threshold


def ratification_outcome(
    eligible: int, yes: int, no: int, abstain: int, turnout_percent: int, majority: str
) -> Outcome:
    """Passed or not, by the rule, with the figures. Counts must be non-negative and
    `turnout_percent` within 0–100; `majority` one of MAJORITIES (ValueError otherwise)."""
    if min(eligible, yes, no, abstain) < 0:
        raise ValueError("counts are never negative")
    if not 0 <= turnout_percent <= 100:
        raise ValueError("the minimum turnout is a percentage, 0 to 100")
    if majority not in MAJORITIES:
        raise ValueError(f"unknown majority: {majority}")
    voted = yes + no + abstain
    turnout = Fraction(voted, eligible) if eligible else None
    # voted / eligible ≥ p / 100, in integers; nobody eligible: nothing can be ratified
    turnout_met = eligible > 0 and voted * 100 >= turnout_percent * eligible
    decided = yes + no
    return Outcome(
        eligible=eligible,
        yes=yes,
        no=no,
        abstain=abstain,
        turnout_percent=turnout_percent,
        majority=majority,
        turnout=turnout,
        yes_share=Fraction(yes, decided) if decided else None,
        turnout_met=turnout_met,
        majority_met=majority_met(yes, no, majority),
    )
