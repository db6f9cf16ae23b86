"""Helpers for tests: accounts and rounds made quickly, forms posted with their CSRF token,
HTML parsed rather than matched by substring luck."""

from __future__ import annotations

import re
from datetime import date
from html.parser import HTMLParser

import httpx

from budget.models import BallotType, Envelope, Phase, Proposal, ProposalStatus, Round
from consult.models import Area, Role, User
from consult.services.auth import hash_password

PASSWORD = "password123"
_HASH: str | None = None


def password_hash() -> str:
    # argon2 is slow on purpose: hash the shared test password once.
    global _HASH
    if _HASH is None:
        _HASH = hash_password(PASSWORD)
    return _HASH


async def make_area(name: str = "East Gate") -> Area:
    return await Area.create(name=name)


async def make_user(
    username: str,
    role: Role = Role.RESIDENT,
    area: Area | None = None,
    verified: bool = True,
    display_name: str | None = None,
) -> User:
    return await User.create(
        username=username,
        display_name=display_name or username.title(),
        password_hash=password_hash(),
        role=role,
        area=area,
        verified=verified,
    )


async def make_round(
    title: str = "2026 micro-projects",
    fund_fen: int = 100_000_00,
    phase: Phase = Phase.PROPOSING,
    ballot_type: BallotType = BallotType.BUDGET_APPROVAL,
    envelopes: dict[Area | None, int] | None = None,
    **kwargs,
) -> Round:
    rnd = await Round.create(
        title=title,
        fund_fen=fund_fen,
        phase=phase,
        ballot_type=ballot_type,
        proposing_starts=date(2026, 3, 1),
        **kwargs,
    )
    envelopes = envelopes if envelopes is not None else {None: fund_fen}
    for area, budget_fen in envelopes.items():
        await Envelope.create(round=rnd, area=area, budget_fen=budget_fen)
    return rnd


async def make_proposal(
    rnd: Round,
    author: User | None,
    title: str = "Benches by the canal",
    cost_fen: int = 10_000_00,
    area: Area | None = None,
    status: ProposalStatus = ProposalStatus.SUBMITTED,
    category: str = "engineering",
    **kwargs,
) -> Proposal:
    return await Proposal.create(
        round=rnd,
        author=author,
        title=title,
        description=kwargs.pop("description", "A description of " + title),
        category=category,
        cost_fen=cost_fen,
        area=area,
        status=status,
        beneficiaries=kwargs.pop("beneficiaries", 100),
        **kwargs,
    )


_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


async def csrf_token(client: httpx.AsyncClient, path: str = "/login") -> str:
    response = await client.get(path)
    match = _TOKEN.search(response.text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


async def post_form(
    client: httpx.AsyncClient, path: str, data: dict | list | None = None, files=None, **kwargs
) -> httpx.Response:
    """POST a form the way a browser does, with the session's CSRF token."""
    token = await csrf_token(client)
    if isinstance(data, list):
        payload = [*data, ("csrf_token", token)]
    else:
        payload = {**(data or {}), "csrf_token": token}
    return await client.post(path, data=payload, files=files, **kwargs)


async def login(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> None:
    response = await post_form(client, "/login", {"username": username, "password": password})
    assert response.status_code == 303, response.text[:500]


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def page_text(html: str) -> str:
    """The visible text of a page, whitespace collapsed (what a user reads)."""
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())
