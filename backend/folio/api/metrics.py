"""`GET /metrics`: Prometheus metrics, behind the bearer token FOLIO_METRICS_TOKEN."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, abort, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from folio.config import current_settings
from folio.ops.metrics import FolioCollector
from folio.web.errors import ApiError

blueprint = Blueprint("metrics", __name__)


@blueprint.get("/metrics")
def metrics() -> Response:
    """Answer the metrics in Prometheus's text format to a scraper holding the token."""
    settings = current_settings()
    if not settings.metrics_token:
        abort(404)  # metrics are off: the route does not exist
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    given = token.strip().encode() if scheme.lower() == "bearer" else b""
    if not hmac.compare_digest(given, settings.metrics_token.encode()):
        raise MetricsUnauthorized()
    # A registry per scrape: the collector reads this app's database and broker, now.
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FolioCollector(settings))
    response = Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
    response.headers["Cache-Control"] = "no-store"
    return response


class MetricsUnauthorized(ApiError):
    """The scraper sent no token, or not the configured one."""

    def __init__(self) -> None:
        super().__init__(
            "metrics_unauthorized", "GET /metrics needs the bearer token FOLIO_METRICS_TOKEN.", 401
        )
