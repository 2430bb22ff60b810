"""A running chunk's claim, and the heartbeat that renews its lease while the pipeline runs.

A claim is a lease on the chunk's row: `running`, this worker, this attempt, until
`lease_expires_at`. The heartbeat is a daemon thread of the task's process that renews the
lease every `FOLIO_CHUNK_LEASE_SECONDS / 5` seconds for as long as the pipeline runs, and stops
when the task ends. So the lease can be short (a dead worker's chunk is taken over one lease
after its last renewal, not after the longest chunk could take) while a slow chunk keeps its
claim however long it runs: the time limits, not the lease, bound a stuck chunk.
docs/adr/0008-short-leases-and-a-pool-probe.md says why a thread.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import timedelta
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, update

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
