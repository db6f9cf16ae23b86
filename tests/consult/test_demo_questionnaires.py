"""The demo questionnaires: a closed safety questionnaire with a few hundred answers to all
four kinds of question and one hidden suggestion, and an open canteen questionnaire that the
demo login `resident` has not answered yet (so it can)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from budget.demo import load_demo_data
from consult.demo_questionnaires import load_questionnaires_demo
from consult.models import Answer, Question, Questionnaire, QuestionnaireResponse
from consult.services import questionnaire_results as results
from consult.services.questionnaire_publishing import announce_opened_questionnaires
from consult.services.questionnaires import get_questionnaire
from core.models import User
from tests.helpers import PASSWORD, login, page_text


@pytest.fixture
async def demo(db, settings):
    await load_demo_data(PASSWORD, settings.upload_dir)
    await load_questionnaires_demo()


async def test_the_demo_has_a_closed_and_an_open_questionnaire(demo, client):
    now = datetime.now(UTC)
    safety = await Questionnaire.get(title="社区安全问卷")
    canteen = await Questionnaire.get(title="社区食堂与居家养老服务需求调查")
    assert safety.closes_at < now < canteen.closes_at and canteen.opens_at < now
    kinds = set(await Question.filter(questionnaire_id=safety.id).values_list("kind", flat=True))
    assert kinds == {"single", "multiple", "scale", "text"}
    assert 250 <= await QuestionnaireResponse.filter(questionnaire_id=safety.id).count() <= 400
    assert 30 <= await QuestionnaireResponse.filter(questionnaire_id=canteen.id).count() < 100
    # every answer fits its question: ≤ 3 worries, scales 1–5, one text per response
    found = await results.results(await get_questionnaire(safety.id))
    worries = found.questions[1]
    assert sum(o.count for o in worries.choices.options) <= 3 * worries.answered
    assert 1 < found.questions[2].scale.mean < 5
    assert found.questions[5].hidden_texts == 1
    texts = Answer.filter(question_id=found.questions[5].question.id)
    assert len(set(await texts.values_list("response_id", flat=True))) == await texts.count()
    resident = await User.get(username="resident")
    assert not await QuestionnaireResponse.exists(
        questionnaire_id=canteen.id, respondent_id=resident.id
    )
    # the resident can answer the canteen questionnaire, and reads the safety results
    await login(client, "resident")
    page = await client.get(f"/consult/questionnaires/{canteen.id}")
    assert "Send my answers" in page.text
    page = await client.get(f"/consult/questionnaires/{safety.id}/results")
    assert page.status_code == 200 and "<svg" in page.text
    assert "139xxxx5621" not in page_text(page.text)


async def test_the_demo_questionnaires_were_announced_when_they_opened(demo):
    """Both opened in the past: the ticker of a freshly started demo tells no one again."""
    assert await announce_opened_questionnaires() == 0
