"""Sending work to the queue: the chord of a job's chunks, single chunks, and finalize.

Messages carry ids only. Tasks are addressed by name through the Celery app, so services
never import the task module (which imports the services).
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime
from typing import Any

from celery import chord
from flask import current_app
from sqlalchemy import func, select

from folio.config import current_settings
from folio.extensions import db
from folio.models import ChunkStatus, Job, JobChunk
from folio.models.base import utcnow
from folio.services.jobstate import ACTIVE
from folio.services.lanes import CONTROL_QUEUE, chunk_queues

PROCESS_CHUNK = "folio.process_chunk"
# Message priorities: the brokers serve a lower number first (kombu's Redis transport keeps a
# list per step 0, 3, 6, 9; the embedded one names its files after it). A chunk sent again
# (its worker died, its message was lost) runs before the chunks still queued from the
# first sending, so it is not left behind the rest of the book.
RESENT_PRIORITY = 0
FIRST_PRIORITY = 6
FINALIZE_JOB = "folio.finalize_job"
# Result backends without native chords (the embedded SQLite one) run Celery's
# `celery.chord_unlock`, which polls for the end of the header every this many seconds. By
# default it retries forever, and a header that never completes (a chunk the reconciler sent
# again has a new task id) kept one alive across restarts. It is capped at
# FOLIO_CHORD_UNLOCK_SECONDS: finalize does not depend on it (the last chunk to finish and
# the reconciler ask for it), so giving up costs nothing.
CHORD_UNLOCK_INTERVAL = 2.0


def dispatch_job(job_id: uuid.UUID) -> int:
    """Send the chord for the job's pending chunks (after the caller committed them)."""
    job = db.session.get(Job, job_id)
    if job is None:
        return 0
    chunks = list(
        db.session.scalars(
            select(JobChunk)
            .where(JobChunk.job_id == job_id, JobChunk.status == ChunkStatus.PENDING)
            .order_by(JobChunk.index)
        )
    )
    if not chunks:
        return 0
    job.lane = job.lane or choose_lane()
    now = utcnow()
    header = [_chunk_signature(job, chunk, now) for chunk in chunks]
    # Committed before sending: a worker may take the first message at once.
    db.session.commit()
    body = _celery().signature(
        FINALIZE_JOB, args=(str(job_id),), queue=CONTROL_QUEUE, immutable=True
    )
    chord(header, interval=CHORD_UNLOCK_INTERVAL, max_retries=chord_unlock_retries())(body)
    return len(chunks)


def chord_unlock_retries() -> int:
    """How many times `celery.chord_unlock` polls a job's chord before it gives up."""
    return math.ceil(current_settings().chord_unlock_seconds / CHORD_UNLOCK_INTERVAL)


def send_chunk(chunk: JobChunk, lane: str | None) -> None:
    """Send one chunk again, outside any chord, ahead of the chunks sent the first time."""
    job = db.session.get(Job, chunk.job_id)
    assert job is not None  # a chunk's job is deleted with its chunks
    signature = _chunk_signature(job, chunk, utcnow(), lane, priority=RESENT_PRIORITY)
    db.session.commit()
    signature.apply_async()


def send_finalize(job_id: uuid.UUID) -> None:
    """Ask for the job to be finalized (idempotent on the worker side)."""
    _celery().send_task(FINALIZE_JOB, args=(str(job_id),), queue=CONTROL_QUEUE)


def revoke_chunks(chunks: list[JobChunk]) -> None:
    """Best effort: tell the workers to drop these chunks' queued messages."""
    task_ids = [chunk.task_id for chunk in chunks if chunk.task_id]
    if task_ids:
        _celery().control.revoke(task_ids)


def choose_lane() -> str:
    """The chunk queue with the least unfinished work, so jobs run side by side."""
    lanes = chunk_queues(current_settings().chunk_lanes)
    load = dict(
        db.session.execute(
            select(Job.lane, func.count(JobChunk.id))
            .join(JobChunk, JobChunk.job_id == Job.id)
            .where(
                Job.status.in_(ACTIVE),
                JobChunk.status.in_((ChunkStatus.PENDING, ChunkStatus.RUNNING)),
            )
            .group_by(Job.lane)
        ).all()
    )
    return min(lanes, key=lambda lane: (load.get(lane, 0), lane))


def _chunk_signature(
    job: Job,
    chunk: JobChunk,
    now: datetime,
    lane: str | None = None,
    priority: int = FIRST_PRIORITY,
) -> Any:
    # A fresh id per sending: revoking an old message never touches the new one.
    task_id = f"chunk-{job.id}-{chunk.index}-{uuid.uuid4().hex[:8]}"
    chunk.task_id, chunk.dispatched_at = task_id, now
    return _celery().signature(
        PROCESS_CHUNK,
        args=(str(job.id), chunk.index),
        queue=lane or job.lane,
        task_id=task_id,
        immutable=True,
        priority=priority,
    )


def _celery() -> Any:
    return current_app.extensions["celery"]
