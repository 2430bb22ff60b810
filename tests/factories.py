"""Factories for the tests: users and jobs, written through the services where money moves."""

from __future__ import annotations

import functools
import itertools
import uuid

from argon2 import PasswordHasher

from folio.extensions import db
from folio.models import Job, Role, User
from folio.services import credits

PASSWORD = "correct horse battery staple"
_numbers = itertools.count(1)


@functools.cache
def _password_hash() -> str:
    """One hash of PASSWORD for every factory user: hashing each would slow the tests."""
    return PasswordHasher().hash(PASSWORD)


def make_user(email: str | None = None, *, granted: int = 0, role: Role = Role.USER) -> User:
    """A committed user whose password is PASSWORD, given `granted` credits through the ledger."""
    user = User(
        email=email or f"user{next(_numbers)}@example.com",
        password_hash=_password_hash(),
        role=role,
    )
    db.session.add(user)
    db.session.commit()
    if granted:
        credits.admin_grant(user.id, granted, note="factory")
    return user


def make_job(user: User, *, page_count: int = 10) -> Job:
    """A committed queued job of `user` on a `page_count`-page document."""
    job = Job(
        user_id=user.id,
        settings={"limit": 8},
        original_filename="roman.pdf",
        file_key=f"uploads/{uuid.uuid4()}.pdf",
        page_count=page_count,
        estimated_credits=page_count,
    )
    db.session.add(job)
    db.session.commit()
    return job
