"""Factories for the tests: users, uploads, jobs, chunks and sentences, written through the
services where money moves."""

from __future__ import annotations

import functools
import itertools
import shutil
import uuid
from datetime import timedelta
from pathlib import Path

from argon2 import PasswordHasher

from folio.config import current_settings
from folio.extensions import db
from folio.models import ChunkStatus, Job, JobChunk, JobSentence, JobStatus, Role, Upload, User
from folio.models.base import utcnow
from folio.services import credits, tokens

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


def auth_headers(user: User) -> dict[str, str]:
    """An Authorization header for `user`, issued directly (no argon2 check: faster)."""
    return {"Authorization": f"Bearer {tokens.start_session(user.id).access_token}"}


def make_upload(
    user: User,
    pdf: Path,
    *,
    page_count: int,
    filename: str = "roman.pdf",
    expires_in: timedelta = timedelta(hours=1),
) -> Upload:
    """A committed upload of `user`: a copy of `pdf` in the file store, expiring in `expires_in`."""
    key = f"{uuid.uuid4()}.pdf"
    store = current_settings().uploads_dir
    store.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(pdf, store / key)
    now = utcnow()
    upload = Upload(
        user_id=user.id,
        file_key=key,
        original_filename=filename,
        size_bytes=pdf.stat().st_size,
        page_count=page_count,
        info={"title": None, "author": None, "warnings": []},
        created_at=now - timedelta(minutes=1),
        expires_at=now + expires_in,
    )
    db.session.add(upload)
    db.session.commit()
    return upload


def make_chunks(job: Job, statuses: list[ChunkStatus], pages_per_chunk: int = 3) -> list[JobChunk]:
    """Committed chunks of `job`, one per status, owning `pages_per_chunk` pages each."""
    chunks = []
    for index, status in enumerate(statuses):
        first = 1 + index * pages_per_chunk
        last = first + pages_per_chunk - 1
        chunks.append(
            JobChunk(
                job_id=job.id,
                index=index,
                owned_first_page=first,
                owned_last_page=last,
                read_first_page=max(1, first - 1),
                read_last_page=last + 1,
                status=status,
                last_error="boom" if status == ChunkStatus.FAILED else None,
            )
        )
    db.session.add_all(chunks)
    job.total_chunks = len(chunks)
    db.session.commit()
    return chunks


def finish_job(job: Job, texts: list[str], status: JobStatus = JobStatus.COMPLETED) -> Job:
    """Give `job` the final `status` and the sentences `texts` (index from 1), as finalize would."""
    db.session.add_all(
        JobSentence(
            job_id=job.id,
            index=index,
            text=text,
            page=1 + index // 10,
            source_id=f"{1 + index // 10:05d}:{index * 10:06d}",
            part=0,
            words=len(text.split()),
            heading=False,
            processor="local",
            split=False,
            cut="",
        )
        for index, text in enumerate(texts, start=1)
    )
    job.status = status
    job.sentence_count = len(texts)
    job.finished_at = utcnow()
    db.session.commit()
    return job
