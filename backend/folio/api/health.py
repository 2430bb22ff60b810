"""`GET /health` (liveness: the process answers) and `GET /ready` (its dependencies answer)."""

from __future__ import annotations

import functools
from importlib.metadata import PackageNotFoundError, version

from flask import Blueprint, Response, jsonify

from folio.ops import readiness

blueprint = Blueprint("health", __name__)


@functools.cache
def package_version() -> str:
    """Return the installed version of the folio package, or "0.0.0" when it is not installed."""
    try:
        return version("folio")
    except PackageNotFoundError:
        # Running from a source tree without `pip install -e`.
        return "0.0.0"


@blueprint.get("/health")
def health() -> Response:
    """Answer that the API process is alive, with its version."""
    return jsonify(status="ok", version=package_version())


@blueprint.get("/ready")
def ready() -> tuple[Response, int]:
    """Answer 200 when the database, broker, file store and a worker answer; 503 otherwise."""
    state = readiness.check()
    response = jsonify(state.to_dict())
    # A probe must see the state of now, never a cached one.
    response.headers["Cache-Control"] = "no-store"
    return response, 200 if state.ready else 503
