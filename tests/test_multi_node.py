"""Workers on several hosts, as docs/operations.md describes them: two chunk workers with node
names of their own (chunks@host-a, chunks@host-b), started through celery-entrypoint.sh from
working directories of their own, sharing only what the doc says must be shared — the
PostgreSQL database, the Redis broker and result backend, and the file store — run one job's
chunks between them. Both node names end up in the job's chunk records (`job_chunks.worker`).

On PostgreSQL + Redis (Redis databases 8 and 9); skipped when they are unreachable, failed
under CI=true.
"""

from __future__ import annotations

import subprocess
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import select

from databases import REDIS_URL, check_postgres, check_redis, fresh_postgres_database
from factories import PASSWORD, make_user
from folio.extensions import db
from folio.models import ChunkStatus, Job, JobChunk
from pdfmaker import book_pages, make_pdf
from runner import ENTRYPOINT, clean_environ, kill_group, wait_until
from workers import Stack, running_stack, stack_environ

BROKER_DB, RESULTS_DB = 8, 9
PAGES, CHUNK_PAGES = 24, 2  # 12 chunks
NODES = ("chunks@host-a", "chunks@host-b")
STARTUP_SECONDS = 60


def redis_url(number: int) -> str:
    """The test Redis server, database `number`."""
    return REDIS_URL.rsplit("/", 1)[0] + f"/{number}"


@pytest.fixture
def production(tmp_path: Path) -> Iterator[Stack]:
    """A fresh PostgreSQL database and Redis databases 8 (broker) and 9 (results)."""
    check_postgres()
    check_redis()
    clients = [redis.Redis.from_url(redis_url(number)) for number in (BROKER_DB, RESULTS_DB)]
    for client in clients:
        client.flushdb()
    store = tmp_path / "shared-store"  # the file store every host mounts (NFS in real life)
    store.mkdir()
    try:
        with fresh_postgres_database() as url:
            environ = stack_environ(store, url, redis_url(BROKER_DB), redis_url(RESULTS_DB))
            environ["FOLIO_CHUNK_PAGES"] = str(CHUNK_PAGES)
            with running_stack(environ, store) as stack:
                yield stack
    finally:
        for client in clients:
            client.flushdb()
            client.close()


def start_host(
    stack: Stack, tmp_path: Path, host: str, role: str, node: str
) -> subprocess.Popen[bytes]:
    """`celery-entrypoint.sh ROLE -n NODE` as on another host: its own working directory."""
    home = tmp_path / host
    home.mkdir(exist_ok=True)
    log = home / f"{role}.log"
    environ = clean_environ(**stack.environ, FOLIO_WORKER_CONCURRENCY="1")
    process = subprocess.Popen(
        [str(ENTRYPOINT), role, "-n", node],
        cwd=home,
        env=environ,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    stack.processes.append(process)
    stack.logs.append(log)
    return process


def ready(log: Path) -> Callable[[], bool]:
    """Whether the worker writing `log` says it is ready."""
    return lambda: "ready." in log.read_text(errors="replace")


def test_two_hosts_share_one_jobs_chunks(production: Stack, tmp_path: Path) -> None:
    stack = production
    started = [
        start_host(stack, tmp_path, "host-a", "worker", NODES[0]),
        start_host(stack, tmp_path, "host-b", "worker", NODES[1]),
        start_host(stack, tmp_path, "host-a", "control-worker", "control@host-a"),
    ]
    try:
        for log in stack.logs:
            wait_until(ready(log), STARTUP_SECONDS, f"the worker of {log}", log)
        # Each chunk takes a little time, as real pages do (tiny test pages take ~10 ms), so
        # that a worker is still busy when the next chunk arrives: the broker hands it to the
        # other host.
        stack.inject_faults(delay_seconds=0.3)
        app = stack.app()
        with app.app_context():
            make_user("reader@example.com", granted=1000)
        client = app.test_client()
        token = client.post(
            "/api/v1/auth/login", json={"email": "reader@example.com", "password": PASSWORD}
        ).get_json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        lines = [["Il marchait vers la gare sans se presser, la valise à la main."]]
        pdf = make_pdf(tmp_path / "book.pdf", book_pages([lines] * PAGES))
        with pdf.open("rb") as handle:
            upload = client.post(
                "/api/v1/uploads",
                data={"file": (handle, pdf.name, "application/pdf")},
                headers=headers,
                content_type="multipart/form-data",
            )
        assert upload.status_code == 201, upload.get_json()
        created = client.post(
            "/api/v1/jobs",
            json={"upload_id": upload.get_json()["id"], "settings": {"limit": 8}},
            headers=headers,
        )
        assert created.status_code == 202, created.get_json()
        job_id = created.get_json()["id"]

        def finished() -> bool:
            answer = client.get(f"/api/v1/jobs/{job_id}", headers=headers).get_json()
            return bool(answer["status"] in {"completed", "partial", "failed", "cancelled"})

        wait_until(finished, 60, f"job {job_id} to finish", stack.logs[0])
        with app.app_context():
            job = db.session.get(Job, uuid.UUID(job_id))
            assert job is not None
            assert job.status == "completed", stack.log_tail()
            chunks = db.session.execute(
                select(JobChunk.index, JobChunk.status, JobChunk.worker).where(
                    JobChunk.job_id == job.id
                )
            ).all()
            db.engine.dispose()
        assert len(chunks) == PAGES // CHUNK_PAGES
        assert all(chunk.status == ChunkStatus.DONE for chunk in chunks)
        # Both hosts ran some of them, and nobody else did.
        by_node = Counter(chunk.worker for chunk in chunks)
        # A claim names its holder as node:pid (the pool process), the node first.
        assert {worker.rsplit(":", 1)[0] for worker in by_node} == set(NODES), by_node
    finally:
        for process in started:
            kill_group(process)
