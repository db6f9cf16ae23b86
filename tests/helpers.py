"""Helpers for tests: accounts and rounds made quickly, forms posted with their CSRF token,
HTML parsed rather than matched by substring luck."""

from __future__ import annotations

import re
from datetime import date
from html.parser import HTMLParser

import httpx
from starlette.requests import Request

from budget.models import BallotType, Envelope, Phase, Proposal, ProposalStatus, Round
from core.models import Area, Role, User
from core.services.auth import hash_password

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


def app_client(app) -> httpx.AsyncClient:
    """A browser of its own (its own cookies) on the ASGI app. Tests read English text unless
    they ask otherwise; the default locale is zh_CN."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        headers={"Accept-Language": "en"},
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


# --- proposals: tiny real images, generated (no binary fixtures) ---------------------------


def tiny_png(width: int = 1, height: int = 1) -> bytes:
    """A valid PNG of a white image."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\0" + b"\xff\xff\xff" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def tiny_jpeg() -> bytes:
    """The smallest well-formed baseline JPEG (1×1 grey), as commonly published."""
    return bytes.fromhex(
        "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c"
        "140d0c0b0b0c1912130f141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27"
        "393d38323c2e333432ffc0000b080001000101011100ffc4001f0000010501010101010100000000"
        "000000000102030405060708090a0bffc400b5100002010303020403050504040000017d01020300"
        "041105122131410613516107227114328191a1082342b1c11552d1f02433627282090a161718191a"
        "25262728292a3435363738393a434445464748494a535455565758595a636465666768696a737475"
        "767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9ba"
        "c2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9faffda"
        "0008010100003f00fbd3ffd9"
    )


def bare_request(app) -> Request:
    """A GET of / by an anonymous visitor, outside any client: for calling a panel or
    `url_for` directly."""
    scope = {
        "type": "http",
        "app": app,
        "router": app.router,
        "scheme": "http",
        "server": ("testserver", 80),
        "path": "/",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "query_string": b"",
        "session": {},
    }
    request = Request(scope)
    request.state.user = None
    return request
