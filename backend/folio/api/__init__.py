"""The HTTP API: every blueprint is registered on the app here."""

from __future__ import annotations

from flask import Flask

from folio.api.auth import blueprint as auth_blueprint
from folio.api.credits import blueprint as credits_blueprint
from folio.api.health import blueprint as health_blueprint
from folio.api.jobs import blueprint as jobs_blueprint
from folio.api.metrics import blueprint as metrics_blueprint
from folio.api.processors import blueprint as processors_blueprint
from folio.api.uploads import blueprint as uploads_blueprint
from folio.extensions import api

# Resource blueprints are mounted under this prefix; /health, /ready and /metrics stay at the
# root for probes and scrapers.
API_PREFIX = "/api/v1"


def register_blueprints(app: Flask) -> None:
    """Register every blueprint of the API on `app`; resources also go into the OpenAPI doc."""
    app.register_blueprint(health_blueprint)
    app.register_blueprint(metrics_blueprint)
    api.register_blueprint(auth_blueprint, url_prefix=f"{API_PREFIX}/auth")
    api.register_blueprint(credits_blueprint, url_prefix=f"{API_PREFIX}/credits")
    api.register_blueprint(uploads_blueprint, url_prefix=f"{API_PREFIX}/uploads")
    api.register_blueprint(jobs_blueprint, url_prefix=f"{API_PREFIX}/jobs")
    api.register_blueprint(processors_blueprint, url_prefix=f"{API_PREFIX}/processors")
