"""Hostile input, generally: a property test walks the route table of the app (so a new form
or page is covered without anyone remembering to) and sends generated values to every POST
route and every GET page's query parameters, as signed-in users of every role: empty, huge,
negative, NaN, exponents, control characters (NUL), invalid UTF-8, very long, repeated and
missing fields. Never a 5xx; a refused form (4xx) writes nothing; ids beyond the integer
columns are 404; text that gets stored renders escaped on every page."""

from __future__ import annotations

import base64
import inspect
import json
import re
from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit

import httpx
import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.routing import Mount, Route
from tortoise import Tortoise, connections

from tests.helpers import PASSWORD, app_client, tiny_png
from tests.test_pages import _fill, _seed

ROLES = ("admin", "council", "finance", "worker", "resident")
# Routes that end the session they are sent in (tried last, once, by a client of their own).
SESSION_ENDING = ("/logout",)
# Tables a refused request may write to: sign-in throttling, the audit of failed sign-ins,
# caches of computed pages.
MAY_CHANGE_ON_REFUSAL = {"login_throttle", "audit_entry", "deliberation_analysis"}
MAY_CHANGE_ON_REFUSAL |= {"need_dashboard_cache"}
# Query parameters many pages read, tried on every page besides those its forms and its
# module name.
COMMON_PARAMS = ("page", "q", "round", "area", "year", "before", "after", "next", "sort")
XSS = "<yishi-xss>x</yishi-xss>"
HOSTILE = [
    "",
    " ",
    "0",
    "-1",
    "2147483648",
    "-2147483649",
    "99999999999999999999",
    "1e30",
    "1E+50",
    "1e999999",
    "NaN",
    "Infinity",
    "-0.001",
    "１２３",
    "1_000",
    "100,00",
    "\x00",
    "a\x00b",
    "\x01\x08\x1b\x7f\x85",
    "line\r\nbreak\ttab",
    XSS,
    '"><yishi-xss>',
    "2026-02-30",
    "0000-00-00",
    "99999-12-31",
    "../../etc/passwd",
    "x" * 100_000,
    "中" * 5000,
]
hostile_value = st.one_of(
    st.sampled_from(HOSTILE),
    st.sampled_from(HOSTILE),
    st.text(max_size=12),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)


def walk(routes, prefix=""):
    """(path, methods, endpoint) of every route of the app, mounts followed."""
    for route in routes:
        if isinstance(route, Mount):
            if route.routes:
                yield from walk(route.routes, prefix + route.path)
        elif isinstance(route, Route):
            yield prefix + route.path, route.methods or set(), route.endpoint


class _Forms(HTMLParser):
    """Every form of a page: (method, action path, [(name, type, sample value)])."""

    def __init__(self, page_path: str) -> None:
        super().__init__()
        self.page_path = page_path
        self.forms: list[tuple[str, str, list[tuple[str, str, str]]]] = []
        self.current: list | None = None
        self.select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            action = urlsplit(a.get("action") or self.page_path).path or self.page_path
            self.current = [(a.get("method") or "get").lower(), action, []]
            self.forms.append(self.current)
        elif self.current is None or not a.get("name"):
            return
        elif tag == "input":
            kind = a.get("type", "text").lower()
            value = a.get("value", "on" if kind in ("checkbox", "radio") else "")
            self.current[2].append((a["name"], kind, value))
        elif tag == "textarea":
            self.current[2].append((a["name"], "textarea", "Some text"))
        elif tag == "select":
            self.select = a["name"]
            self.current[2].append((a["name"], "select", ""))
        if tag == "option" and self.select and self.current is not None:
            name, kind, value = self.current[2][-1]
            if not value and a.get("value"):
                self.current[2][-1] = (name, kind, a["value"])

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None


class World:
    """The seeded app, its signed-in clients, and what the crawl found (a plain class: the
    property tests' failure reports need not print it)."""

    def __init__(self, app, ids: dict, clients: dict, tokens: dict) -> None:
        self.app = app
        self.ids = ids
        self.clients: dict[str, httpx.AsyncClient] = clients
        self.tokens: dict[str, str | None] = tokens
        # action path -> field name -> (type, a valid-looking sample value)
        self.post_fields: dict[str, dict[str, tuple[str, str]]] = {}
        # action path -> the roles shown that form (the ones allowed to send it)
        self.post_roles: dict[str, list[str]] = {}
        # page path -> the names its GET forms send
        self.get_fields: dict[str, set[str]] = {}
        self.pages: list[str] = []
        self.post_urls: list[str] = []
        self.get_urls: list[tuple[str, tuple[str, ...]]] = []

    def __repr__(self) -> str:
        return "World(the seeded pages of tests/test_pages.py)"


def _signed_in(client: httpx.AsyncClient) -> bool:
    """Whether the client's session names a user (Starlette's cookie: base64 JSON, signed)."""
    cookie = client.cookies.get("yishi_session")
    if not cookie:
        return False
    data = cookie.split(".", 1)[0]
    try:
        return "uid" in json.loads(base64.b64decode(data + "=" * (-len(data) % 4)))
    except ValueError:
        return False


async def _sign_in(client: httpx.AsyncClient) -> str | None:
    """Sign the client in as its role; its CSRF token (None if the account no longer can)."""
    role = client.headers["X-Test-Role"]
    page = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    form = {"username": role, "password": PASSWORD, "csrf_token": token}
    response = await client.post("/login", data=form)
    if response.status_code != 303:
        return None
    page = await client.get("/login")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    return match.group(1) if match else token


async def _row_counts() -> dict[str, int]:
    tables = sorted(
        model._meta.db_table
        for models in Tortoise.apps.values()
        for model in models.values()
        if model._meta.db_table not in MAY_CHANGE_ON_REFUSAL
    )
    sql = "SELECT " + ", ".join(f'(SELECT COUNT(*) FROM "{t}")' for t in tables)
    _count, rows = await connections.get("default").execute_query(sql)
    counts = list(rows[0].values()) if isinstance(rows[0], dict) else list(rows[0])
    return dict(zip(tables, counts, strict=True))


def _param_names(endpoint) -> set[str]:
    """The query parameters the endpoint's module reads by name."""
    target = inspect.unwrap(endpoint)
    module = inspect.getmodule(getattr(target, "__code__", None) and target) or inspect.getmodule(
        endpoint
    )
    try:
        source = inspect.getsource(module)
    except (TypeError, OSError):
        return set()
    return set(re.findall(r"query_params(?:\.get|\.getlist)?\(\s*[\"'](\w+)", source)) | set(
        re.findall(r"params\.get\(\s*[\"'](\w+)", source)
    )


@pytest_asyncio.fixture
async def world(app, db):
    """The seeded database of tests/test_pages.py, a signed-in client per role, and every form
    of every page those roles see."""
    ids = await _seed(app.state.settings.upload_dir)
    clients, tokens = {}, {}
    for role in ROLES:
        client = app_client(app)
        client.headers["X-Test-Role"] = role
        tokens[role] = await _sign_in(client)
        clients[role] = client
    w = World(app=app, ids=ids, clients=clients, tokens=tokens)
    routes = list(walk(app.routes))
    for path, methods, endpoint in routes:
        if path.startswith("/static") or path in ("/logout", "/language"):
            continue
        url = _fill(path, ids)
        if "GET" in methods:
            w.pages.append(url)
            names = set(COMMON_PARAMS) | _param_names(endpoint)
            w.get_urls.append((url, tuple(sorted(names))))
        if "POST" in methods:
            w.post_urls.append(url)
    for role, client in clients.items():
        for url in w.pages:
            response = await client.get(url)
            if "text/html" not in response.headers.get("content-type", ""):
                continue
            parser = _Forms(urlsplit(url).path)
            parser.feed(response.text)
            for method, action, fields in parser.forms:
                if method == "post":
                    known = w.post_fields.setdefault(action, {})
                    seen_by = w.post_roles.setdefault(action, [])
                    if role not in seen_by:
                        seen_by.append(role)
                    for name, kind, value in fields:
                        if name != "csrf_token":
                            known.setdefault(name, (kind, value))
                else:
                    w.get_fields.setdefault(action, set()).update(n for n, _k, _v in fields)
    yield w
    for client in clients.values():
        await client.aclose()


async def _client(w: World, role: str) -> tuple[httpx.AsyncClient, str] | None:
    """The role's client, signed in again if a request ended its session."""
    client = w.clients[role]
    if not _signed_in(client) or w.tokens[role] is None:
        w.tokens[role] = await _sign_in(client)
    return (client, w.tokens[role]) if w.tokens[role] else None


MONEY_FIELDS = {"fund", "cost", "amount", "cap", "new_cap", "revised_cost", "contract_amount"}


def _valid_looking(name: str, kind: str, sample: str) -> str:
    """What a person would type in an empty field of this kind (so that a form otherwise
    valid carries one hostile value deep into the service and the database)."""
    if sample:
        return sample
    if name in MONEY_FIELDS or name.startswith("envelope_"):
        return "1000"
    return {"date": "2026-05-01", "number": "3", "email": "a@example.cn"}.get(kind, "Text 1")


def _is_free_text(name: str, kind: str) -> bool:
    return kind in ("text", "textarea") and _valid_looking(name, kind, "") == "Text 1"


@st.composite
def form_payload(draw, fields: dict[str, tuple[str, str]]):
    """Fields of a form: mostly valid-looking with one field hostile; or each field kept,
    made hostile, left out or repeated; maybe an unknown field; maybe a raw body that is not
    UTF-8."""
    pairs: list[tuple[str, str]] = []
    files = []
    names = [name for name, (kind, _s) in fields.items() if kind != "file"]
    target = draw(st.sampled_from(names)) if names and draw(st.booleans()) else None
    for name, (kind, sample) in fields.items():
        if target is not None:
            how = "hostile" if name == target else "sample"
        else:
            how = draw(st.sampled_from(["sample", "hostile", "hostile", "missing", "repeat"]))
        if kind == "file":
            if how != "missing":
                body = tiny_png() if how == "sample" else draw(st.binary(max_size=64))
                files.append((name, (draw(st.sampled_from(["a.png", "\x00.png", XSS])), body)))
            continue
        if how == "missing":
            continue
        value = _valid_looking(name, kind, sample) if how == "sample" else draw(hostile_value)
        pairs.append((name, value))
        if how == "repeat":
            pairs.append((name, draw(hostile_value)))
    if draw(st.booleans()):
        pairs.append((draw(st.sampled_from(["x", "\x00", "id", "page"])), draw(hostile_value)))
    raw = draw(st.sampled_from([None, None, None, b"\xff\xfe%ff%00=\xc3\x28", b"%"]))
    return pairs, files, raw


async def _post(w: World, url: str, role: str, payload) -> httpx.Response | None:
    signed = await _client(w, role)
    if signed is None:
        return None
    client, token = signed
    pairs, files, raw = payload
    if raw is not None:
        body = urlencode([*pairs, ("csrf_token", token)]).encode() + b"&" + raw
        headers = {"content-type": "application/x-www-form-urlencoded"}
        return await client.post(url, content=body, headers=headers)
    pairs = [*pairs, ("csrf_token", token)]
    if not files:
        headers = {"content-type": "application/x-www-form-urlencoded"}
        return await client.post(url, content=urlencode(pairs).encode(), headers=headers)
    data: dict[str, list[str]] = {}
    for name, value in pairs:
        data.setdefault(name, []).append(value)
    return await client.post(url, data=data, files=files)


async def _check_post(w: World, url: str, role: str, payload) -> None:
    before = await _row_counts()
    response = await _post(w, url, role, payload)
    if response is None:
        return
    assert response.status_code < 500, (url, role, payload[0][:5], response.text[:300])
    if 400 <= response.status_code < 500:
        after = await _row_counts()
        changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
        assert not changed, (url, role, response.status_code, changed)


FAST = settings(
    max_examples=5,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
THOROUGH = settings(FAST, max_examples=80)


async def _fuzz_forms(w: World, data) -> None:
    for url in w.post_urls:
        fields = w.post_fields.get(urlsplit(url).path, {})
        role = data.draw(st.sampled_from(w.post_roles.get(urlsplit(url).path) or ROLES))
        payload = data.draw(form_payload(fields), label=url)
        await _check_post(w, url, role, payload)


async def _fuzz_queries(w: World, data) -> None:
    for url, names in w.get_urls:
        names = sorted(set(names) | w.get_fields.get(urlsplit(url).path, set()))
        params = data.draw(
            st.lists(
                # a URL is at most some kilobytes (servers refuse longer request lines)
                st.tuples(st.sampled_from(names), hostile_value.map(lambda v: v[:1000])),
                min_size=1,
                max_size=4,
            ),
            label=url,
        )
        role = data.draw(st.sampled_from((None, *ROLES)), label="role")
        signed = await _client(w, role) if role else None
        client = signed[0] if signed else app_client(w.app)
        try:
            response = await client.get(url, params=params)
        finally:
            if signed is None:
                await client.aclose()
        assert response.status_code < 500, (url, params[:3], response.text[:300])


@FAST
@given(data=st.data())
async def test_no_form_route_gives_a_server_error_or_writes_when_refused(world, data):
    await _fuzz_forms(world, data)


@FAST
@given(data=st.data())
async def test_no_query_parameter_gives_a_server_error(world, data):
    await _fuzz_queries(world, data)


@pytest.mark.slow
@THOROUGH
@given(data=st.data())
async def test_no_form_route_gives_a_server_error_thoroughly(world, data):
    await _fuzz_forms(world, data)


@pytest.mark.slow
@THOROUGH
@given(data=st.data())
async def test_no_query_parameter_gives_a_server_error_thoroughly(world, data):
    await _fuzz_queries(world, data)


# Values that broke a parser or the database before (a 500), sent to every field at once (the
# services check every field, so every parser sees them) and one field at a time.
SHARP = ("1e30", "1e999999", "NaN", "99999999999999999999", "a\x00b", "x" * 100_000)


async def test_every_field_of_every_form_survives_the_values_that_broke_it_before(world):
    """Deterministic, so that every parser and every text column meets each value."""
    w = world
    for url in w.post_urls:
        path = urlsplit(url).path
        fields = w.post_fields.get(path, {})
        role = (w.post_roles.get(path) or ["admin"])[0]
        names = [name for name, (kind, _s) in fields.items() if kind != "file"]
        for value in SHARP:
            await _check_post(w, url, role, ([(name, value) for name in names], [], None))
        for target in names:
            value = (
                SHARP[len(target) % len(SHARP)] if not _is_free_text(target, "text") else "a\x00b"
            )
            pairs = [
                (name, value if name == target else _valid_looking(name, kind, sample))
                for name, (kind, sample) in fields.items()
                if kind != "file"
            ]
            await _check_post(w, url, role, (pairs, [], None))


async def test_out_of_range_ids_are_404_and_hostile_path_text_never_a_5xx(world):
    """Every route with an id in its path, with 2^31 and 10^20 in its place: 404; hostile
    text in the other path parameters: never a 5xx."""
    w = world
    client, token = await _client(w, "admin")
    checked = 0
    for path, methods, _endpoint in walk(w.app.routes):
        if ":int}" not in path:
            continue
        for huge in ("2147483648", "99999999999999999999"):
            url = re.sub(r"\{\w+:int\}", huge, _fill_str(path, w.ids))
            if "GET" in methods:
                response = await client.get(url)
                assert response.status_code == 404, (url, response.status_code)
            if "POST" in methods:
                response = await client.post(url, data={"csrf_token": token})
                assert response.status_code == 404, (url, response.status_code)
            checked += 1
    assert checked > 100
    # Text parameters (a meeting's occurrence, a subject type, a status): NUL, invalid UTF-8,
    # long.
    for path, methods, _endpoint in walk(w.app.routes):
        if not re.search(r"\{(occurrence|subject_type|to_status)\}", path):
            continue
        for text in ("%00", "x%00y", "%ff", "a" * 300):
            url = _fill(re.sub(r"\{(occurrence|subject_type|to_status)\}", text, path), w.ids)
            if "GET" in methods:
                response = await client.get(url)
                assert response.status_code < 500, (url, response.text[:300])
            if "POST" in methods:
                response = await client.post(url, data={"csrf_token": token})
                assert response.status_code < 500, (url, response.text[:300])


def _fill_str(path: str, ids: dict) -> str:
    """The path with its text parameters filled and its ids left as they are."""
    return (
        path.replace("{occurrence}", ids["occurrence"])
        .replace("{subject_type}", ids["subject_type"])
        .replace("{to_status}", ids["to_status"])
    )


async def test_stored_text_renders_escaped_on_every_page(world):
    """A payload posted into every text field of every form, valid otherwise: wherever it is
    stored and shown, it shows as text, never as markup."""
    w = world
    for url in w.post_urls:
        fields = w.post_fields.get(urlsplit(url).path, {})
        if not fields:
            continue
        pairs = [
            (name, XSS if _is_free_text(name, kind) else _valid_looking(name, kind, sample))
            for name, (kind, sample) in fields.items()
            if kind != "file"
        ]
        for role in w.post_roles.get(urlsplit(url).path) or ROLES:
            response = await _post(w, url, role, (pairs, [], None))
            if response is not None and response.status_code in (200, 303):
                break
    escaped = 0
    for role in ROLES:
        signed = await _client(w, role)
        if signed is None:
            continue
        for url in w.pages:
            response = await signed[0].get(url)
            if "text/html" not in response.headers.get("content-type", ""):
                continue  # files (CSV, .pb, JSON) are not markup
            assert "<yishi-xss" not in response.text, url
            escaped += response.text.count("&lt;yishi-xss&gt;")
    assert escaped > 0  # the payload was stored somewhere and shown


# --- headers and cookies -------------------------------------------------------------------

# The headers the app reads (session and language cookies, language, htmx, CSRF, request id,
# the same-origin check's), each sent with hostile values.
READ_HEADERS = (
    "cookie",
    "accept-language",
    "hx-request",
    "hx-history-restore-request",
    "hx-target",
    "hx-current-url",
    "x-request-id",
    "x-csrf-token",
    "referer",
    "origin",
    "sec-fetch-site",
    "content-type",
)


def _header_safe(value: str) -> bytes:
    """As a header carries it: the UTF-8 bytes (any byte but line breaks and NUL, which a
    client refuses to send and a server never receives), at most 8 KB."""
    return re.sub(rb"[\r\n\x00]", b"", value.encode("utf-8", "surrogatepass"))[:8192]


@st.composite
def hostile_headers(draw) -> dict[str, bytes]:
    names = draw(st.lists(st.sampled_from(READ_HEADERS), min_size=1, max_size=4, unique=True))
    headers = {}
    for name in names:
        value = draw(hostile_value)
        if name == "cookie":
            value = draw(
                st.sampled_from(
                    [
                        f"yishi_session={value}",
                        f"lang={value}",
                        f"yishi_session=e30=.{value}.x; lang={value}",
                        value,
                    ]
                )
            )
        headers[name] = _header_safe(value)
    return headers


async def _fuzz_headers(w: World, data) -> None:
    for url in [*w.pages, *w.post_urls]:
        headers = data.draw(hostile_headers(), label=url)
        role = data.draw(st.sampled_from((None, *ROLES)), label="role")
        signed = await _client(w, role) if role else None
        client = signed[0] if signed else app_client(w.app)
        try:
            if url in w.post_urls:
                body = urlencode({"csrf_token": signed[1] if signed else ""})
                headers.setdefault("content-type", b"application/x-www-form-urlencoded")
                response = await client.post(url, content=body, headers=headers)
            else:
                response = await client.get(url, headers=headers)
        finally:
            if signed is None:
                await client.aclose()
        assert response.status_code < 500, (url, headers, response.text[:300])


@FAST
@given(data=st.data())
async def test_no_header_or_cookie_gives_a_server_error(world, data):
    """Every page and form route with hostile session and language cookies, Accept-Language,
    htmx, CSRF, request-id and origin headers, as a visitor and as every role: never a 5xx."""
    await _fuzz_headers(world, data)


@pytest.mark.slow
@THOROUGH
@given(data=st.data())
async def test_no_header_or_cookie_gives_a_server_error_thoroughly(world, data):
    await _fuzz_headers(world, data)
