"""The CSV roll of residents: a file of usernames, names and areas (UTF-8, or GBK as Excel
saves it in China) checked row by row, then imported whole or not at all. Every resident
becomes a verified account with a first sign-in code, shown once, with which they choose their
own password: a roll carries no passwords, and staff never set one."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core.audit import record
from core.errors import ValidationError
from core.forms import strip_controls
from core.i18n import _
from core.models import Area, ResetCode, Role, User
from core.services.accounts import (
    USERNAME_RE,
    _deny,
    _hash,
    _now,
    clean_username,
    generate_code,
    unusable_password_hash,
)

# A roll's residents hand their codes out over days, house by house.
FIRST_CODE_LIFETIME = timedelta(days=14)
MAX_ROLL_ROWS = 2000
MAX_ROLL_BYTES = 2 * 1024 * 1024

HEADER_ALIASES = {
    "username": "username",
    "user": "username",
    "login": "username",
    "用户名": "username",
    "账号": "username",
    "display_name": "display_name",
    "name": "display_name",
    "display name": "display_name",
    "姓名": "display_name",
    "名字": "display_name",
    "area": "area",
    "片区": "area",
    "小区": "area",
    "网格": "area",
    "区域": "area",
    "household": "household",
    "address": "household",
    "户": "household",
    "户号": "household",
    "住址": "household",
    "地址": "household",
    "门牌": "household",
    "password": "password",  # refused: staff never set passwords
    "密码": "password",
}
REQUIRED_COLUMNS = ("username", "display_name", "area")


@dataclass
class RollRow:
    line: int
    username: str
    display_name: str
    area: Area
    household: str = ""


class RollError(ValidationError):
    """A roll with bad rows: `lines` lists (line number, reason) for every one of them
    (line 0: the file as a whole)."""

    def __init__(self, lines: list[tuple[int, str]]) -> None:
        self.lines = list(lines)
        if len(self.lines) == 1 and self.lines[0][0] == 0:
            message = self.lines[0][1]
        else:
            message = _("Nothing was imported: {n} rows need fixing.", n=len(self.lines))
        super().__init__(message, errors={"file": message})


@dataclass
class ImportedAccount:
    user: User
    area_name: str
    code: str  # the first sign-in code: shown once, only its hash is kept
    expires_at: datetime


def decode_roll(raw: bytes) -> str:
    """UTF-8 (with or without the BOM Excel writes), else GBK/GB18030 (Excel in China);
    control characters (a NUL, refused by PostgreSQL) removed, as from any form."""
    try:
        return strip_controls(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        pass
    try:
        return strip_controls(raw.decode("gb18030"))
    except UnicodeDecodeError as exc:
        raise RollError(
            lines=[(0, _("The file is neither UTF-8 nor GBK text. Save it as CSV UTF-8."))]
        ) from exc


async def parse_roll(raw: bytes) -> tuple[list[RollRow], list[tuple[int, str]]]:
    """Every row of the roll checked (areas by name, usernames free and unique in the file);
    returns the good rows and (line, reason) for each bad one."""
    if not raw.strip():
        return [], [(0, _("The file is empty."))]
    if len(raw) > MAX_ROLL_BYTES:
        return [], [(0, _("The file is too large (at most 2 MB)."))]
    content = decode_roll(raw)
    first_line = content.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count) if first_line else ","
    if first_line.count(delimiter) == 0:
        delimiter = ","
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        return [], [(1, _("The first line must name the columns."))]
    columns = [HEADER_ALIASES.get(h.strip().lower(), "") for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        return [], [
            (
                1,
                _(
                    "The first line must name the columns username, display_name, area; "
                    "missing: {missing}.",
                    missing=", ".join(missing),
                ),
            )
        ]
    if "password" in columns:
        return [], [
            (
                1,
                _(
                    "A roll has no password column: every resident gets a first sign-in code "
                    "and chooses their own password with it. Remove the column and upload again."
                ),
            )
        ]
    index = {name: columns.index(name) for name in REQUIRED_COLUMNS}
    if "household" in columns:  # optional
        index["household"] = columns.index("household")
    areas = {a.name: a for a in await Area.all()}
    parsed: list[tuple[int, dict[str, str]]] = []
    bad: list[tuple[int, str]] = []
    try:
        for record_ in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record_):
                continue
            if len(record_) > len(header):
                bad.append((line, _("This row has more cells than the header.")))
                continue
            cells = {
                name: (record_[i].strip() if i < len(record_) else "") for name, i in index.items()
            }
            parsed.append((line, cells))
            if len(parsed) > MAX_ROLL_ROWS:
                return [], [(0, _("At most {n} rows per file.", n=MAX_ROLL_ROWS))]
    except csv.Error as exc:
        bad.append((reader.line_num, _("This line is not valid CSV: {error}", error=str(exc))))
    # Only well-formed usernames are looked up (a longer one than the column holds would be
    # refused by the query itself); the others get their message per row below.
    usernames = {cells["username"].lower() for _line, cells in parsed}
    usernames = {u for u in usernames if USERNAME_RE.match(u)}
    taken = set(await User.filter(username__in=usernames).values_list("username", flat=True))
    seen: dict[str, int] = {}
    rows: list[RollRow] = []
    for line, cells in parsed:
        reasons: list[str] = []
        errors: dict[str, str] = {}
        username = clean_username(cells["username"], errors)
        if "username" in errors:
            reasons.append(_("username: {error}", error=errors["username"]))
        elif username in taken:
            reasons.append(_("username {username} is taken.", username=username))
        elif username in seen:
            reasons.append(
                _(
                    "username {username} appears already on line {line}.",
                    username=username,
                    line=seen[username],
                )
            )
        else:
            seen[username] = line
        display_name = cells["display_name"]
        if not display_name:
            reasons.append(_("display_name is empty."))
        elif len(display_name) > 100:
            reasons.append(_("display_name is longer than 100 characters."))
        area = areas.get(cells["area"])
        if not cells["area"]:
            reasons.append(_("area is empty."))
        elif area is None:
            reasons.append(_("there is no area named {name}.", name=cells["area"]))
        household = cells.get("household", "")
        if len(household) > 100:
            reasons.append(_("household is longer than 100 characters."))
        if reasons:
            bad.append((line, " ".join(reasons)))
            continue
        rows.append(RollRow(line, username, display_name, area, household))
    if not rows and not bad:
        bad.append((0, _("The file has no rows below the header.")))
    bad.sort(key=lambda item: item[0])
    return rows, bad


async def import_roll(actor: User, raw: bytes) -> list[ImportedAccount]:
    """Create a verified resident for every row, or nothing at all if any row is bad. Each
    gets a first sign-in code (shown once, on the import's page, to hand over with the
    username), with which they choose their own password within FIRST_CODE_LIFETIME."""
    _deny(actor, "import_roll")
    rows, bad = await parse_roll(raw)
    if bad:
        raise RollError(lines=bad)
    codes = [generate_code() for _row in rows]
    hashes = [await _hash(code) for code in codes]
    expires_at = _now() + FIRST_CODE_LIFETIME
    imported: list[ImportedAccount] = []
    try:
        async with in_transaction() as conn:
            for row, code, code_hash in zip(rows, codes, hashes, strict=True):
                user = await User.create(
                    username=row.username,
                    display_name=row.display_name,
                    household=row.household,
                    password_hash=unusable_password_hash(),
                    role=Role.RESIDENT,
                    area=row.area,
                    verified=True,
                    using_db=conn,
                )
                await ResetCode.create(
                    user_id=user.id,
                    code_hash=code_hash,
                    created_by_id=actor.id,
                    expires_at=expires_at,
                    using_db=conn,
                )
                imported.append(ImportedAccount(user, row.area.name, code, expires_at))
            await record(
                actor,
                "account.import",
                None,
                using_db=conn,
                count=len(imported),
                usernames=[i.user.username for i in imported][:50],
                first_sign_in_codes=len(imported),
            )
    except IntegrityError as exc:
        # someone created one of these usernames meanwhile; nothing was kept
        raise RollError(
            lines=[(0, _("A username was taken while importing; nothing was imported."))]
        ) from exc
    return imported
