"""Flask-JWT-Extended wiring: who a token is, whether it still counts, and its errors.

Every JWT failure answers 401 in the one JSON error format, each with its own code, so a
client can tell "refresh and retry" (token_expired) from "sign in again" (the others).
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar, cast

from flask import Flask, Response, abort, request
from flask_jwt_extended import JWTManager, get_current_user, jwt_required
from flask_jwt_extended.exceptions import WrongTokenError

from folio import logs
from folio.config import current_settings
from folio.extensions import db
from folio.models import User
from folio.services import tokens
from folio.web.errors import MetricsUnauthorized, error_response

JsonError = tuple[Response, int]
P = ParamSpec("P")
R = TypeVar("R")


def token_required(
    *, refresh: bool = False, verify_type: bool = True
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """`jwt_required` with its type: an access token, or a refresh token when `refresh`."""
    decorator = jwt_required(refresh=refresh, verify_type=verify_type)
    return cast(Callable[[Callable[P, R]], Callable[P, R]], decorator)


def metrics_token_required(view: Callable[P, R]) -> Callable[P, R]:
    """Guard a scrape endpoint with FOLIO_METRICS_TOKEN: 404 when unset, 401 when wrong."""

    @functools.wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        expected = current_settings().metrics_token
        if not expected:
            abort(404)  # metrics are off: the route does not exist
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        given = token.strip().encode() if scheme.lower() == "bearer" else b""
        if not hmac.compare_digest(given, expected.encode()):
            raise MetricsUnauthorized("GET /metrics needs the bearer token FOLIO_METRICS_TOKEN.")
        return view(*args, **kwargs)

    return guarded


def current_user() -> User:
    """The user of the request's verified access token (use under `@jwt_required()`)."""
    user = get_current_user()
    if not isinstance(user, User):
        raise RuntimeError("current_user() needs @jwt_required() on the view")
    return user


def _unauthorized(code: str, message: str) -> JsonError:
    """A 401 in the JSON error format, with the challenge header RFC 6750 asks for."""
    response, status = error_response(code, message, 401)
    response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return response, status


def _token_expired(jwt_header: dict[str, Any], jwt_payload: dict[str, Any]) -> JsonError:
    return _unauthorized("token_expired", "The token has expired.")


def _token_invalid(reason: str) -> JsonError:
    # The reason (from PyJWT) helps debugging and reveals nothing the client does not hold.
    return _unauthorized("token_invalid", f"The token is not valid: {reason}.")


def _token_missing(reason: str) -> JsonError:
    response, status = error_response("token_missing", "This needs a bearer token.", 401)
    response.headers["WWW-Authenticate"] = "Bearer"
    return response, status


def _wrong_token_type(error: WrongTokenError) -> JsonError:
    return _unauthorized("wrong_token_type", f"Wrong kind of token: {error}.")


def _token_revoked(jwt_header: dict[str, Any], jwt_payload: dict[str, Any]) -> JsonError:
    return _unauthorized("token_revoked", "The token was revoked; sign in again.")


def _user_not_found(jwt_header: dict[str, Any], jwt_payload: dict[str, Any]) -> JsonError:
    return _unauthorized("user_not_found", "The account of this token no longer exists.")


def _is_revoked(jwt_header: dict[str, Any], jwt_payload: dict[str, Any]) -> bool:
    return tokens.is_revoked(jwt_payload)


def _load_user(jwt_header: dict[str, Any], jwt_payload: dict[str, Any]) -> User | None:
    user_id = int(jwt_payload["sub"])
    logs.bind(user_id=user_id)  # the request's log lines carry who made it from here on
    return db.session.get(User, user_id)


def normalize_bearer_scheme() -> None:
    """Spell the Authorization scheme `Bearer` whatever its case, as the token guards expect.

    RFC 9110 (11.1) makes an authentication scheme case-insensitive, and RFC 6750 clients do
    send `bearer`; Flask-JWT-Extended compares the scheme with JWT_HEADER_TYPE exactly.
    """
    header = request.environ.get("HTTP_AUTHORIZATION", "")
    scheme, space, credentials = header.partition(" ")
    if space and scheme != "Bearer" and scheme.lower() == "bearer":
        request.environ["HTTP_AUTHORIZATION"] = f"Bearer {credentials.lstrip()}"


def register_jwt_handlers(app: Flask, jwt: JWTManager) -> None:
    """Install the loaders on `jwt`, the wrong-token-type handler and the scheme's spelling."""
    app.before_request(normalize_bearer_scheme)
    jwt.expired_token_loader(_token_expired)
    jwt.invalid_token_loader(_token_invalid)
    jwt.unauthorized_loader(_token_missing)
    jwt.revoked_token_loader(_token_revoked)
    jwt.user_lookup_error_loader(_user_not_found)
    jwt.token_in_blocklist_loader(_is_revoked)
    jwt.user_lookup_loader(_load_user)
    # Flask-JWT-Extended answers a wrong token type with its invalid-token loader; it gets
    # its own code here (registered after jwt.init_app, which installed the default).
    app.register_error_handler(WrongTokenError, _wrong_token_type)
