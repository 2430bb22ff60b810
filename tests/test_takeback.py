"""A new pool process sends again, ahead of its queue, what its node's dead processes held."""

from __future__ import annotations

import os
import subprocess
import sys

from flask import Flask

from factories import make_chunks, make_job, make_user
from folio.config import current_settings
from folio.extensions import db
from folio.models import ChunkStatus, Job, JobChunk
from folio.models.base import utcnow
from folio.services.dispatch import RESENT_PRIORITY
from folio.services.reconcile import take_back_from

NODE = "w1@host-a"


def dead_pid() -> int:
    """The id of a process that has ended (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def running_job(holders: list[str], *, cancelled: bool = False) -> Job:
    """A running job whose chunks are held by `holders` (one chunk each)."""
    job = make_job(make_user(), page_count=3 * len(holders))
    job.lane = "chunks-0"
    job.cancel_requested_at = utcnow() if cancelled else None
    for chunk, holder in zip(
        make_chunks(job, [ChunkStatus.RUNNING] * len(holders)), holders, strict=True
    ):
        chunk.worker, chunk.attempts = holder, 1
    db.session.commit()
    return job


def statuses(job: Job) -> list[ChunkStatus]:
    db.session.expire_all()
    chunks = db.session.query(JobChunk).filter_by(job_id=job.id).order_by(JobChunk.index)
    return [chunk.status for chunk in chunks]


def queued_names() -> list[str]:
    return sorted(path.name for path in (current_settings().broker_dir / "queue").glob("*.msg"))


def test_only_dead_processes_of_this_node_lose_their_chunks(db_app: Flask) -> None:
    with db_app.app_context():
        dead = dead_pid()
        job = running_job(
            [
                f"{NODE}:{dead}",  # a dead process of this node: taken back
                f"{NODE}:{os.getpid()}",  # alive
                f"w2@host-b:{dead}",  # another node's: its pids mean nothing here
                f"{NODE}0:{dead}",  # a node whose name only starts like ours
            ]
        )
        assert take_back_from(NODE) == 1
        assert statuses(job) == [
            ChunkStatus.PENDING,
            ChunkStatus.RUNNING,
            ChunkStatus.RUNNING,
            ChunkStatus.RUNNING,
        ]
        [name] = queued_names()
        assert name.startswith(f"{RESENT_PRIORITY}_") and name.endswith(".chunks-0.msg")
        assert take_back_from(NODE) == 0  # nothing left to take back


def test_a_cancelled_job_s_chunk_is_freed_but_not_sent(db_app: Flask) -> None:
    with db_app.app_context():
        job = running_job([f"{NODE}:{dead_pid()}"], cancelled=True)
        assert take_back_from(NODE) == 0
        assert statuses(job) == [ChunkStatus.PENDING]  # the reconciler cancels it
        assert queued_names() == []
