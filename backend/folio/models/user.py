"""Accounts and the refresh tokens that keep them signed in."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from folio.models.base import Base, enum_column, utcnow


class Role(enum.StrEnum):
    """What an account may do."""

    USER = "user"
    ADMIN = "admin"


class User(Base):
    """An account; `balance` caches the sum of its credit ledger and can never go negative."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("balance >= 0", name="balance_non_negative"),
        # Uniqueness is case-insensitive because only the lower-case form is ever stored.
        CheckConstraint("email = lower(email)", name="email_lower_case"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # 254 is the longest address SMTP can deliver to (RFC 5321 path limit).
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role, "user_role"), default=Role.USER)
    balance: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]


class RefreshToken(Base):
    """One issued refresh token, known by its `jti`; the token itself is never stored.

    Every login starts a family; each rotation revokes the presented token, records its
    successor in `replaced_by` and issues the successor in the same family. Presenting a token
    that was already rotated means it was copied: the whole family is revoked.
    """

    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    jti: Mapped[str] = mapped_column(String(36), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[str] = mapped_column(String(36), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    replaced_by: Mapped[str | None] = mapped_column(String(36))
