"""The one JSON error format: `{"error": {"code": ..., "message": ..., "details"?: {...}}}`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from folio.errors import FolioError

# Codes clients are likely to branch on; any other HTTP error gets its class name in snake_case.
HTTP_ERROR_CODES: dict[int, str] = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "file_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}
INTERNAL_ERROR_MESSAGE = "An unexpected error occurred. Please try again later."
VALIDATION_ERROR_MESSAGE = "The request is not valid; see details for each field."


class UnsupportedMediaType(FolioError):
    """The request body is not a multipart upload with a file part of an accepted type."""

    code = "unsupported_media_type"
    http_status = 415


class JsonTooDeep(FolioError):
    """The JSON body nests arrays and objects deeper than any Folio request does."""

    code = "json_too_deep"
    http_status = 400


class FilenameNotUtf8(FolioError):
    """A multipart part's header (its file name, in practice) is not UTF-8."""

    code = "filename_not_utf8"
    http_status = 400


class MetricsUnauthorized(FolioError):
    """The scraper sent no token, or not the configured one."""

    code = "metrics_unauthorized"
    http_status = 401


def error_response(
    code: str, message: str, status: int, details: Mapping[str, Any] | None = None
) -> tuple[Response, int]:
    """Build the JSON error answer and its HTTP status."""
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = dict(details)
    return jsonify(error=error), status


def _snake_case(name: str) -> str:
    """Turn a class name such as `HTTPVersionNotSupported` into `http_version_not_supported`."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def _handle_folio_error(error: FolioError) -> tuple[Response, int]:
    """Answer any expected failure with the code, status and details it carries."""
    return error_response(error.code, error.message, error.http_status, error.details)


def _validation_messages(error: HTTPException) -> dict[str, Any] | None:
    """The field messages that webargs attached to a 422 it raised, merged across locations."""
    # webargs (under flask-smorest) aborts with data={"messages": {"json": {field: [...]}}}.
    messages = getattr(error, "data", {}).get("messages")
    if not isinstance(messages, Mapping):
        return None
    fields: dict[str, Any] = {}
    for location, per_location in messages.items():
        # A body that is not JSON at all has a list of messages for its location, not fields.
        if isinstance(per_location, Mapping):
            fields.update(per_location)
        else:
            fields[location] = per_location
    return fields


def _handle_http_exception(error: HTTPException) -> tuple[Response, int]:
    """Answer a werkzeug HTTP error in the JSON format, keeping headers such as Allow."""
    status = error.code or 500
    fields = _validation_messages(error)
    if fields is not None:
        response, status = error_response("validation_error", VALIDATION_ERROR_MESSAGE, 422, fields)
    else:
        code = HTTP_ERROR_CODES.get(status) or _snake_case(type(error).__name__)
        response, status = error_response(code, error.description or error.name, status)
    # Headers such as Allow (405), Retry-After (429) or WWW-Authenticate (401) are part of
    # the answer; the HTML Content-Type is not.
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers.add(name, value)
    return response, status


def _handle_unexpected(error: Exception) -> tuple[Response, int]:
    """Log an unexpected exception with its traceback and answer a generic 500."""
    current_app.logger.exception("Unhandled error on %s %s", request.method, request.path)
    # The exception text may hold paths, SQL or secrets: it goes to the log, never the client.
    return error_response("internal_error", INTERNAL_ERROR_MESSAGE, 500)


def register_error_handlers(app: Flask) -> None:
    """Answer every error raised while handling a request in the JSON error format."""
    app.register_error_handler(FolioError, _handle_folio_error)
    app.register_error_handler(HTTPException, _handle_http_exception)
    app.register_error_handler(Exception, _handle_unexpected)
