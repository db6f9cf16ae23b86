"""What was typed in a form that could not be accepted because the session expired or its
CSRF token aged: kept in the signed session cookie for the form's page, which shows it again
(`render` puts it into the page's `values`) with a message asking to check and send again.

Only text fields, never a password, a token, a ballot's choices or a file, and at most
KEPT_BYTES in all (the cookie holds 4 KB): a field that does not fit is left out, never cut.
The session cookie is signed, not encrypted, so this is only what the person typed on their
own device."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import FormData
from starlette.requests import Request

from core.i18n import _

KEPT_KEY = "_kept"
KEPT_BYTES = 1500
_PLAIN = re.compile(
    r"[!#$%&'()*+,\-./0-9:;=?@A-Z_a-z~]+"
)  # no backslash, quote, <>, `, {}, |, ^, []
_NEVER_KEPT = ("password", "csrf", "token", "secret", "code")
# a ballot's choices ("project", "points-<id>") never leave the server in a cookie: the
# secret ballot, and a grid worker's browser entering someone else's paper ballot
_BALLOT_FIELD = re.compile(r"project|points-\d+")


def form_page(request: Request) -> str | None:
    """The path of the page the form was on: the browser's Referer when it is on this site
    (Referrer-Policy: same-origin sends it for our own forms); None when unknown."""
    referer = request.headers.get("referer")
    if not referer:
        return None
    try:
        parts = urlsplit(referer)
    except ValueError:  # not a URL (a malformed host): unknown
        return None
    if parts.scheme not in ("http", "https") or parts.netloc != request.url.netloc:
        return None
    page = parts.path + ("?" + parts.query if parts.query else "")
    # a path on this site only: never "//host" or "/\\host" (a browser goes to that host)
    if not page.startswith("/") or page.startswith("//") or not _PLAIN.fullmatch(page):
        return None
    return page


def _keepable(name: str, value: Any) -> bool:
    return (
        isinstance(value, str)
        and not any(word in name.lower() for word in _NEVER_KEPT)
        and not _BALLOT_FIELD.fullmatch(name)
    )


_FORM_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")


def keep_form(request: Request, form: FormData, page: str, form_id: str | None = None) -> None:
    """Keep the form's text fields in the session for `page` (a path with its query);
    `form_id` names the form when a page has more than one (the language switch says which
    it sent), and only `kept_values(…, form_id)` of that form takes them."""
    fields: list[list[str]] = []
    size = 0
    for name, value in form.multi_items():
        if not _keepable(name, value) or not value:
            continue
        cost = len(json.dumps([name, value]).encode("utf-8"))
        if size + cost > KEPT_BYTES:
            continue
        size += cost
        fields.append([name, value])
    if fields:
        kept: dict[str, Any] = {"page": urlsplit(page).path, "fields": fields}
        if form_id and _FORM_ID.fullmatch(form_id):
            kept["form"] = form_id
        request.session[KEPT_KEY] = kept


def kept_values(request: Request, form_id: str | None = None) -> dict[str, str | list[str]] | None:
    """The text kept for this page (taken out of the session), or None. A name sent more than
    once (ticked boxes of one group) gives the list of its values. Text kept for a named form
    goes only to `form_id` of that name, or to the page (`form_id` None) when the page has no
    other taker; text kept without a name goes to the page only."""
    if "session" not in request.scope or request.method != "GET":
        return None
    kept = request.session.get(KEPT_KEY)
    if not isinstance(kept, dict) or kept.get("page") != request.url.path:
        return None
    if form_id is not None and kept.get("form") != form_id:
        return None
    request.session.pop(KEPT_KEY, None)
    values: dict[str, str | list[str]] = {}
    for pair in kept.get("fields") or []:
        if isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) for x in pair):
            name, value = pair
            if name not in values:
                values[name] = value
            else:
                seen = values[name]
                values[name] = [*seen, value] if isinstance(seen, list) else [seen, value]
    return values


async def read_form_quietly(request: Request) -> FormData | None:
    """The request's form for keeping it, or None when it cannot be read."""
    try:
        return await request.form(max_files=10, max_fields=2000, max_part_size=1024 * 1024)
    except Exception:  # a form too large or malformed is not kept, the refusal stands
        return None


def session_expired_message(sign_in: bool = False) -> str:
    if sign_in:
        return _(
            "Your session expired before the form was sent. Sign in, then check what you "
            "typed and send it again."
        )
    return _(
        "Your session expired before the form was sent. Check what you typed and send it again."
    )
