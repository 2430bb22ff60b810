"""The Flask application factory: `create_app` assembles the app from small `register_*` steps."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from folio.api import register_blueprints
from folio.commands import register_commands
from folio.config import Settings
from folio.extensions import api, db, jwt, limiter, migrate
from folio.logs import configure_logging, register_request_logging, register_task_logging
from folio.models.engine import configure_engine
from folio.taskqueue.celery_app import celery_init_app
from folio.web.auth import register_jwt_handlers
from folio.web.errors import register_error_handlers
from folio.web.frontend import register_frontend
from folio.web.guards import register_request_guards
from folio.web.headers import register_security_headers


def create_app(settings: Settings | None = None) -> Flask:
    """Build the Flask app from `settings` (default: read from the environment)."""
    settings = settings or Settings.from_env()
    # Before the extensions: the default SQLite database lives in it.
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = Flask("folio")
    app.config.from_mapping(settings.flask_config())
    register_logging(app)
    register_proxy_fix(app)
    register_extensions(app)
    register_error_handlers(app)
    register_request_guards(app)
    register_security_headers(app)
    register_blueprints(app)
    register_frontend(app)
    register_commands(app)
    celery_init_app(app)
    return app


def register_logging(app: Flask) -> None:
    """Log to stderr at the configured level and format, with request and task context."""
    settings: Settings = app.config["FOLIO_SETTINGS"]
    configure_logging(settings.log_level, settings.log_format)
    app.logger.setLevel(settings.log_level)
    register_request_logging(app)
    register_task_logging()


def register_proxy_fix(app: Flask) -> None:
    """Trust X-Forwarded-* from FOLIO_TRUSTED_PROXIES proxies, so client IPs are real."""
    settings: Settings = app.config["FOLIO_SETTINGS"]
    # Per-IP rate limits would otherwise count every client behind the proxy as one.
    if settings.trusted_proxies:
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=n, x_proto=n, x_host=n
        )


def register_extensions(app: Flask) -> None:
    """Bind the database, migrations, JWT, rate-limit and OpenAPI extensions to `app`."""
    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    # Batch mode lets future migrations alter SQLite tables (it rebuilds them).
    migrate.init_app(app, db, compare_type=True, render_as_batch=True)
    jwt.init_app(app)
    register_jwt_handlers(app, jwt)
    limiter.init_app(app)
    api.init_app(app)
