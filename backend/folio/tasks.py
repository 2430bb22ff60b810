"""Celery tasks: thin wrappers that turn ids into service calls (the work is in services/).

Retries are declared here, for transient errors only (the database or broker briefly away);
expected failures are recorded by the services and the task returns normally, so the
chord's finalize always runs.
"""

from __future__ import annotations

import uuid
from typing import Any

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from folio.services import chunks, finalize, probe, reconcile

RETRY = {
    "autoretry_for": chunks.TRANSIENT,
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 5,
}


@shared_task(name="folio.process_chunk", bind=True, **RETRY)
def process_chunk(self: Any, job_id: str, index: int) -> str:
    """Claim, run and record one chunk of a job."""
    try:
        return chunks.process_chunk(uuid.UUID(job_id), index, node=self.request.hostname)
    except SoftTimeLimitExceeded:
        # The chunk ran out of time: record it as failed (its pages are listed, retryable).
        chunks.fail_running(uuid.UUID(job_id), index, self.request.hostname, "time_limit")
        return chunks.Outcome.FAILED


@shared_task(name="folio.finalize_job", **RETRY)
def finalize_job(job_id: str) -> str | None:
    """Merge, store and settle a job whose chunks are all finished."""
    return finalize.finalize_job(uuid.UUID(job_id))


@shared_task(name="folio.reconcile", **RETRY)
def reconcile_jobs() -> dict[str, int]:
    """Repair what lost messages and dead workers left behind (run by beat)."""
    report = reconcile.reconcile()
    return {
        "expired_leases": report.expired_leases,
        "cancelled": report.cancelled,
        "resent": report.resent,
        "finalized": report.finalized,
        "uploads_deleted": report.uploads_deleted,
    }


@shared_task(name="folio.health_probe")
def health_probe() -> str:
    """Nothing but an answer: proves the worker's pool runs tasks (the health check)."""
    return probe.PROBE_ANSWER
