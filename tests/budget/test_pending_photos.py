"""Photos already chosen survive a proposal form that comes back with an error: kept as
pending uploads (signed tokens in the form), sent with the next try, removable, and nobody
else's token is honoured."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from budget.models import Proposal, ProposalPhoto
from tests.budget.test_proposals_routes import FORM, resident_in_round
from tests.helpers import (
    app_client,
    csrf_token,
    login,
    make_user,
    page_text,
    post_form,
    tiny_jpeg,
    tiny_png,
)


async def post_pairs(client, path: str, pairs: list[tuple[str, str]]):
    """POST a form with repeated fields (urlencoded, as a browser sends it)."""
    body = urlencode([*pairs, ("csrf_token", await csrf_token(client))])
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    return await client.post(path, content=body, headers=headers)


def tokens(html: str) -> list[str]:
    return re.findall(r'name="pending_photo" value="([^"]+)"', html)


async def _first_try(client, rnd):
    files = [
        ("photos", ("a.png", tiny_png(), "image/png")),
        ("photos", ("b.jpg", tiny_jpeg(), "image/jpeg")),
    ]
    response = await post_form(
        client, f"/budget/rounds/{rnd.id}/propose", {**FORM, "title": ""}, files=files
    )
    assert response.status_code == 422
    return response


async def test_pending_photos_are_sent_with_the_next_try(client, db, settings):
    rnd, _, _ = await resident_in_round(client)
    first = await _first_try(client, rnd)
    kept = tokens(first.text)
    assert len(kept) == 2
    assert re.search(r'<img src="data:image/(jpeg|png|webp);base64,[^"]+" alt="a.png">', first.text)
    assert len(list((settings.upload_dir / "pending").iterdir())) == 4  # photos, thumbnails
    # still wrong: kept again, nothing chosen anew
    second = await post_pairs(
        client,
        f"/budget/rounds/{rnd.id}/propose",
        [*FORM.items(), ("title", ""), *[("pending_photo", t) for t in kept]],
    )
    assert second.status_code == 422 and tokens(second.text) == kept
    # right, one of the two removed
    third = await post_pairs(
        client,
        f"/budget/rounds/{rnd.id}/propose",
        [*FORM.items(), *[("pending_photo", t) for t in kept], ("drop_pending", kept[1])],
    )
    assert third.status_code == 303, page_text(third.text)[:400]
    proposal = await Proposal.get(title=FORM["title"])
    photos = await ProposalPhoto.filter(proposal_id=proposal.id)
    assert len(photos) == 1
    assert not list((settings.upload_dir / "pending").iterdir())


async def test_a_token_of_someone_else_or_forged_is_ignored(client, db, app, settings):
    rnd, area, _ = await resident_in_round(client)
    kept = tokens((await _first_try(client, rnd)).text)
    await make_user("li", area=area)
    async with app_client(app) as other:
        await login(other, "li")
        response = await post_pairs(
            other,
            f"/budget/rounds/{rnd.id}/propose",
            [*FORM.items(), ("pending_photo", kept[0]), ("pending_photo", kept[0][:-3] + "abc")],
        )
        assert response.status_code == 303
    proposal = await Proposal.get(title=FORM["title"])
    assert await ProposalPhoto.filter(proposal_id=proposal.id).count() == 0
