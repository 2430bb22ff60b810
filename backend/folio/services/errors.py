"""Typed errors of the services, each with a stable code and the HTTP status the API answers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class ServiceError(Exception):
    """Base of every expected service failure; `code` is stable and machine-readable."""

    code = "service_error"
    http_status = 400

    def __init__(self, message: str, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = dict(details) if details is not None else None


class InsufficientCredits(ServiceError):
    """The balance does not cover the change; nothing was written."""

    code = "insufficient_credits"
    http_status = 402

    def __init__(self, balance: int, needed: int) -> None:
        super().__init__(
            f"This needs {needed} credits; the balance is {balance}.",
            {"balance": balance, "needed": needed},
        )
        self.balance = balance
        self.needed = needed


class NotFound(ServiceError):
    """A user, job or reservation that the operation needs does not exist."""

    code = "not_found"
    http_status = 404


class EmailTaken(ServiceError):
    """Another account already uses this e-mail address."""

    code = "email_taken"
    http_status = 409


class InvalidCredentials(ServiceError):
    """Unknown e-mail or wrong password: deliberately the same error for both."""

    code = "invalid_credentials"
    http_status = 401


class TokenRevoked(ServiceError):
    """The refresh token was revoked (logout, or reuse of a rotated token)."""

    code = "token_revoked"
    http_status = 401


class Conflict(ServiceError):
    """The request does not fit the resource's current state (409), with a specific code."""

    code = "conflict"
    http_status = 409

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
