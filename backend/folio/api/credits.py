"""`/api/v1/credits`: the caller's balance and ledger (never anyone else's)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from folio.api.schemas import MAX_DB_INTEGER
from folio.models import LedgerKind
from folio.services import credits
from folio.web.auth import current_user, token_required
from folio.web.openapi import BEARER_AUTH

blueprint = Blueprint("credits", __name__, description="Credit balance and ledger.")

MAX_PAGE_SIZE = 200


class BalanceSchema(Schema):
    """The credits available now."""

    balance = fields.Integer(required=True)


class LedgerQuerySchema(Schema):
    """A page of the ledger: rows older than `before`, at most `limit` of them."""

    before = fields.Integer(
        validate=validate.Range(min=1, max=MAX_DB_INTEGER),
        metadata={"description": "The `next_before` of the previous page; omit for the newest."},
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))


class LedgerEntrySchema(Schema):
    """One change of the balance."""

    id = fields.Integer(required=True)
    delta = fields.Integer(required=True, metadata={"description": "Negative when spent."})
    kind = fields.Enum(LedgerKind, by_value=True, required=True)
    job_id = fields.UUID(allow_none=True)
    period = fields.String(allow_none=True, metadata={"description": "YYYY-MM, monthly grants."})
    note = fields.String(allow_none=True)
    balance_after = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)


class LedgerPageSchema(Schema):
    """Ledger rows, newest first, and the cursor of the next page (null on the last)."""

    items = fields.List(fields.Nested(LedgerEntrySchema), required=True)
    next_before = fields.Integer(allow_none=True, required=True)


@blueprint.get("/balance")
@token_required()
@blueprint.response(200, BalanceSchema)
@blueprint.doc(security=BEARER_AUTH)
def balance() -> dict[str, int]:
    """The caller's balance."""
    return {"balance": current_user().balance}


@blueprint.get("/ledger")
@token_required()
@blueprint.arguments(LedgerQuerySchema, location="query")
@blueprint.response(200, LedgerPageSchema)
@blueprint.doc(security=BEARER_AUTH)
def ledger(query: dict[str, Any]) -> dict[str, Any]:
    """The caller's ledger, newest first, a page at a time."""
    items, next_before = credits.ledger_page(
        current_user().id, before=query.get("before"), limit=query["limit"]
    )
    return {"items": items, "next_before": next_before}
