"""Rate limits: per client IP and per e-mail address on sign-in, per user on job creation.

Limits are counted in FOLIO_RATELIMIT_STORAGE_URL, shared by every API process: a SQLite
file in the data dir by default (the processes of one host: `ratelimit_storage`), Redis in
production (every host). A refused request answers 429 in the JSON error format with a
Retry-After header.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

from flask import request
from flask_jwt_extended import get_jwt_identity
from flask_limiter.util import get_remote_address

from folio.config import current_settings
from folio.extensions import limiter
from folio.services.users import normalize_email

P = ParamSpec("P")
R = TypeVar("R")


def _login_limit() -> str:
    return current_settings().login_rate_limit


def _job_limit() -> str:
    return current_settings().job_rate_limit


def _email_key() -> str:
    """The normalised e-mail address of the request body, so case changes share one count."""
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    return "email:" + (normalize_email(email) if isinstance(email, str) else "")


def _user_key() -> str:
    """The id of the request's verified token."""
    return f"user:{get_jwt_identity()}"


def limit_sign_in(view: Callable[P, R]) -> Callable[P, R]:
    """Apply FOLIO_LOGIN_RATE_LIMIT to `view` per client IP and, separately, per e-mail address."""
    # Per address: a botnet guessing one account's password from many IPs is still slowed.
    per_email = limiter.limit(_login_limit, key_func=_email_key)(view)
    return limiter.limit(_login_limit, key_func=get_remote_address)(per_email)


def limit_job_creation(view: Callable[P, R]) -> Callable[P, R]:
    """Apply FOLIO_JOB_RATE_LIMIT per user; place it under `@jwt_required()`.

    The limit is checked when the view is called, so the token is verified by then and its
    identity is the key.
    """
    return limiter.limit(_job_limit, key_func=_user_key)(view)
