"""An LLM job on a 300-page novel against the fake Gemini server at L seconds per call.

Féval's novel (308 pages) goes through the HTTP API (in-process Flask app) to real Celery
worker processes on PostgreSQL + Redis, whose `gemini` processor calls the fake server
(tests/fakellm.py) on localhost. Each configuration is one job: chunk size, worker slots
(-c), batches in flight per chunk (FOLIO_LLM_CONCURRENCY) and the shared limit of R
requests per window W. The wall time is set against the ideal for that configuration,
computed from the calls each batch of each chunk makes (a dry run at zero latency): chunks
start in order on the free slots, a chunk's batches on its free lanes (as many as the
concurrency), a batch's calls one after the other, every call takes exactly L and nothing
else takes any time; request n may not start before request n - R started plus W.

With a limit, "limit used" measures how much of it the run used, at the fake server: the
limiter lets request i + R start no sooner than W after request i, so over every request i
that has an R-th successor, limit used = W x (n - R) / sum(start[i + R] - start[i]). 100 %
means each request started the moment the window let it; the limiter's 2 % margin
(limits.margin) caps it at 98 %.
Usage: python bench/bench_llm.py [--latency 2] [--only NAME...]
"""

from __future__ import annotations

import argparse
import bisect
import collections
import heapq
import itertools
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the test harness

from bench_fanout import Client, redis_url, stop
from databases import fresh_postgres_database
from fakellm import FakeLLM, Fault
from folio.config import Settings
from folio.pipeline.model import ProcessSettings
from folio.pipeline.plan import plan_chunks
from folio.pipeline.processors import ProcessContext
from folio.pipeline.processors.llm.processor import LLMProcessor
from folio.pipeline.runner import run_chunk
from folio.pipeline.sources.pdf.inspect import inspect_pdf
from workers import running_stack, stack_environ

BROKER_DB, RESULTS_DB = 6, 7  # the tests use 8-15, bench_fanout 10-11
BOOK = "book_feval_vampire.pdf"
UNLIMITED_RPM = 1_000_000


@dataclass(frozen=True)
class Config:
    """One job: pages per chunk, worker slots, batches in flight per chunk, R per W s."""

    name: str
    chunk_pages: int
    slots: int
    concurrency: int
    rpm: int = UNLIMITED_RPM
    window: float = 60.0

    @property
    def limited(self) -> bool:
        """Whether the job runs under a limit it can reach."""
        return self.rpm != UNLIMITED_RPM


# Side by side: one batch after the other (concurrency 1, the old behaviour) and the default.
# 50 per 10 s is 300 a minute: more than 8 slots at one 2 s call each can ask (240), less
# than they ask with 8 batches each; 60 per 60 s is the default limit.
CONFIGS = [
    Config("25p-c1", 25, 8, 1),
    Config("25p-c8", 25, 8, 8),
    Config("10p-c1", 10, 8, 1),
    Config("10p-c8", 10, 8, 8),
    Config("10p-c1-50/10s", 10, 8, 1, rpm=50, window=10),
    Config("10p-c8-50/10s", 10, 8, 8, rpm=50, window=10),
    Config("10p-c1-60/60s", 10, 8, 1, rpm=60, window=60),
    Config("10p-c8-60/60s", 10, 8, 8, rpm=60, window=60),
]


@dataclass
class Row:
    """One measured job."""

    config: Config
    chunks: int
    calls: int
    wall: float
    ideal: float
    busiest: int  # most requests started within any window W
    used: float | None  # share of the limit used (None without a limit)

    @property
    def efficiency(self) -> float:
        """Ideal time over measured wall time."""
        return self.ideal / self.wall


def llm_environ(fake: FakeLLM, config: Config | None = None) -> dict[str, str]:
    """The settings that point the gemini processor at the fake server."""
    config = config or Config("dry", 10, 1, 1)
    return {
        "FOLIO_GEMINI_API_KEY": "bench-key-not-a-secret",
        "FOLIO_GEMINI_BASE_URL": fake.url,
        "FOLIO_LLM_TIMEOUT_SECONDS": "30",
        "FOLIO_LLM_RPM": str(config.rpm),
        "FOLIO_LLM_LIMIT_WINDOW_SECONDS": str(config.window),
        "FOLIO_LLM_CONCURRENCY": str(config.concurrency),
    }


@contextmanager
def counting_batches(into: list[int]) -> Iterator[None]:
    """Record the calls each batch makes, in order (one batch at a time: concurrency 1)."""
    original = LLMProcessor._batch

    def counting(self: LLMProcessor, kept: Any, batch: Any, run: Any) -> None:
        original(self, kept, batch, run)
        into.append(batch.usage.calls)

    with mock.patch.object(LLMProcessor, "_batch", counting):
        yield


def calls_per_batch(pdf: Path, chunk_pages: int, fake: FakeLLM) -> list[list[int]]:
    """The LLM calls of each batch of each chunk (the fake answers deterministically)."""
    settings = Settings.from_env({"FOLIO_ENV": "test", **llm_environ(fake)})
    info = inspect_pdf(pdf)
    context = ProcessContext(llm=settings.llm)
    process = ProcessSettings(limit=8, processor="gemini")
    chunks = []
    for chunk in plan_chunks(info.page_count, chunk_pages, 1):
        batches: list[int] = []
        with counting_batches(batches):
            result = run_chunk(pdf, chunk, info.furniture, process, context=context)
        assert result.usage.calls == sum(batches)
        chunks.append(batches)
    return chunks


def ideal_seconds(chunks: list[list[int]], config: Config, latency: float) -> float:
    """Makespan if every call took exactly `latency` and nothing else took time.

    Chunks start in order on the first free slot; a chunk's batches start in order on its
    free lanes (`concurrency` of them); a batch's calls go one after the other; request n
    cannot start before request n - R started plus W (the limiter's rule, without its
    margin). The chunk's slot is free when its last batch ends.
    """
    work = collections.deque(batches for batches in chunks if sum(batches))
    heap: list[tuple[float, int, int, int]] = []  # (wants to send at, order, slot, calls left)
    queues: dict[int, collections.deque[int]] = {}
    active: dict[int, int] = {}
    order = itertools.count()

    def start_chunk(slot: int, at: float) -> None:
        if not work:
            return
        queues[slot] = collections.deque(calls for calls in work.popleft() if calls)
        active[slot] = 0
        while queues[slot] and active[slot] < config.concurrency:
            heapq.heappush(heap, (at, next(order), slot, queues[slot].popleft()))
            active[slot] += 1

    for slot in range(config.slots):
        start_chunk(slot, 0.0)
    starts: list[float] = []
    end = 0.0
    rpm, window = config.rpm, config.window
    while heap:
        wants, _, slot, left = heapq.heappop(heap)
        start = max(wants, starts[-rpm] + window if len(starts) >= rpm else wants)
        starts.append(start)
        done = start + latency
        end = max(end, done)
        if left > 1:
            heapq.heappush(heap, (done, next(order), slot, left - 1))
        elif queues[slot]:
            heapq.heappush(heap, (done, next(order), slot, queues[slot].popleft()))
        else:
            active[slot] -= 1
            if not active[slot]:
                start_chunk(slot, done)
    return end


def limit_used(times: list[float], rpm: int, window: float) -> float | None:
    """W x (n - R) / sum(start[i + R] - start[i]): 1.0 when every request started the
    moment the limiter's window let it (see the module docstring); None if n <= R."""
    times = sorted(times)
    gaps = [later - earlier for earlier, later in zip(times, times[rpm:], strict=False)]
    return window * len(gaps) / sum(gaps) if gaps else None


def busiest_window(times: list[float], window: float) -> int:
    """The most requests the fake server saw start within any `window` seconds."""
    times = sorted(times)
    return max((bisect.bisect_left(times, t + window) - i for i, t in enumerate(times)), default=0)


def run(pdf: Path, config: Config, latency: float, folder: Path, fake: FakeLLM) -> Row:
    """One job of the configuration on a fresh stack; its wall time against the ideal."""
    fake.clear_faults()  # the dry run at zero latency
    fake.reset()
    chunks = calls_per_batch(pdf, config.chunk_pages, fake)
    calls = sum(map(sum, chunks))
    fake.reset()
    fake.set_faults([Fault("latency", times=None, seconds=latency)])
    for number in (BROKER_DB, RESULTS_DB):
        redis.Redis.from_url(redis_url(number)).flushdb()
    with fresh_postgres_database() as url:
        environ = stack_environ(folder, url, redis_url(BROKER_DB), redis_url(RESULTS_DB))
        # A chunk's calls outlast the tests' 6 s lease; production's default is 300 s.
        environ.update(llm_environ(fake, config), FOLIO_CHUNK_LEASE_SECONDS="300")
        environ["FOLIO_PRELOAD_PARSER"] = "true"  # the default the test stacks turn off
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
    times = [entry.time for entry in fake.log]
    if len(times) != calls:
        raise RuntimeError(f"the job made {len(times)} calls, the dry run {calls}")
    used = limit_used(times, config.rpm, config.window) if config.limited else None
    ideal = ideal_seconds(chunks, config, latency)
    return Row(config, len(chunks), calls, wall, ideal, busiest_window(times, config.window), used)


def table(rows: list[Row]) -> str:
    """The rows as a Markdown table."""
    head = ["pages/chunk", "chunks", "slots (-c)", "batches in flight", "limit", "LLM calls"]
    head += ["busiest window", "limit used", "wall s", "ideal s", "efficiency"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
    for r in rows:
        c = r.config
        limit = f"{c.rpm} / {c.window:g} s" if c.limited else "none"
        used = f"{r.used:.1%}" if r.used is not None else ""
        lines.append(
            f"| {c.chunk_pages} | {r.chunks} | {c.slots} | {c.concurrency} | {limit} "
            f"| {r.calls} | {r.busiest} | {used} "
            f"| {r.wall:.1f} | {r.ideal:.1f} | {r.efficiency:.0%} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Run every configuration one after the other and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=2.0, help="seconds per call; 2")
    parser.add_argument("--corpus", type=Path, default=Settings.from_env().corpus_dir)
    names = [config.name for config in CONFIGS]
    parser.add_argument("--only", nargs="+", choices=names, help="these configurations only")
    args = parser.parse_args()
    pdf = args.corpus / "pdfs" / BOOK
    if not pdf.exists():
        sys.exit(f"error: {pdf} not found (set FOLIO_CORPUS_DIR or --corpus)")
    rows = []
    configs = [config for config in CONFIGS if not args.only or config.name in args.only]
    with FakeLLM() as fake, tempfile.TemporaryDirectory(prefix="folio-bench-llm-") as tmp:
        for number, config in enumerate(configs):
            print(f"{config} …", file=sys.stderr, flush=True)
            started = time.perf_counter()
            folder = Path(tmp) / str(number)
            folder.mkdir()
            rows.append(run(pdf, config, args.latency, folder, fake))
            print(f"  {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
            print(table(rows[-1:]).splitlines()[-1], file=sys.stderr, flush=True)
    print(f"{BOOK}, limit 8, gemini on the fake server at {args.latency} s per call\n")
    print(table(rows))
    print(
        f"\n- Serial time (one call at a time): {rows[0].calls} calls x {args.latency} s = "
        f"{rows[0].calls * args.latency:.0f} s. Efficiency = ideal / wall."
    )


if __name__ == "__main__":
    main()
