"""Job states, and the two user requests that change a running job: cancel and retry."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update

from folio.config import current_settings
from folio.extensions import db
from folio.models import ChunkStatus, Job, JobChunk, JobStatus
from folio.models.base import utcnow
from folio.pipeline.model import ProcessSettings
from folio.services import credits
from folio.services.errors import Conflict, InsufficientCredits, NotFound

FINAL = (JobStatus.COMPLETED, JobStatus.PARTIAL, JobStatus.FAILED, JobStatus.CANCELLED)
ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.CANCELLING)
UNFINISHED = (ChunkStatus.PENDING, ChunkStatus.RUNNING)


def touched(now: datetime | None = None, **values: Any) -> dict[str, Any]:
    """`values` for an UPDATE of jobs, plus what every visible change must bump (the ETag)."""
    return {**values, "version": Job.version + 1, "updated_at": now or utcnow()}


def job_path(job: Job) -> Path:
    """Where the job's PDF is in the file store."""
    return current_settings().uploads_dir / job.file_key


def owned_pages(chunk: JobChunk) -> int:
    """How many pages a chunk owns (what it is charged for)."""
    return chunk.owned_last_page - chunk.owned_first_page + 1


def unfinished_chunks(job_id: uuid.UUID) -> int:
    """Chunks of the job still pending or running."""
    count = db.session.scalar(
        select(func.count(JobChunk.id)).where(
            JobChunk.job_id == job_id, JobChunk.status.in_(UNFINISHED)
        )
    )
    return count or 0


def request_cancel(job_id: uuid.UUID) -> None:
    """Record a cancel: no chunk starts after it, and the job ends `cancelled`."""
    from folio.services import dispatch  # dispatch imports this module

    now = utcnow()
    db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status.in_(ACTIVE), Job.cancel_requested_at.is_(None))
        .values(
            touched(
                now, status=JobStatus.CANCELLING, cancel_requested_at=now, current_step="cancelling"
            )
        )
    )
    pending = cancel_pending_chunks(job_id, now)
    db.session.commit()
    dispatch.revoke_chunks(pending)
    # The chord may never fire once its messages are revoked: finalize is asked directly.
    # If a chunk is still running, finalize waits for it and that chunk asks again.
    dispatch.send_finalize(job_id)


def cancel_pending_chunks(job_id: uuid.UUID, now: datetime) -> list[JobChunk]:
    """Mark the job's pending chunks cancelled (in the caller's transaction); return them."""
    pending = list(
        db.session.scalars(
            select(JobChunk).where(
                JobChunk.job_id == job_id, JobChunk.status == ChunkStatus.PENDING
            )
        )
    )
    db.session.execute(
        update(JobChunk)
        .where(JobChunk.job_id == job_id, JobChunk.status == ChunkStatus.PENDING)
        .values(status=ChunkStatus.CANCELLED, finished_at=now)
    )
    return pending


def retry_failed(job_id: uuid.UUID) -> int:
    """Run a partial or failed job's failed chunks again, reserving credits for them only."""
    from folio.services import dispatch

    job = db.session.get(Job, job_id)
    if job is None:
        raise NotFound(f"No job {job_id}.")
    failed = list(
        db.session.scalars(
            select(JobChunk).where(JobChunk.job_id == job_id, JobChunk.status == ChunkStatus.FAILED)
        )
    )
    if job.status not in (JobStatus.PARTIAL, JobStatus.FAILED) or not failed:
        raise Conflict("job_not_retryable", "Only a partial or failed job has chunks to retry.")
    run = job.run + 1
    for chunk in failed:
        chunk.status, chunk.attempts, chunk.run = ChunkStatus.PENDING, 0, run
        chunk.last_error = chunk.lease_expires_at = chunk.finished_at = None
    db.session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(
            touched(
                status=JobStatus.QUEUED,
                run=run,
                failed_chunks=0,
                finished_at=None,
                error_code=None,
                error_message=None,
                current_step="queued",
            )
        )
    )
    amount = credits.estimate(sum(owned_pages(c) for c in failed), process_settings(job))
    try:
        credits.reserve(job.user_id, job_id, amount, run=run)  # commits the reset with it
    except InsufficientCredits:
        db.session.rollback()
        raise
    return dispatch.dispatch_job(job_id)


def process_settings(job: Job) -> ProcessSettings:
    """The processing settings the user chose for the job."""
    stored = job.settings
    return ProcessSettings(
        limit=stored["limit"],
        min_words=stored["min_words"],
        include_headings=stored.get("include_headings", False),
        processor=stored.get("processor", "local"),
        model=stored.get("model", ""),
    )
