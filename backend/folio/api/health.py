"""`GET /health`: the API process is up and answering (liveness only, for now)."""

from __future__ import annotations

import functools
from importlib.metadata import PackageNotFoundError, version

from flask import Blueprint, Response, jsonify

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
