"""Wait until the database and the broker answer: `python -m folio.ops.waitfor`.

PostgreSQL is tried with a real connection and Redis with PING; SQLite and the `filesystem://`
broker need no server, so there is nothing to wait for. The wait is bounded by
FOLIO_WAIT_SECONDS (default 60); each failed attempt prints one line on stderr.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis
from sqlalchemy import make_url

from folio.config import Settings, env_int
from folio.logs import one_line

DEFAULT_WAIT_SECONDS = 60
PAUSE_SECONDS = 1.0
# libpq rounds a connect timeout below 2 s up to 2 s.
PROBE_TIMEOUT_SECONDS = 2


@dataclass(frozen=True, slots=True)
class Dependency:
    """A server a process needs before it starts, and how to check that it answers."""

    name: str
    shown_url: str
    probe: Callable[[], None]


def redact(url: str) -> str:
    """`url` with its password replaced by `***`, fit for logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def postgres_probe(sqlalchemy_url: str) -> Callable[[], None]:
    """A probe that opens (and closes) a connection to a PostgreSQL database."""
    # libpq wants `postgresql://`; the settings carry SQLAlchemy's `postgresql+psycopg://`.
    conninfo = make_url(sqlalchemy_url).set(drivername="postgresql")
    url = conninfo.render_as_string(hide_password=False)

    def probe() -> None:
        psycopg.connect(url, connect_timeout=PROBE_TIMEOUT_SECONDS).close()

    return probe


def redis_client(url: str, timeout: float) -> redis.Redis:
    """A Redis client that gives up after `timeout` seconds to connect or to get an answer."""
    return redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)


def ping_redis(url: str, timeout: float) -> None:
    """Send PING to the Redis server at `url`; raise when it does not answer in time."""
    client = redis_client(url, timeout)
    try:
        client.ping()
    finally:
        client.close()


def redis_probe(url: str) -> Callable[[], None]:
    """A probe that sends PING to a Redis server."""
    return lambda: ping_redis(url, PROBE_TIMEOUT_SECONDS)


def dependencies(settings: Settings) -> list[Dependency]:
    """The servers these settings name: PostgreSQL databases and Redis brokers or backends."""
    found: dict[str, Dependency] = {}
    candidates = (
        ("the database", settings.database_url),
        ("the broker", settings.broker_url),
        # Celery's database result backend is a SQLAlchemy URL behind a `db+` prefix.
        ("the result backend", settings.result_backend.removeprefix("db+")),
    )
    for name, url in candidates:
        scheme = urlsplit(url).scheme.lower()
        if scheme.startswith(("postgresql", "postgres")):
            probe = postgres_probe(url)
        elif scheme in {"redis", "rediss"}:
            probe = redis_probe(url)
        else:
            continue  # SQLite, filesystem://, memory://: no server to wait for.
        # The broker and the result backend are often the same Redis: one wait is enough.
        found.setdefault(url, Dependency(name, redact(url), probe))
    return list(found.values())


def wait_for(deps: list[Dependency], wait_seconds: int) -> bool:
    """Probe `deps` until all answer or `wait_seconds` pass; report each attempt on stderr."""
    deadline = time.monotonic() + wait_seconds
    pending = list(deps)
    attempt = 0
    while pending:
        attempt += 1
        still: list[Dependency] = []
        for dep in pending:
            try:
                dep.probe()
            except Exception as error:  # any failure to answer is a reason to wait
                still.append(dep)
                left = max(0.0, deadline - time.monotonic())
                if left <= 0:
                    say(
                        f"error: {dep.name} at {dep.shown_url} did not answer within "
                        f"{wait_seconds} s (FOLIO_WAIT_SECONDS): {one_line(error)}"
                    )
                    return False
                say(
                    f"waiting for {dep.name} at {dep.shown_url} "
                    f"(attempt {attempt}, {left:.0f} s left): {one_line(error)}"
                )
            else:
                say(f"{dep.name} at {dep.shown_url} answers")
        pending = still
        if pending:
            time.sleep(min(PAUSE_SECONDS, max(0.0, deadline - time.monotonic())))
    return True


def say(message: str) -> None:
    """Print a progress or error line on stderr."""
    print(f"folio.ops.waitfor: {message}", file=sys.stderr, flush=True)


def main(environ: Mapping[str, str] | None = None) -> int:
    """Wait for the configured servers; 0 when they answer, 1 on timeout, 2 on bad settings."""
    environ = os.environ if environ is None else environ
    try:
        settings = Settings.from_env(environ)
        wait_seconds = env_int(environ, "FOLIO_WAIT_SECONDS", DEFAULT_WAIT_SECONDS, minimum=0)
    except ValueError as error:
        say(f"error: {error}")
        return 2
    return 0 if wait_for(dependencies(settings), wait_seconds) else 1


if __name__ == "__main__":
    sys.exit(main())
