"""A proposal's photos in the database: stored with the proposal, counted against the
author's quota for the round (budget.services.photos has the limits and the files)."""

from __future__ import annotations

from pathlib import Path

from budget.models import Proposal, ProposalPhoto
from budget.services.photo_encoding import Encoded
from budget.services.photos import quota_error as quota_message
from budget.services.photos import store_photo


async def quota_error(
    conn, user_id: int, round_id: int, adding: list[Encoded], removing: set[int] = frozenset()
) -> str | None:
    """The author's photos in the round (but those being removed) and the new ones, against
    the quota. The caller holds the author's row lock: two uploads at once count in turn."""
    rows = await (
        ProposalPhoto.filter(proposal__author_id=user_id, proposal__round_id=round_id)
        .using_db(conn)
        .values_list("id", "size")
    )
    kept = [size for photo_id, size in rows if photo_id not in removing]
    return quota_message(len(kept), sum(kept), adding)


async def store_photos(
    conn, proposal: Proposal, photos: list[Encoded], upload_dir: Path, written: list[str]
) -> None:
    """Write each photo (and its thumbnail) and its row; `written` collects the stored names
    so that the caller deletes the files if the transaction fails."""
    for photo in photos:
        name = store_photo(upload_dir, photo)
        written.append(name)
        await ProposalPhoto.create(
            proposal=proposal,
            stored_name=name,
            content_type=photo.content_type,
            size=len(photo.data),
            using_db=conn,
        )
