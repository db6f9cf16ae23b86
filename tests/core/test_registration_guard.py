"""Registration reveals nothing to someone without a valid invitation code (not even whether a
username is taken), and guessing codes is throttled per address like passwords."""

from __future__ import annotations

import httpx

from core.models import Invitation, User
from tests.helpers import make_area, make_user, page_text, post_form


def registration(code: str, username: str = "newbie") -> dict[str, str]:
    return {
        "code": code,
        "username": username,
        "display_name": "Newbie",
        "password": "longenough",
        "password_confirm": "longenough",
    }


async def test_a_bad_code_says_only_that_the_code_is_not_valid(client, db):
    area = await make_area()
    await make_user("wang", area=area)
    response = await post_form(client, "/register", registration("WRONG-CODE1", "wang"))
    assert response.status_code == 422
    text = page_text(response.text)
    assert "This code is not valid. Check it against your printed slip." in text
    assert "taken" not in text and 'id="username-error"' not in response.text
    # with a valid code, a taken username is named (the household holds the code)
    await Invitation.create(code="ABCDEFGH23", area=area)
    response = await post_form(client, "/register", registration("ABCDE-FGH23", "wang"))
    assert response.status_code == 422
    assert "This username is taken." in page_text(response.text)


async def test_invitation_code_guesses_are_throttled_per_address(app, client, db):
    area = await make_area()
    await Invitation.create(code="ABCDEFGH23", area=area)
    for i in range(20):
        response = await post_form(client, "/register", registration(f"WRONG{i:05d}"))
        assert response.status_code == 422
    response = await post_form(client, "/register", registration("ABCDEFGH23"))
    assert response.status_code == 429
    assert "Too many failed attempts. Please wait 5 seconds and try again." in page_text(
        response.text
    )
    assert not await User.filter(username="newbie").exists()
    transport = httpx.ASGITransport(app=app, client=("10.2.2.2", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        response = await post_form(other, "/register", registration("ABCDEFGH23"))
        assert response.status_code == 303
