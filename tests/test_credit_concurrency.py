"""No overdraft under concurrency: 50 simultaneous reservations against a balance of 10."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

from flask import Flask
from sqlalchemy import func, select

from factories import make_job, make_user
from folio.extensions import db
from folio.models import LedgerEntry, LedgerKind, User
from folio.services import credits
from folio.services.errors import InsufficientCredits

ATTEMPTS = 50
AFFORDABLE = 10


def reserve_together(app: Flask, user_id: int, job_ids: list[uuid.UUID]) -> list[str]:
    """Reserve 1 credit per job, each in its own thread, session and connection, all at once."""
    barrier = threading.Barrier(len(job_ids))

    def attempt(job_id: uuid.UUID) -> str:
        # Each thread has its own app context, so Flask-SQLAlchemy gives it its own session.
        with app.app_context():
            barrier.wait(timeout=30)
            try:
                credits.reserve(user_id, job_id, 1)
            except InsufficientCredits:
                return "refused"
            return "reserved"

    with ThreadPoolExecutor(max_workers=len(job_ids)) as pool:
        return list(pool.map(attempt, job_ids))


def test_fifty_parallel_reservations_never_overdraw(db_app: Flask) -> None:
    with db_app.app_context():
        user = make_user(granted=AFFORDABLE)
        user_id = user.id
        job_ids = [make_job(user).id for _ in range(ATTEMPTS)]

    outcomes = reserve_together(db_app, user_id, job_ids)

    assert outcomes.count("reserved") == AFFORDABLE
    assert outcomes.count("refused") == ATTEMPTS - AFFORDABLE
    with db_app.app_context():
        balance = db.session.scalar(select(User.balance).where(User.id == user_id))
        assert balance == 0
        total = db.session.scalar(
            select(func.sum(LedgerEntry.delta)).where(LedgerEntry.user_id == user_id)
        )
        assert total == balance
        reserves = db.session.scalars(
            select(LedgerEntry.balance_after).where(
                LedgerEntry.user_id == user_id, LedgerEntry.kind == LedgerKind.RESERVE
            )
        ).all()
        # Each winner saw a different balance: the debits were applied one after another.
        assert sorted(reserves) == list(range(AFFORDABLE))
