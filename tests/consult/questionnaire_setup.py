"""A questionnaire for tests: four questions (one of each kind), published and open by default,
for the residents of one area; and a quick way to answer it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from consult.models import (
    Question,
    QuestionKind,
    Questionnaire,
    QuestionnaireArea,
    QuestionOption,
)
from core.models import Area, Role, User
from tests.helpers import make_area, make_user


@dataclass
class World:
    east: Area
    west: Area
    council: User
    alice: User  # verified resident of East
    bob: User  # verified resident of West
    q: Questionnaire
    single: Question
    multiple: Question
    scale: Question
    text: Question
    options: dict[str, int]  # option label → id


async def make_questionnaire(
    *,
    title: str = "Community safety",
    state: str = "open",
    areas: tuple[Area, ...] = (),
    live: bool = False,
) -> tuple[Questionnaire, list[Question], dict[str, int]]:
    now = datetime.now(UTC)
    opens, closes = {
        "open": (now - timedelta(days=1), now + timedelta(days=7)),
        "scheduled": (now + timedelta(days=1), now + timedelta(days=8)),
        "closed": (now - timedelta(days=8), now - timedelta(days=1)),
        "draft": (now + timedelta(days=1), now + timedelta(days=8)),
    }[state]
    q = await Questionnaire.create(
        title=title,
        introduction="A few questions.",
        opens_at=opens,
        closes_at=closes,
        published_at=None if state == "draft" else opens - timedelta(hours=1),
        # one that has opened was announced then (as the ticker does): else the e2e server's
        # ticker, on the same test database, announces it in the middle of another test
        announced_at=opens if opens <= now else None,
        show_results_live=live,
    )
    for area in areas:
        await QuestionnaireArea.create(questionnaire=q, area=area)
    single = await Question.create(
        questionnaire=q, position=1, kind=QuestionKind.SINGLE, prompt="Do you feel safe at night?"
    )
    multiple = await Question.create(
        questionnaire=q,
        position=2,
        kind=QuestionKind.MULTIPLE,
        prompt="What worries you?",
        max_choices=2,
        required=False,
    )
    scale = await Question.create(
        questionnaire=q,
        position=3,
        kind=QuestionKind.SCALE,
        prompt="How good is the street lighting?",
        low_label="very poor",
        high_label="very good",
    )
    text = await Question.create(
        questionnaire=q,
        position=4,
        kind=QuestionKind.TEXT,
        prompt="Anything else?",
        required=False,
        max_length=50,
    )
    options: dict[str, int] = {}
    for question, labels in (
        (single, ["Yes", "Mostly", "No"]),
        (multiple, ["Lighting", "Fraud", "E-bikes"]),
    ):
        for i, label in enumerate(labels):
            o = await QuestionOption.create(question=question, position=i, label=label)
            options[label] = o.id
    return q, [single, multiple, scale, text], options


async def world(state: str = "open", live: bool = False, limit_to_east: bool = True) -> World:
    east = await make_area("East Gate")
    west = await make_area("West River")
    council = await make_user("council", role=Role.COUNCIL)
    alice = await make_user("alice", area=east, display_name="Alice Zhang")
    bob = await make_user("bob", area=west)
    q, questions, options = await make_questionnaire(
        state=state, areas=(east,) if limit_to_east else (), live=live
    )
    return World(east, west, council, alice, bob, q, *questions, options)


def answers(w: World, single="Yes", multiple=("Lighting",), scale="4", text="More patrols") -> dict:
    """A form's answers to the world's questionnaire (labels turned into option ids)."""
    form: dict = {f"q{w.single.id}": str(w.options[single]) if single else ""}
    form[f"q{w.multiple.id}"] = [str(w.options[m]) for m in multiple]
    form[f"q{w.scale.id}"] = scale
    form[f"q{w.text.id}"] = text
    return form
