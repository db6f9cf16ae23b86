"""Questionnaires' pure rules: reading a resident's answers against the questions (what is
missing, foreign or too long, with a message per question), and the figures of the results
(counts and percentages of those who answered each question, the mean of a 1–5 scale). No
I/O, no database.

Percentages are of the respondents who answered that question, not of all respondents: an
optional question left blank by half the respondents still shows how the other half chose.
For a multiple-choice question one respondent counts for each option they chose, so its
percentages add up to more than 100 %.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from consult.rules.comments import clean_body
from core.i18n import _

SINGLE, MULTIPLE, SCALE, TEXT = "single", "multiple", "scale", "text"
SCALE_VALUES = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class QuestionSpec:
    """What validation needs of a question."""

    id: int
    kind: str
    required: bool = True
    option_ids: tuple[int, ...] = ()
    max_choices: int | None = None
    max_length: int | None = None


@dataclass(frozen=True)
class ParsedAnswer:
    """One question's answer, ready to store: options chosen, a scale value or a text."""

    question_id: int
    option_ids: tuple[int, ...] = ()
    scale: int | None = None
    text: str = ""


def field_name(question_id: int) -> str:
    """The form field of a question's answer."""
    return f"q{question_id}"


def _blank(values: Sequence[str]) -> bool:
    return not any(str(v).strip() for v in values)


def validate_answers(
    questions: Sequence[QuestionSpec], raw: Mapping[int, Sequence[str]]
) -> tuple[list[ParsedAnswer], dict[str, str]]:
    """The answers given (`raw`: question id → the values its field was sent with), read
    against the questions: (answers, errors). Errors are keyed by the question's field name;
    when there is any, nothing should be stored. A question left blank gives no answer."""
    answers: list[ParsedAnswer] = []
    errors: dict[str, str] = {}
    for q in questions:
        values = [str(v) for v in raw.get(q.id, ()) if str(v).strip()]
        name = field_name(q.id)
        if _blank(values):
            if q.required:
                errors[name] = _("Please answer this question.")
            continue
        if q.kind in (SINGLE, MULTIPLE):
            chosen: list[int] = []
            for value in values:
                value = value.strip()
                if not (value.isascii() and value.isdigit()) or int(value) not in q.option_ids:
                    errors[name] = _("Choose from the options given.")
                    break
                if int(value) not in chosen:
                    chosen.append(int(value))
            if name in errors:
                continue
            if q.kind == SINGLE and len(chosen) > 1:
                errors[name] = _("Choose one option.")
                continue
            if q.kind == MULTIPLE and q.max_choices and len(chosen) > q.max_choices:
                errors[name] = _("Choose at most {n} options.", n=q.max_choices)
                continue
            order = {option: i for i, option in enumerate(q.option_ids)}
            answers.append(ParsedAnswer(q.id, option_ids=tuple(sorted(chosen, key=order.get))))
        elif q.kind == SCALE:
            value = values[0].strip()
            if len(values) > 1 or value not in {str(v) for v in SCALE_VALUES}:
                errors[name] = _("Choose a number from 1 to 5.")
                continue
            answers.append(ParsedAnswer(q.id, scale=int(value)))
        else:
            text = clean_body(values[0]) if len(values) == 1 else ""
            if len(values) > 1:
                errors[name] = _("Write one answer.")
                continue
            if q.max_length is not None and len(text) > q.max_length:
                errors[name] = _(
                    "At most {n} characters (you wrote {m}).", n=q.max_length, m=len(text)
                )
                continue
            if not text:
                if q.required:
                    errors[name] = _("Please answer this question.")
                continue
            answers.append(ParsedAnswer(q.id, text=text))
    return answers, errors


# --- results ---------------------------------------------------------------------------------


def share(count: int, of: int) -> Fraction | None:
    """`count` out of `of`, exactly; None when nobody answered (no percentage to show)."""
    return Fraction(count, of) if of else None


@dataclass(frozen=True)
class OptionTally:
    option_id: int
    label: str
    count: int
    share: Fraction | None  # of the respondents who answered the question


@dataclass(frozen=True)
class ChoiceResult:
    answered: int  # respondents who answered the question
    options: list[OptionTally]
    total_share: Fraction | None  # the sum of the options' shares (> 1 for multiple choice)


def tally_choices(
    options: Sequence[tuple[int, str]], counts: Mapping[int, int], answered: int
) -> ChoiceResult:
    """Each option (id, label, in the question's order) with how many chose it and its share
    of the `answered` respondents."""
    rows = [
        OptionTally(
            option_id, label, counts.get(option_id, 0), share(counts.get(option_id, 0), answered)
        )
        for option_id, label in options
    ]
    total = sum(r.count for r in rows)
    return ChoiceResult(answered, rows, share(total, answered))


@dataclass(frozen=True)
class ScaleResult:
    answered: int
    mean: Fraction | None
    distribution: list[tuple[int, int, Fraction | None]] = field(default_factory=list)
    # (value, count, share) for 1…5


def tally_scale(counts: Mapping[int, int]) -> ScaleResult:
    """The mean of a 1–5 scale and how many chose each value (values outside 1–5 are not
    counted: the database refuses them anyway)."""
    answered = sum(counts.get(v, 0) for v in SCALE_VALUES)
    total = sum(v * counts.get(v, 0) for v in SCALE_VALUES)
    return ScaleResult(
        answered,
        Fraction(total, answered) if answered else None,
        [(v, counts.get(v, 0), share(counts.get(v, 0), answered)) for v in SCALE_VALUES],
    )


def turnout(respondents: int, eligible: int) -> Fraction | None:
    """Respondents as a share of the residents who could answer (None when none could)."""
    return share(respondents, eligible)


# --- bar charts (server-rendered SVG) --------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    share: Fraction | None
    y: int  # top of the bar's row, in chart units
    width: int  # the bar's length, in chart units (of BAR_SPACE)


CHART_WIDTH = 360
BAR_SPACE = 280  # the longest bar (the largest share); figures go after it
ROW = 36  # a label line and a bar


def bars(rows: Sequence[tuple[str, int, Fraction | None]]) -> tuple[list[Bar], int]:
    """Bars for (label, count, share) rows, scaled so the largest share fills BAR_SPACE;
    returns the bars and the chart's height."""
    largest = max((r[2] for r in rows if r[2] is not None), default=None)
    out = []
    for i, (label, count, part) in enumerate(rows):
        width = 0
        if part is not None and largest:
            width = round(BAR_SPACE * part / largest)
            width = max(width, 2 if count else 0)
        out.append(Bar(label, count, part, i * ROW, width))
    return out, max(ROW, len(rows) * ROW)
