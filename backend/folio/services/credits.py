"""Credits: estimate, reserve, settle and grant, every change through one guarded function.

The balance on `users` is a cache of the ledger that the database itself keeps honest:
`_change` moves it with a conditional UPDATE that cannot take it below zero, and writes the
ledger row in the same transaction. Idempotency comes from the ledger's unique constraints,
not from a read-then-write check that two concurrent calls could both pass.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.exc import IntegrityError

from folio.config import current_settings
from folio.extensions import db
from folio.models import Job, LedgerEntry, LedgerKind, User
from folio.pipeline.model import ProcessSettings
from folio.pipeline.processors import traits
from folio.services.errors import InsufficientCredits, JobNotFound, NotFound


@dataclass(frozen=True, slots=True)
class MonthlyGrantReport:
    """What `grant_monthly_to_all` did for one month."""

    period: str
    granted: int
    already_granted: int


def estimate(page_count: int, settings: ProcessSettings, ocr_pages: int = 0) -> int:
    """The most a job on `page_count` pages with `settings` can cost, computed by the server.

    `ocr_pages` of them are read by OCR and cost FOLIO_OCR_CREDITS_PER_PAGE more each.
    """
    if page_count < 1:
        raise ValueError(f"page_count must be at least 1, got {page_count}")
    # The processor declares its worst page (`Processor.page_cost_factor`); an unknown
    # processor cannot be priced, so it cannot be run.
    factor = traits(settings.processor).page_cost_factor
    app = current_settings()
    return page_count * factor * app.credits_per_page + ocr_pages * app.ocr_credits_per_page


def reserve(user_id: int, job_id: uuid.UUID, amount: int, run: int = 0) -> LedgerEntry:
    """Take `amount` credits for a run of the user's job; a second call changes nothing.

    Commits, with whatever the caller added to the session (the job and its chunks), so that
    a job never exists without its reservation. Raises InsufficientCredits (nothing written)
    when the balance does not cover `amount`, JobNotFound when the job is not the user's.
    """
    if amount < 1:
        raise ValueError(f"a reservation must be at least 1 credit, got {amount}")
    values = {"reserved_credits": Job.reserved_credits + amount}
    return _change(user_id, -amount, LedgerKind.RESERVE, job_id=job_id, run=run, job_values=values)[
        0
    ]


def settle(job_id: uuid.UUID, charged: int, run: int = 0) -> LedgerEntry:
    """Charge `charged` of a run's reservation and give the rest back; idempotent per run.

    A second call returns the first settlement, whatever its `charged`. Commits, with the
    caller's pending changes (finalize_job stores its result in the same transaction).
    """
    reservation = reservation_of(job_id, run)
    if reservation is None:
        raise NotFound(f"Job {job_id} has no reservation to settle.")
    reserved = -reservation.delta
    if not 0 <= charged <= reserved:
        raise ValueError(f"charged must be between 0 and the {reserved} reserved, got {charged}")
    total = func.coalesce(Job.charged_credits, 0) + charged
    return _change(
        reservation.user_id,
        reserved - charged,
        LedgerKind.SETTLE,
        job_id=job_id,
        run=run,
        job_values={"charged_credits": total},
    )[0]


def reservation_of(job_id: uuid.UUID, run: int = 0) -> LedgerEntry | None:
    """The ledger row that reserved credits for a run of the job, if any."""
    return db.session.scalar(
        select(LedgerEntry).where(
            LedgerEntry.job_id == job_id,
            LedgerEntry.kind == LedgerKind.RESERVE,
            LedgerEntry.run == run,
        )
    )


def grant_signup(user_id: int) -> LedgerEntry | None:
    """Give a new account FOLIO_SIGNUP_CREDITS, once; None when that setting is 0."""
    amount = current_settings().signup_credits
    if amount == 0:
        return None
    return _change(user_id, amount, LedgerKind.SIGNUP_GRANT)[0]


def grant_monthly(user_id: int, now: datetime) -> LedgerEntry | None:
    """Give the user FOLIO_MONTHLY_CREDITS for the month of `now`, once; None when it is 0."""
    result = _grant_monthly(user_id, month_of(now))
    return result[0] if result is not None else None


def grant_monthly_to_all(now: datetime) -> MonthlyGrantReport:
    """Run the monthly grant of `now`'s month for every user; safe to run again."""
    period = month_of(now)
    granted = already = 0
    for user_id in db.session.scalars(select(User.id).order_by(User.id)).all():
        result = _grant_monthly(user_id, period)
        if result is not None and result[1]:
            granted += 1
        elif result is not None:
            already += 1
    return MonthlyGrantReport(period=period, granted=granted, already_granted=already)


def admin_grant(user_id: int, amount: int, note: str | None = None) -> LedgerEntry:
    """Give the user `amount` credits by hand, with an optional note for the ledger."""
    if amount < 1:
        raise ValueError(f"a grant must be at least 1 credit, got {amount}")
    return _change(user_id, amount, LedgerKind.ADMIN_GRANT, note=note)[0]


def ledger_page(
    user_id: int, *, before: int | None, limit: int
) -> tuple[list[LedgerEntry], int | None]:
    """The user's ledger rows, newest first, older than row `before`; and the next cursor."""
    query = select(LedgerEntry).where(LedgerEntry.user_id == user_id)
    if before is not None:
        query = query.where(LedgerEntry.id < before)
    # Ids only grow, so the cursor is stable while new rows arrive (an offset would shift).
    rows = list(db.session.scalars(query.order_by(LedgerEntry.id.desc()).limit(limit + 1)))
    next_before = rows[limit - 1].id if len(rows) > limit else None
    return rows[:limit], next_before


def month_of(moment: datetime) -> str:
    """The grant period of a moment: its month in UTC, as "YYYY-MM"."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: pass a timezone-aware value")
    return moment.astimezone(UTC).strftime("%Y-%m")


def _grant_monthly(user_id: int, period: str) -> tuple[LedgerEntry, bool] | None:
    """Grant the month's credits to one user; the bool says whether this call granted them."""
    amount = current_settings().monthly_credits
    if amount == 0:
        return None
    return _change(user_id, amount, LedgerKind.MONTHLY_GRANT, period=period)


def _change(
    user_id: int,
    delta: int,
    kind: LedgerKind,
    *,
    job_id: uuid.UUID | None = None,
    run: int = 0,
    job_values: dict[str, Any] | None = None,
    period: str | None = None,
    note: str | None = None,
) -> tuple[LedgerEntry, bool]:
    """Move the balance by `delta` and append the ledger row, in one transaction.

    Returns the row and True; or, when the ledger already holds this operation (same job
    and kind, same month), the existing row and False, with no second effect.
    """
    entry = LedgerEntry(
        user_id=user_id, delta=delta, kind=kind, job_id=job_id, run=run, period=period, note=note
    )
    try:
        # A savepoint, so that a refused or duplicate change undoes only itself and leaves
        # the caller's pending work (a new job) to the caller.
        with db.session.begin_nested():
            entry.balance_after = _move_balance(user_id, delta)
            if job_id is not None:
                _update_job(job_id, user_id, job_values or {})
            db.session.add(entry)
    except (IntegrityError, InsufficientCredits):
        # A unique constraint refused the row, or a concurrent duplicate won the race and
        # then its debit left too little: either way the recorded operation is the answer.
        existing = _find_same_operation(entry)
        if existing is None:
            raise
        db.session.commit()
        return existing, False
    db.session.commit()
    return entry, True


def _move_balance(user_id: int, delta: int) -> int:
    """Add `delta` to the balance unless that would make it negative; return the new balance."""
    # The condition and the write are one statement: two concurrent debits cannot both see
    # the old balance. PostgreSQL re-checks the WHERE on the row a concurrent writer left.
    balance = db.session.execute(
        update(User)
        .where(User.id == user_id, User.balance + delta >= 0)
        .values(balance=User.balance + delta)
        .returning(User.balance)
    ).scalar_one_or_none()
    if balance is not None:
        return balance
    current = db.session.scalar(select(User.balance).where(User.id == user_id))
    if current is None:
        raise NotFound(f"No user has id {user_id}.")
    raise InsufficientCredits(balance=current, needed=-delta)


def _update_job(job_id: uuid.UUID, user_id: int, values: dict[str, Any]) -> None:
    """Record the credits on the job row, which must belong to the user."""
    updated = db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.user_id == user_id)
        .values(**values)
        .returning(Job.id)
    ).scalar_one_or_none()
    if updated is None:
        raise JobNotFound(f"User {user_id} has no job {job_id}.")


def _find_same_operation(entry: LedgerEntry) -> LedgerEntry | None:
    """The ledger row already recorded for the operation that `entry` would record, if any."""
    conditions: list[ColumnElement[bool]] = [LedgerEntry.kind == entry.kind]
    if entry.job_id is not None:
        conditions += [LedgerEntry.job_id == entry.job_id, LedgerEntry.run == entry.run]
    elif entry.period is not None:
        conditions += [LedgerEntry.user_id == entry.user_id, LedgerEntry.period == entry.period]
    elif entry.kind == LedgerKind.SIGNUP_GRANT:
        conditions.append(LedgerEntry.user_id == entry.user_id)
    else:
        return None  # Admin grants have no idempotency key: each one is new.
    return db.session.scalar(select(LedgerEntry).where(*conditions))
