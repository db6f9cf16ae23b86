"""Photos chosen in a proposal form that came back with an error (422): kept as pending
uploads under UPLOAD_DIR/pending, re-encoded (no place or camera details), so that the form
can show them and send them again without choosing them anew.

The form carries one signed token per pending photo (hidden field `pending_photo`): it names
the file, the person it belongs to and when it was kept; a token of someone else, too old or
forged is ignored. Nothing about a pending photo is in the database; files older than
MAX_AGE are removed whenever a new one is kept."""

from __future__ import annotations

import base64
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadData, URLSafeTimedSerializer

from budget.services.photo_encoding import Encoded
from budget.services.photos import EXTENSIONS, MAX_PHOTOS, Upload, prepare_photos, sniff_image
from core.errors import ValidationError

PENDING = "pending"
MAX_AGE = 24 * 3600
_NAME = re.compile(r"^[0-9a-f]{32}\.(jpg|png|webp)$")


@dataclass
class Pending:
    token: str
    filename: str
    stored_name: str
    thumb_url: str  # a data: URL (the CSP allows data: images)
    upload: Upload


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="yishi.budget.pending-photo")


def _dir(upload_dir: Path) -> Path:
    return upload_dir / PENDING


def _write(path: Path, data: bytes) -> None:
    with open(path, "xb", opener=lambda p, f: os.open(p, f, 0o600)) as fh:  # noqa: ASYNC230
        fh.write(data)


def _thumb_url(thumb: bytes) -> str:
    kind = sniff_image(thumb) or "image/jpeg"
    return f"data:{kind};base64," + base64.b64encode(thumb).decode("ascii")


def _sweep(folder: Path) -> None:
    """Remove pending files older than MAX_AGE (forms never sent again)."""
    limit = time.time() - MAX_AGE
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
        except OSError:
            pass


async def keep_pending(
    upload_dir: Path, secret: str, user_id: int, uploads: list[Upload], max_bytes: int, room: int
) -> list[Pending]:
    """Keep the good photos among `uploads` (at most `room`), each re-encoded; a file that is
    not a photo, or too large, is left out (its message is already on the form)."""
    kept: list[Pending] = []
    for upload in uploads:
        if len(kept) >= room:
            break
        try:
            (photo,) = await prepare_photos([upload], max_bytes)
        except ValidationError:
            continue
        kept.append(_store(upload_dir, secret, user_id, upload.filename, photo))
    return kept


def _store(upload_dir: Path, secret: str, user_id: int, filename: str, photo: Encoded) -> Pending:
    folder = _dir(upload_dir)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    _sweep(folder)
    name = f"{secrets.token_hex(16)}.{EXTENSIONS[photo.content_type]}"
    _write(folder / name, photo.data)
    _write(folder / (name + ".thumb"), photo.thumb)
    filename = (filename or "photo")[:100]
    token = _serializer(secret).dumps({"u": user_id, "n": name, "f": filename})
    return Pending(token, filename, name, _thumb_url(photo.thumb), Upload(filename, photo.data))


def load_pending(upload_dir: Path, secret: str, user_id: int, tokens: list[str]) -> list[Pending]:
    """The pending photos these tokens name, that belong to `user_id` and are still there
    (at most MAX_PHOTOS; a repeated token counts once)."""
    found: list[Pending] = []
    seen: set[str] = set()
    for token in tokens[: MAX_PHOTOS * 2]:
        if not isinstance(token, str) or len(token) > 500:
            continue
        try:
            data = _serializer(secret).loads(token, max_age=MAX_AGE)
        except BadData:
            continue
        if not isinstance(data, dict) or data.get("u") != user_id:
            continue
        name, filename = data.get("n"), data.get("f")
        if not isinstance(name, str) or not _NAME.match(name) or name in seen:
            continue
        path, thumb = _dir(upload_dir) / name, _dir(upload_dir) / (name + ".thumb")
        try:
            photo, small = path.read_bytes(), thumb.read_bytes()
        except OSError:
            continue
        seen.add(name)
        upload = Upload(str(filename or "photo"), photo)
        found.append(Pending(token, upload.filename, name, _thumb_url(small), upload))
        if len(found) >= MAX_PHOTOS:
            break
    return found


def discard_pending(upload_dir: Path, pending: list[Pending]) -> None:
    for p in pending:
        for path in (
            _dir(upload_dir) / p.stored_name,
            _dir(upload_dir) / (p.stored_name + ".thumb"),
        ):
            try:
                path.unlink()
            except OSError:
                pass
