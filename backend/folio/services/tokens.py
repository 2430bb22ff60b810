"""Token pairs: issue, rotate and revoke refresh tokens, and say whether a token is revoked.

Refresh tokens are recorded by `jti` only (the signature makes a token; the row only says
whether it still counts). Access tokens are not recorded: they carry their family id, and
revoking a family ends its access tokens at once as well as its refresh token.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token
from sqlalchemy import exists, select, update

from folio.extensions import db
from folio.models import RefreshToken, User
from folio.models.base import utcnow
from folio.services.errors import TokenRevoked

FAMILY_CLAIM = "fam"


@dataclass(frozen=True, slots=True)
class TokenPair:
    """What a client receives when it signs in or refreshes."""

    access_token: str
    refresh_token: str
    # Seconds until the access token expires.
    expires_in: int


def start_session(user_id: int) -> TokenPair:
    """Issue a pair in a new family, as at login (committed)."""
    pair = _issue(user_id, family_id=str(uuid.uuid4()), jti=str(uuid.uuid4()))
    db.session.commit()
    return pair


def rotate(payload: Mapping[str, Any]) -> TokenPair:
    """Exchange the refresh token of `payload` for a new pair; the presented one is revoked.

    Raises TokenRevoked when the token was already rotated (two requests raced with it, or
    it was copied): its family is then revoked, as `is_revoked` would have done.
    """
    user_id, family_id = int(payload["sub"]), payload[FAMILY_CLAIM]
    new_jti = str(uuid.uuid4())
    # Conditional, so that of two requests presenting the same token only one rotates it.
    rotated = db.session.execute(
        update(RefreshToken)
        .where(RefreshToken.jti == payload["jti"], RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow(), replaced_by=new_jti)
        .returning(RefreshToken.id)
    ).scalar_one_or_none()
    if rotated is None:
        revoke_family(user_id, family_id)
        raise TokenRevoked("This refresh token was already used; sign in again.")
    pair = _issue(user_id, family_id=family_id, jti=new_jti)
    db.session.commit()
    return pair


def revoke_family(user_id: int, family_id: str) -> None:
    """Revoke every live refresh token of the family, and so its access tokens (committed)."""
    db.session.execute(
        update(RefreshToken)
        .where(
            RefreshToken.user_id == user_id,
            RefreshToken.family_id == family_id,
            RefreshToken.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )
    db.session.commit()


def is_revoked(payload: Mapping[str, Any]) -> bool:
    """Whether a validly signed token no longer counts (Flask-JWT-Extended's blocklist check).

    Presenting a refresh token that was already rotated revokes its whole family: the
    standard defence against a stolen refresh token (whoever uses it second loses).
    """
    family_id = payload.get(FAMILY_CLAIM)
    if not isinstance(family_id, str):
        return True
    if payload["type"] != "refresh":
        return _family_revoked(family_id)
    token = db.session.scalar(select(RefreshToken).where(RefreshToken.jti == payload["jti"]))
    if token is None:
        # Tokens are deleted with their user; the user lookup that follows answers that case.
        return db.session.get(User, int(payload["sub"])) is not None
    if token.replaced_by is not None:
        revoke_family(token.user_id, family_id)
        return True
    return token.revoked_at is not None


def _family_revoked(family_id: str) -> bool:
    """Whether the family's newest refresh token (the one not replaced) was revoked."""
    revoked = db.session.scalar(
        select(
            exists().where(
                RefreshToken.family_id == family_id,
                RefreshToken.replaced_by.is_(None),
                RefreshToken.revoked_at.is_not(None),
            )
        )
    )
    return bool(revoked)


def _issue(user_id: int, *, family_id: str, jti: str) -> TokenPair:
    """Create a pair for the user in `family_id` and record its refresh token (not committed)."""
    refresh_lifetime: timedelta = current_app.config["JWT_REFRESH_TOKEN_EXPIRES"]
    access_lifetime: timedelta = current_app.config["JWT_ACCESS_TOKEN_EXPIRES"]
    identity = str(user_id)
    db.session.add(
        RefreshToken(
            jti=jti, user_id=user_id, family_id=family_id, expires_at=utcnow() + refresh_lifetime
        )
    )
    return TokenPair(
        access_token=create_access_token(identity, additional_claims={FAMILY_CLAIM: family_id}),
        refresh_token=create_refresh_token(
            identity, additional_claims={FAMILY_CLAIM: family_id, "jti": jti}
        ),
        expires_in=int(access_lifetime.total_seconds()),
    )
