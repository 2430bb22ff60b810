"""An LLM job on a 300-page novel against the fake Gemini server at L seconds per call.

Féval's novel (308 pages) goes through the HTTP API (in-process Flask app) to real Celery
worker processes on PostgreSQL + Redis, whose `gemini` processor calls the fake server
(tests/fakellm.py) on localhost. Each configuration is one job: chunk size, worker slots
(-c) and the shared requests-per-minute limit. The wall time is set against the ideal for
that configuration, computed from the calls each chunk makes (a dry run at zero latency):
chunks start in order on the free slots, a chunk's calls run one after the other, every
call takes exactly L and nothing else takes any time; a requests-per-minute limit R adds
the bound calls x 60 / R.
Usage: python bench/bench_llm.py [--latency 2] [--markdown]
"""

from __future__ import annotations

import argparse
import bisect
import collections
import heapq
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the test harness

from bench_fanout import Client, redis_url, stop
from databases import fresh_postgres_database
from fakellm import FakeLLM, Fault
from folio.config import Settings
from folio.pipeline.model import ProcessSettings
from folio.pipeline.plan import plan_chunks
from folio.pipeline.processors import ProcessContext
from folio.pipeline.runner import run_chunk
from folio.pipeline.sources.pdf.inspect import inspect_pdf
from workers import running_stack, stack_environ

BROKER_DB, RESULTS_DB = 6, 7  # the tests use 8-15, bench_fanout 10-11
BOOK = "book_feval_vampire.pdf"
UNLIMITED_RPM = 1_000_000


@dataclass(frozen=True)
class Config:
    """One job's configuration: pages per chunk, worker slots, requests per minute."""

    chunk_pages: int
    slots: int
    rpm: int = UNLIMITED_RPM


CONFIGS = [Config(25, 4), Config(25, 8), Config(10, 8), Config(10, 8, rpm=120)]


@dataclass
class Row:
    """One measured job."""

    config: Config
    chunks: int
    calls: int
    wall: float
    ideal: float
    busiest: int  # most requests started within any 60 s

    @property
    def efficiency(self) -> float:
        """Ideal time over measured wall time."""
        return self.ideal / self.wall


def llm_environ(fake: FakeLLM, rpm: int) -> dict[str, str]:
    """The settings that point the gemini processor at the fake server."""
    return {
        "FOLIO_GEMINI_API_KEY": "bench-key-not-a-secret",
        "FOLIO_GEMINI_BASE_URL": fake.url,
        "FOLIO_LLM_TIMEOUT_SECONDS": "30",
        "FOLIO_LLM_RPM": str(rpm),
    }


def calls_per_chunk(pdf: Path, chunk_pages: int, fake: FakeLLM) -> list[int]:
    """LLM calls each chunk makes (the fake answers deterministically), at zero latency."""
    settings = Settings.from_env({"FOLIO_ENV": "test", **llm_environ(fake, UNLIMITED_RPM)})
    info = inspect_pdf(pdf)
    context = ProcessContext(llm=settings.llm)
    process = ProcessSettings(limit=8, processor="gemini")
    return [
        run_chunk(pdf, chunk, info.furniture, process, context=context).usage.calls
        for chunk in plan_chunks(info.page_count, chunk_pages, 1)
    ]


def ideal_seconds(calls: list[int], slots: int, latency: float, rpm: int) -> float:
    """Makespan if every call took exactly `latency` and nothing else took time.

    Chunks start in order on the first free slot and make their calls one after the other;
    with a limit of `rpm` requests per sliding minute, request n cannot start before
    request n - rpm started plus 60 s (the limiter's rule).
    """
    ready = [(0.0, slot) for slot in range(slots)]  # when each slot wants to send
    work = collections.deque(count for count in calls if count)  # calls of each chunk, in order
    pending: dict[int, int] = {}  # slot -> calls left in its chunk
    starts: list[float] = []
    end = 0.0
    while ready:
        time, slot = heapq.heappop(ready)
        if not pending.get(slot):
            if not work:
                continue
            pending[slot] = work.popleft()
        start = max(time, starts[-rpm] + 60 if len(starts) >= rpm else time)
        starts.append(start)
        pending[slot] -= 1
        end = max(end, start + latency)
        heapq.heappush(ready, (start + latency, slot))
    return end


def busiest_minute(times: list[float]) -> int:
    """The most requests the fake server saw start within any 60 s."""
    times = sorted(times)
    return max((bisect.bisect_left(times, t + 60) - i for i, t in enumerate(times)), default=0)


def run(pdf: Path, config: Config, latency: float, folder: Path, fake: FakeLLM) -> Row:
    """One job of the configuration on a fresh stack; its wall time against the ideal."""
    fake.clear_faults()  # the dry run at zero latency
    calls = calls_per_chunk(pdf, config.chunk_pages, fake)
    fake.reset()
    fake.set_faults([Fault("latency", times=None, seconds=latency)])
    for number in (BROKER_DB, RESULTS_DB):
        redis.Redis.from_url(redis_url(number)).flushdb()
    with fresh_postgres_database() as url:
        environ = stack_environ(folder, url, redis_url(BROKER_DB), redis_url(RESULTS_DB))
        # A chunk's calls outlast the tests' 6 s lease; production's default is 300 s.
        environ.update(llm_environ(fake, config.rpm), FOLIO_CHUNK_LEASE_SECONDS="300")
        environ["FOLIO_LLM_LIMITS_URL"] = redis_url(BROKER_DB)  # as production: through Redis
        with running_stack(environ, folder) as stack:
            client = Client(stack, credits=100_000)
            worker = stack.start_worker(f"llm{config.slots}", concurrency=config.slots)
            try:
                settings = {"processor": "gemini", "chunk_pages": config.chunk_pages}
                wall = client.run_job(client.upload(pdf), timeout=3600, settings=settings)
            finally:
                stop(worker)
                client.close()
    busiest = busiest_minute([entry.time for entry in fake.log])
    if len(fake.log) != sum(calls):
        raise RuntimeError(f"the job made {len(fake.log)} calls, the dry run {sum(calls)}")
    ideal = ideal_seconds(calls, config.slots, latency, config.rpm)
    return Row(config, len(calls), sum(calls), wall, ideal, busiest)


def table(rows: list[Row]) -> str:
    """The rows as a Markdown table."""
    head = ["pages/chunk", "chunks", "slots (-c)", "rpm limit", "LLM calls", "busiest minute"]
    head += ["wall s", "ideal s"]
    lines = ["| " + " | ".join([*head, "efficiency"]) + " |", "|" + "---:|" * (len(head) + 1)]
    for r in rows:
        rpm = "none" if r.config.rpm == UNLIMITED_RPM else str(r.config.rpm)
        lines.append(
            f"| {r.config.chunk_pages} | {r.chunks} | {r.config.slots} | {rpm} | {r.calls} "
            f"| {r.busiest} "
            f"| {r.wall:.0f} | {r.ideal:.0f} | {r.efficiency:.0%} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Run every configuration one after the other and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=2.0, help="seconds per call; 2")
    parser.add_argument("--corpus", type=Path, default=Settings.from_env().corpus_dir)
    args = parser.parse_args()
    pdf = args.corpus / "pdfs" / BOOK
    if not pdf.exists():
        sys.exit(f"error: {pdf} not found (set FOLIO_CORPUS_DIR or --corpus)")
    rows = []
    with FakeLLM() as fake, tempfile.TemporaryDirectory(prefix="folio-bench-llm-") as tmp:
        for number, config in enumerate(CONFIGS):
            print(f"{config} …", file=sys.stderr, flush=True)
            started = time.perf_counter()
            folder = Path(tmp) / str(number)
            folder.mkdir()
            rows.append(run(pdf, config, args.latency, folder, fake))
            print(f"  {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    print(f"{BOOK}, limit 8, gemini on the fake server at {args.latency} s per call\n")
    print(table(rows))
    print(
        f"\n- Serial time (one call at a time): {rows[0].calls} calls x {args.latency} s = "
        f"{rows[0].calls * args.latency:.0f} s. Efficiency = ideal / wall."
    )


if __name__ == "__main__":
    main()
