"""The people and places every feature refers to: areas (neighbourhoods / grids), accounts with
roles, invitations, password reset codes, sign-in throttling, and the audit log.

Budgeting (`budget`) and consultation (`consult`) build on these.
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from core.i18n import lazy_gettext as _l


class Role(StrEnum):
    RESIDENT = "resident"
    GRID_WORKER = "grid_worker"
    COUNCIL = "council"
    FINANCE = "finance"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])


ROLE_LABELS = {
    Role.RESIDENT: _l("Resident"),
    Role.GRID_WORKER: _l("Grid worker"),
    Role.COUNCIL: _l("Council member"),
    Role.FINANCE: _l("Finance officer"),
    Role.ADMIN: _l("Administrator"),
}


class Area(Model):
    """A neighbourhood or grid: it scopes residents, proposals, envelopes and proxy entry."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100, unique=True)
    description = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "area"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(Model):
    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=64, unique=True)
    display_name = fields.CharField(max_length=100)
    password_hash = fields.CharField(max_length=200)
    role = fields.CharEnumField(Role, max_length=16, default=Role.RESIDENT)
    area: fields.ForeignKeyNullableRelation[Area] = fields.ForeignKeyField(
        "core.Area", related_name="users", null=True, on_delete=fields.RESTRICT
    )
    # A verified resident may propose and vote; verification comes from an invitation code,
    # an admin/council entry or the CSV roll.
    verified = fields.BooleanField(default=False)
    # The household (address, e.g. "3栋2单元501"): tells apart residents with the same name
    # when a grid worker enters a paper ballot. Seen by staff and the area's grid workers only.
    household = fields.CharField(max_length=100, default="", db_default="")
    is_active = fields.BooleanField(default=True)
    locale = fields.CharField(max_length=10, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    last_login_at = fields.DatetimeField(null=True)
    # Copied into the session at sign-in and compared on every request: raising it (sign out,
    # a new password, a role change, deactivation) ends every session of the account.
    session_version = fields.IntField(default=0, db_default=0)

    class Meta:
        table = "account"
        ordering = ["username"]
        indexes = [("role", "area_id")]

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def role_label(self) -> str:
        return Role(self.role).label


class Invitation(Model):
    """A one-time code handed out per household: using it verifies the account for its area."""

    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=32, unique=True)
    area: fields.ForeignKeyRelation[Area] = fields.ForeignKeyField(
        "core.Area", related_name="invitations", on_delete=fields.RESTRICT
    )
    household = fields.CharField(max_length=100, default="")
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "core.User", related_name="invitations_created", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    used_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "core.User", related_name="invitation_used", null=True, on_delete=fields.SET_NULL
    )
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "invitation"
        ordering = ["-created_at", "-id"]


class LoginThrottle(Model):
    """Counted attempts per key (an account at one address, or an address), for throttling
    guesses of passwords and codes (`core.services.throttle`).

    Kept in the database so that every worker process sees the same counts.
    """

    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=200, unique=True)
    failures = fields.IntField(default=0)
    window_started_at = fields.DatetimeField()
    # Always written with the row; null only to add the column to an existing table.
    last_attempt_at = fields.DatetimeField(null=True)

    class Meta:
        table = "login_throttle"
        indexes = [("window_started_at",)]  # pruning the stale rows


class ResetCode(Model):
    """A one-time code with which a resident sets a new password ("forgot my password").

    A council member or the resident's grid worker makes it and hands it over in person; only
    its argon2 hash is kept, so nobody can read it again. One per account: a new code replaces
    the old one, and using it deletes it.
    """

    id = fields.IntField(primary_key=True)
    user: fields.OneToOneRelation[User] = fields.OneToOneField(
        "core.User", related_name="reset_code", on_delete=fields.CASCADE
    )
    code_hash = fields.CharField(max_length=200)
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "core.User", related_name="reset_codes_created", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()

    class Meta:
        table = "reset_code"


class AuditEntry(Model):
    """Append-only record of who changed what. Proposal history pages read it too."""

    id = fields.BigIntField(primary_key=True)
    actor: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "core.User", related_name="audit_entries", null=True, on_delete=fields.SET_NULL
    )
    action = fields.CharField(max_length=64)
    subject_type = fields.CharField(max_length=32)
    subject_id = fields.IntField(null=True)
    # Public entries show up on public pages (a proposal's history); others only to staff.
    public = fields.BooleanField(default=False)
    detail = fields.JSONField(default=dict)
    # Where a sign-in attempt or an export came from (behind a proxy, the address it names);
    # "" for the other entries, which say who did it.
    client_address = fields.CharField(max_length=64, default="", db_default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "audit_entry"
        ordering = ["-created_at", "-id"]
        indexes = [("subject_type", "subject_id")]


class Follow(Model):
    """A user following a subject (a proposal, a round, a need, a consultation) to be told
    what changes on it. Subjects are named as in comments: a type and an id."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "core.User", related_name="follows", on_delete=fields.CASCADE
    )
    subject_type = fields.CharField(max_length=32)
    subject_id = fields.IntField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "follow"
        unique_together = (("user", "subject_type", "subject_id"),)
        indexes = [("subject_type", "subject_id")]


class Notification(Model):
    """One thing that changed, told to one user: a kind (its message is in
    core.services.notifications) with its parameters, and where to look. Unread until seen."""

    id = fields.BigIntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "core.User", related_name="notifications", on_delete=fields.CASCADE
    )
    kind = fields.CharField(max_length=32)
    subject_type = fields.CharField(max_length=32)
    subject_id = fields.IntField()
    params = fields.JSONField(default=dict)
    url = fields.CharField(max_length=300)
    created_at = fields.DatetimeField(auto_now_add=True)
    read_at = fields.DatetimeField(null=True)

    class Meta:
        table = "notification"
        ordering = ["-id"]
        indexes = [("user_id", "read_at"), ("user_id", "id")]


class PageStamp(Model):
    """One row: how many times what public pages show has changed (`core.page_stamps`: moved
    by triggers on the tables those pages read; a page cache compares it)."""

    id = fields.IntField(primary_key=True)
    version = fields.BigIntField(default=0)
    # The transaction that moved it last (PostgreSQL: once per transaction, at commit).
    writer = fields.BigIntField(null=True)

    class Meta:
        table = "page_stamp"
