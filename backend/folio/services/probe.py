"""The workers' health check: does this worker's pool still run tasks? Not just: does it ping?

`celery inspect ping` is answered by a worker's main process, so a pool whose processes are
all blocked (the embedded pool after SIGKILLed children, docs/adr/0008) still passes it. The
probe instead sends a tiny task (`folio.health_probe`) to the queue that only that worker
reads (`probe.<node>`, consumed by every worker) and waits for its result. A worker whose
pool is busy is not wedged either: when the probe does not run in time, the worker still
counts as healthy while it holds chunks whose leases its heartbeat keeps renewing.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from celery.exceptions import TimeoutError as ResultTimeout
from flask import current_app
from kombu import Exchange, Queue
from kombu.exceptions import ChannelError
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from folio.extensions import db
from folio.models import ChunkStatus, JobChunk
from folio.models.base import utcnow
from folio.services.lanes import probe_queue

HEALTH_PROBE = "folio.health_probe"
PROBE_ANSWER = "ok"


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether the worker is healthy, and why (one line for the health check's output)."""

    healthy: bool
    reason: str


def probe_worker(node: str, timeout: float) -> Verdict:
    """Send the probe to `node` and wait at most `timeout` seconds for its answer."""
    celery: Any = current_app.extensions["celery"]
    name = probe_queue(node)
    # Published straight to the queue by name (the nameless exchange), like every queue here.
    result = celery.send_task(
        HEALTH_PROBE, queue=Queue(name, Exchange(""), routing_key=name), expires=timeout
    )
    try:
        answer = result.get(timeout=timeout)
    except ResultTimeout:
        _purge(celery, name)  # a wedged worker must not pile probes up
        try:
            busy = live_chunks(node)
        except SQLAlchemyError:  # no database to ask (or no tables yet): nothing proves work
            db.session.rollback()
            busy = 0
        if busy:
            return Verdict(True, f"{node} is busy: {busy} running chunk(s) renewing their lease")
        return Verdict(
            False,
            f"{node} did not run the probe task within {timeout:g} s and holds no live chunk:"
            " its pool cannot run tasks",
        )
    finally:
        result.forget()
    if answer != PROBE_ANSWER:
        return Verdict(False, f"{node} answered the probe with {answer!r}")
    return Verdict(True, f"{node} ran the probe task")


def live_chunks(node: str) -> int:
    """Running chunks held by `node` whose lease has not expired (its heartbeat renews them)."""
    count = db.session.scalar(
        select(func.count(JobChunk.id)).where(
            JobChunk.status == ChunkStatus.RUNNING,
            JobChunk.worker.startswith(f"{node}:", autoescape=True),
            JobChunk.lease_expires_at > utcnow(),
        )
    )
    db.session.commit()
    return count or 0


def _purge(celery: Any, name: str) -> None:
    # ChannelError: the broker does not know the queue, so there is nothing to purge.
    with celery.connection_for_write() as connection, suppress(ChannelError):
        connection.default_channel.queue_purge(name)
