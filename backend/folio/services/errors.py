"""The services' errors, each with a stable code and the HTTP status the API answers."""

from __future__ import annotations

from folio.errors import FolioError


class ServiceError(FolioError):
    """Base of every expected service failure: accounts, uploads, jobs, credits."""

    code = "service_error"
    http_status = 400


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
        super().__init__(message, code=code)


class JobNotFound(ServiceError):
    """No such job among the caller's (another user's job is not found either)."""

    code = "job_not_found"
    http_status = 404


class InvalidCursor(ServiceError):
    """The `before` cursor of a list does not name one of the caller's jobs."""

    code = "invalid_cursor"
    http_status = 400


class UploadNotFound(ServiceError):
    """No such upload among the caller's (another user's upload is not found either)."""

    code = "upload_not_found"
    http_status = 404


class UploadExpired(ServiceError):
    """The upload was not confirmed in time; upload the file again."""

    code = "upload_expired"
    http_status = 410


class InvalidFormat(ServiceError):
    """An export format that does not exist."""

    code = "invalid_format"
    http_status = 400


class FileGone(ServiceError):
    """The job's stored PDF is no longer in the file store: no attempt can read its pages."""

    code = "file_gone"
    http_status = 410
