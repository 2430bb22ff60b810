"""The job state vocabulary that several services share: final and active states, the ETag bump."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update

from folio.extensions import db
from folio.models import ChunkStatus, Job, JobChunk, JobStatus
from folio.models.base import utcnow
from folio.pipeline.model import ChunkResult, ProcessSettings
from folio.pipeline.processors import DEFAULT_PROCESSOR

FINAL = (JobStatus.COMPLETED, JobStatus.PARTIAL, JobStatus.FAILED, JobStatus.CANCELLED)
ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.CANCELLING)
UNFINISHED = (ChunkStatus.PENDING, ChunkStatus.RUNNING)


def touched(now: datetime | None = None, **values: Any) -> dict[str, Any]:
    """`values` for an UPDATE of jobs, plus what every visible change must bump (the ETag)."""
    return {**values, "version": Job.version + 1, "updated_at": now or utcnow()}


def owned_pages(chunk: JobChunk) -> int:
    """How many pages a chunk owns that gave text (what it is charged for).

    A chunk that has not run yet counts all its pages: what a reservation must cover.
    """
    lost = len(chunk.unreadable_pages or []) + len(chunk.empty_pages or [])
    return chunk_pages(chunk) - lost


def chunk_pages(chunk: JobChunk) -> int:
    """How many pages a chunk owns."""
    return chunk.owned_last_page - chunk.owned_first_page + 1


def result_values(result: ChunkResult) -> dict[str, Any]:
    """A done chunk's columns for its pages: unreadable (with why), empty, read by OCR."""
    values: dict[str, Any] = {
        "empty_pages": sorted(result.pages_without_text) or None,
        "ocr_pages": list(result.ocr_pages) or None,
        "ocr_seconds": result.ocr_seconds if result.ocr_seconds else None,
        "pages_done": result.chunk.owned_count,
    }
    if result.unreadable_pages:
        pages = sorted(result.unreadable_pages)
        reasons = "; ".join(f"page {p}: {result.unreadable_pages[p]}" for p in pages)
        values.update(unreadable_pages=pages, last_error=reasons[:2000])
    return values


def unfinished_chunks(job_id: uuid.UUID) -> int:
    """Chunks of the job still pending or running."""
    count = db.session.scalar(
        select(func.count(JobChunk.id)).where(
            JobChunk.job_id == job_id, JobChunk.status.in_(UNFINISHED)
        )
    )
    return count or 0


def cancel_pending_chunks(job_id: uuid.UUID, now: datetime) -> list[JobChunk]:
    """Mark the job's chunks that no live worker holds cancelled; return them.

    That is the pending chunks, and the running ones whose lease expired (their worker died:
    nobody will record them). A chunk a live worker holds finishes, then asks for finalize.
    In the caller's transaction.
    """
    idle = or_(
        JobChunk.status == ChunkStatus.PENDING,
        and_(JobChunk.status == ChunkStatus.RUNNING, JobChunk.lease_expires_at < now),
    )
    stopped = list(db.session.scalars(select(JobChunk).where(JobChunk.job_id == job_id, idle)))
    db.session.execute(
        update(JobChunk)
        .where(JobChunk.job_id == job_id, idle)
        .values(status=ChunkStatus.CANCELLED, finished_at=now, lease_expires_at=None)
    )
    return stopped


def process_settings(job: Job) -> ProcessSettings:
    """The processing settings the user chose for the job."""
    return ProcessSettings.from_dict({"processor": DEFAULT_PROCESSOR, **job.settings})
