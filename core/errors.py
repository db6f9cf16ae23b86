"""Domain errors: raised by services with a message for the user, turned into responses in
one place (`core.web`)."""

from __future__ import annotations


class DomainError(Exception):
    """Something the user asked for cannot be done; the message says why (already translated).

    `errors` maps form field names to messages, so that a form can show each next to its field.
    """

    status_code = 422

    def __init__(self, message: str = "", errors: dict[str, str] | None = None) -> None:
        self.errors = dict(errors or {})
        self.message = message or next(iter(self.errors.values()), "")
        super().__init__(self.message)


class ValidationError(DomainError):
    """Bad input on a form (status 422)."""


class PermissionDenied(DomainError):
    """The user's role or the round's phase does not allow this (status 403)."""

    status_code = 403


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    """A concurrent change won (e.g. a second ballot); status 409."""

    status_code = 409


class RateLimited(DomainError):
    """Too many of one thing in a short time (e.g. comments a minute); status 429. The
    message says what to wait for."""

    status_code = 429
