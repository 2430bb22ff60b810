"""Recovery from crashes, with real worker processes on the embedded defaults for leases and
the reconciler (lease 15 s renewed every 3 s, reconciler every 10 s): a pool process killed
mid-chunk, then a cancel; eight pool processes killed in a row (the embedded pool wedges, the
health check sees it, a restart heals it); the stored file deleted mid-job; a chord whose
header never completes. Every wait is a poll with a deadline; the figures it measures are
printed (pytest -s) and documented in docs/tasks.md.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis

from databases import check_postgres, check_redis, fresh_postgres_database
from folio.extensions import db
from folio.models import ChunkStatus, Job
from folio.services import storage
from folio.services.lanes import CONTROL_QUEUE, chunk_queues
from runner import ENTRYPOINT
from test_fanout import chunks, cli_jsonl, flaubert, ledger, redis_url
from workers import LANES, Stack, running_stack, stack_environ, wait_for
from workers import StackUser as User

pytestmark = pytest.mark.corpus
# Broker and results share one database that no other test module uses.
REDIS_DB = 11
BOOK_PAGES = 445


def on_defaults(environ: dict[str, str], **extra: str) -> dict[str, str]:
    """The stack's settings with the embedded defaults for the lease and the reconciler."""
    kept = {
        name: value
        for name, value in environ.items()
        if name not in ("FOLIO_CHUNK_LEASE_SECONDS", "FOLIO_RECONCILE_SECONDS")
    }
    return {**kept, **extra}


@pytest.fixture
def production(tmp_path: Path) -> Iterator[Stack]:
    """PostgreSQL and Redis, as production runs."""
    check_postgres()
    check_redis()
    redis.Redis.from_url(redis_url(REDIS_DB)).flushdb()
    with fresh_postgres_database() as url:
        environ = stack_environ(tmp_path, url, redis_url(REDIS_DB), redis_url(REDIS_DB))
        with running_stack(on_defaults(environ), tmp_path) as stack:
            yield stack


@contextmanager
def embedded_stack(tmp_path: Path, **extra: str) -> Iterator[Stack]:
    """SQLite, the filesystem broker and the SQLite result backend: `make run`."""
    environ = stack_environ(
        tmp_path,
        f"sqlite:///{tmp_path / 'folio.db'}",
        "filesystem://",
        f"db+sqlite:///{tmp_path / 'results.db'}",
    )
    with running_stack(on_defaults(environ, **extra), tmp_path) as stack:
        yield stack


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[Stack]:
    with embedded_stack(tmp_path) as stack:
        yield stack


def pool_children(worker: subprocess.Popen[bytes]) -> list[int]:
    """The live pool processes of a worker (not the zombies it has yet to reap)."""
    found = subprocess.run(["pgrep", "-P", str(worker.pid)], capture_output=True, text=True)
    alive = []
    for pid in map(int, found.stdout.split()):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
        except FileNotFoundError:
            continue
        if stat.rpartition(")")[2].split()[0] != "Z":
            alive.append(pid)
    return alive


def healthcheck(stack: Stack, node: str) -> subprocess.CompletedProcess[str]:
    """`celery-entrypoint.sh healthcheck worker NODE`, as the container's health check."""
    return subprocess.run(
        [str(ENTRYPOINT), "healthcheck", "worker", node],
        env={**os.environ, **stack.environ},
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_settled_for_done_chunks(stack: Stack, job_id: str, charged: int) -> None:
    rows = chunks(stack.app(), job_id)
    assert not [
        row.index for row in rows if row.status in (ChunkStatus.PENDING, ChunkStatus.RUNNING)
    ]
    done = sum(
        row.owned_last_page - row.owned_first_page + 1
        for row in rows
        if row.status == ChunkStatus.DONE
    )
    assert charged == done
    assert ledger(stack.app(), job_id) == [
        ("reserve", 0, -BOOK_PAGES),
        ("settle", 0, BOOK_PAGES - done),
    ]


def test_a_killed_pool_process_then_cancel(corpus_dir: Path, production: Stack) -> None:
    production.inject_faults(delay_seconds=1.0)
    worker = production.start_worker("w1", concurrency=2)
    production.start_beat()
    user = User(production.app(), "reader@example.com", credits=1000)
    job_id = user.submit(flaubert(corpus_dir))
    wait_for(lambda: user.job(job_id)["processed_chunks"] >= 1, 60, "a chunk done")
    os.kill(pool_children(worker)[0], signal.SIGKILL)  # both are busy: 1 s per chunk
    asked = time.monotonic()
    cancel = user.client.post(f"/api/v1/jobs/{job_id}/cancel", headers=user.headers)
    assert cancel.status_code == 202
    final = user.wait(job_id, 30)[-1]
    took = time.monotonic() - asked
    print(f"cancelled {took:.1f} s after the kill and the cancel")
    assert final["status"] == "cancelled", production.log_tail()
    assert_settled_for_done_chunks(production, job_id, final["charged_credits"])
    assert final["charged_credits"] < BOOK_PAGES


@pytest.mark.parametrize("victim", ["pool process", "whole worker"])
def test_a_killed_chunk_is_sent_again(
    corpus_dir: Path, tmp_path: Path, production: Stack, victim: str
) -> None:
    production.inject_faults(delay_seconds=1.0)
    worker = production.start_worker("w1", concurrency=1)
    if victim == "whole worker":
        production.start_worker("w2", concurrency=1)
    production.start_beat()
    app = production.app()
    user = User(app, "reader@example.com", credits=1000)
    job_id = user.submit(flaubert(corpus_dir))

    def w1_running() -> list[int]:
        return [
            row.index
            for row in chunks(app, job_id)
            if row.status == ChunkStatus.RUNNING and (row.worker or "").startswith("w1@")
        ]

    wait_for(lambda: bool(w1_running()), 60, "a chunk running on w1")
    [index] = w1_running()
    killed_at = datetime.now(UTC)
    if victim == "pool process":
        os.kill(pool_children(worker)[0], signal.SIGKILL)
    else:
        production.kill(worker)
    # The next attempt of that chunk starts (attempts 2) within 30 s of the kill, ahead of the
    # 16 chunks still queued: a pool process's replacement sends it again at once; a whole
    # worker's lease expires (15 s) and the reconciler (every 5 s) sends it again.
    wait_for(lambda: chunks(app, job_id)[index].attempts >= 2, 30, f"chunk {index} again")
    started = chunks(app, job_id)[index].started_at
    assert started is not None
    after = (started.replace(tzinfo=started.tzinfo or UTC) - killed_at).total_seconds()
    print(f"{victim}: chunk {index} started again {after:.1f} s after the kill")
    assert after < 30
    production.clear_faults()
    if victim == "whole worker":
        production.start_worker("w3", concurrency=2)
    final = user.wait(job_id, 120)[-1]
    assert final["status"] == "completed", production.log_tail()
    assert final["charged_credits"] == BOOK_PAGES
    assert user.download(job_id) == cli_jsonl(flaubert(corpus_dir), tmp_path)


def test_eight_killed_pool_processes_wedge_the_embedded_pool_and_the_health_check_sees_it(
    corpus_dir: Path, tmp_path: Path, embedded: Stack
) -> None:
    node = f"w1@{socket.gethostname()}"
    embedded.inject_faults(delay_seconds=0.5)
    worker = embedded.start_worker("w1", concurrency=2)
    embedded.start_beat()
    healthy = healthcheck(embedded, node)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    user = User(embedded.app(), "reader@example.com", credits=1000)
    job_id = user.submit(flaubert(corpus_dir), chunk_pages=5)
    user.wait(job_id, 60, until={"running"})
    killed: set[int] = set()
    while len(killed) < 8:
        fresh = [pid for pid in pool_children(worker) if pid not in killed]
        if fresh:
            os.kill(fresh[0], signal.SIGKILL)
            killed.add(fresh[0])
        time.sleep(0.3)
    # `celery inspect ping` would still answer; the probe task cannot run in the pool.
    checks: list[subprocess.CompletedProcess[str]] = []

    def unhealthy() -> bool:
        checks.append(healthcheck(embedded, node))
        return checks[-1].returncode == 1

    wait_for(unhealthy, 90, "the health check to fail")
    assert "its pool cannot run tasks" in checks[-1].stderr
    stuck = user.job(job_id)
    assert stuck["status"] == "running"
    # What Docker does to an unhealthy container: kill it and start it again.
    embedded.kill(worker)
    embedded.clear_faults()
    restarted = embedded.start_worker("w1", concurrency=2)
    final = user.wait(job_id, 180)[-1]
    assert final["status"] == "completed", embedded.log_tail()
    assert user.download(job_id) == cli_jsonl(flaubert(corpus_dir), tmp_path)
    assert healthcheck(embedded, node).returncode == 0
    assert restarted.poll() is None


def test_deleting_the_stored_file_mid_job(corpus_dir: Path, production: Stack) -> None:
    production.inject_faults(delay_seconds=0.5)
    production.start_worker("w1", concurrency=2)
    production.start_beat()
    app = production.app()
    user = User(app, "reader@example.com", credits=1000)
    job_id = user.submit(flaubert(corpus_dir))
    wait_for(lambda: user.job(job_id)["processed_chunks"] >= 2, 60, "two chunks done")
    with app.app_context():
        job = db.session.get(Job, uuid.UUID(job_id))
        assert job is not None
        storage.path_of(job.file_key).unlink()
    deleted = time.monotonic()
    final = user.wait(job_id, 30)[-1]
    print(f"{final['status']} {time.monotonic() - deleted:.1f} s after the file was deleted")
    assert final["status"] in {"partial", "failed"}
    assert "file_gone" in final["error_message"], final["error_message"]
    retry = user.client.post(f"/api/v1/jobs/{job_id}/retry", headers=user.headers)
    assert retry.status_code == 410
    assert retry.get_json()["error"]["code"] == "file_gone"
    assert user.job(job_id)["status"] == final["status"]  # nothing was reset or reserved
    assert [kind for kind, _, _ in ledger(app, job_id)] == ["reserve", "settle"]


def test_chord_unlock_gives_up(corpus_dir: Path, tmp_path: Path) -> None:
    # The embedded result backend has no native chords: Celery polls with chord_unlock.
    with embedded_stack(tmp_path, FOLIO_CHORD_UNLOCK_SECONDS="8") as stack:
        stack.inject_faults(delay_seconds=1.0)
        chunk_worker = stack.start_worker(
            "chunks", concurrency=2, queues=",".join(chunk_queues(LANES))
        )
        stack.start_worker("control", concurrency=1, queues=CONTROL_QUEUE)
        stack.start_beat()
        user = User(stack.app(), "reader@example.com", credits=1000)
        job_id = user.submit(flaubert(corpus_dir))
        wait_for(lambda: user.job(job_id)["processed_chunks"] >= 1, 60, "a chunk done")
        # The chunks it held are lost with it; the reconciler sends them again under new
        # task ids, so the chord's header never completes.
        stack.kill(chunk_worker)
        stack.clear_faults()
        stack.start_worker("chunks", concurrency=2, queues=",".join(chunk_queues(LANES)))
        final = user.wait(job_id, 120)[-1]
        assert final["status"] == "completed", stack.log_tail()
        control_log = stack.data_dir / "control.log"

        def unlock_lines() -> list[str]:
            text = control_log.read_text(errors="replace")
            return [line for line in text.splitlines() if "celery.chord_unlock" in line]

        wait_for(
            lambda: any("could not be retried" in line for line in unlock_lines()),
            60,
            "chord_unlock to give up",
        )
        retries = [line for line in unlock_lines() if "retry:" in line]
        print(f"chord_unlock: {len(retries)} retries, then it gave up")
        assert 0 < len(retries) <= 8 / 2 + 1
