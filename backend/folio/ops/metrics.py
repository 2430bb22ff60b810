"""Prometheus metrics, computed at scrape time from the database and the broker.

The work happens in Celery worker processes (on any host) and requests in several gunicorn
workers: counters kept in process memory would each tell a part, and be lost at every
restart. The database already holds every job, chunk and ledger row, and the broker every
queued message, so the collector reads them when Prometheus scrapes. Any API process answers
the whole truth, and nothing needs prometheus_client's multiprocess mode. docs/observability.md
lists each metric.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeHistogramMetricFamily,
    GaugeMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select
from sqlalchemy.orm import aliased

from folio.config import Settings
from folio.extensions import db
from folio.logs import one_line
from folio.models import ChunkStatus, Job, JobChunk, JobStatus, LedgerEntry, LedgerKind
from folio.models.base import utcnow
from folio.ops.waitfor import redis_client
from folio.services.lanes import CONTROL_QUEUE, chunk_queues

# Chunks that finished within this window make up the chunk duration gauge histogram.
CHUNK_WINDOW = timedelta(minutes=15)
CHUNK_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
BROKER_TIMEOUT_SECONDS = 1.0
# kombu's Redis transport keeps a queue's messages of priority p > 0 in `<queue>\x06\x16<p>`.
REDIS_PRIORITY_SEPARATOR = "\x06\x16"
REDIS_PRIORITY_STEPS = (0, 3, 6, 9)

logger = logging.getLogger(__name__)


class FolioCollector(Collector):
    """Jobs, chunk durations, LLM usage, credits (database) and queue depths (broker)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def collect(self) -> Iterator[Metric]:
        """Read every metric now; a source that fails is reported by folio_metrics_source_up."""
        up = GaugeMetricFamily(
            "folio_metrics_source_up",
            "Whether the source of a group of metrics answered this scrape (1) or not (0).",
            labels=["source"],
        )
        for source, read in (("database", _database_metrics), ("broker", self._queue_metrics)):
            try:
                metrics = list(read())
            except Exception as error:  # a source that is down hides its metrics, not others
                db.session.rollback()
                _log_failure(source, error)
                up.add_metric([source], 0)
            else:
                up.add_metric([source], 1)
                yield from metrics
        yield up

    def _queue_metrics(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "folio_queue_depth", "Messages waiting in a broker queue.", labels=["queue"]
        )
        queues = [CONTROL_QUEUE, *chunk_queues(self.settings.chunk_lanes)]
        for queue, count in queue_depths(self.settings, queues).items():
            depth.add_metric([queue], count)
        yield depth


def queue_depths(settings: Settings, queues: list[str]) -> dict[str, int]:
    """How many messages wait in each queue: Redis list lengths, or files of the embedded broker."""
    if settings.broker_url.startswith("filesystem://"):
        names = [path.name for path in (settings.broker_dir / "queue").iterdir()]
        return {queue: sum(name.endswith(f".{queue}.msg") for name in names) for queue in queues}
    client = redis_client(settings.broker_url, BROKER_TIMEOUT_SECONDS)
    try:
        pipe = client.pipeline(transaction=False)
        for queue in queues:
            for step in REDIS_PRIORITY_STEPS:
                pipe.llen(f"{queue}{REDIS_PRIORITY_SEPARATOR}{step}" if step else queue)
        lengths = pipe.execute()
    finally:
        client.close()
    steps = len(REDIS_PRIORITY_STEPS)
    return {q: sum(lengths[i * steps : (i + 1) * steps]) for i, q in enumerate(queues)}


def _database_metrics() -> Iterator[Metric]:
    yield _jobs_by_status()
    yield _chunk_durations()
    yield from _llm_usage()
    yield from _credits()
    db.session.rollback()  # end the read transaction


def _jobs_by_status() -> Metric:
    jobs = GaugeMetricFamily("folio_jobs", "Jobs by current status.", labels=["status"])
    counts = dict(db.session.execute(select(Job.status, func.count()).group_by(Job.status)).all())
    for status in JobStatus:
        jobs.add_metric([status.value], counts.get(status, 0))
    return jobs


def _chunk_durations() -> Metric:
    # A chunk's end bumps its job's updated_at: the recent jobs' chunks, found by job_id (an
    # index), are every chunk that may have finished in the window, without a table scan.
    cutoff = utcnow() - CHUNK_WINDOW
    recent_jobs = select(Job.id).where(Job.updated_at >= cutoff)
    seconds = JobChunk.seconds
    columns = [func.sum(case((seconds <= bound, 1), else_=0)) for bound in CHUNK_BUCKETS]
    row = db.session.execute(
        select(func.count(), func.coalesce(func.sum(seconds), 0.0), *columns).where(
            JobChunk.job_id.in_(recent_jobs),
            JobChunk.finished_at >= cutoff,
            JobChunk.status.in_((ChunkStatus.DONE, ChunkStatus.FAILED)),
            seconds.is_not(None),
        )
    ).one()
    total, total_seconds, *cumulative = (value or 0 for value in row)
    pairs = zip(CHUNK_BUCKETS, cumulative, strict=True)
    buckets = [(str(float(bound)), float(count)) for bound, count in pairs]
    buckets.append(("+Inf", float(total)))
    histogram = GaugeHistogramMetricFamily(
        "folio_chunk_duration_seconds",
        f"Run time of the chunks that finished in the last {CHUNK_WINDOW.seconds // 60} minutes.",
    )
    histogram.add_metric([], buckets, gsum_value=float(total_seconds))
    return histogram


def _llm_usage() -> Iterator[Metric]:
    calls = CounterMetricFamily("folio_llm_calls", "LLM requests made by jobs.", labels=["model"])
    tokens = CounterMetricFamily(
        "folio_llm_tokens", "LLM tokens used by jobs.", labels=["model", "direction"]
    )
    sums = (func.sum(Job.llm_calls), func.sum(Job.tokens_in), func.sum(Job.tokens_out))
    rows = db.session.execute(
        select(Job.model, *sums).where(Job.model.is_not(None)).group_by(Job.model)
    ).all()
    for model, n_calls, tokens_in, tokens_out in rows:
        calls.add_metric([str(model)], n_calls or 0)
        tokens.add_metric([str(model), "in"], tokens_in or 0)
        tokens.add_metric([str(model), "out"], tokens_out or 0)
    yield calls
    yield tokens


def _credits() -> Iterator[Metric]:
    reserve, settle = aliased(LedgerEntry), aliased(LedgerEntry)
    reserved = db.session.scalar(
        select(func.coalesce(func.sum(-LedgerEntry.delta), 0)).where(
            LedgerEntry.kind == LedgerKind.RESERVE
        )
    )
    # A settled run is charged what its reservation held less what the settlement gave back.
    charged = db.session.scalar(
        select(func.coalesce(func.sum(-reserve.delta - settle.delta), 0))
        .select_from(settle)
        .join(
            reserve,
            (reserve.job_id == settle.job_id)
            & (reserve.run == settle.run)
            & (reserve.kind == LedgerKind.RESERVE),
        )
        .where(settle.kind == LedgerKind.SETTLE)
    )
    yield CounterMetricFamily(
        "folio_credits_reserved", "Credits reserved by jobs when they started.", value=reserved
    )
    yield CounterMetricFamily(
        "folio_credits_charged", "Credits charged to jobs when they ended.", value=charged
    )


def _log_failure(source: str, error: Exception) -> None:
    logger.warning("metrics: the %s did not answer: %s", source, one_line(error))
