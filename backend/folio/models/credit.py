"""The append-only credit ledger: every change of a balance, with the balance it left."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from folio.models.base import Base, enum_column, utcnow


class LedgerKind(enum.StrEnum):
    """Why a balance changed."""

    SIGNUP_GRANT = "signup_grant"
    MONTHLY_GRANT = "monthly_grant"
    ADMIN_GRANT = "admin_grant"
    # The estimate of a job, taken when it is created (a negative delta).
    RESERVE = "reserve"
    # The part of the reservation the job did not use, given back when it ends (zero or more).
    SETTLE = "settle"


_JOB_KINDS = "('reserve', 'settle')"


class LedgerEntry(Base):
    """One change of a user's balance. Rows are only ever inserted.

    The database, not the code, guarantees the idempotency of the operations: one reserve and
    one settle per run of a job (`uq_credit_ledger_job_id_kind_run`; a retry of failed chunks
    is a new run), one monthly grant per user and month
    (`uq_credit_ledger_user_id_kind_period`), one signup grant per user (a partial unique
    index). NULLs never collide in a unique constraint, on PostgreSQL as on SQLite, so rows
    without a job or a period are not limited by the first two.
    """

    __tablename__ = "credit_ledger"
    __table_args__ = (
        UniqueConstraint("job_id", "kind", "run"),
        UniqueConstraint("user_id", "kind", "period"),
        Index(
            "uq_credit_ledger_signup_grant",
            "user_id",
            unique=True,
            postgresql_where=text("kind = 'signup_grant'"),
            sqlite_where=text("kind = 'signup_grant'"),
        ),
        # Rows that the constraints above must see carry their key: a reserve without a job
        # would escape "one reserve per job".
        CheckConstraint(
            f"(kind IN {_JOB_KINDS}) = (job_id IS NOT NULL)", name="job_only_for_job_kinds"
        ),
        CheckConstraint(
            "(kind = 'monthly_grant') = (period IS NOT NULL)", name="period_only_for_monthly"
        ),
        CheckConstraint(
            "(kind = 'reserve' AND delta < 0) OR (kind = 'settle' AND delta >= 0)"
            f" OR (kind NOT IN {_JOB_KINDS} AND delta > 0)",
            name="delta_sign_matches_kind",
        ),
        CheckConstraint("balance_after >= 0", name="balance_after_non_negative"),
        # The caller's ledger, newest first.
        Index("ix_credit_ledger_user_id_id", "user_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    delta: Mapped[int]
    kind: Mapped[LedgerKind] = mapped_column(enum_column(LedgerKind, "ledger_kind"))
    # No ON DELETE: a job that moved credits cannot be deleted on its own (only with its user).
    job_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jobs.id"))
    # "YYYY-MM" for monthly grants: the idempotency key of "one grant per user and month".
    period: Mapped[str | None] = mapped_column(String(7))
    # Which run of the job: 0, then 1, 2… for each retry of its failed chunks.
    run: Mapped[int] = mapped_column(default=0, server_default="0")
    balance_after: Mapped[int]
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
