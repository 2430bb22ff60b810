"""The reconciler: what makes sure no job stays stuck, run every few seconds by Celery beat.

It repairs what messages alone cannot: a chunk whose worker died (its lease expired), chunks
whose messages the broker lost, a job whose chunks are all finished but whose chord never
fired, a cancelled job, and uploads nobody confirmed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from kombu.exceptions import ChannelError
from sqlalchemy import select, update

from folio.config import current_settings
from folio.extensions import db
from folio.models import ChunkStatus, Job, JobChunk
from folio.models.base import utcnow
from folio.services import dispatch
from folio.services.jobstate import ACTIVE, cancel_pending_chunks, unfinished_chunks
from folio.services.leases import release_dead_holders


@dataclass(frozen=True, slots=True)
class Report:
    """What one pass of the reconciler did."""

    expired_leases: int
    cancelled: int
    resent: int
    finalized: int
    uploads_deleted: int


def reconcile(now: datetime | None = None) -> Report:
    """One pass: cancels, expired leases, lost messages, forgotten finalizes, old uploads."""
    from folio.services.uploads import delete_expired  # the upload service imports dispatch

    now = now or utcnow()
    cancelled = _finish_cancelled(now)  # first: their dead chunks are cancelled, not re-pended
    expired = _release_expired_leases(now)
    resent = _resend_lost(now)
    finalized = _finalize_forgotten()
    return Report(expired, cancelled, resent, finalized, delete_expired(now))


def take_back_from(node: str) -> int:
    """Send again at once the chunks that dead pool processes of `node` held; how many.

    Run by every new pool process of the node (it replaces a dead one, or a restarted
    worker's): sent ahead of their queue (`dispatch.send_chunk`), those chunks run next
    instead of after a lease and the whole queue. A cancelled job's are left pending, and
    the next reconcile pass cancels them.
    """
    released = release_dead_holders(node)
    if not released:
        return 0
    rows = db.session.execute(
        select(JobChunk, Job.lane)
        .join(Job, Job.id == JobChunk.job_id)
        .where(
            JobChunk.id.in_(released),
            JobChunk.status == ChunkStatus.PENDING,
            Job.status.in_(ACTIVE),
            Job.cancel_requested_at.is_(None),
        )
    ).all()
    for chunk, lane in rows:
        dispatch.send_chunk(chunk, lane)
    return len(rows)


def _finish_cancelled(now: datetime) -> int:
    """Chunks of cancelled jobs that no live worker holds become cancelled.

    Whatever state a crash left them in: pending (re-pended after an expired lease, or a
    message revoked or lost) or running on an expired lease. The job is then finalized as
    `cancelled` by `_finalize_forgotten` in the same pass.
    """
    job_ids = db.session.scalars(
        select(Job.id).where(Job.status.in_(ACTIVE), Job.cancel_requested_at.is_not(None))
    ).all()
    stopped = sum(len(cancel_pending_chunks(job_id, now)) for job_id in job_ids)
    db.session.commit()
    return stopped


def _release_expired_leases(now: datetime) -> int:
    """Running chunks whose lease expired (a killed worker) go back to pending."""
    released = db.session.execute(
        update(JobChunk)
        .where(JobChunk.status == ChunkStatus.RUNNING, JobChunk.lease_expires_at < now)
        .values(status=ChunkStatus.PENDING, lease_expires_at=None, dispatched_at=None)
        .returning(JobChunk.id)
    ).all()
    db.session.commit()
    return len(released)


def _resend_lost(now: datetime) -> int:
    """Send again the pending chunks whose message is gone.

    A message is taken for lost when the chunk was sent more than one reconcile period ago
    (or its lease was just released) and its lane's queue is empty. Sending twice is
    harmless: the second message finds the chunk claimed or done.
    """
    stale = now - timedelta(seconds=current_settings().reconcile_seconds)
    rows = db.session.execute(
        select(JobChunk, Job.lane)
        .join(Job, Job.id == JobChunk.job_id)
        .where(
            Job.status.in_(ACTIVE),
            Job.cancel_requested_at.is_(None),
            JobChunk.status == ChunkStatus.PENDING,
            (JobChunk.dispatched_at.is_(None)) | (JobChunk.dispatched_at < stale),
        )
    ).all()
    empty: dict[str | None, bool] = {}
    resent = 0
    for chunk, lane in rows:
        if lane not in empty:
            empty[lane] = _queue_is_empty(lane)
        if empty[lane] or chunk.dispatched_at is None:
            dispatch.send_chunk(chunk, lane)
            resent += 1
    return resent


def _finalize_forgotten() -> int:
    """Active jobs with every chunk finished get their finalize (the chord may be gone)."""
    job_ids = db.session.scalars(select(Job.id).where(Job.status.in_(ACTIVE))).all()
    ready = [job_id for job_id in job_ids if not unfinished_chunks(job_id)]
    for job_id in ready:
        dispatch.send_finalize(job_id)
    return len(ready)


def _queue_is_empty(lane: str | None) -> bool:
    if lane is None:
        return True
    celery: Any = current_app.extensions["celery"]
    with celery.connection_for_write() as connection:
        try:
            declared = connection.default_channel.queue_declare(queue=lane, passive=True)
        except ChannelError:
            return True  # the broker does not know the queue at all (flushed, restarted)
    return int(declared.message_count) == 0
