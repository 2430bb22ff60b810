"""Running one chunk of a job: claim it with a lease, run the pipeline, record the outcome.

Every step is a conditional UPDATE, so the task is idempotent: a chunk already done, or held
by another worker whose lease has not expired, is left alone; a result is recorded only by
the worker that still holds the claim. Expected failures are recorded on the chunk and the
task returns normally, so the chord's finalize still runs. An unexpected exception is
recorded the same way, at once, with its class and message: retrying it would only fail
again after a lease. While the pipeline runs, a heartbeat thread renews the lease
(`services/leases.py`).
"""

from __future__ import annotations

import enum
import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import OperationalError

from folio.config import current_settings
from folio.errors import FolioError
from folio.extensions import db
from folio.models import ChunkStatus, Job, JobChunk, JobStatus
from folio.models.base import utcnow
from folio.models.mapping import chunk_plan
from folio.pipeline.model import ChunkResult, Furniture, Usage
from folio.pipeline.processors import ProcessContext, traits
from folio.pipeline.runner import run_chunk
from folio.services import dispatch, progress, storage
from folio.services.errors import FileGone
from folio.services.jobstate import (
    FINAL,
    cancel_pending_chunks,
    process_settings,
    result_values,
    touched,
    unfinished_chunks,
)
from folio.services.leases import (
    Claim,
    LeaseKeeper,
    held,
    holder_name,
    release_if_holder_died,
)
from folio.services.rewrites import DatabaseRewriteCache

logger = logging.getLogger(__name__)


class Outcome(enum.StrEnum):
    """What a process_chunk call did."""

    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"  # done already, or another worker holds it
    CANCELLED = "cancelled"


def process_chunk(job_id: uuid.UUID, index: int, node: str) -> Outcome:
    """Claim, run and record chunk `index` of the job (`node`: this Celery worker's name)."""
    job = db.session.get(Job, job_id)
    if job is None:
        return Outcome.SKIPPED
    # A message requeued because its pool process was killed: take the chunk back at once.
    release_if_holder_died(job_id, index, node)
    worker = holder_name(node)
    if job.cancel_requested_at is not None or job.status in FINAL:
        cancel_pending_chunks(job_id, utcnow())
        db.session.commit()
        _finalize_if_idle(job_id)
        return Outcome.CANCELLED
    claim = claim_chunk(job_id, index, worker)
    if claim is None:
        return Outcome.SKIPPED
    chunk = db.session.get(JobChunk, claim.chunk_id)
    assert chunk is not None
    try:
        result = _run(job, chunk, claim)
    except FolioError as error:  # expected: a bad page, an LLM that keeps failing, no file
        record_failure(claim, error.code, error.message)
        return Outcome.FAILED
    except (SoftTimeLimitExceeded, *TRANSIENT):
        raise  # the task records a time limit, and retries a transient error
    except Exception as error:
        # A bug or an unforeseen input: recorded now, not after the lease expired three times.
        logger.exception("Chunk %s of job %s failed unexpectedly", index, job_id)
        record_failure(claim, "unexpected_error", f"{type(error).__name__}: {error}")
        return Outcome.FAILED
    if result.stopped:  # cancelled mid-chunk: its tokens are counted, its sentences not kept
        _finish(claim, utcnow(), ChunkStatus.CANCELLED, usage=result.usage)
        return Outcome.CANCELLED
    try:
        record_success(claim, result)
    except OperationalError:
        release(claim)  # the task's retry can claim it again at once
        raise
    return Outcome.DONE


# Errors the task retries (with backoff) rather than record: the database or broker away.
TRANSIENT: tuple[type[Exception], ...] = (OperationalError, ConnectionError)


def fail_running(job_id: uuid.UUID, index: int, node: str, code: str) -> None:
    """Record the failure of the chunk this process is running (a time limit hit it)."""
    db.session.rollback()
    worker = holder_name(node)
    chunk = db.session.scalar(
        select(JobChunk).where(
            JobChunk.job_id == job_id,
            JobChunk.index == index,
            JobChunk.status == ChunkStatus.RUNNING,
            JobChunk.worker == worker,
        )
    )
    if chunk is not None:
        claim = Claim(chunk.id, chunk.attempts, worker)
        record_failure(claim, code, "the chunk took longer than the time limit")


def claim_chunk(job_id: uuid.UUID, index: int, worker: str) -> Claim | None:
    """Take the chunk if it is pending, or running on an expired lease; None otherwise."""
    settings = current_settings()
    now = utcnow()
    claimable = and_(
        JobChunk.job_id == job_id,
        JobChunk.index == index,
        or_(
            JobChunk.status == ChunkStatus.PENDING,
            and_(JobChunk.status == ChunkStatus.RUNNING, JobChunk.lease_expires_at < now),
        ),
    )
    # The job's cancel flag is part of the claim: a cancel committed before it wins.
    not_cancelled = JobChunk.job_id.in_(
        select(Job.id).where(Job.id == job_id, Job.cancel_requested_at.is_(None))
    )
    row = db.session.execute(
        update(JobChunk)
        .where(claimable, not_cancelled, JobChunk.attempts < settings.chunk_max_attempts)
        .values(
            status=ChunkStatus.RUNNING,
            attempts=JobChunk.attempts + 1,
            lease_expires_at=now + timedelta(seconds=settings.chunk_lease_seconds),
            worker=worker,
            started_at=now,
            last_error=None,
        )
        .returning(JobChunk.id, JobChunk.attempts)
    ).one_or_none()
    if row is None:
        _give_up_if_exhausted(claimable, job_id, now)
        return None
    db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.QUEUED)
        .values(touched(now, status=JobStatus.RUNNING, started_at=now, current_step="processing"))
    )
    db.session.commit()
    return Claim(row.id, row.attempts, worker)


def _give_up_if_exhausted(claimable: Any, job_id: uuid.UUID, now: datetime) -> None:
    """A chunk that used all its attempts (killed workers, timeouts) fails for good."""
    limit = current_settings().chunk_max_attempts
    failed = db.session.execute(
        update(JobChunk)
        .where(claimable, JobChunk.attempts >= limit)
        .values(
            status=ChunkStatus.FAILED,
            finished_at=now,
            lease_expires_at=None,
            last_error=f"gave up after {limit} attempts",
        )
        .returning(JobChunk.id)
    ).all()
    if failed:
        # A chunk given up on counts as got through, so the progress reaches its end.
        db.session.execute(
            update(JobChunk)
            .where(JobChunk.id.in_([row.id for row in failed]))
            .values(pages_done=progress.EVERY_PAGE)
        )
        progress.count_finished(job_id, now, failed=len(failed))
    db.session.commit()


def record_success(claim: Claim, result: ChunkResult) -> bool:
    """Store the chunk's sentences if this worker still holds it; count it on the job."""
    now = utcnow()
    sentences = [sentence.to_dict() for sentence in result.sentences]
    return _finish(
        claim,
        now,
        ChunkStatus.DONE,
        usage=result.usage,
        result=sentences,
        seconds=result.seconds,
        **result_values(result),
    )


def record_failure(claim: Claim, code: str, message: str) -> bool:
    """Record an expected failure of the chunk; the job goes on with the others."""
    return _finish(
        claim,
        utcnow(),
        ChunkStatus.FAILED,
        last_error=f"{code}: {message}",
        pages_done=progress.EVERY_PAGE,
    )


def release(claim: Claim) -> None:
    """Give the chunk back (pending) after a transient error, for the task's retry."""
    db.session.rollback()
    db.session.execute(
        update(JobChunk)
        .where(*held(claim))
        .values(status=ChunkStatus.PENDING, lease_expires_at=None)
    )
    db.session.commit()


def _finish(
    claim: Claim, now: datetime, status: ChunkStatus, usage: Usage | None = None, **values: Any
) -> bool:
    usage = usage or Usage()
    chunk = db.session.get(JobChunk, claim.chunk_id)
    assert chunk is not None
    started = chunk.started_at or now
    updated = db.session.execute(
        update(JobChunk)
        .where(*held(claim))
        .values(
            status=status,
            finished_at=now,
            lease_expires_at=None,
            tokens_in=usage.tokens_in,
            tokens_out=usage.tokens_out,
            **{"seconds": (now - started).total_seconds(), **values},
        )
        .returning(JobChunk.id)
    ).one_or_none()
    if updated is None:  # the lease expired and another worker took the chunk over
        db.session.rollback()
        return False
    done = status == ChunkStatus.DONE
    progress.count_finished(
        chunk.job_id,
        now,
        failed=1 if status == ChunkStatus.FAILED else 0,
        processed=1 if done else 0,
        usage=usage,
        ocr_seconds=values.get("ocr_seconds") or 0.0,
    )
    db.session.commit()
    _finalize_if_idle(chunk.job_id)
    return True


def _finalize_if_idle(job_id: uuid.UUID) -> None:
    """The chunk that finished last asks for the job's finalize itself.

    Finalize does not depend on the chord: a chunk sent again by the reconciler (a new task
    id) never completes the chord's header, and revoked messages after a cancel may keep it
    from firing. Finalize is idempotent, so the chord's own call, when it comes, is harmless.
    """
    if not unfinished_chunks(job_id):
        dispatch.send_finalize(job_id)


def _run(job: Job, chunk: JobChunk, claim: Claim) -> ChunkResult:
    path = storage.path_of(job.file_key)
    if not path.is_file():  # deleted under the job: no attempt can read it
        raise FileGone(f"the stored PDF of this job is gone ({job.file_key})")
    plan = chunk_plan(chunk)
    furniture = Furniture(frozenset(job.settings.get("furniture", [])))
    settings = process_settings(job)
    app_settings = current_settings()
    keeper = LeaseKeeper(
        db.engine,
        claim,
        job.id,
        lease=app_settings.chunk_lease_seconds,
        every=app_settings.chunk_renew_seconds,
    )
    calls_model = traits(settings.processor).calls_model
    context = ProcessContext(
        should_stop=_should_stop(keeper, job.id),
        limiter=app_settings.llm_limiter() if calls_model else None,
        llm=app_settings.llm,
        rewrites=DatabaseRewriteCache() if calls_model else None,
    )
    should_stop = context.should_stop

    def on_page(page: int) -> bool:
        progress.page_reached(claim, job.id, plan, page)
        return should_stop()

    with keeper:  # renews the lease until the pipeline returns or raises
        return run_chunk(
            path,
            plan,
            furniture,
            settings,
            context=context,
            budgets=app_settings.budgets,
            scanned=frozenset(job.settings.get("ocr_pages", [])),
            on_page=on_page,
        )


def _should_stop(keeper: LeaseKeeper, job_id: uuid.UUID) -> Callable[[], bool]:
    """Before each LLM request: stop on a cancel, or once the heartbeat lost the claim.

    It uses this thread's database session: the LLM processor calls it only on the thread
    that runs the chunk, even when the chunk's batches run concurrently (llm/batches.py).
    """

    def should_stop() -> bool:
        requested = db.session.scalar(select(Job.cancel_requested_at).where(Job.id == job_id))
        db.session.commit()  # ends the read: the next call sees newer commits (SQLite)
        return keeper.lost.is_set() or requested is not None

    return should_stop
