"""Marshmallow schemas shared by several resources of the API."""

from __future__ import annotations

from marshmallow import Schema, fields

from folio.models import Role


class UserSchema(Schema):
    """An account as its owner sees it."""

    id = fields.Integer(required=True)
    email = fields.String(required=True)
    role = fields.Enum(Role, by_value=True, required=True)
    balance = fields.Integer(required=True, metadata={"description": "Credits available now."})
