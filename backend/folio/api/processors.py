"""`/api/v1/processors`: what a job may ask for on this server — processors and their models."""

from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from folio.config import current_settings
from folio.pipeline.processors import ProcessorInfo, catalog
from folio.web.auth import token_required
from folio.web.openapi import BEARER_AUTH

blueprint = Blueprint("processors", __name__, description="Processors and models for jobs.")


class ProcessorSchema(Schema):
    """One processor: whether this server can run it, and the models a job may choose."""

    name = fields.String(required=True, metadata={"description": "`settings.processor`"})
    available = fields.Boolean(
        required=True, metadata={"description": "False: not configured here (no API key)."}
    )
    default_model = fields.String(
        required=True, metadata={"description": "Used when `settings.model` is empty."}
    )
    models = fields.List(
        fields.String(), required=True, metadata={"description": "Values for `settings.model`."}
    )


@blueprint.get("")
@token_required()
@blueprint.response(200, ProcessorSchema(many=True))
@blueprint.doc(security=BEARER_AUTH)
def list_processors() -> list[ProcessorInfo]:
    """Every processor in a fixed order, `local` first; never an API key or URL."""
    return catalog(current_settings().llm)
