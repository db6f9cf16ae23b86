"""Request body limits (core.web.limits): a body over its route's limit is refused with 413 by
its Content-Length before a byte of it is read, and while it streams (chunked) as soon as the
count passes the limit — before the form, its CSRF token or anything else is parsed; the
refusal is a proper error page; normal forms and uploads go through."""

from __future__ import annotations

import pytest
from starlette.routing import Mount

from budget.services.pabulib_plan import MAX_FILE_BYTES
from budget.services.photos import MAX_PHOTOS, photo_form_limit
from core.models import AuditEntry
from core.web.limits import DEFAULT_BODY_LIMIT, KB, MB, route_limit
from tests.helpers import (
    csrf_token,
    login,
    make_area,
    make_round,
    make_user,
    page_text,
    post_form,
)

CHUNK = 64 * KB


class Body:
    """An async request body of `chunks` chunks that counts how many were taken from it."""

    def __init__(self, chunks: int, head: bytes = b"") -> None:
        self.chunks = chunks
        self.head = head
        self.taken = 0

    async def __aiter__(self):
        for n in range(self.chunks):
            self.taken += 1
            yield self.head + b"a" * (CHUNK - len(self.head)) if n == 0 else b"a" * CHUNK


async def test_an_anonymous_huge_post_is_refused_by_its_length_before_reading(client, db):
    body = Body(chunks=200 * MB // CHUNK)
    response = await client.post(
        "/login",
        content=body,
        headers={
            "Content-Length": str(200 * MB),
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert response.status_code == 413
    assert body.taken == 0  # refused on its word, nothing read
    text = page_text(response.text)
    assert "Too large" in text and "at most 128 KB can be sent here" in text
    assert "Reference:" in text and response.headers["x-request-id"] in text
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert await AuditEntry.all().count() == 0


async def test_a_chunked_body_is_stopped_once_past_the_limit(client, db):
    body = Body(chunks=200 * MB // CHUNK)
    response = await client.post(
        "/login", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert "content-length" not in response.request.headers  # sent chunked
    assert response.status_code == 413
    # the limit's worth of chunks and the one that passed it, not 200 MB
    assert body.taken == DEFAULT_BODY_LIMIT // CHUNK + 1


async def test_a_body_longer_than_it_said_is_stopped_too(client, db):
    body = Body(chunks=100)
    response = await client.post(
        "/login",
        content=body,
        headers={"Content-Length": "100", "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    assert body.taken == DEFAULT_BODY_LIMIT // CHUNK + 1


async def test_htmx_gets_the_message_alone(client, db):
    response = await client.post(
        "/login",
        content=b"a" * (DEFAULT_BODY_LIMIT + 1),
        headers={"HX-Request": "true", "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.startswith("What you sent is too large: at most 128 KB")


async def test_a_plain_form_under_the_limit_goes_through(client, db):
    await make_user("wang")
    token = await csrf_token(client)
    padding = "x" * (DEFAULT_BODY_LIMIT - 1000)  # ignored field, the whole body just fits
    response = await client.post(
        "/login",
        data={"username": "wang", "password": "password123", "pad": padding, "csrf_token": token},
    )
    assert response.status_code == 303


async def test_photo_forms_take_photos_bigger_than_a_plain_form(client, db, settings):
    area = await make_area()
    rnd = await make_round(envelopes={None: 100_000_00})
    await make_user("wang", area=area)
    await login(client, "wang")
    photo = _noisy_jpeg()
    assert len(photo) > DEFAULT_BODY_LIMIT
    form = {
        "title": "Benches",
        "description": "Twelve benches.",
        "category": "engineering",
        "cost": "12000",
        "area": "district",
        "beneficiaries": "300",
    }
    response = await post_form(
        client,
        f"/budget/rounds/{rnd.id}/propose",
        form,
        files=[("photos", ("big.jpg", photo, "image/jpeg"))],
    )
    assert response.status_code == 303, page_text(response.text)[:300]
    # past the photo form's own limit: refused while streaming
    limit = MAX_PHOTOS * settings.max_photo_bytes
    head = (
        b'--xyz\r\nContent-Disposition: form-data; name="photos"; filename="a.jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n"
    )
    body = Body(chunks=limit // CHUNK + 100, head=head)
    response = await client.post(
        f"/budget/rounds/{rnd.id}/propose",
        content=body,
        headers={"Content-Type": "multipart/form-data; boundary=xyz"},
    )
    assert response.status_code == 413
    assert body.taken == photo_form_limit(settings) // CHUNK + 1


def _endpoints(routes, prefix=""):
    for route in routes:
        if isinstance(route, Mount):
            if route.routes:
                inner = f"{prefix}{route.name}:" if route.name else prefix
                yield from _endpoints(route.routes, inner)
        elif getattr(route, "name", None):
            yield f"{prefix}{route.name}", route.endpoint


@pytest.mark.parametrize(
    ("name", "at_least"),
    [
        ("budget:proposal_new", MAX_PHOTOS * 5 * MB),
        ("budget:proposal_edit", MAX_PHOTOS * 5 * MB),
        ("consult:need_new", MAX_PHOTOS * 5 * MB),
        ("consult:need_enter", MAX_PHOTOS * 5 * MB),
        ("budget:study_import", MAX_FILE_BYTES),
        ("core:account_import", 2 * MB),
        ("budget:procurement_document_add", 10 * MB),
        ("budget:round_new", 20_000 * 12),
        ("budget:round_edit", 20_000 * 12),
        ("consult:deliberation_new", 20_000 * 12),
        ("consult:deliberation_edit", 20_000 * 12),
        ("consult:deliberation_publish", 2 * 20_000 * 12),
        ("consult:meeting_record", 20_000 * 12),
        ("consult:questionnaire_answer", 50 * 2_000 * 12),
        ("core:login", 4 * KB),
    ],
)
def test_routes_declare_the_limits_they_need(app, name, at_least):
    endpoints = dict(_endpoints(app.routes))
    limit = route_limit({"endpoint": endpoints[name], "app": app})
    assert limit >= at_least
    if name == "core:login":
        assert limit == DEFAULT_BODY_LIMIT


def _noisy_jpeg() -> bytes:
    """A JPEG of random pixels: a few hundred KB that no encoder can shrink."""
    import io
    import os

    from PIL import Image

    image = Image.frombytes("RGB", (600, 600), os.urandom(600 * 600 * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    return out.getvalue()
