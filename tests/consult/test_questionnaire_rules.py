"""The questionnaire's pure rules, against hand-worked examples: reading answers (what is
missing, foreign, too many, out of range, too long) and the figures of the results."""

from __future__ import annotations

from fractions import Fraction

from consult.rules.questionnaires import (
    BAR_SPACE,
    QuestionSpec,
    bars,
    tally_choices,
    tally_scale,
    turnout,
    validate_answers,
)

SINGLE = QuestionSpec(1, "single", option_ids=(11, 12, 13))
MULTIPLE = QuestionSpec(2, "multiple", required=False, option_ids=(21, 22, 23), max_choices=2)
SCALE = QuestionSpec(3, "scale")
TEXT = QuestionSpec(4, "text", required=False, max_length=10)
ALL = [SINGLE, MULTIPLE, SCALE, TEXT]


def test_a_complete_set_of_answers_is_read_in_the_options_order():
    answers, errors = validate_answers(
        ALL, {1: ["12"], 2: ["23", "21"], 3: ["5"], 4: ["  more lamps "]}
    )
    assert errors == {}
    assert [(a.question_id, a.option_ids, a.scale, a.text) for a in answers] == [
        (1, (12,), None, ""),
        (2, (21, 23), None, ""),
        (3, (), 5, ""),
        (4, (), None, "more lamps"),
    ]


def test_optional_questions_may_be_left_blank_required_ones_not():
    answers, errors = validate_answers(ALL, {1: [], 2: [], 3: [""], 4: ["   "]})
    assert set(errors) == {"q1", "q3"}
    assert errors["q1"] == "Please answer this question."
    assert answers == []


def test_every_bad_answer_gets_its_own_message():
    raw = {1: ["21"], 2: ["21", "22", "23"], 3: ["6"], 4: ["x" * 11]}
    _answers, errors = validate_answers(ALL, raw)
    assert errors == {
        "q1": "Choose from the options given.",  # an option of another question
        "q2": "Choose at most 2 options.",
        "q3": "Choose a number from 1 to 5.",
        "q4": "At most 10 characters (you wrote 11).",
    }


def test_two_options_for_a_single_choice_and_garbage_are_refused():
    assert validate_answers([SINGLE], {1: ["11", "12"]})[1] == {"q1": "Choose one option."}
    assert validate_answers([SINGLE], {1: ["abc"]})[1] == {"q1": "Choose from the options given."}
    assert validate_answers([SCALE], {3: ["0"]})[1] == {"q3": "Choose a number from 1 to 5."}
    assert validate_answers([SCALE], {3: ["3", "4"]})[1] == {"q3": "Choose a number from 1 to 5."}
    # the same option sent twice counts once
    answers, errors = validate_answers([MULTIPLE], {2: ["22", "22"]})
    assert errors == {} and answers[0].option_ids == (22,)


def test_choice_percentages_are_of_those_who_answered_the_question():
    # 8 respondents answered: 5 chose A, 3 chose B, none C
    result = tally_choices([(1, "A"), (2, "B"), (3, "C")], {1: 5, 2: 3}, 8)
    assert [(o.label, o.count, o.share) for o in result.options] == [
        ("A", 5, Fraction(5, 8)),
        ("B", 3, Fraction(3, 8)),
        ("C", 0, Fraction(0)),
    ]
    assert result.total_share == 1


def test_multiple_choice_percentages_add_up_to_more_than_one_hundred():
    # 4 respondents: {A, B}, {A}, {A, C}, {B} → A 3, B 2, C 1
    result = tally_choices([(1, "A"), (2, "B"), (3, "C")], {1: 3, 2: 2, 3: 1}, 4)
    assert [o.share for o in result.options] == [Fraction(3, 4), Fraction(1, 2), Fraction(1, 4)]
    assert result.total_share == Fraction(3, 2)


def test_nobody_answered_gives_no_percentage_rather_than_zero():
    result = tally_choices([(1, "A")], {}, 0)
    assert result.options[0].share is None and result.total_share is None
    scale = tally_scale({})
    assert scale.answered == 0 and scale.mean is None


def test_scale_mean_and_distribution():
    # ten answers: one 1, three 2s, no 3, four 4s, two 5s → (1 + 6 + 16 + 10) / 10 = 3.3
    exact = tally_scale({1: 1, 2: 3, 4: 4, 5: 2})
    assert exact.answered == 10 and exact.mean == Fraction(33, 10)
    assert exact.distribution == [
        (1, 1, Fraction(1, 10)),
        (2, 3, Fraction(3, 10)),
        (3, 0, Fraction(0)),
        (4, 4, Fraction(2, 5)),
        (5, 2, Fraction(1, 5)),
    ]


def test_turnout():
    assert turnout(30, 120) == Fraction(1, 4)
    assert turnout(0, 0) is None


def test_bars_scale_to_the_largest_share():
    drawn, height = bars(
        [("A", 6, Fraction(3, 4)), ("B", 2, Fraction(1, 4)), ("C", 0, Fraction(0))]
    )
    assert [b.width for b in drawn] == [BAR_SPACE, round(BAR_SPACE / 3), 0]
    assert height == 3 * 36 and [b.y for b in drawn] == [0, 36, 72]
    # a tiny share still shows as a sliver
    drawn, _h = bars([("A", 1000, Fraction(1000, 1001)), ("B", 1, Fraction(1, 1001))])
    assert drawn[1].width == 2
