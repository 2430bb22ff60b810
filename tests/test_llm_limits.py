"""The LLM rate limit: requests and tokens per window, per model, in one process or shared
through Redis by several — measured on what the fake LLM server received."""

from __future__ import annotations

import bisect
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from fakellm import FakeLLM
from folio.config import Settings
from folio.pipeline.processors.llm.limits import (
    InProcessLimiter,
    Limiter,
    RedisLimiter,
    SQLiteLimiter,
    make_limiter,
    margin,
)

WINDOW = 1.0
RPM = 4

# A worker process: the openai processor on the fake, one sentence a batch, limited through
# Redis or a SQLite file, `concurrency` batches at once. argv: fake URL, limiter URL, key
# prefix, rpm, window, sentences, concurrency.
WORKER = """
import sys
from folio.pipeline.processors.llm.limits import make_limiter
from folio.pipeline.model import ProcessSettings, Sentence
from folio.pipeline.processors import LLMConfig, ProcessContext, get_processor

url, limits_url, prefix = sys.argv[1:4]
rpm, window, count = int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
concurrency = int(sys.argv[7])
limiter = make_limiter(limits_url, rpm, 10**9, window, prefix)
config = LLMConfig(
    "openai", "small", base_url=url + "/v1", batch_items=1, max_attempts=1,
    concurrency=concurrency,
)
text = "Il marchait dans la rue, et le soleil brillait sur les toits de la ville endormie."
sentences = [Sentence(1, i, text) for i in range(count)]
output = get_processor("openai", config).process(
    sentences, ProcessSettings(), ProcessContext(limiter=limiter)
)
assert output.usage.calls == count and output.repaired == 0, output
"""


@pytest.fixture
def fake() -> Iterator[FakeLLM]:
    with FakeLLM() as server:
        yield server


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    """Keys of this test only, deleted afterwards."""
    name = f"folio-test:{uuid.uuid4().hex}"
    yield name
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{name}:*"))
    if keys:
        client.delete(*keys)


def busiest_window(times: list[float], window: float) -> int:
    """The most events in any half-open interval [t, t + window)."""
    times = sorted(times)
    return max(bisect.bisect_left(times, t + window) - i for i, t in enumerate(times))


def acquire_times(limiter: Limiter, threads: int, each: int) -> list[float]:
    """Times at which `threads` threads were let through `each` times."""
    times: list[float] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(each):
            limiter.acquire("m", 1)
            with lock:
                times.append(time.monotonic())

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    return times


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """Where a limiter keeps its log, and its key prefix: in process, a file, or Redis."""
    if request.param == "memory":
        return "memory://", ""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'limits.db'}", ""
    return request.getfixturevalue("redis_url"), request.getfixturevalue("prefix")


LIMITERS = {"memory://": InProcessLimiter, "sqlite:": SQLiteLimiter, "redis:": RedisLimiter}


def test_a_limiter_keeps_requests_per_window(store: tuple[str, str]) -> None:
    limiter = make_limiter(store[0], RPM, 10**9, WINDOW, store[1])
    assert isinstance(limiter, next(c for k, c in LIMITERS.items() if store[0].startswith(k)))
    times = acquire_times(limiter, threads=3, each=4)
    assert len(times) == 12 and busiest_window(times, WINDOW) <= RPM
    # Twelve requests at four a window need three windows: the limiter really waited.
    assert max(times) - min(times) >= 2 * WINDOW


def test_a_limiter_counts_tokens_per_model(store: tuple[str, str]) -> None:
    limiter = make_limiter(store[0], 100, 1000, WINDOW, store[1])
    started = time.monotonic()
    limiter.acquire("a", 600)
    limiter.acquire("b", 600)  # another model has its own budget
    assert time.monotonic() - started < 0.2
    limiter.acquire("a", 600)  # over 1000 tokens in the window: waits for the first to leave
    assert time.monotonic() - started >= WINDOW
    limiter.acquire("a", 5000)  # more than the whole budget: clamped, never blocked forever


@pytest.mark.parametrize("concurrency", [1, 4])
@pytest.mark.parametrize("store", ["redis", "sqlite"])
def test_two_processes_sharing_a_limit_never_exceed_it(
    fake: FakeLLM, redis_url: str, prefix: str, tmp_path: Path, store: str, concurrency: int
) -> None:
    # With concurrency 4, each process has up to 4 requests waiting on the limit at once.
    count = 8
    url = redis_url if store == "redis" else f"sqlite:///{tmp_path / 'limits.db'}"
    args = [fake.url, url, prefix, str(RPM), str(WINDOW), str(count), str(concurrency)]
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, *args]) for _ in range(2)]
    assert [worker.wait(60) for worker in workers] == [0, 0]
    times = [entry.time for entry in fake.log]
    assert len(times) == 2 * count
    assert busiest_window(times, WINDOW) <= RPM
    # Sixteen requests at four a window: at least three windows went by.
    assert max(times) - min(times) >= 3 * WINDOW


def test_the_limit_is_redis_when_the_rate_limits_are(tmp_path: Path) -> None:
    shared = Settings.from_env({"FOLIO_RATELIMIT_STORAGE_URL": "redis://127.0.0.1:6379/3"})
    assert shared.llm_limits_url == "redis://127.0.0.1:6379/3"
    assert isinstance(shared.llm_limiter(), RedisLimiter)
    embedded = Settings.from_env({"FOLIO_DATA_DIR": str(tmp_path)})
    assert embedded.llm_limits_url == f"sqlite:///{tmp_path / 'llm-limits.db'}"
    assert isinstance(embedded.llm_limiter(), SQLiteLimiter)  # shared by the pool processes
    threads = Settings.from_env({"FOLIO_LLM_LIMITS_URL": "memory://"})
    assert isinstance(threads.llm_limiter(), InProcessLimiter)
    own = Settings.from_env(
        {"FOLIO_RATELIMIT_STORAGE_URL": "memory://", "FOLIO_LLM_LIMITS_URL": "redis://r:6379/2"}
    )
    assert own.llm_limits_url == "redis://r:6379/2"
    assert (own.llm_rpm, own.llm_tpm, own.llm_limit_window_seconds) == (60, 1_000_000, 60.0)


def test_the_margin_is_small() -> None:
    assert margin(60) == pytest.approx(1.2) and margin(1) == 0.2
