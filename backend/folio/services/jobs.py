"""Jobs as their owner sees them: create one from an upload, list, poll, cancel, retry, delete.

Creating a job is one transaction: the job, its chunks, the upload's claim and the credit
reservation commit together (`credits.reserve` commits), so a refused reservation leaves no
job and the upload still usable. The chord is sent after that commit. Every lookup is by
owner: another user's job is "not found", never "forbidden", so ids reveal nothing.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, delete, or_, select, update

from folio.config import current_settings
from folio.extensions import db
from folio.models import ChunkStatus, Job, JobChunk, JobSentence, JobStatus, Upload
from folio.models.base import utcnow
from folio.models.mapping import chunk_row
from folio.pipeline.model import ChunkPlan, ProcessSettings
from folio.pipeline.plan import DEFAULT_OVERLAP
from folio.pipeline.processors import processor_for
from folio.pipeline.sources.pdf.guarded import document_furniture
from folio.pipeline.sources.pdf.ocr import OcrOptions, check_available
from folio.services import credits, dispatch, jobstate, storage, uploads
from folio.services.errors import (
    Conflict,
    FileGone,
    InsufficientCredits,
    InvalidCursor,
    JobNotFound,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PageRange:
    """Pages `first` to `last`, both included."""

    first: int
    last: int


@dataclass(frozen=True, slots=True)
class JobDetail:
    """A job and the pages its failed chunks own (what a partial result lacks)."""

    job: Job
    missing_pages: list[PageRange]


@dataclass(frozen=True, slots=True)
class JobPage:
    """Jobs newest first, and the cursor of the next page (None on the last)."""

    items: list[Job]
    next_before: uuid.UUID | None


def create_job(
    user_id: int, upload_id: uuid.UUID, process: ProcessSettings, chunk_pages: int | None
) -> Job:
    """Turn the caller's upload into a queued job, reserve its estimate and send its chunks."""
    now = utcnow()
    size = current_settings().chunk_pages if chunk_pages is None else chunk_pages
    upload = uploads.usable_upload(user_id, upload_id, now)
    scanned = uploads.ocr_pages(upload, process.ocr)
    if scanned:  # 422 ocr_unavailable before anything is taken, when OCR cannot run here
        check_available(process.lang)
    plan = uploads.plan(upload, size, scanned)
    # Refuses an unknown or unconfigured processor, or a model it does not offer (400).
    processor = processor_for(process, current_settings().llm)
    amount = credits.estimate(upload.page_count, process, len(scanned))
    # Read before the transaction starts: SQLite holds its write lock until the commit.
    path = storage.path_of(upload.file_key)
    budgets, ocr = current_settings().budgets, OcrOptions.of(process)
    furniture = sorted(document_furniture(path, budgets=budgets, ocr=ocr).texts)
    job = _new_job(user_id, upload, process, size, furniture, amount, plan, scanned)
    job.model = processor.model or None
    job.prompt_version = processor.prompt_version or None
    try:
        db.session.add(job)
        db.session.flush()
        uploads.claim(upload.id, job.id, now)
        db.session.add_all(_chunks(job.id, plan))
        credits.reserve(user_id, job.id, amount)  # commits the job, chunks and claim with it
    except BaseException:
        db.session.rollback()
        raise
    _dispatch(job.id)
    return job


def get_job(user_id: int, job_id: uuid.UUID) -> Job:
    """The caller's job; JobNotFound when it does not exist, was deleted or is another's."""
    job = db.session.scalar(select(Job).where(*_owned(user_id, job_id)))
    if job is None:
        raise JobNotFound(f"No job {job_id}.")
    return job


def job_detail(user_id: int, job_id: uuid.UUID) -> JobDetail:
    """The caller's job with the page ranges its failed chunks own."""
    job = get_job(user_id, job_id)
    return JobDetail(job=job, missing_pages=missing_pages(job.id))


def job_version(user_id: int, job_id: uuid.UUID) -> int:
    """The job's version only (one indexed row, one column): enough to answer a 304."""
    version = db.session.scalar(select(Job.version).where(*_owned(user_id, job_id)))
    if version is None:
        raise JobNotFound(f"No job {job_id}.")
    return version


def etag(job_id: uuid.UUID, version: int) -> str:
    """The entity tag of a job's representation: it changes with every version bump."""
    return f"{job_id.hex}.{version}"


def list_jobs(
    user_id: int, statuses: list[JobStatus], before: uuid.UUID | None, limit: int
) -> JobPage:
    """The caller's jobs, newest first, older than job `before`, optionally by status."""
    query = select(Job).where(Job.user_id == user_id, Job.deleted_at.is_(None))
    if statuses:
        query = query.where(Job.status.in_(statuses))
    if before is not None:
        query = query.where(_older_than(user_id, before))
    rows = list(
        db.session.scalars(query.order_by(Job.created_at.desc(), Job.id.desc()).limit(limit + 1))
    )
    next_before = rows[limit - 1].id if len(rows) > limit else None
    return JobPage(items=rows[:limit], next_before=next_before)


def missing_pages(job_id: uuid.UUID) -> list[PageRange]:
    """The owned pages of the job's failed chunks and the pages done chunks could not read."""
    chunks = db.session.execute(
        select(
            JobChunk.status,
            JobChunk.owned_first_page,
            JobChunk.owned_last_page,
            JobChunk.unreadable_pages,
        ).where(
            JobChunk.job_id == job_id,
            or_(JobChunk.status == ChunkStatus.FAILED, JobChunk.unreadable_pages.is_not(None)),
        )
    ).all()
    pages: set[int] = set()
    for status, first, last, unreadable in chunks:
        failed = status == ChunkStatus.FAILED
        pages.update(range(first, last + 1) if failed else unreadable or [])
    ranges: list[PageRange] = []
    for page in sorted(pages):
        if ranges and ranges[-1].last + 1 == page:
            ranges[-1] = PageRange(ranges[-1].first, page)
        else:
            ranges.append(PageRange(page, page))
    return ranges


def cancel_job(user_id: int, job_id: uuid.UUID) -> Job:
    """Ask for the caller's job to stop; asking again is harmless."""
    job = get_job(user_id, job_id)
    if job.status in (JobStatus.COMPLETED, JobStatus.PARTIAL, JobStatus.FAILED):
        raise Conflict("job_finished", f"This job already ended ({job.status.value}).")
    if job.status != JobStatus.CANCELLED:
        _request_cancel(job.id)  # bumps the version when it changes the job
    return _reloaded(job)


def retry_job(user_id: int, job_id: uuid.UUID) -> tuple[Job, int]:
    """Run the failed chunks of the caller's partial or failed job again; how many were sent."""
    job = get_job(user_id, job_id)
    # _retry_failed refuses (409 job_not_retryable) a job that is not partial or failed or has
    # no failed chunk, and raises InsufficientCredits (402) when the balance is short.
    sent = _retry_failed(job.id)
    return _reloaded(job), sent


def delete_job(user_id: int, job_id: uuid.UUID) -> None:
    """Delete a finished job's file, chunks and sentences; the row stays for the ledger."""
    job = get_job(user_id, job_id)
    now = utcnow()
    # Conditional on a final status: a retry that starts at this moment wins, or we do.
    deleted = db.session.execute(
        update(Job)
        .where(Job.id == job.id, Job.status.in_(jobstate.FINAL), Job.deleted_at.is_(None))
        .values(jobstate.touched(now, deleted_at=now, settings=public_settings(job)))
        .returning(Job.file_key)
    ).scalar_one_or_none()
    if deleted is None:
        db.session.rollback()
        # A parallel delete may have won since the read: then the job is gone (404), and
        # only a job that is still there and not final is a conflict.
        get_job(user_id, job_id)
        raise Conflict("job_active", "This job is still running; cancel it first.")
    for table in (JobSentence, JobChunk, Upload):
        db.session.execute(delete(table).where(table.job_id == job.id))
    db.session.commit()
    storage.delete(deleted)


def public_settings(job: Job) -> dict[str, object]:
    """The job's settings without what was learnt from the book (its heads, its OCR pages)."""
    return {k: v for k, v in job.settings.items() if k not in ("furniture", "ocr_pages")}


def _new_job(
    user_id: int,
    upload: Upload,
    process: ProcessSettings,
    chunk_pages: int,
    furniture: list[str],
    estimate: int,
    plan: list[ChunkPlan],
    scanned: list[int],
) -> Job:
    """A queued job on the upload's file (not added to the session)."""
    now = utcnow()
    return Job(
        id=uuid.uuid4(),
        user_id=user_id,
        status=JobStatus.QUEUED,
        settings={
            **process.to_dict(),
            "chunk_pages": chunk_pages,
            "overlap": DEFAULT_OVERLAP,
            "furniture": furniture,
            "ocr_pages": scanned,
        },
        original_filename=upload.original_filename,
        file_key=upload.file_key,
        page_count=upload.page_count,
        total_chunks=len(plan),
        total_pages=upload.page_count,
        estimated_credits=estimate,
        current_step="queued",
        created_at=now,
        updated_at=now,
    )


def _chunks(job_id: uuid.UUID, plan: list[ChunkPlan]) -> list[JobChunk]:
    return [chunk_row(job_id, chunk) for chunk in plan]


def _dispatch(job_id: uuid.UUID) -> None:
    """Send the job's chunks; a broker failure is logged, not answered as an error."""
    try:
        dispatch.dispatch_job(job_id)
    except Exception:
        # The job and its reservation are committed: answering 500 would make the client
        # create a second one. The reconciler sends pending chunks that were never sent.
        db.session.rollback()
        logger.exception("Could not send the chunks of job %s; the reconciler will", job_id)


def _reloaded(job: Job) -> Job:
    """The job as the database has it now (another session or a worker may have changed it)."""
    db.session.expire_all()
    db.session.refresh(job)
    return job


def _owned(user_id: int, job_id: uuid.UUID) -> tuple[ColumnElement[bool], ...]:
    return (Job.id == job_id, Job.user_id == user_id, Job.deleted_at.is_(None))


def _older_than(user_id: int, before: uuid.UUID) -> ColumnElement[bool]:
    """Jobs after `before` in the list order (created_at, id descending)."""
    # A deleted job still anchors the cursor: deleting while paging must not break paging.
    created = db.session.scalar(
        select(Job.created_at).where(Job.id == before, Job.user_id == user_id)
    )
    if created is None:
        raise InvalidCursor("The `before` cursor does not name one of your jobs.")
    return or_(Job.created_at < created, and_(Job.created_at == created, Job.id < before))


def _request_cancel(job_id: uuid.UUID) -> None:
    """Record a cancel: no chunk starts after it, and the job ends `cancelled`."""
    now = utcnow()
    db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status.in_(jobstate.ACTIVE), Job.cancel_requested_at.is_(None))
        .values(
            jobstate.touched(
                now, status=JobStatus.CANCELLING, cancel_requested_at=now, current_step="cancelling"
            )
        )
    )
    pending = jobstate.cancel_pending_chunks(job_id, now)
    db.session.commit()
    dispatch.revoke_chunks(pending)
    # The chord may never fire once its messages are revoked: finalize is asked directly.
    # If a chunk is still running, finalize waits for it and that chunk asks again.
    dispatch.send_finalize(job_id)


def _retry_failed(job_id: uuid.UUID) -> int:
    """Run a partial or failed job's failed chunks again, reserving credits for them only."""
    job = db.session.get(Job, job_id)
    if job is None:
        raise JobNotFound(f"No job {job_id}.")
    failed = list(
        db.session.scalars(
            select(JobChunk).where(JobChunk.job_id == job_id, JobChunk.status == ChunkStatus.FAILED)
        )
    )
    if job.status not in (JobStatus.PARTIAL, JobStatus.FAILED) or not failed:
        raise Conflict("job_not_retryable", "Only a partial or failed job has chunks to retry.")
    if not storage.path_of(job.file_key).is_file():
        # A retry could only fail again, chunk after chunk: refused before any reservation.
        raise FileGone(f"The stored PDF of job {job_id} is gone; upload it again as a new job.")
    run = job.run + 1
    for chunk in failed:
        chunk.status, chunk.attempts, chunk.run = ChunkStatus.PENDING, 0, run
        chunk.last_error = chunk.lease_expires_at = chunk.finished_at = None
    db.session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(
            jobstate.touched(
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
    scanned = set(job.settings.get("ocr_pages", []))
    ocr_pages = sum(
        1 for c in failed for p in range(c.owned_first_page, c.owned_last_page + 1) if p in scanned
    )
    amount = credits.estimate(
        sum(jobstate.chunk_pages(c) for c in failed), jobstate.process_settings(job), ocr_pages
    )
    try:
        credits.reserve(job.user_id, job_id, amount, run=run)  # commits the reset with it
    except InsufficientCredits:
        db.session.rollback()
        raise
    return dispatch.dispatch_job(job_id)
