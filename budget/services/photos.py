"""Photos of proposals and needs: checked by their content (magic bytes, not the name or the
browser's word), size-limited, re-encoded without metadata in a worker thread
(budget.services.photo_encoding), stored with a thumbnail under random names in the upload
directory (outside the web root).

Limits: MAX_PHOTOS per form, the per-photo size (a setting), and a quota per person
(QUOTA_PHOTOS photos or QUOTA_BYTES of stored photos: per round for proposals, per
QUOTA_DAYS for needs), checked by the services in their transaction with the person's row
locked, so two uploads at once count one after the other.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from anyio import to_thread

from budget.services.photo_encoding import MAX_PIXELS, Encoded, Refused, reencode
from core.errors import ValidationError
from core.i18n import _

MAX_PHOTOS = 3
QUOTA_PHOTOS = 20  # photos one person may have stored: per round (proposals), per QUOTA_DAYS
QUOTA_BYTES = 50 * 1024 * 1024  # … and bytes of them
QUOTA_DAYS = 30  # needs: the window of the quota
FORM_MARGIN = 256 * 1024  # what a photo form sends besides its photos

# content type → file extension; the only formats accepted
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


@dataclass
class Upload:
    """One uploaded file, already read (at most max_bytes + 1 bytes of it)."""

    filename: str
    data: bytes


def sniff_image(data: bytes) -> str | None:
    """The image type by the file's first bytes: JPEG, PNG or WebP; None for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def check_photos(uploads: list[Upload], max_bytes: int, field: str = "photos") -> list[str]:
    """The content type of each upload, or ValidationError naming the first bad file."""
    types = []
    limit_mb = f"{max_bytes / (1024 * 1024):.0f}"
    for upload in uploads:
        name = upload.filename or _("the file")
        if len(upload.data) > max_bytes:
            raise ValidationError(
                errors={
                    field: _(
                        "{name} is too large: at most {mb} MB per photo.", name=name, mb=limit_mb
                    )
                }
            )
        content_type = sniff_image(upload.data)
        if content_type is None:
            raise ValidationError(
                errors={field: _("{name} is not a JPEG, PNG or WebP image.", name=name)}
            )
        types.append(content_type)
    return types


def photo_form_limit(settings: Any) -> int:
    """The largest body a form with photos may send (core.web.limits): MAX_PHOTOS photos of the
    largest size allowed, and the form's fields."""
    return MAX_PHOTOS * settings.max_photo_bytes + FORM_MARGIN


async def prepare_photos(
    uploads: list[Upload], max_bytes: int, field: str = "photos"
) -> list[Encoded]:
    """Each upload checked (size, type) then re-encoded without metadata, in a worker thread;
    ValidationError naming the first file refused."""
    check_photos(uploads, max_bytes, field)
    photos = []
    for upload in uploads:
        try:
            photos.append(await to_thread.run_sync(reencode, upload.data))
        except Refused as exc:
            name = upload.filename or _("the file")
            if exc.reason == "too_many_pixels":
                message = _(
                    "{name} has too many pixels: at most {n} megapixels.",
                    name=name,
                    n=MAX_PIXELS // 1_000_000,
                )
            else:
                message = _("{name} could not be read as an image.", name=name)
            raise ValidationError(errors={field: message}) from None
    return photos


async def prepared_photos(
    uploads: list[Upload], max_bytes: int
) -> tuple[list[Encoded], dict[str, str]]:
    """The uploads re-encoded (before a service's transaction: no lock is held while Pillow
    works), or the message about the first bad one; nothing when there are more than
    MAX_PHOTOS (refused anyway, not worth decoding)."""
    if not uploads or len(uploads) > MAX_PHOTOS:
        return [], {}
    try:
        return await prepare_photos(uploads, max_bytes), {}
    except ValidationError as exc:
        return [], exc.errors


def quota_error(count: int, size: int, adding: list[Encoded], per_round: bool = True) -> str | None:
    """The message when `adding` would take a person past the quota, having `count` photos of
    `size` bytes stored already; None within it."""
    if count + len(adding) > QUOTA_PHOTOS or size + sum(len(p.data) for p in adding) > QUOTA_BYTES:
        mb = QUOTA_BYTES // (1024 * 1024)
        if per_round:
            return _(
                "You have reached the photo limit for this round: at most {n} photos or "
                "{mb} MB in all. Remove some photos from your proposals first.",
                n=QUOTA_PHOTOS,
                mb=mb,
            )
        return _(
            "You have reached the photo limit: at most {n} photos or {mb} MB in {days} days. "
            "Send the need without photos, or later.",
            n=QUOTA_PHOTOS,
            mb=mb,
            days=QUOTA_DAYS,
        )
    return None


def store_photo(upload_dir: Path, photo: Encoded) -> str:
    """Write a re-encoded photo and its thumbnail; the stored name."""
    name = new_stored_name(photo.content_type)
    write_photo(upload_dir, name, photo.data)
    try:
        write_photo(upload_dir, thumb_name(name), photo.thumb)
    except BaseException:
        delete_photo_files(upload_dir, [name])
        raise
    return name


def thumb_name(stored_name: str) -> str:
    """The thumbnail's file beside a photo: abc.jpg → abc.thumb.jpg."""
    stem, _dot, ext = stored_name.rpartition(".")
    return f"{stem}.thumb.{ext}"


def served_path(upload_dir: Path, stored_name: str, thumb: bool = False) -> Path | None:
    """The file to serve for a photo (its thumbnail when asked and there is one: photos
    stored before thumbnails existed are served whole), None if it is gone."""
    if thumb:
        path = photo_path(upload_dir, thumb_name(stored_name))
        if path.is_file():
            return path
    path = photo_path(upload_dir, stored_name)
    return path if path.is_file() else None


def delete_photos(upload_dir: Path, stored_names: list[str]) -> None:
    """Delete photos and their thumbnails."""
    delete_photo_files(upload_dir, [*stored_names, *(thumb_name(n) for n in stored_names)])


def new_stored_name(content_type: str) -> str:
    return f"{secrets.token_hex(16)}.{EXTENSIONS[content_type]}"


def photo_path(upload_dir: Path, stored_name: str) -> Path:
    """Where a stored photo lives; names are ours (random hex), never the uploader's."""
    path = (upload_dir / stored_name).resolve()
    if path.parent != upload_dir.resolve():
        raise ValueError("bad stored name")
    return path


def _owner_only(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)


def write_photo(upload_dir: Path, stored_name: str, data: bytes) -> Path:
    """Store an upload under its random name, readable by the service user only (the app
    serves it; a resident's photo is nobody else's business on the host)."""
    upload_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = photo_path(upload_dir, stored_name)
    with open(path, "xb", opener=_owner_only) as fh:  # noqa: ASYNC230 (small files, local disk)
        fh.write(data)
    return path


def delete_photo_files(upload_dir: Path, stored_names: list[str]) -> None:
    for name in stored_names:
        try:
            photo_path(upload_dir, name).unlink(missing_ok=True)
        except (OSError, ValueError):
            pass
