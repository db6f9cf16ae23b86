"""Following a subject from its page: which kinds of subject may be followed (registered by
the packages that own them), and what the Follow / Unfollow button needs to show.

core names subjects as a type and an id but knows none of them (budget's proposals, consult's
meetings): `app.py` registers, at start, an `exists` function per subject type
(`register_followables`), as it registers panels. `exists(id)` answers the subject's title, or
None when there is no such subject or it is not public (an imported election's project, a
resident's private need): the follow route then answers 404, so nobody follows what they could
not see.

A page shows the button with

    ctx["follow"] = await follow_state(request, "need", need.id)      # in the endpoint
    {% include "core/_follow_button.html" %}                          # in the template

`follow_state` costs one indexed query for a signed-in user and none for a visitor.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request

from core.errors import NotFound
from core.i18n import _
from core.services.notifications import is_following

# async (subject id) -> its title, or None when it does not exist or is not public
Exists = Callable[[int], Awaitable[str | None]]


def register_followables(app: Starlette, exists: Mapping[str, Exists]) -> None:
    """The subject types that may be followed in `app`, each with its `exists` function."""
    registered = dict(getattr(app.state, "followables", {}))
    for subject_type, check in exists.items():
        if subject_type in registered:
            raise ValueError(f"subject type registered twice: {subject_type}")
        registered[str(subject_type)] = check
    app.state.followables = registered


async def followable_title(request: Request, subject_type: str, subject_id: int) -> str:
    """The title of a subject that may be followed, or NotFound (an unknown type, no such
    subject, or one that is not public)."""
    check = getattr(request.app.state, "followables", {}).get(subject_type)
    title = await check(subject_id) if check is not None else None
    if title is None:
        raise NotFound(_("There is nothing to follow here."))
    return title


@dataclass(frozen=True)
class FollowState:
    """What `core/_follow_button.html` shows: the subject, whether the signed-in user follows
    it (a visitor sees a link to sign in instead), and the page to come back to."""

    subject_type: str
    subject_id: int
    following: bool
    signed_in: bool
    back: str

    @property
    def element_id(self) -> str:
        return f"follow-{self.subject_type}-{self.subject_id}"


async def follow_state(
    request: Request, subject_type: str, subject_id: int, *, back: str | None = None
) -> FollowState:
    """The Follow / Unfollow button's state for the current user on this subject's page.
    `back`: where the button's form returns (the page's own address by default; give the
    subject's page when rendering after a POST)."""
    user = getattr(request.state, "user", None)
    query = request.url.query
    return FollowState(
        subject_type=str(subject_type),
        subject_id=subject_id,
        following=await is_following(user.id, str(subject_type), subject_id) if user else False,
        signed_in=user is not None,
        back=back or request.url.path + ("?" + query if query else ""),
    )
