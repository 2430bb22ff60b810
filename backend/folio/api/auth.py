"""`/api/v1/auth`: sign up, sign in, refresh, sign out, and who am I.

Tokens travel in the JSON body and the Authorization header, never in URLs. Token answers
carry `Cache-Control: no-store` (RFC 6749 §5.1) so no cache keeps them.
"""

from __future__ import annotations

from typing import Any

from flask_jwt_extended import get_jwt
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

from folio.api.schemas import UserSchema
from folio.models import User
from folio.services import tokens, users
from folio.services.tokens import TokenPair
from folio.web.auth import current_user, token_required
from folio.web.openapi import BEARER_AUTH, ErrorSchema
from folio.web.ratelimit import limit_sign_in

blueprint = Blueprint("auth", __name__, description="Accounts and tokens.")

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
Answer = tuple[dict[str, Any], int, dict[str, str]]


class CredentialsSchema(Schema):
    """An e-mail address and a password."""

    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(
        required=True, validate=validate.Length(max=users.MAX_PASSWORD_LENGTH), load_only=True
    )

    @pre_load
    def trim_email(self, data: Any, **kwargs: Any) -> Any:
        """Forgive the spaces that copy and paste add around an address."""
        if isinstance(data, dict) and isinstance(data.get("email"), str):
            return {**data, "email": data["email"].strip()}
        return data


class RegisterSchema(CredentialsSchema):
    """Sign-up: the password must be strong enough."""

    @validates_schema
    def check_password(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Refuse a weak password, naming what is wrong with it."""
        problems = users.password_problems(data["password"], data["email"])
        if problems:
            raise ValidationError(problems, field_name="password")


class TokensSchema(Schema):
    """A token pair and, after sign-in or sign-up, the account."""

    access_token = fields.String(required=True)
    refresh_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"description": 'Always "Bearer".'})
    expires_in = fields.Integer(required=True, metadata={"description": "Access token, s."})
    user = fields.Nested(UserSchema)


def _tokens_answer(pair: TokenPair, status: int, user: User | None = None) -> Answer:
    """The body, status and no-cache headers of an answer that carries tokens."""
    body: dict[str, Any] = {
        "access_token": pair.access_token,
        "refresh_token": pair.refresh_token,
        "token_type": "Bearer",
        "expires_in": pair.expires_in,
    }
    if user is not None:
        body["user"] = user
    return body, status, NO_STORE


@blueprint.post("/register")
@limit_sign_in
@blueprint.arguments(RegisterSchema)
@blueprint.response(201, TokensSchema)
@blueprint.alt_response(
    409, schema=ErrorSchema, description="email_taken: the address has an account."
)
@blueprint.alt_response(429, schema=ErrorSchema, description="rate_limited")
def register(credentials: dict[str, str]) -> Answer:
    """Create an account (with the signup credits) and sign it in."""
    user = users.register(credentials["email"], credentials["password"])
    return _tokens_answer(tokens.start_session(user.id), 201, user)


@blueprint.post("/login")
@limit_sign_in
@blueprint.arguments(CredentialsSchema)
@blueprint.response(200, TokensSchema)
@blueprint.alt_response(401, schema=ErrorSchema, description="invalid_credentials")
@blueprint.alt_response(429, schema=ErrorSchema, description="rate_limited")
def login(credentials: dict[str, str]) -> Answer:
    """Sign in: a new token family."""
    user = users.authenticate(credentials["email"], credentials["password"])
    return _tokens_answer(tokens.start_session(user.id), 200, user)


@blueprint.post("/refresh")
@token_required(refresh=True)
@blueprint.response(200, TokensSchema)
@blueprint.alt_response(
    401, schema=ErrorSchema, description="token_revoked, token_expired, wrong_token_type, …"
)
@blueprint.doc(security=BEARER_AUTH, description="Send the refresh token as the bearer token.")
def refresh() -> Answer:
    """Exchange a refresh token for a new pair; the old refresh token stops working."""
    return _tokens_answer(tokens.rotate(get_jwt()), 200)


@blueprint.post("/logout")
@token_required(verify_type=False)
@blueprint.response(204)
@blueprint.doc(security=BEARER_AUTH, description="Send the access or the refresh token.")
def logout() -> tuple[str, int]:
    """Sign out this session: its refresh token and its access tokens stop working."""
    tokens.revoke_family(current_user().id, get_jwt()[tokens.FAMILY_CLAIM])
    return "", 204


@blueprint.get("/me")
@token_required()
@blueprint.response(200, UserSchema)
@blueprint.doc(security=BEARER_AUTH)
def me() -> User:
    """The signed-in account, with its balance."""
    return current_user()
