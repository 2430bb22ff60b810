"""Fan-out efficiency: a job of C chunks of fixed simulated latency L on 1, 2, 4, 8 chunk slots.

The API runs in-process (Flask test client), the chunks on a real Celery worker subprocess
(`-c N`), in production mode (PostgreSQL + Redis) and embedded mode (SQLite + filesystem broker).
Usage: python bench/bench_fanout.py [--chunks 40] [--latency 0.5] [--mode both] [--markdown]
"""

from __future__ import annotations

import argparse
import math
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the test harness

from databases import REDIS_URL, fresh_postgres_database
from factories import PASSWORD, make_user
from folio.extensions import db
from pdfmaker import book_pages, make_pdf
from workers import Stack, running_stack, stack_environ

SLOTS = (1, 2, 4, 8)
POLL_S = 0.02
BROKER_DB, RESULTS_DB = 10, 11  # the tests use 13-15
TASK_TIME = re.compile(r"folio\.process_chunk\[[^]]+\] succeeded in ([0-9.]+)s")
LINES = ["Une ligne courte, avec quelques mots.", "Une autre ligne, aussi brève."]


@dataclass
class Row:
    """One job run: its mode, chunk slots, wall time, ideal time and mean chunk task time."""

    mode: str
    slots: int
    chunks: int
    wall: float
    ideal: float
    task: float  # mean run time of a chunk task, as the worker logged it

    @property
    def efficiency(self) -> float:
        """Ideal time over measured wall time."""
        return self.ideal / self.wall

    @property
    def overhead_ms(self) -> float:
        """Time above the ideal per chunk on a slot's path: (wall - ideal) / ceil(C/N)."""
        return 1000 * (self.wall - self.ideal) / math.ceil(self.chunks / self.slots)


class Client:
    """A signed-in user of the stack's API, through the Flask test client."""

    def __init__(self, stack: Stack, credits: int) -> None:
        self.app = stack.app()
        self.http = self.app.test_client()
        with self.app.app_context():
            make_user("bench@example.com", granted=credits)
        login = {"email": "bench@example.com", "password": PASSWORD}
        token = self.http.post("/api/v1/auth/login", json=login).get_json()["access_token"]
        self.headers = {"Authorization": f"Bearer {token}"}

    def upload(self, pdf: Path) -> str:
        """Upload the PDF; its upload id."""
        with pdf.open("rb") as handle:
            answer = self.http.post(
                "/api/v1/uploads",
                data={"file": (handle, pdf.name, "application/pdf")},
                headers=self.headers,
                content_type="multipart/form-data",
            )
        assert answer.status_code == 201, answer.get_json()
        return str(answer.get_json()["id"])

    def run_job(
        self, upload_id: str, timeout: float, settings: dict[str, object] | None = None
    ) -> float:
        """Start a job (default: one page per chunk); seconds from its 202 to `completed`."""
        body = {"upload_id": upload_id, "settings": settings or {"chunk_pages": 1}}
        answer = self.http.post("/api/v1/jobs", json=body, headers=self.headers)
        start = time.perf_counter()
        assert answer.status_code == 202, answer.get_json()
        url = f"/api/v1/jobs/{answer.get_json()['id']}"
        tick = start
        while True:
            status = self.http.get(url, headers=self.headers).get_json()["status"]
            now = time.perf_counter()
            if status == "completed":
                return now - start
            if status in {"partial", "failed", "cancelled"} or now - start > timeout:
                raise RuntimeError(f"job ended {status!r} after {now - start:.1f} s")
            tick += POLL_S
            time.sleep(max(0.0, tick - time.perf_counter()))

    def close(self) -> None:
        """Release the in-process app's database connections."""
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()


def redis_url(number: int) -> str:
    """The Redis server of the tests, database `number`."""
    return REDIS_URL.rsplit("/", 1)[0] + f"/{number}"


def flush_redis() -> None:
    """Empty the bench's broker and result databases."""
    for number in (BROKER_DB, RESULTS_DB):
        redis.Redis.from_url(redis_url(number)).flushdb()


@contextmanager
def stack_for(mode: str, folder: Path) -> Iterator[Stack]:
    """The mode's stack, migrated; its processes, database and Redis data removed after."""
    if mode == "embedded":
        database, results = (
            f"sqlite:///{folder / 'folio.db'}",
            f"db+sqlite:///{folder / 'results.db'}",
        )
        environ = stack_environ(folder, database, "filesystem://", results)
        environ["FOLIO_PRELOAD_PARSER"] = "true"  # the default the test stacks turn off
        with running_stack(environ, folder) as stack:
            yield stack
        return
    flush_redis()
    try:
        with fresh_postgres_database() as url:
            environ = stack_environ(folder, url, redis_url(BROKER_DB), redis_url(RESULTS_DB))
            environ["FOLIO_PRELOAD_PARSER"] = "true"
            with running_stack(environ, folder) as stack:
                yield stack
    finally:
        flush_redis()


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop one worker: a warm shutdown (running tasks finish), its process group killed at 60 s."""
    os.kill(process.pid, signal.SIGTERM)  # the main process only: SIGTERM to a child kills it
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def bench_mode(mode: str, chunks: int, latency: float) -> list[Row]:
    """Run one job per slot count on a fresh worker of the mode's stack."""
    rows = []
    with tempfile.TemporaryDirectory(prefix=f"folio-fanout-{mode}-") as tmp:
        folder = Path(tmp)
        pdf = make_pdf(folder / "short.pdf", book_pages([[LINES] for _ in range(chunks)]))
        with stack_for(mode, folder) as stack:
            client = Client(stack, credits=chunks * (len(SLOTS) + 1))
            try:
                stack.inject_faults(delay_seconds=latency)
                for slots in SLOTS:
                    worker = stack.start_worker(f"bench{slots}", concurrency=slots)
                    print(f"{mode}: {chunks} chunks on -c {slots} …", file=sys.stderr, flush=True)
                    try:
                        timeout = 10 + 4 * chunks * latency
                        wall = client.run_job(client.upload(pdf), timeout)
                    finally:
                        stop(worker)
                    ideal = math.ceil(chunks / slots) * latency
                    task = mean_task(stack.data_dir / f"bench{slots}.log")
                    rows.append(Row(mode, slots, chunks, wall, ideal, task))
            finally:
                client.close()
    return rows


def mean_task(log: Path) -> float:
    """Mean run time of the chunk tasks that a worker's log reports as succeeded."""
    text = log.read_text(errors="replace")
    return statistics.mean(float(s) for s in TASK_TIME.findall(text))


def table(rows: list[Row], markdown: bool) -> str:
    """Format the rows as a Markdown table or as aligned plain text."""
    head = ["mode", "slots (-c)", "wall s", "ideal s", "efficiency", "overhead ms/chunk", "task ms"]
    cells = [head] + [
        [
            r.mode,
            str(r.slots),
            f"{r.wall:.2f}",
            f"{r.ideal:.2f}",
            f"{r.efficiency:.0%}",
            f"{r.overhead_ms:.0f}",
            f"{1000 * r.task:.0f}",
        ]
        for r in rows
    ]
    if markdown:
        lines = ["| " + " | ".join(c) + " |" for c in cells]
        lines.insert(1, "|---|" + "---:|" * (len(head) - 1))
        return "\n".join(lines)
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
    return "\n".join(
        "  ".join(
            [c[0].ljust(widths[0])] + [v.rjust(w) for v, w in zip(c[1:], widths[1:], strict=True)]
        )
        for c in cells
    )


def main() -> None:
    """Parse the arguments, run the chosen modes one after the other and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=40, help="chunks (pages) per job; 40")
    parser.add_argument("--latency", type=float, default=0.5, help="seconds per chunk; 0.5")
    parser.add_argument("--mode", choices=["production", "embedded", "both"], default="both")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()
    if args.chunks < 1 or args.latency <= 0:
        sys.exit("error: --chunks must be at least 1 and --latency positive")
    modes = ["production", "embedded"] if args.mode == "both" else [args.mode]
    rows = [row for mode in modes for row in bench_mode(mode, args.chunks, args.latency)]
    print(f"{args.chunks} chunks of {args.latency} s simulated latency, one job per row\n")
    print(table(rows, args.markdown))
    print()
    note = (
        "Efficiency = ideal / wall, ideal = ceil(C/N) x L; overhead per chunk = "
        "(wall - ideal) / ceil(C/N). Wall time runs from the job's 202 to `completed` "
        f"(polled every {POLL_S * 1000:.0f} ms). Task ms: mean run time of a chunk task "
        "(claim, the latency, the pipeline, the record), from the worker's log. "
        "Target: efficiency >= 90 %."
    )
    print(f"- {note}" if args.markdown else note)


if __name__ == "__main__":
    main()
