"""Readiness: can this API process serve requests and get jobs done right now?

Four components are checked, each with a short timeout of its own and the whole bounded by a
deadline, so a stopped PostgreSQL or Redis is reported within seconds rather than when the
operating system gives up on a connection:

- database: SELECT 1 on a fresh connection (not the app's pool, which a dead server can leave
  holding broken connections), with libpq's connect and statement timeouts;
- broker: PING on Redis, or on the embedded `filesystem://` broker its folders writable;
- storage: a temporary file created and removed in the file store;
- workers: Celery's `control.ping`, at least one worker answering (only asked when the
  broker answered, since kombu retries a publish to a dead broker without end).

Nothing is cached: every call checks again, so a component that comes back is seen at once.

OCR is reported too (Tesseract and its languages), but does not make the service unready:
without it, books with a text layer are still read; scans are refused with `ocr_unavailable`.
"""

from __future__ import annotations

import functools
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.pool import NullPool

from folio.config import Settings, current_settings
from folio.logs import one_line
from folio.ops.waitfor import ping_redis
from folio.pipeline.errors import OcrUnavailable
from folio.pipeline.model import DEFAULT_LANG
from folio.pipeline.sources.pdf.ocr import installed_languages

OK = "ok"
ERROR = "error"
# libpq rounds a connect timeout below 2 s up to 2 s.
DATABASE_TIMEOUT_SECONDS = 2
BROKER_TIMEOUT_SECONDS = 1.0
WORKERS_TIMEOUT_SECONDS = 1.0
# A check that has not answered by then is reported as failed, whatever its own timeouts do.
DEADLINE_SECONDS = 3.0
MAX_REASON_LENGTH = 200
BROKER_FOLDERS = ("queue", "control", "processed")
# Reported, not required: without them the service still works, with less.
OPTIONAL = frozenset({"ocr"})

Probe = Callable[[], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Component:
    """The state of one dependency: ok, or an error with a short reason."""

    status: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The component as it appears in the /ready answer."""
        return {"status": self.status, **self.details}


@dataclass(frozen=True, slots=True)
class Readiness:
    """Every component's state; ready only when all are ok."""

    components: dict[str, Component]

    @property
    def ready(self) -> bool:
        """Whether every component the service needs is ok (OCR is optional)."""
        return all(
            component.status == OK
            for name, component in self.components.items()
            if name not in OPTIONAL
        )

    def to_dict(self) -> dict[str, Any]:
        """The /ready answer's body."""
        return {
            "status": "ready" if self.ready else "unavailable",
            "components": {name: c.to_dict() for name, c in self.components.items()},
        }


def check() -> Readiness:
    """Check the database, the broker, the file store and the workers (a few seconds at most)."""
    settings = current_settings()
    celery: Any = current_app.extensions["celery"]
    deadline = time.monotonic() + DEADLINE_SECONDS
    # The three independent checks run side by side; workers need the broker.
    pending = {
        "database": _Run(lambda: check_database(settings.database_url)),
        "broker": _Run(lambda: check_broker(settings)),
        "storage": _Run(lambda: check_storage(settings.uploads_dir)),
    }
    components = {name: run.result(deadline) for name, run in pending.items()}
    if components["broker"].status == OK:
        run = _Run(lambda: check_workers(celery))
        components["workers"] = run.result(time.monotonic() + WORKERS_TIMEOUT_SECONDS + 1)
    else:
        components["workers"] = Component(ERROR, {"reason": "not checked: the broker is down"})
    components["ocr"] = check_ocr()
    return Readiness(components)


def check_ocr() -> Component:
    """Whether Tesseract runs here, and with which languages (not required to be ready)."""
    try:
        languages = installed_languages()
    except OcrUnavailable:
        reason = "Tesseract is not installed: scans are refused (ocr_unavailable)"
        return Component(ERROR, {"reason": reason})
    details: dict[str, Any] = {"languages": sorted(languages - {"osd"})}
    if DEFAULT_LANG not in languages:
        reason = f"Tesseract has no data for {DEFAULT_LANG}, the default language"
        return Component(ERROR, {**details, "reason": reason})
    return Component(OK, details)


def check_database(url: str) -> dict[str, Any]:
    """Run SELECT 1 on a new connection to the database at `url`."""
    engine = _probe_engine(url)
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return {"backend": engine.dialect.name}


def check_broker(settings: Settings) -> dict[str, Any]:
    """PING the Redis broker, or check that the filesystem broker's folders are writable."""
    if settings.broker_url.startswith("filesystem://"):
        for folder in BROKER_FOLDERS:
            _write_and_delete(settings.broker_dir / folder)
        return {"transport": "filesystem"}
    ping_redis(settings.broker_url, BROKER_TIMEOUT_SECONDS)
    return {"transport": urlsplit(settings.broker_url).scheme}


def check_storage(folder: Path) -> dict[str, Any]:
    """Create and remove a temporary file in the file store (created on first use)."""
    folder.mkdir(parents=True, exist_ok=True)
    _write_and_delete(folder)
    return {}


def check_workers(celery: Any) -> dict[str, Any]:
    """Ask every Celery worker for a pong; fail when none answers in time."""
    options = {
        "socket_timeout": BROKER_TIMEOUT_SECONDS,
        "socket_connect_timeout": BROKER_TIMEOUT_SECONDS,
    }
    with celery.connection_for_write(
        connect_timeout=BROKER_TIMEOUT_SECONDS, transport_options=options
    ) as connection:
        replies = celery.control.ping(timeout=WORKERS_TIMEOUT_SECONDS, connection=connection)
    nodes = sorted(name for reply in replies or [] for name in reply)
    if not nodes:
        raise NoWorkers(f"no worker answered within {WORKERS_TIMEOUT_SECONDS:g} s")
    return {"nodes": nodes}


class NoWorkers(Exception):
    """No Celery worker answered the ping."""


@functools.cache
def _probe_engine(url: str) -> Engine:
    """An engine without a pool: every check opens (and closes) a connection of its own."""
    if make_url(url).get_backend_name() == "postgresql":
        connect_args: dict[str, Any] = {
            "connect_timeout": DATABASE_TIMEOUT_SECONDS,
            "options": f"-c statement_timeout={DATABASE_TIMEOUT_SECONDS * 1000}",
            # Sent data unacknowledged this long (a host that vanished) fails the connection.
            "tcp_user_timeout": DATABASE_TIMEOUT_SECONDS * 1000,
        }
    else:
        connect_args = {"timeout": DATABASE_TIMEOUT_SECONDS}
    return create_engine(url, poolclass=NullPool, connect_args=connect_args)


def _write_and_delete(folder: Path) -> None:
    """Create a small file in `folder` and remove it (raises when the folder is not writable)."""
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".ready-", suffix=".tmp") as handle:
        handle.write(b"ok")
        handle.flush()


class _Run:
    """A probe running in a daemon thread, so that a hung driver never holds the answer."""

    def __init__(self, probe: Probe) -> None:
        self.outcome: Component | None = None
        self.started = time.perf_counter()
        self.thread = threading.Thread(target=self._run, args=(probe,), daemon=True)
        self.thread.start()

    def _run(self, probe: Probe) -> None:
        try:
            details = probe()
        except Exception as error:  # any failure is the component's state, told briefly
            self.outcome = Component(ERROR, {"reason": reason(error)})
        else:
            latency = round((time.perf_counter() - self.started) * 1000, 1)
            self.outcome = Component(OK, {**details, "latency_ms": latency})

    def result(self, deadline: float) -> Component:
        """The probe's outcome, or an error if it has not answered by `deadline` (monotonic)."""
        self.thread.join(max(0.0, deadline - time.monotonic()))
        if self.outcome is None:
            return Component(ERROR, {"reason": "no answer in time"})
        return self.outcome


def reason(error: BaseException) -> str:
    """A short, one-line reason for `error`, with any password or token masked."""
    return f"{type(error).__name__}: {one_line(error)}"[:MAX_REASON_LENGTH]
