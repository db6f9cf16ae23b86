"""Proposal photos: checked by their content (magic bytes, not the name or the browser's word),
size-limited, stored under random names in the upload directory (outside the web root)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from core.errors import ValidationError
from core.i18n import _

MAX_PHOTOS = 3

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
