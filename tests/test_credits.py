"""The credit service on SQLite and PostgreSQL: estimates, reserve/settle, grants, guarantees."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from databases import sqlite_app_from
from factories import make_job, make_user
from folio.extensions import db
from folio.models import LedgerEntry, LedgerKind, User
from folio.pipeline.errors import InvalidSettings
from folio.pipeline.model import ProcessSettings
from folio.services import credits
from folio.services.errors import InsufficientCredits, JobNotFound, NotFound

JANUARY = datetime(2026, 1, 31, 23, 59, tzinfo=UTC)
FEBRUARY = datetime(2026, 2, 1, 0, 1, tzinfo=UTC)


def ledger_of(user_id: int) -> list[LedgerEntry]:
    """The user's ledger rows, oldest first."""
    query = select(LedgerEntry).where(LedgerEntry.user_id == user_id).order_by(LedgerEntry.id)
    return list(db.session.scalars(query))


def balance_of(user_id: int) -> int:
    """The cached balance, read from the database (not from the session's identity map)."""
    balance = db.session.scalar(select(User.balance).where(User.id == user_id))
    assert balance is not None
    return balance


def assert_ledger_matches_balance(user_id: int) -> None:
    """The ledger sums to the balance, and each row's balance_after is the running sum."""
    running = 0
    for entry in ledger_of(user_id):
        running += entry.delta
        assert entry.balance_after == running >= 0
    assert balance_of(user_id) == running


# --- estimate ----------------------------------------------------------------------------


def test_estimate_is_pages_times_the_rate(sqlite_app: Flask) -> None:
    with sqlite_app.app_context():
        assert credits.estimate(120, ProcessSettings()) == 120


def test_estimate_follows_credits_per_page(tmp_path: Path, sqlite_template: Path) -> None:
    app = sqlite_app_from(sqlite_template, tmp_path, FOLIO_CREDITS_PER_PAGE="3")
    with app.app_context():
        assert credits.estimate(10, ProcessSettings()) == 30


def test_estimate_refuses_an_unknown_processor_and_no_pages(sqlite_app: Flask) -> None:
    with sqlite_app.app_context():
        with pytest.raises(InvalidSettings, match=r"Unknown processor .gpt-9."):
            credits.estimate(10, ProcessSettings(processor="gpt-9"))
        with pytest.raises(ValueError, match="page_count"):
            credits.estimate(0, ProcessSettings())


# --- reserve and settle ------------------------------------------------------------------


def test_reserve_then_settle_charges_the_processed_part(db_app: Flask) -> None:
    with db_app.app_context():
        user = make_user(granted=100)
        job = make_job(user, page_count=40)
        reservation = credits.reserve(user.id, job.id, 40)
        assert (reservation.delta, reservation.balance_after) == (-40, 60)
        settlement = credits.settle(job.id, charged=25)
        assert (settlement.kind, settlement.delta, settlement.balance_after) == (
            LedgerKind.SETTLE,
            15,
            75,
        )
        db.session.refresh(job)
        assert (job.reserved_credits, job.charged_credits) == (40, 25)
        assert_ledger_matches_balance(user.id)


def test_reserve_twice_writes_one_row(db_app: Flask) -> None:
    with db_app.app_context():
        user = make_user(granted=100)
        job = make_job(user)
        first = credits.reserve(user.id, job.id, 30)
        second = credits.reserve(user.id, job.id, 30)
        assert second.id == first.id
        # Even when the balance could no longer cover it: the answer is the recorded row.
        credits.reserve(user.id, make_job(user).id, 70)
        assert credits.reserve(user.id, job.id, 30).id == first.id
        reserves = [e for e in ledger_of(user.id) if e.kind == LedgerKind.RESERVE]
        assert len(reserves) == 2
        assert balance_of(user.id) == 0
        assert_ledger_matches_balance(user.id)


def test_settle_twice_writes_one_row_and_keeps_the_first_charge(db_app: Flask) -> None:
    with db_app.app_context():
        user = make_user(granted=50)
        job = make_job(user)
        credits.reserve(user.id, job.id, 20)
        first = credits.settle(job.id, charged=5)
        again = credits.settle(job.id, charged=0)
        assert again.id == first.id
        assert [e.kind for e in ledger_of(user.id)].count(LedgerKind.SETTLE) == 1
        assert balance_of(user.id) == 45
        db.session.refresh(job)
        assert job.charged_credits == 5


def test_cancelled_job_that_processed_nothing_is_refunded_in_full(db_app: Flask) -> None:
    with db_app.app_context():
        user = make_user(granted=10)
        job = make_job(user)
        credits.reserve(user.id, job.id, 10)
        assert credits.settle(job.id, charged=0).delta == 10
        assert balance_of(user.id) == 10


def test_insufficient_credits_writes_nothing(db_app: Flask) -> None:
    with db_app.app_context():
        user = make_user(granted=9)
        job = make_job(user)
        with pytest.raises(InsufficientCredits) as refused:
            credits.reserve(user.id, job.id, 10)
        assert (refused.value.balance, refused.value.needed) == (9, 10)
        assert refused.value.code == "insufficient_credits"
        assert refused.value.http_status == 402
        db.session.rollback()
        assert balance_of(user.id) == 9
        assert len(ledger_of(user.id)) == 1
        db.session.refresh(job)
        assert job.reserved_credits == 0


def test_refused_reservation_leaves_the_callers_pending_work(db_app: Flask) -> None:
    # The savepoint undoes only the refused change; the caller decides about its own rows.
    with db_app.app_context():
        user = make_user(granted=1)
        job = make_job(user)
        other = make_user()
        other.email = "renamed@example.com"
        with pytest.raises(InsufficientCredits):
            credits.reserve(user.id, job.id, 5)
        db.session.commit()
        assert db.session.get(User, other.id) is not None
        assert db.session.scalar(select(User.email).where(User.id == other.id)) == (
            "renamed@example.com"
        )


def test_reserve_for_another_users_job_is_refused(db_app: Flask) -> None:
    with db_app.app_context():
        owner, intruder = make_user(granted=10), make_user(granted=10)
        job = make_job(owner)
        with pytest.raises(JobNotFound):
            credits.reserve(intruder.id, job.id, 5)
        db.session.rollback()
        assert balance_of(intruder.id) == 10


def test_bad_amounts_are_refused(db_app: Flask) -> None:
    with db_app.app_context():
        user = make_user(granted=10)
        job = make_job(user)
        with pytest.raises(ValueError):
            credits.reserve(user.id, job.id, 0)
        with pytest.raises(NotFound, match="no reservation"):
            credits.settle(job.id, charged=0)
        credits.reserve(user.id, job.id, 5)
        with pytest.raises(ValueError, match="between 0 and the 5 reserved"):
            credits.settle(job.id, charged=6)
        with pytest.raises(ValueError):
            credits.admin_grant(user.id, -3)
        with pytest.raises(NotFound):
            credits.admin_grant(10_000, 5)


# --- grants ------------------------------------------------------------------------------


def test_monthly_grant_once_per_month(db_app: Flask) -> None:
    with db_app.app_context():
        user = make_user()
        first = credits.grant_monthly(user.id, JANUARY)
        assert first is not None and first.period == "2026-01"
        again = credits.grant_monthly(user.id, JANUARY.replace(day=2))
        assert again is not None and again.id == first.id
        february = credits.grant_monthly(user.id, FEBRUARY)
        assert february is not None and february.id != first.id
        assert balance_of(user.id) == 1000
        assert_ledger_matches_balance(user.id)


def test_monthly_period_is_the_utc_month() -> None:
    paris_new_year = datetime.fromisoformat("2026-01-01T00:30:00+01:00")
    assert credits.month_of(paris_new_year) == "2025-12"
    with pytest.raises(ValueError, match="naive"):
        credits.month_of(datetime(2026, 1, 1))


def test_grant_monthly_to_all_is_safe_to_rerun(db_app: Flask) -> None:
    with db_app.app_context():
        first, second = make_user(), make_user()
        credits.grant_monthly(first.id, JANUARY)
        report = credits.grant_monthly_to_all(JANUARY)
        assert (report.period, report.granted, report.already_granted) == ("2026-01", 1, 1)
        again = credits.grant_monthly_to_all(JANUARY)
        assert (again.granted, again.already_granted) == (0, 2)
        assert balance_of(first.id) == balance_of(second.id) == 500


def test_signup_grant_once(db_app: Flask) -> None:
    with db_app.app_context():
        user = make_user()
        first = credits.grant_signup(user.id)
        second = credits.grant_signup(user.id)
        assert first is not None and second is not None and second.id == first.id
        assert balance_of(user.id) == 100


def test_admin_grants_are_each_new(db_app: Flask) -> None:
    with db_app.app_context():
        user = make_user()
        credits.admin_grant(user.id, 5, "refund for a bug")
        credits.admin_grant(user.id, 5, "refund for a bug")
        assert [e.note for e in ledger_of(user.id)] == ["refund for a bug"] * 2
        assert balance_of(user.id) == 10


# --- what the database itself refuses ----------------------------------------------------


def test_database_refuses_a_negative_balance(db_app: Flask) -> None:
    with db_app.app_context():
        user = make_user(granted=3)
        with pytest.raises(IntegrityError):
            db.session.execute(update(User).where(User.id == user.id).values(balance=-1))
        db.session.rollback()


@pytest.mark.parametrize(
    "row",
    [
        # A reserve without a job would escape "one reserve per job".
        {"kind": "reserve", "delta": -1, "job_id": None},
        # A monthly grant without a period would escape "one per month".
        {"kind": "monthly_grant", "delta": 5, "period": None},
        {"kind": "admin_grant", "delta": -5},
        {"kind": "admin_grant", "delta": 5, "balance_after": -1},
        {"kind": "signup_grant", "delta": 5},  # The second signup grant of the user.
    ],
)
def test_database_refuses_ledger_rows_that_break_a_rule(
    db_app: Flask, row: dict[str, object]
) -> None:
    with db_app.app_context():
        user = make_user()
        credits.grant_signup(user.id)
        values = {"user_id": user.id, "balance_after": 0, "job_id": None, **row}
        with pytest.raises(IntegrityError):
            db.session.execute(insert(LedgerEntry).values(**values))
        db.session.rollback()


def test_database_refuses_a_second_reserve_for_a_job(db_app: Flask) -> None:
    with db_app.app_context():
        user = make_user(granted=10)
        job = make_job(user)
        credits.reserve(user.id, job.id, 1)
        with pytest.raises(IntegrityError):
            db.session.execute(
                insert(LedgerEntry).values(
                    user_id=user.id, kind="reserve", delta=-1, job_id=job.id, balance_after=8
                )
            )
        db.session.rollback()


def test_deleting_a_user_deletes_their_ledger_and_jobs(db_app: Flask) -> None:
    with db_app.app_context():
        user, other = make_user(granted=10), make_user(granted=10)
        credits.reserve(user.id, make_job(user).id, 4)
        db.session.delete(db.session.get(User, user.id))
        db.session.commit()
        count = db.session.scalar(select(func.count()).select_from(LedgerEntry))
        assert count == 1  # The other user's grant.
        assert_ledger_matches_balance(other.id)


def test_ledger_page_is_the_users_own_newest_first(db_app: Flask) -> None:
    with db_app.app_context():
        user, other = make_user(), make_user(granted=7)
        for amount in range(1, 6):
            credits.admin_grant(user.id, amount)
        page, cursor = credits.ledger_page(user.id, before=None, limit=2)
        assert [e.delta for e in page] == [5, 4]
        assert cursor == page[-1].id
        page, cursor = credits.ledger_page(user.id, before=cursor, limit=2)
        assert [e.delta for e in page] == [3, 2]
        page, cursor = credits.ledger_page(user.id, before=cursor, limit=2)
        assert [e.delta for e in page] == [1]
        assert cursor is None
        assert all(
            e.user_id == user.id for e in credits.ledger_page(user.id, before=None, limit=50)[0]
        )
        assert credits.ledger_page(other.id, before=None, limit=50)[0][0].delta == 7


def test_unknown_job_uuid_is_not_found(db_app: Flask) -> None:
    with db_app.app_context():
        user = make_user(granted=5)
        with pytest.raises(JobNotFound):
            credits.reserve(user.id, uuid.uuid4(), 1)
