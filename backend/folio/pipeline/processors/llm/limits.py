"""One rate limit per model shared by every worker process: requests and tokens per window.

A sliding-window log: each request is recorded with its time and token estimate, and a new
one is allowed while the window (FOLIO_LLM_LIMIT_WINDOW_SECONDS, 60) holds fewer than
FOLIO_LLM_RPM requests and the tokens stay within FOLIO_LLM_TPM. With Redis the log is two
sorted sets per model, checked and appended by one Lua script (atomic, on the server's clock,
so processes on several hosts agree). On embedded defaults it is a SQLite file in the data
folder, written under an immediate (exclusive) transaction, so that the pool processes of the
worker on this host share it; `memory://` keeps it in the process (threads only).

Entries live a little longer than the window (2 %, at least 0.2 s): a request is counted
when it is allowed, a few milliseconds before the provider sees it, and the margin keeps
that delay from letting R + 1 requests into one of the provider's windows.
"""

from __future__ import annotations

import collections
import functools
import math
import sqlite3
import threading
import time
import uuid
from contextlib import closing
from pathlib import Path

import redis

KEY_PREFIX = "folio:llm-limit"
_MARGIN_SHARE, _MARGIN_MIN = 0.02, 0.2

# KEYS: requests zset, tokens zset. ARGV: rpm, tpm, window µs, id, tokens.
# Returns 0 when the request is recorded, otherwise the µs to wait before asking again.
_ACQUIRE = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local rpm, tpm, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tokens = tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
local used = 0
local entries = redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')
for i = 1, #entries, 2 do
  used = used + tonumber(string.match(entries[i], ':(%d+)$'))
end
local count = redis.call('ZCARD', KEYS[1])
if count < rpm and (used + tokens <= tpm or count == 0) then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('ZADD', KEYS[2], now, ARGV[4] .. ':' .. ARGV[5])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000) + 1000)
  redis.call('PEXPIRE', KEYS[2], math.ceil(window / 1000) + 1000)
  return 0
end
-- Both sets hold the same entries: the oldest one leaving frees a request and its tokens.
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(tonumber(oldest[2]) + window - now, 1000)
"""


def margin(window: float) -> float:
    """How much longer than the window an entry is kept (see the module docstring)."""
    return max(_MARGIN_MIN, window * _MARGIN_SHARE)


class InProcessLimiter:
    """The limit for the threads of one process (embedded defaults, tests)."""

    def __init__(self, rpm: int, tpm: int, window: float = 60.0) -> None:
        self.rpm, self.tpm, self.window = rpm, tpm, window
        self._span = window + margin(window)
        self._log: dict[str, collections.deque[tuple[float, int]]] = collections.defaultdict(
            collections.deque
        )
        self._lock = threading.Lock()

    def acquire(self, model: str, tokens: int) -> None:
        """Block until a request of `tokens` tokens to `model` fits the window."""
        while (wait := self._try(model, min(tokens, self.tpm))) > 0:
            time.sleep(wait)

    def _try(self, model: str, tokens: int) -> float:
        """Record the request and return 0, or return the seconds to wait."""
        with self._lock:
            now = time.monotonic()
            log = self._log[model]
            while log and log[0][0] <= now - self._span:
                log.popleft()
            used = sum(count for _, count in log)
            if len(log) < self.rpm and (used + tokens <= self.tpm or not log):
                log.append((now, tokens))
                return 0.0
            return max(log[0][0] + self._span - now, 0.001)


class SQLiteLimiter:
    """The limit for every process of one host, through a SQLite file (embedded defaults)."""

    def __init__(self, path: Path, rpm: int, tpm: int, window: float = 60.0) -> None:
        self.rpm, self.tpm, self.window = rpm, tpm, window
        self.path = path
        self._span = window + margin(window)
        with closing(self._connect()) as connection:
            connection.execute(
                "CREATE TABLE IF NOT EXISTS requests (model TEXT, at REAL, tokens INTEGER)"
            )

    def acquire(self, model: str, tokens: int) -> None:
        """Block until a request of `tokens` tokens to `model` fits the window."""
        while (wait := self._try(model, max(0, min(tokens, self.tpm)))) > 0:
            time.sleep(wait)

    def _connect(self) -> sqlite3.Connection:
        # Autocommit mode: the transactions below are explicit.
        return sqlite3.connect(self.path, timeout=30, isolation_level=None)

    def _try(self, model: str, tokens: int) -> float:
        """Record the request and return 0, or return the seconds to wait."""
        with closing(self._connect()) as connection:
            # IMMEDIATE takes the write lock first: one process at a time checks and appends.
            connection.execute("BEGIN IMMEDIATE")
            now = time.time()  # the processes share the host's clock
            connection.execute("DELETE FROM requests WHERE at <= ?", (now - self._span,))
            count, used, oldest = connection.execute(
                "SELECT count(*), coalesce(sum(tokens), 0), min(at) FROM requests WHERE model = ?",
                (model,),
            ).fetchone()
            wait = 0.0
            if count < self.rpm and (used + tokens <= self.tpm or count == 0):
                connection.execute("INSERT INTO requests VALUES (?, ?, ?)", (model, now, tokens))
            else:
                wait = max(oldest + self._span - now, 0.001)
            connection.execute("COMMIT")
        return float(wait)


class RedisLimiter:
    """The limit shared through Redis by every process and host (production)."""

    def __init__(
        self, client: redis.Redis, rpm: int, tpm: int, window: float = 60.0, prefix: str = ""
    ) -> None:
        self.rpm, self.tpm, self.window = rpm, tpm, window
        self._client = client
        self._span_us = math.ceil((window + margin(window)) * 1_000_000)
        self._prefix = prefix or KEY_PREFIX
        self._script = client.register_script(_ACQUIRE)

    def acquire(self, model: str, tokens: int) -> None:
        """Block until a request of `tokens` tokens to `model` fits the window."""
        keys = [f"{self._prefix}:{model}:requests", f"{self._prefix}:{model}:tokens"]
        tokens = max(0, min(tokens, self.tpm))
        while True:
            args: list[str | int] = [self.rpm, self.tpm, self._span_us, uuid.uuid4().hex, tokens]
            wait_us = int(self._script(keys=keys, args=args))
            if wait_us == 0:
                return
            time.sleep(wait_us / 1_000_000)


Limiter = InProcessLimiter | SQLiteLimiter | RedisLimiter
SQLITE_PREFIX = "sqlite:///"


def make_limiter(url: str, rpm: int, tpm: int, window: float = 60.0, prefix: str = "") -> Limiter:
    """A Redis limiter for redis:// URLs, a file one for sqlite:///PATH, else in process."""
    if url.startswith(("redis://", "rediss://")):
        return RedisLimiter(redis.Redis.from_url(url), rpm, tpm, window, prefix)
    if url.startswith(SQLITE_PREFIX):
        return SQLiteLimiter(Path(url.removeprefix(SQLITE_PREFIX)), rpm, tpm, window)
    return InProcessLimiter(rpm, tpm, window)


@functools.cache
def shared_limiter(url: str, rpm: int, tpm: int, window: float) -> Limiter:
    """The process's limiter for these settings (one Redis connection pool per process)."""
    return make_limiter(url, rpm, tpm, window)
