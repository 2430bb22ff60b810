"""The OpenAPI document (flask-smorest) and its Swagger UI, served from a local package."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Flask, Response, send_from_directory
from flask_smorest import Api
from marshmallow import Schema, fields
from swagger_ui_bundle import swagger_ui_path

# The `security` of a route that needs a bearer token.
BEARER_AUTH: list[dict[str, list[str]]] = [{"bearerAuth": []}]

# The docs page loads its scripts from here: it must work offline, so no CDN.
swagger_ui_assets = Blueprint("swagger_ui_assets", __name__, url_prefix="/api/v1/docs/assets")


@swagger_ui_assets.get("/<path:filename>")
def swagger_ui_asset(filename: str) -> Response:
    """Serve one file of the Swagger UI distribution bundled in `swagger-ui-bundle`."""
    return send_from_directory(swagger_ui_path, filename, max_age=86400)


class ErrorBodySchema(Schema):
    """The inside of the one JSON error format."""

    code = fields.String(required=True, metadata={"description": "Stable, machine-readable."})
    message = fields.String(required=True, metadata={"description": "For people."})
    details = fields.Dict(metadata={"description": "Extra data, e.g. the invalid fields."})


class ErrorSchema(Schema):
    """`{"error": {"code", "message", "details"?}}`, the body of every error answer."""

    error = fields.Nested(ErrorBodySchema, required=True)


class FolioApi(Api):
    """flask-smorest's Api, minus its error handler: the project's JSON format answers errors."""

    # Documents the project's error format wherever flask-smorest documents an error.
    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        """Register nothing: `folio.web.errors` already answers every HTTPException."""

    def init_app(self, app: Flask, *, spec_kwargs: Mapping[str, Any] | None = None) -> None:
        """Bind to `app`, declare the bearer-token scheme and serve the Swagger UI files."""
        super().init_app(app, spec_kwargs=spec_kwargs)
        self.spec.components.security_scheme(
            "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
        )
        app.register_blueprint(swagger_ui_assets)
