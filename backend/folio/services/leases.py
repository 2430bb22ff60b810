"""A running chunk's claim, and the heartbeat that renews its lease while the pipeline runs.

A claim is a lease on the chunk's row: `running`, this worker, this attempt, until
`lease_expires_at`. The heartbeat is a daemon thread of the task's process that renews the
lease every `FOLIO_CHUNK_LEASE_SECONDS / 5` seconds for as long as the pipeline runs, and stops
when the task ends. So the lease can be short (a dead worker's chunk is taken over one lease
after its last renewal, not after the longest chunk could take) while a slow chunk keeps its
claim however long it runs: the time limits, not the lease, bound a stuck chunk.

A claim names its holder as `node:pid` (the Celery node and the pool process). When a pool
process is killed, Celery requeues its message at once (`task_reject_on_worker_lost`), and
the worker that receives it again usually belongs to the same node: it can see that the
holder is a process of its own host that no longer exists, and takes the chunk back at once
(`release_if_holder_died`) instead of waiting for the lease to expire. The pool process that
replaces the dead one does not wait for that message (requeued behind the rest of its queue):
on start it takes back every chunk its node's dead processes held (`release_dead_holders`),
and the reconciler's `take_back_from` sends them again ahead of their queue.
docs/adr/0008-short-leases-and-a-pool-probe.md says why a thread.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from dataclasses import dataclass
from datetime import timedelta
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, select, update

from folio.extensions import db
from folio.models import ChunkStatus, JobChunk
from folio.models.base import utcnow

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Claim:
    """A chunk this worker holds: the attempt number tells a later claim from ours."""

    chunk_id: int
    attempt: int
    worker: str


def held(claim: Claim) -> tuple[Any, ...]:
    """The conditions under which the chunk's row is still ours."""
    return (
        JobChunk.id == claim.chunk_id,
        JobChunk.status == ChunkStatus.RUNNING,
        JobChunk.worker == claim.worker,
        JobChunk.attempts == claim.attempt,
    )


def holder_name(node: str, pid: int | None = None) -> str:
    """How a claim names its holder: the Celery node and the pool process's id."""
    return f"{node}:{os.getpid() if pid is None else pid}"


def node_of(holder: str) -> str:
    """The Celery node of a claim's holder (`holder_name` read back)."""
    return holder.rpartition(":")[0]


def release_if_holder_died(job_id: uuid.UUID, index: int, node: str) -> bool:
    """Put the chunk back to pending if a dead pool process of this node holds it.

    Only a process of this host can be checked (same node name: same host); another node's
    claim is left to its lease. Whether the chunk was released.
    """
    row = db.session.execute(
        select(JobChunk.id, JobChunk.worker, JobChunk.attempts).where(
            JobChunk.job_id == job_id,
            JobChunk.index == index,
            JobChunk.status == ChunkStatus.RUNNING,
        )
    ).one_or_none()
    db.session.commit()
    if row is None or row.worker is None or not _died(row.worker, node):
        return False
    return _release(Claim(row.id, row.attempts, row.worker))


def release_dead_holders(node: str) -> list[int]:
    """Put back to pending every chunk that a dead pool process of `node` held; their ids."""
    rows = db.session.execute(
        select(JobChunk.id, JobChunk.worker, JobChunk.attempts).where(
            JobChunk.status == ChunkStatus.RUNNING,
            JobChunk.worker.startswith(f"{node}:", autoescape=True),
        )
    ).all()
    db.session.commit()
    return [
        row.id
        for row in rows
        if _died(row.worker, node) and _release(Claim(row.id, row.attempts, row.worker))
    ]


def _died(holder: str, node: str) -> bool:
    """Whether `holder` is a pool process of this node (so of this host) that is gone."""
    pid = holder.rpartition(":")[2]
    return (
        node_of(holder) == node
        and pid.isdigit()
        and int(pid) != os.getpid()
        and not _alive(int(pid))
    )


def _release(claim: Claim) -> bool:
    """Put a dead holder's chunk back to pending, if the claim still holds."""
    released = db.session.execute(
        update(JobChunk)
        .where(*held(claim))
        .values(status=ChunkStatus.PENDING, lease_expires_at=None)
        .returning(JobChunk.job_id, JobChunk.index)
    ).one_or_none()
    db.session.commit()
    if released is not None:
        logger.warning(
            "Chunk %s of job %s: its process %s died; taken back",
            released.index,
            released.job_id,
            claim.worker,
        )
    return released is not None


def _alive(pid: int) -> bool:
    """Whether process `pid` runs (a zombie, killed but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists (another user's process: the pid was reused); the lease decides
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return True  # no /proc: assume it runs, the lease decides


class LeaseKeeper:
    """Renews a claim's lease from a daemon thread until the `with` block ends.

    The thread uses its own connection from the engine's pool (the session belongs to the
    task's thread) and commits each renewal at once. It stops by itself when the claim is
    lost (the row moved on: another worker took the chunk over, or a cancel finished it) and
    sets `lost`. A failed renewal (the database briefly away) is logged and tried again on
    the next beat: the lease has four more beats of margin.
    """

    def __init__(
        self, engine: Engine, claim: Claim, job_id: uuid.UUID, lease: float, every: float
    ) -> None:
        self.claim = claim
        self.job_id = job_id
        self.lease = timedelta(seconds=lease)
        self.every = every
        self.lost = threading.Event()
        self.renewals = 0
        self._engine = engine
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, name=f"lease-{claim.chunk_id}-{claim.attempt}", daemon=True
        )

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=self.every + 10)

    def renew(self) -> bool:
        """Push the lease one period ahead if the claim still holds; whether it did."""
        with self._engine.begin() as connection:
            row = connection.execute(
                update(JobChunk)
                .where(*held(self.claim))
                .values(lease_expires_at=utcnow() + self.lease)
                .returning(JobChunk.id)
            ).one_or_none()
        if row is None:
            self.lost.set()
            return False
        self.renewals += 1
        return True

    def _beat(self) -> None:
        while not self._stop.wait(self.every):
            try:
                if not self.renew():
                    return  # the claim is gone: nothing left to keep
            except Exception:  # a transient error must not end the heartbeat
                logger.warning(
                    "Could not renew the lease of chunk %s (attempt %s); trying again in %s s",
                    self.claim.chunk_id,
                    self.claim.attempt,
                    self.every,
                    exc_info=True,
                )
