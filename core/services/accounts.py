"""Areas, accounts (one by one and from a CSV roll), invitation codes, registration, audit log.

Every function that changes state runs in one transaction, checks `core.permissions.can`
first, validates its input (ValidationError with a message per field) and writes an audit entry.
Passwords are hashed with argon2 (`core.services.auth`) outside the transaction, in a thread.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from core.audit import record
from core.errors import PermissionDenied, ValidationError
from core.forms import parse_int, text
from core.i18n import _
from core.models import Area, AuditEntry, Invitation, ResetCode, Role, User
from core.permissions import can
from core.services import throttle
from core.services.auth import bump_session_version, hash_password, validate_password
from core.services.throttle import CODE_ADDRESS

USERNAME_RE = re.compile(r"^[a-z0-9_.-]{2,64}$")
# Codes avoid look-alikes (0/O, 1/I/L) so that they survive print.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
# A roll's residents hand their codes out over days, house by house.
FIRST_CODE_LIFETIME = timedelta(days=14)
MAX_INVITATIONS = 500
MAX_ROLL_ROWS = 2000
MAX_ROLL_BYTES = 2 * 1024 * 1024
AREA_ROLES = (Role.RESIDENT, Role.GRID_WORKER)


def _now() -> datetime:
    return datetime.now(UTC)


def _deny(user: User | None, action: str, subject: Any = None) -> None:
    if not can(user, action, subject):
        raise PermissionDenied(_("You are not allowed to do this."))


async def _hash(password: str) -> str:
    # argon2 is slow on purpose; keep the event loop free while it works.
    return await asyncio.to_thread(hash_password, password)


def unusable_password_hash() -> str:
    """What an account without a password stores: no password matches it (it is no argon2
    hash), and it differs from account to account."""
    return "!" + secrets.token_urlsafe(24)


def generate_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _i in range(CODE_LENGTH))


def normalize_code(raw: str) -> str:
    """What a resident types ('abcde-fghjk ') → the stored code ('ABCDEFGHJK')."""
    return re.sub(r"[\s-]+", "", str(raw or "")).upper()


def format_code(code: str) -> str:
    """A code as printed: two groups of five."""
    return f"{code[:5]}-{code[5:]}" if len(code) == CODE_LENGTH else code


def clean_username(raw: object, errors: dict[str, str], key: str = "username") -> str:
    username = str(raw or "").strip().lower()
    if not username:
        errors[key] = _("This field is required.")
    elif not USERNAME_RE.match(username):
        errors[key] = _("Use 2 to 64 characters: lowercase letters a-z, digits and . _ - only.")
    return username


# --- areas ---------------------------------------------------------------------------------


async def areas_with_counts() -> list[tuple[Area, int]]:
    """Every area with its number of active residents (one grouped query for the counts)."""
    areas = await Area.all()
    rows = (
        await User.filter(role=Role.RESIDENT, is_active=True, area_id__isnull=False)
        .group_by("area_id")
        .annotate(n=Count("id"))
        .values_list("area_id", "n")
    )
    counts = {area_id: n for area_id, n in rows}
    return [(area, counts.get(area.id, 0)) for area in areas]


def _area_input(data: Mapping[str, Any]) -> tuple[str, str, dict[str, str]]:
    errors: dict[str, str] = {}
    name = text(data.get("name"), "name", errors, max_length=100)
    description = text(
        data.get("description"), "description", errors, required=False, max_length=2000
    )
    return name, description, errors


async def create_area(actor: User, data: Mapping[str, Any]) -> Area:
    _deny(actor, "manage_areas")
    name, description, errors = _area_input(data)
    if not errors and await Area.filter(name=name).exists():
        errors["name"] = _("An area with this name exists already.")
    if errors:
        raise ValidationError(errors=errors)
    try:
        async with in_transaction() as conn:
            area = await Area.create(name=name, description=description, using_db=conn)
            await record(actor, "area.create", area, using_db=conn, name=name)
    except IntegrityError as exc:
        raise ValidationError(errors={"name": _("An area with this name exists already.")}) from exc
    return area


async def edit_area(actor: User, area: Area, data: Mapping[str, Any]) -> Area:
    _deny(actor, "manage_areas")
    name, description, errors = _area_input(data)
    if not errors and await Area.filter(name=name).exclude(id=area.id).exists():
        errors["name"] = _("An area with this name exists already.")
    if errors:
        raise ValidationError(errors=errors)
    changes = {
        k: v for k, v in (("name", name), ("description", description)) if getattr(area, k) != v
    }
    try:
        async with in_transaction() as conn:
            area.name, area.description = name, description
            await area.save(using_db=conn, update_fields=["name", "description"])
            await record(actor, "area.edit", area, using_db=conn, **changes)
    except IntegrityError as exc:
        raise ValidationError(errors={"name": _("An area with this name exists already.")}) from exc
    return area


# --- accounts ------------------------------------------------------------------------------


async def search_accounts(q: str = "", role: str = "", area_id: int | None = None):
    """A queryset of accounts for the account list (area loaded with them)."""
    qs = User.all().select_related("area").order_by("username")
    if q:
        qs = qs.filter(Q(username__icontains=q) | Q(display_name__icontains=q))
    if role in {r.value for r in Role}:
        qs = qs.filter(role=role)
    if area_id:
        qs = qs.filter(area_id=area_id)
    return qs


def _flag(value: Any) -> bool:
    return str(value or "").lower() in ("1", "on", "true", "yes")


async def _account_input(
    actor: User, data: Mapping[str, Any], *, target: User | None
) -> tuple[dict[str, Any], dict[str, str]]:
    """The typed account fields from a form, and a message per bad field."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if target is None:
        values["username"] = clean_username(data.get("username"), errors)
    values["display_name"] = text(data.get("display_name"), "display_name", errors, max_length=100)
    role_raw = str(data.get("role") or "")
    try:
        role = Role(role_raw)
    except ValueError:
        role = None
        errors["role"] = _("Choose a role.")
    if (
        role is not None
        and not can(actor, "grant_role", role)
        and (target is None or role != target.role)
    ):
        errors["role"] = _("You may not give the role {role}.", role=role.label)
    values["role"] = role
    area_id = parse_int(data.get("area"), "area", errors, required=False, minimum=1)
    area = await Area.get_or_none(id=area_id) if area_id else None
    if area_id and area is None:
        errors["area"] = _("Choose an area from the list.")
    if role in AREA_ROLES and area is None and "area" not in errors:
        errors["area"] = _("Residents and grid workers belong to an area.")
    values["area"] = area
    values["verified"] = _flag(data.get("verified"))
    values["is_active"] = _flag(data.get("is_active")) if target is not None else True
    if "username" in values and "username" not in errors:
        if await User.filter(username=values["username"]).exists():
            errors["username"] = _("This username is taken.")
    if target is not None and target.id == actor.id:
        if not values["is_active"]:
            errors["is_active"] = _("You cannot deactivate your own account.")
        if role is not None and role != target.role:
            errors["role"] = _("You cannot change your own role.")
    return values, errors


async def create_account(actor: User, data: Mapping[str, Any]) -> User:
    """One account made by staff: role limited by `grant_role`, area for residents. It has no
    password until its owner chooses one with a first sign-in code (`core.services.
    reset_codes`), which staff make next and hand over: staff never know a password."""
    _deny(actor, "manage_accounts")
    values, errors = await _account_input(actor, data, target=None)
    if errors:
        raise ValidationError(errors=errors)
    password_hash = unusable_password_hash()
    try:
        async with in_transaction() as conn:
            user = await User.create(
                username=values["username"],
                display_name=values["display_name"],
                password_hash=password_hash,
                role=values["role"],
                area=values["area"],
                verified=values["verified"],
                is_active=True,
                using_db=conn,
            )
            await record(
                actor,
                "account.create",
                user,
                using_db=conn,
                username=user.username,
                role=user.role.value,
                area=values["area"].name if values["area"] else None,
            )
    except IntegrityError as exc:
        raise ValidationError(errors={"username": _("This username is taken.")}) from exc
    return user


async def edit_account(actor: User, target: User, data: Mapping[str, Any]) -> User:
    """Change an account; deactivating replaces deleting. Staff never set a password here.
    A new role or a deactivation ends every session of the account."""
    _deny(actor, "manage_accounts")
    _deny(actor, "edit_account", target)
    values, errors = await _account_input(actor, data, target=target)
    if errors:
        raise ValidationError(errors=errors)
    changes: dict[str, Any] = {}
    for key in ("display_name", "role", "verified", "is_active"):
        if getattr(target, key) != values[key]:
            changes[key] = str(values[key]) if key == "role" else values[key]
    new_area_id = values["area"].id if values["area"] else None
    if target.area_id != new_area_id:
        changes["area"] = values["area"].name if values["area"] else ""
    async with in_transaction() as conn:
        target.display_name = values["display_name"]
        target.role = values["role"]
        target.area = values["area"]
        target.verified = values["verified"]
        target.is_active = values["is_active"]
        fields = ["display_name", "role", "area_id", "verified", "is_active"]
        await target.save(using_db=conn, update_fields=fields)
        if "role" in changes or "is_active" in changes:
            target.session_version = await bump_session_version(target.id, conn)
        await record(actor, "account.edit", target, using_db=conn, **changes)
    return target


# --- the CSV roll of residents -------------------------------------------------------------

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
    """UTF-8 (with or without the BOM Excel writes), else GBK/GB18030 (Excel in China)."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030")
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
    usernames = [cells["username"].lower() for _line, cells in parsed]
    taken = set(
        await User.filter(username__in=[u for u in usernames if u]).values_list(
            "username", flat=True
        )
    )
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
        if reasons:
            bad.append((line, " ".join(reasons)))
            continue
        rows.append(RollRow(line, username, display_name, area))
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


# --- invitations ---------------------------------------------------------------------------


async def create_invitations(actor: User, data: Mapping[str, Any]) -> list[Invitation]:
    """N one-time codes for an area; each line of `households` labels one code."""
    _deny(actor, "create_invitations")
    errors: dict[str, str] = {}
    area_id = parse_int(data.get("area"), "area", errors, minimum=1)
    area = await Area.get_or_none(id=area_id) if area_id else None
    if area_id and area is None:
        errors["area"] = _("Choose an area from the list.")
    households = [
        line.strip() for line in str(data.get("households") or "").splitlines() if line.strip()
    ]
    count_raw = str(data.get("count") or "").strip()
    count = parse_int(
        count_raw, "count", errors, required=not households, minimum=1, maximum=MAX_INVITATIONS
    )
    if households:
        if any(len(h) > 100 for h in households):
            errors["households"] = _("Each household label has at most 100 characters.")
        elif len(households) > MAX_INVITATIONS:
            errors["households"] = _("At most {n} codes at a time.", n=MAX_INVITATIONS)
        elif count is not None and count != len(households):
            errors["count"] = _(
                "You listed {n} households; leave the number empty or make it {n}.",
                n=len(households),
            )
        count = len(households)
    if errors:
        raise ValidationError(errors=errors)
    labels = households or [""] * (count or 0)
    for _attempt in range(5):
        codes = set()
        while len(codes) < len(labels):
            codes.add(generate_code())
        if not await Invitation.filter(code__in=list(codes)).exists():
            break
    try:
        async with in_transaction() as conn:
            created = []
            for code, label in zip(sorted(codes), labels, strict=True):
                created.append(
                    await Invitation.create(
                        code=code, area=area, household=label, created_by=actor, using_db=conn
                    )
                )
            await record(actor, "invitation.create", area, using_db=conn, count=len(created))
    except IntegrityError as exc:  # a code collided after all (vanishingly rare): try again
        raise ValidationError(_("Please try again.")) from exc
    return created


async def search_invitations(
    area_id: int | None = None, state: str = "", batch: tuple[int, int] | None = None
):
    qs = Invitation.all().select_related("area", "used_by", "created_by").order_by("id")
    if area_id:
        qs = qs.filter(area_id=area_id)
    if state == "unused":
        qs = qs.filter(used_at__isnull=True)
    elif state == "used":
        qs = qs.filter(used_at__isnull=False)
    if batch:
        qs = qs.filter(id__gte=batch[0], id__lte=batch[1])
    return qs


async def register_with_code(data: Mapping[str, Any], client: str) -> User:
    """A resident registers with a household's invitation code: the code is used exactly once
    (a conditional update inside the transaction, so that two concurrent uses cannot both win)
    and the account is a verified resident of the code's area.

    The code is checked first, throttled per address like a password: without a valid code
    the answer says only that, never whether a username is taken."""
    code = normalize_code(str(data.get("code") or ""))
    if not code:
        raise ValidationError(errors={"code": _("This field is required.")})
    address_key = CODE_ADDRESS.key(client)
    await throttle.reserve(CODE_ADDRESS, address_key, field="code")
    invitation = await Invitation.get_or_none(code=code).select_related("area")
    if invitation is None:
        raise ValidationError(
            errors={"code": _("This code is not valid. Check it against your printed slip.")}
        )
    if invitation.used_at is not None:
        raise ValidationError(errors={"code": _("This code has been used already.")})
    await throttle.release(address_key)  # a real code: not a failed guess
    errors: dict[str, str] = {}
    username = clean_username(data.get("username"), errors)
    display_name = text(data.get("display_name"), "display_name", errors, max_length=100)
    errors.update(
        validate_password(str(data.get("password") or ""), str(data.get("password_confirm") or ""))
    )
    if "username" not in errors and await User.filter(username=username).exists():
        errors["username"] = _("This username is taken.")
    if errors:
        raise ValidationError(errors=errors)
    password_hash = await _hash(str(data["password"]))
    try:
        async with in_transaction() as conn:
            now = _now()
            claimed = (
                await Invitation.filter(id=invitation.id, used_at__isnull=True)
                .using_db(conn)
                .update(used_at=now)
            )
            if claimed != 1:
                raise ValidationError(errors={"code": _("This code has been used already.")})
            user = await User.create(
                username=username,
                display_name=display_name,
                password_hash=password_hash,
                role=Role.RESIDENT,
                area_id=invitation.area_id,
                verified=True,
                using_db=conn,
            )
            await Invitation.filter(id=invitation.id).using_db(conn).update(used_by_id=user.id)
            await record(
                user,
                "account.register",
                user,
                using_db=conn,
                invitation=invitation.id,
                area=invitation.area.name,
            )
    except IntegrityError as exc:
        raise ValidationError(errors={"username": _("This username is taken.")}) from exc
    user.area = invitation.area
    return user


# --- the audit log -------------------------------------------------------------------------


async def audit_entries(action: str = ""):
    qs = AuditEntry.all().select_related("actor")
    if action:
        qs = qs.filter(action=action)
    return qs


async def audit_actions() -> list[str]:
    return list(
        await AuditEntry.all().order_by("action").distinct().values_list("action", flat=True)
    )


# --- the first administrator (command line) --------------------------------------------------


async def create_admin(username: str, display_name: str, password: str) -> User:
    """An administrator made from the command line (`python manage.py createadmin`), without a
    signed-in user: how a new deployment gets its first account. The password is the
    operator's own, typed in or read from the environment; there is no default."""
    errors: dict[str, str] = {}
    username = clean_username(username, errors)
    display_name = text(display_name or username, "display_name", errors, max_length=100)
    errors.update(validate_password(password))
    if errors:
        raise ValidationError(errors=errors)
    password_hash = await _hash(password)
    try:
        async with in_transaction() as conn:
            user = await User.create(
                username=username,
                display_name=display_name,
                password_hash=password_hash,
                role=Role.ADMIN,
                is_active=True,
                using_db=conn,
            )
            await record(
                None,
                "account.create",
                user,
                using_db=conn,
                username=username,
                role=Role.ADMIN.value,
                via="command line",
            )
    except IntegrityError as exc:
        raise ValidationError(errors={"username": _("This username is taken.")}) from exc
    return user
