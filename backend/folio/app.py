"""The Flask application factory: `create_app` assembles the app from small `register_*` steps."""

from __future__ import annotations

import logging

from flask import Flask

from folio.api import register_blueprints
from folio.config import Settings
from folio.errors import register_error_handlers

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def create_app(settings: Settings | None = None) -> Flask:
    """Build the Flask app from `settings` (default: read from the environment)."""
    settings = settings or Settings.from_env()
    app = Flask("folio")
    app.config.from_mapping(settings.flask_config())
    register_logging(app)
    register_error_handlers(app)
    register_blueprints(app)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return app


def register_logging(app: Flask) -> None:
    """Log to stderr at the configured level."""
    settings: Settings = app.config["FOLIO_SETTINGS"]
    # A no-op when something (gunicorn, pytest) already configured the root logger; the level
    # is then still applied to the app's own "folio" logger below.
    logging.basicConfig(level=settings.log_level, format=LOG_FORMAT)
    app.logger.setLevel(settings.log_level)
