"""Who may manage the community: areas, accounts, invitations, reset codes, the audit log."""

from __future__ import annotations

from typing import Any

from core.models import Role, User

STAFF = (Role.COUNCIL, Role.ADMIN)

# Roles that a council member may give; only an admin creates staff and finance accounts.
COUNCIL_GRANTABLE = (Role.RESIDENT, Role.GRID_WORKER)


def is_staff(user: User | None) -> bool:
    """A council member or an administrator (active)."""
    return user is not None and user.is_active and user.role in STAFF


def is_verified_resident(user: User | None) -> bool:
    """A verified resident of an area (grid workers live in the district too): who votes,
    proposes, comments and takes part in consultations."""
    return (
        user is not None
        and user.is_active
        and user.verified
        and user.area_id is not None
        and user.role in (Role.RESIDENT, Role.GRID_WORKER)
    )


def can(user: User | None, action: str, subject: Any = None) -> bool:
    if user is None or not user.is_active:
        return False
    match action:
        case "manage_areas" | "manage_accounts" | "create_invitations" | "import_roll":
            return user.role in STAFF
        case "grant_role":  # subject: the Role to give
            if user.role == Role.ADMIN:
                return True
            return user.role == Role.COUNCIL and subject in COUNCIL_GRANTABLE
        case "edit_account":  # subject: the account to change
            if user.role == Role.ADMIN:
                return True
            return user.role == Role.COUNCIL and getattr(subject, "role", None) in (
                COUNCIL_GRANTABLE
            )
        case "issue_reset_code":  # subject: the account whose password was forgotten
            if not getattr(subject, "is_active", False):
                return False
            if user.role == Role.GRID_WORKER:  # the residents of their own area
                return (
                    getattr(subject, "role", None) == Role.RESIDENT
                    and user.area_id is not None
                    and subject.area_id == user.area_id
                )
            return can(user, "edit_account", subject)
        case "view_audit":
            return user.role in STAFF
    return False
