"""The fan-out end to end, with real Celery worker processes, in both run modes.

The main path runs on embedded defaults (SQLite + filesystem broker) and on PostgreSQL +
Redis; the failure scenarios (cancel, a killed worker, a flushed broker, a failing chunk,
two jobs side by side) run on PostgreSQL + Redis, as production does.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask
from sqlalchemy import select

from books import BOOKS
from databases import REDIS_URL, check_postgres, check_redis, fresh_postgres_database
from folio.extensions import db
from folio.models import ChunkStatus, Job, JobChunk, LedgerEntry
from folio.models.base import utcnow
from pdfmaker import book_pages, make_pdf
from workers import Stack, StackUser, running_stack, stack_environ, wait_for

pytestmark = pytest.mark.corpus
FOLIO = str(Path(sys.executable).with_name("folio"))
BROKER_DB, RESULTS_DB = 14, 13


def redis_url(number: int) -> str:
    """The test Redis server, database `number`."""
    return REDIS_URL.rsplit("/", 1)[0] + f"/{number}"


def embedded_stack(tmp_path: Path) -> Any:
    """SQLite, the filesystem broker and a SQLite result backend: `make run`'s defaults."""
    environ = stack_environ(
        tmp_path,
        f"sqlite:///{tmp_path / 'folio.db'}",
        "filesystem://",
        f"db+sqlite:///{tmp_path / 'results.db'}",
    )
    return running_stack(environ, tmp_path)


@pytest.fixture
def production(tmp_path: Path) -> Iterator[Stack]:
    """PostgreSQL (a fresh database) and Redis (broker and results in their own databases)."""
    check_postgres()
    check_redis()
    for number in (BROKER_DB, RESULTS_DB):
        redis.Redis.from_url(redis_url(number)).flushdb()
    with fresh_postgres_database() as url:
        environ = stack_environ(tmp_path, url, redis_url(BROKER_DB), redis_url(RESULTS_DB))
        with running_stack(environ, tmp_path) as stack:
            yield stack


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[Stack]:
    """The embedded stack."""
    with embedded_stack(tmp_path) as stack:
        yield stack


def cli_jsonl(pdf: Path, tmp_path: Path) -> bytes:
    """What `folio process` writes for the same file and settings."""
    out = tmp_path / "cli.jsonl"
    subprocess.run([FOLIO, "process", str(pdf), "--out", str(out)], check=True, timeout=300)
    return out.read_bytes()


def chunks(app: Flask, job_id: str) -> list[JobChunk]:
    """The job's chunk rows, in order."""
    with app.app_context():
        rows = db.session.scalars(
            select(JobChunk).where(JobChunk.job_id == uuid.UUID(job_id)).order_by(JobChunk.index)
        ).all()
        db.session.expunge_all()
        return list(rows)


def ledger(app: Flask, job_id: str) -> list[tuple[str, int, int]]:
    """(kind, run, delta) of the job's ledger rows."""
    with app.app_context():
        rows = db.session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.job_id == uuid.UUID(job_id))
            .order_by(LedgerEntry.id)
        ).all()
        return [(str(row.kind), row.run, row.delta) for row in rows]


def flaubert(corpus_dir: Path) -> Path:
    return corpus_dir / "pdfs" / BOOKS["flaubert"].pdf


@pytest.mark.parametrize("mode", ["embedded", "production"])
def test_a_novel_end_to_end(
    corpus_dir: Path, tmp_path: Path, request: pytest.FixtureRequest, mode: str
) -> None:
    stack: Stack = request.getfixturevalue(mode)
    stack.start_worker("w1")
    app = stack.app()
    user = StackUser(app, "reader@example.com", credits=1000)
    job_id = user.submit(flaubert(corpus_dir))
    seen = user.wait(job_id, 120)
    final = seen[-1]
    assert final["status"] == "completed", stack.log_tail()
    progress = [answer["progress_percent"] for answer in seen]
    assert progress == sorted(progress) and progress[-1] == 100
    assert final["processed_chunks"] == final["total_chunks"] == 18
    assert final["charged_credits"] == final["page_count"] == 445
    assert ledger(app, job_id) == [("reserve", 0, -445), ("settle", 0, 0)]
    assert user.download(job_id) == cli_jsonl(flaubert(corpus_dir), tmp_path)


def test_cancel_mid_way(corpus_dir: Path, production: Stack) -> None:
    production.inject_faults(delay_seconds=0.3)
    production.start_worker("w1")
    app = production.app()
    user = StackUser(app, "reader@example.com", credits=1000)
    job_id = user.submit(flaubert(corpus_dir), chunk_pages=5)
    user.wait(job_id, 60, until={"running"})
    wait_for(lambda: user.job(job_id)["processed_chunks"] >= 3, 60, "three chunks done")
    asked = time.monotonic()
    assert (
        user.client.post(f"/api/v1/jobs/{job_id}/cancel", headers=user.headers).status_code == 202
    )
    # The cancel is committed once it is answered. Its timestamp is taken a little before the
    # commit, and a claim in that gap still wins, so no chunk may start after the answer.
    answered = utcnow()
    final = user.wait(job_id, 5)[-1]
    assert final["status"] == "cancelled"
    assert time.monotonic() - asked < 5
    rows = chunks(app, job_id)
    with app.app_context():
        job = db.session.get(Job, uuid.UUID(job_id))
        assert job is not None and job.cancel_requested_at is not None
        cancel_at = job.cancel_requested_at
    done = [row for row in rows if row.status == ChunkStatus.DONE]
    assert cancel_at <= answered
    assert all(row.started_at is None or row.started_at <= answered for row in rows)
    assert {row.status for row in rows} <= {ChunkStatus.DONE, ChunkStatus.CANCELLED}
    charged = sum(row.owned_last_page - row.owned_first_page + 1 for row in done)
    assert final["charged_credits"] == charged < 445
    time.sleep(3)
    assert user.job(job_id)["status"] == "cancelled"


def test_a_worker_killed_mid_chunk(corpus_dir: Path, tmp_path: Path, production: Stack) -> None:
    production.inject_faults(delay_seconds=0.5)
    victim = production.start_worker("victim", concurrency=1)
    production.start_beat()
    app = production.app()
    user = StackUser(app, "reader@example.com", credits=1000)
    job_id = user.submit(flaubert(corpus_dir))
    wait_for(
        lambda: any(row.status == ChunkStatus.RUNNING for row in chunks(app, job_id)),
        60,
        "a chunk in progress",
    )
    production.kill(victim)
    production.clear_faults()
    production.start_worker("rescuer")
    final = user.wait(job_id, 120)[-1]
    assert final["status"] == "completed", production.log_tail()
    assert max(row.attempts for row in chunks(app, job_id)) == 2  # the killed chunk ran again
    assert final["charged_credits"] == 445
    assert ledger(app, job_id) == [("reserve", 0, -445), ("settle", 0, 0)]
    assert user.download(job_id) == cli_jsonl(flaubert(corpus_dir), tmp_path)


def test_the_broker_loses_its_messages(corpus_dir: Path, production: Stack) -> None:
    production.inject_faults(delay_seconds=0.3)
    production.start_worker("w1", concurrency=1)
    production.start_beat()
    app = production.app()
    user = StackUser(app, "reader@example.com", credits=1000)
    job_id = user.submit(flaubert(corpus_dir))
    wait_for(lambda: user.job(job_id)["processed_chunks"] >= 2, 60, "two chunks done")
    redis.Redis.from_url(redis_url(BROKER_DB)).flushdb()
    lost_at = time.monotonic()
    before = user.job(job_id)["processed_chunks"]
    # Within two reconciler periods (2 s each) plus one chunk, work resumes.
    wait_for(lambda: user.job(job_id)["processed_chunks"] > before + 1, 2 * 2 + 1 + 3, "resume")
    resumed = time.monotonic() - lost_at
    final = user.wait(job_id, 120)[-1]
    assert final["status"] == "completed", production.log_tail()
    assert final["charged_credits"] == 445
    assert resumed < 8


def test_a_failing_chunk_then_retry(corpus_dir: Path, tmp_path: Path, production: Stack) -> None:
    production.inject_faults(fail_chunks=[3])
    production.start_worker("w1")
    app = production.app()
    user = StackUser(app, "reader@example.com", credits=1000)
    job_id = user.submit(flaubert(corpus_dir))
    final = user.wait(job_id, 120)[-1]
    assert final["status"] == "partial"
    assert final["missing_pages"] == [{"first": 76, "last": 100}]
    assert final["charged_credits"] == 420
    finished_before = {row.index: row.finished_at for row in chunks(app, job_id)}
    production.clear_faults()
    assert user.client.post(f"/api/v1/jobs/{job_id}/retry", headers=user.headers).status_code == 202
    final = user.wait(job_id, 60)[-1]
    assert final["status"] == "completed"
    after = {row.index: row.finished_at for row in chunks(app, job_id)}
    assert [i for i in after if after[i] != finished_before[i]] == [3]  # only that chunk ran
    assert ledger(app, job_id) == [
        ("reserve", 0, -445),
        ("settle", 0, 25),
        ("reserve", 1, -25),
        ("settle", 1, 0),
    ]
    assert final["charged_credits"] == 445
    assert user.download(job_id) == cli_jsonl(flaubert(corpus_dir), tmp_path)


def test_a_short_job_is_not_stuck_behind_a_novel(corpus_dir: Path, production: Stack) -> None:
    production.inject_faults(delay_seconds=0.1)
    production.start_worker("w1", concurrency=1)
    app = production.app()
    user = StackUser(app, "reader@example.com", credits=2000)
    novel = user.submit(flaubert(corpus_dir), chunk_pages=5)  # 89 chunks
    pages = [[["Une page courte, avec une phrase de texte ordinaire."]] for _ in range(10)]
    short_pdf = make_pdf(production.data_dir / "short.pdf", book_pages(pages))
    short = user.submit(short_pdf, chunk_pages=5)  # 2 chunks
    assert user.wait(short, 30)[-1]["status"] == "completed"
    assert user.job(novel)["status"] == "running"
    assert user.job(novel)["processed_chunks"] < 30
