"""`GET /metrics`: Prometheus metrics, behind the bearer token FOLIO_METRICS_TOKEN."""

from __future__ import annotations

from flask import Blueprint, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from folio.config import current_settings
from folio.ops.metrics import FolioCollector
from folio.web.auth import metrics_token_required

blueprint = Blueprint("metrics", __name__)


@blueprint.get("/metrics")
@metrics_token_required
def metrics() -> Response:
    """Answer the metrics in Prometheus's text format to a scraper holding the token."""
    # A registry per scrape: the collector reads this app's database and broker, now.
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FolioCollector(current_settings()))
    response = Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
    response.headers["Cache-Control"] = "no-store"
    return response
