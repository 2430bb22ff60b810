"""The HTTP API: every blueprint is registered on the app here."""

from __future__ import annotations

from flask import Flask

from folio.api.health import blueprint as health_blueprint

# Resource blueprints are mounted under this prefix; /health stays at the root for probes.
API_PREFIX = "/api/v1"


def register_blueprints(app: Flask) -> None:
    """Register every blueprint of the API on `app`."""
    app.register_blueprint(health_blueprint)
