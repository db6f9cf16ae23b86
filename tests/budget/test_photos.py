"""Photos re-encoded (budget.services.photos, photo_encoding): what is stored and served has no
metadata (the GPS position of a resident's home above all), the EXIF orientation applied; a
decompression bomb or a broken file is a 422 with nothing written; thumbnails for pages; the
per-person quota; the photos of proposals and of needs alike."""

from __future__ import annotations

import asyncio
import io
import os
import re
import struct
import zlib

import pytest
from PIL import Image

from budget.models import Proposal, ProposalPhoto
from budget.services import photos as photo_svc
from budget.services import proposal_changes
from budget.services.photo_encoding import FULL_SIZE, THUMB_WIDTH
from budget.services.photos import Upload
from consult.models import Need, NeedPhoto
from consult.services import needs
from core.errors import ValidationError
from tests.helpers import login, make_area, make_round, make_user, page_text, post_form

FORM = {
    "title": "Benches by the canal",
    "description": "Twelve benches along the canal path.",
    "category": "engineering",
    "cost": "12000",
    "area": "district",
    "beneficiaries": "300",
    "location": "Canal path",
}
NEED = {"title": "Broken lamp", "body": "The lamp at gate 3 is out.", "category": "facilities"}
GPS_IFD = 0x8825
ORIENTATION = 0x0112


def jpeg_with_gps(size=(800, 400), orientation: int | None = None) -> bytes:
    """A JPEG with the camera's EXIF: a GPS position (a home in Chengdu), a camera model, and
    XMP; `orientation` as a phone writes it."""
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x0110] = "Resident's phone"  # Model
    if orientation:
        exif[ORIENTATION] = orientation
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (30.0, 39.0, 36.0), 3: "E", 4: (104.0, 4.0, 12.0)})
    out = io.BytesIO()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">home</x:xmpmeta>'
    image.save(out, "JPEG", exif=exif, xmp=xmp)
    return out.getvalue()


def png(size, mode="RGB", color=(10, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, "PNG")
    return out.getvalue()


def png_bomb(width=100_000, height=100_000) -> bytes:
    """A PNG of a few dozen bytes that declares 10 gigapixels (its data would be ~30 GB)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 1000))
        + chunk(b"IEND", b"")
    )


async def resident_in_round(client):
    area = await make_area()
    rnd = await make_round(envelopes={None: 100_000_00, area: 100_000_00})
    user = await make_user("wang", area=area, display_name="Wang Fang")
    await login(client, "wang")
    return rnd, user


async def propose(client, rnd, *files, **fields):
    return await post_form(
        client,
        f"/budget/rounds/{rnd.id}/propose",
        {**FORM, **fields},
        files=[("photos", (name, data, "image/jpeg")) for name, data in files],
    )


# --- metadata ------------------------------------------------------------------------------


async def test_the_gps_position_is_never_stored_nor_served(client, db, settings):
    rnd, _ = await resident_in_round(client)
    sent = jpeg_with_gps()
    with Image.open(io.BytesIO(sent)) as check:  # the upload does carry it
        assert check.getexif().get_ifd(GPS_IFD) and "xmp" in check.info
    response = await propose(client, rnd, ("home.jpg", sent))
    assert response.status_code == 303, page_text(response.text)[:300]
    photo = await ProposalPhoto.get()
    stored = (settings.upload_dir / photo.stored_name).read_bytes()
    for size in ("", "?size=thumb"):
        served = await client.get(f"/budget/photos/{photo.id}{size}")
        assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
        assert served.content != sent
        with Image.open(io.BytesIO(served.content)) as image:
            assert image.format == "JPEG"
            assert dict(image.getexif()) == {} and not image.getexif().get_ifd(GPS_IFD)
            assert "exif" not in image.info and "xmp" not in image.info
        assert b"Exif" not in served.content and b"xmpmeta" not in served.content
        assert b"Resident's phone" not in served.content
    assert served.content != stored  # the thumbnail is a file of its own


async def test_the_orientation_is_applied_before_it_is_dropped(client, db, settings):
    rnd, _ = await resident_in_round(client)
    # 60×30 pixels that a phone says to show turned a quarter (EXIF orientation 6)
    response = await propose(client, rnd, ("turned.jpg", jpeg_with_gps((60, 30), orientation=6)))
    assert response.status_code == 303
    photo = await ProposalPhoto.get()
    with Image.open(settings.upload_dir / photo.stored_name) as image:
        assert image.size == (30, 60)
        assert ORIENTATION not in image.getexif()


async def test_transparency_is_kept_as_png(db, tmp_path):
    rnd, user = await _service_setup()
    clear = png((40, 40), "RGBA", (0, 0, 0, 0))
    opaque_alpha = png((40, 40), "RGBA", (0, 0, 0, 255))
    await proposal_changes.submit_proposal(
        user,
        rnd.id,
        FORM,
        [Upload("clear.png", clear), Upload("opaque.png", opaque_alpha)],
        upload_dir=tmp_path,
        max_bytes=10**6,
    )
    kept = await ProposalPhoto.all().order_by("id")
    assert [p.content_type for p in kept] == ["image/png", "image/jpeg"]
    with Image.open(tmp_path / kept[0].stored_name) as image:
        assert image.mode == "RGBA" and image.getpixel((0, 0))[3] == 0


# --- bombs and broken files ----------------------------------------------------------------


async def test_a_decompression_bomb_is_refused_with_a_message_and_nothing_written(
    client, db, settings
):
    rnd, _ = await resident_in_round(client)
    bomb = png_bomb()
    assert len(bomb) < 200
    response = await propose(client, rnd, ("bomb.png", bomb), title="Keep this title")
    assert response.status_code == 422
    text = page_text(response.text)
    assert "bomb.png has too many pixels: at most 40 megapixels." in text
    assert 'value="Keep this title"' in response.text
    assert await Proposal.all().count() == 0 and await ProposalPhoto.all().count() == 0
    assert not settings.upload_dir.exists() or not any(settings.upload_dir.iterdir())


@pytest.mark.parametrize(
    "data",
    [
        png((10, 10))[:45],  # cut short, in its pixel data
        b"\xff\xd8\xff\xe0" + os.urandom(500),  # a JPEG's first bytes, then noise
        b"RIFF\x10\x00\x00\x00WEBPVP8 garbage",
    ],
)
async def test_a_file_that_is_not_a_readable_image_is_refused(db, tmp_path, data):
    rnd, user = await _service_setup()
    with pytest.raises(ValidationError) as exc:
        await proposal_changes.submit_proposal(
            user, rnd.id, FORM, [Upload("x.jpg", data)], upload_dir=tmp_path, max_bytes=10**6
        )
    assert exc.value.errors["photos"] == "x.jpg could not be read as an image."
    assert await Proposal.all().count() == 0 and list(tmp_path.iterdir()) == []


# --- sizes and thumbnails ------------------------------------------------------------------


async def test_thumbnails_are_smaller_and_served_on_the_pages(client, db, settings):
    rnd, _ = await resident_in_round(client)
    noise = Image.frombytes("RGB", (1200, 800), os.urandom(1200 * 800 * 3))
    out = io.BytesIO()
    noise.save(out, "JPEG", quality=90)
    response = await propose(client, rnd, ("street.jpg", out.getvalue()))
    assert response.status_code == 303
    photo = await ProposalPhoto.get()
    full = await client.get(f"/budget/photos/{photo.id}")
    thumb = await client.get(f"/budget/photos/{photo.id}?size=thumb")
    assert thumb.status_code == 200 and len(thumb.content) < len(full.content) / 3
    with Image.open(io.BytesIO(full.content)) as a, Image.open(io.BytesIO(thumb.content)) as b:
        assert a.size == (1200, 800) and b.size == (THUMB_WIDTH, 320)
    assert photo.size == len(full.content)
    detail = await client.get(f"/budget/proposals/{photo.proposal_id}")
    assert f"/budget/photos/{photo.id}?size=thumb" in detail.text


async def test_large_photos_are_kept_at_most_full_size(db, tmp_path):
    rnd, user = await _service_setup()
    await proposal_changes.submit_proposal(
        user,
        rnd.id,
        FORM,
        [Upload("wide.png", png((5000, 1000)))],
        upload_dir=tmp_path,
        max_bytes=10**7,
    )
    photo = await ProposalPhoto.get()
    with Image.open(tmp_path / photo.stored_name) as image:
        assert image.size == (FULL_SIZE, 410)


async def test_photos_stored_before_thumbnails_are_still_served(client, db, settings):
    rnd, user = await resident_in_round(client)
    proposal = await Proposal.create(
        round=rnd, author=user, title="Old", description="d", category="engineering", cost_fen=1
    )
    settings.upload_dir.mkdir(parents=True, exist_ok=True)
    (settings.upload_dir / "0123abcd.png").write_bytes(png((8, 8)))
    photo = await ProposalPhoto.create(
        proposal=proposal, stored_name="0123abcd.png", content_type="image/png", size=1
    )
    for size in ("", "?size=thumb"):
        served = await client.get(f"/budget/photos/{photo.id}{size}")
        assert served.status_code == 200 and served.content == png((8, 8))


# --- quota ---------------------------------------------------------------------------------


async def test_the_quota_per_round_refuses_more_photos_on_the_same_form(
    client, db, settings, monkeypatch
):
    monkeypatch.setattr(photo_svc, "QUOTA_PHOTOS", 4)
    rnd, _ = await resident_in_round(client)
    one = ("a.jpg", jpeg_with_gps())
    assert (await propose(client, rnd, one, one, one, title="First")).status_code == 303
    response = await propose(client, rnd, one, one, title="Second, typed with care")
    assert response.status_code == 422
    assert "You have reached the photo limit for this round: at most 4 photos" in page_text(
        response.text
    )
    assert 'value="Second, typed with care"' in response.text
    assert await Proposal.all().count() == 1 and await ProposalPhoto.all().count() == 3
    # three photos, three thumbnails (the refused form's photos wait apart, under pending/)
    assert len([f for f in settings.upload_dir.iterdir() if f.is_file()]) == 6
    # one more still fits; removing photos on an edit makes room again
    assert (await propose(client, rnd, one, title="Third")).status_code == 303
    first = await Proposal.get(title="First")
    ids = await ProposalPhoto.filter(proposal_id=first.id).values_list("id", flat=True)
    response = await post_form(
        client,
        f"/budget/proposals/{first.id}/edit",
        {**FORM, "title": "First", "remove_photo": [str(i) for i in ids[:2]]},
        files=[("photos", one), ("photos", one)],
    )
    assert response.status_code == 303, page_text(response.text)[:300]
    assert await ProposalPhoto.all().count() == 4


async def test_the_quota_counts_bytes_too(db, tmp_path, monkeypatch):
    monkeypatch.setattr(photo_svc, "QUOTA_BYTES", 1000)
    rnd, user = await _service_setup()
    noise = Image.frombytes("RGB", (100, 100), os.urandom(100 * 100 * 3))
    out = io.BytesIO()
    noise.save(out, "PNG")
    with pytest.raises(ValidationError) as exc:
        await proposal_changes.submit_proposal(
            user,
            rnd.id,
            FORM,
            [Upload("n.png", out.getvalue())],
            upload_dir=tmp_path,
            max_bytes=10**6,
        )
    assert "at most 20 photos or 0 MB" in exc.value.errors["photos"]
    assert list(tmp_path.iterdir()) == []


async def test_needs_have_a_quota_per_resident_too(db, tmp_path, monkeypatch):
    monkeypatch.setattr(photo_svc, "QUOTA_PHOTOS", 2)
    area = await make_area()
    alice = await make_user("alice", area=area)
    photo = Upload("lamp.jpg", jpeg_with_gps())
    kwargs = {"upload_dir": tmp_path, "max_bytes": 10**6}
    need = await needs.raise_need(alice, NEED, [photo, photo], **kwargs)
    stored = await NeedPhoto.get(need_id=need.id).first()
    with Image.open(tmp_path / stored.stored_name) as image:
        assert not image.getexif().get_ifd(GPS_IFD)
    with pytest.raises(ValidationError) as exc:
        await needs.raise_need(alice, NEED, [photo], **kwargs)
    assert "You have reached the photo limit: at most 2 photos" in exc.value.errors["photos"]
    assert await Need.all().count() == 1 and len(list(tmp_path.iterdir())) == 4
    await needs.raise_need(alice, NEED, [], **kwargs)  # without photos, it goes through


@pytest.mark.postgres
@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="SQLite serialises every transaction; real concurrency needs PostgreSQL",
)
async def test_uploads_at_once_never_pass_the_quota(db, tmp_path, monkeypatch):
    monkeypatch.setattr(photo_svc, "QUOTA_PHOTOS", 5)
    rnd, user = await _service_setup()
    photo = Upload("a.jpg", jpeg_with_gps())

    async def submit(n: int):
        return await proposal_changes.submit_proposal(
            user,
            rnd.id,
            {**FORM, "title": f"P{n}"},
            [photo, photo],
            upload_dir=tmp_path,
            max_bytes=10**6,
        )

    results = await asyncio.gather(*(submit(n) for n in range(10)), return_exceptions=True)
    done = [r for r in results if isinstance(r, Proposal)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(done) == 2 and len(refused) == 8
    assert await ProposalPhoto.all().count() == 4
    assert len(list(tmp_path.iterdir())) == 8


async def _service_setup():
    area = await make_area()
    rnd = await make_round(envelopes={None: 100_000_00, area: 100_000_00})
    user = await make_user("wang", area=area)
    return rnd, user


async def test_cards_show_the_first_photos_thumbnail(client, db):
    rnd, _ = await resident_in_round(client)
    one = ("a.jpg", jpeg_with_gps())
    assert (await propose(client, rnd, one, one, title="With photos")).status_code == 303
    assert (await propose(client, rnd, title="Without")).status_code == 303
    first = await ProposalPhoto.all().order_by("id").first()
    for headers in ({}, {"HX-Request": "true"}):
        page = await client.get("/budget/proposals", headers=headers)
        cards = re.findall(r'<li class="proposal-card">(.*?)</li>', page.text, re.S)
        assert len(cards) == 2
        with_photo = next(c for c in cards if "With photos" in c)
        assert f'/budget/photos/{first.id}?size=thumb"' in with_photo
        assert "card-photo" not in next(c for c in cards if "Without" in c)
