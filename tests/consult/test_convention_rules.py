"""The pure rules of conventions: the ratification outcome (turnout, majority, abstentions,
household counts, ties, nobody eligible) worked by hand, with properties; and the word diff
(Chinese per character, other text per word)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consult.rules.ratification import (
    SIMPLE,
    THREE_QUARTERS,
    TWO_THIRDS,
    majority_met,
    ratification_outcome,
)
from consult.rules.textdiff import tokenize, word_diff

# --- ratification ------------------------------------------------------------------------------


def test_a_clear_yes_with_enough_turnout_passes():
    o = ratification_outcome(100, 40, 10, 5, 50, SIMPLE)
    assert o.voted == 55 and o.turnout == Fraction(55, 100)
    assert o.yes_share == Fraction(40, 50)
    assert o.turnout_met and o.majority_met and o.passed


def test_too_few_voters_fails_whatever_the_majority():
    o = ratification_outcome(100, 49, 0, 0, 50, SIMPLE)
    assert not o.turnout_met and o.majority_met and not o.passed


def test_turnout_exactly_at_the_minimum_is_enough():
    assert ratification_outcome(200, 60, 30, 10, 50, SIMPLE).turnout_met  # 100 of 200


def test_abstentions_count_toward_turnout_not_toward_the_majority():
    # 10 yes, 9 no, 31 abstain: 50 of 100 voted (turnout met); 10 / 19 yes (> half)
    o = ratification_outcome(100, 10, 9, 31, 50, SIMPLE)
    assert o.turnout_met and o.majority_met and o.passed
    # without the abstentions the turnout would fail
    assert not ratification_outcome(100, 10, 9, 0, 50, SIMPLE).passed


def test_a_tie_is_not_a_simple_majority():
    o = ratification_outcome(10, 4, 4, 0, 0, SIMPLE)
    assert o.yes_share == Fraction(1, 2) and not o.majority_met and not o.passed


def test_two_thirds_is_at_least_two_thirds():
    assert majority_met(2, 1, TWO_THIRDS)
    assert not majority_met(199, 101, TWO_THIRDS)  # 66.3 %
    assert majority_met(3, 1, THREE_QUARTERS) and not majority_met(74, 26, THREE_QUARTERS)


def test_nobody_eligible_or_only_abstentions_never_pass():
    o = ratification_outcome(0, 0, 0, 0, 0, SIMPLE)
    assert o.turnout is None and not o.passed
    o = ratification_outcome(10, 0, 0, 10, 20, SIMPLE)
    assert o.turnout_met and o.yes_share is None and not o.passed


def test_household_mode_counts_households_the_same_way():
    # 40 households eligible, 21 voted (one each): 52.5 % turnout, 15 yes of 20
    o = ratification_outcome(40, 15, 5, 1, 50, TWO_THIRDS)
    assert o.turnout == Fraction(21, 40) and o.passed


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        ratification_outcome(10, 1, 1, 1, 101, SIMPLE)
    with pytest.raises(ValueError):
        ratification_outcome(10, -1, 1, 1, 50, SIMPLE)
    with pytest.raises(ValueError):
        ratification_outcome(10, 1, 1, 1, 50, "most")


counts = st.integers(min_value=0, max_value=10_000)


@given(counts, counts, counts, counts, st.integers(0, 100), st.sampled_from([SIMPLE, TWO_THIRDS]))
def test_passing_means_both_thresholds_and_one_more_yes_never_hurts(e, y, n, a, p, m):
    o = ratification_outcome(e, y, n, a, p, m)
    assert o.passed == (o.turnout_met and o.majority_met)
    if o.passed:
        assert e > 0 and y > 0 and (y + n + a) * 100 >= p * e
        assert ratification_outcome(e, y + 1, n, a, p, m).passed
        # an abstention turned into a yes never undoes it either
        if a:
            assert ratification_outcome(e, y + 1, n, a - 1, p, m).passed
    if o.majority_met:
        assert y > n


# --- word diff ---------------------------------------------------------------------------------


def test_chinese_is_split_per_character_and_english_per_word():
    assert tokenize("文明养犬") == ["文", "明", "养", "犬"]
    assert tokenize("Keep dogs, leashed.") == ["Keep", " ", "dogs", ",", " ", "leashed", "."]
    assert tokenize("每户2只犬，须拴绳") == ["每", "户", "2", "只", "犬", "，", "须", "拴", "绳"]


def test_a_changed_chinese_clause_marks_only_the_changed_characters():
    pieces = word_diff("出门遛狗须拴绳", "出门遛狗须拴牵引绳并清理粪便")
    assert [(p.kind, p.text) for p in pieces] == [
        ("equal", "出门遛狗须拴"),
        ("insert", "牵引"),
        ("equal", "绳"),
        ("insert", "并清理粪便"),
    ]


def test_a_replaced_english_word_is_deleted_then_inserted():
    pieces = word_diff("Park in the marked bays.", "Park in the numbered bays.")
    assert [(p.kind, p.text) for p in pieces] == [
        ("equal", "Park in the "),
        ("delete", "marked"),
        ("insert", "numbered"),
        ("equal", " bays."),
    ]


@given(st.text(max_size=60), st.text(max_size=60))
def test_the_diff_gives_back_both_texts(old, new):
    assert "".join(tokenize(old)) == old
    pieces = word_diff(old, new)
    assert "".join(p.text for p in pieces if p.kind != "insert") == old
    assert "".join(p.text for p in pieces if p.kind != "delete") == new
