"""Engine set-up that the models cannot express: SQLite's settings for several writers."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from sqlalchemy import Engine, event

SQLITE_BUSY_TIMEOUT_MS = 30_000
WAL_ATTEMPTS = 50


def use_wal(dbapi_connection: Any) -> None:
    """Switch a SQLite file to WAL, retrying while another process starting at once does too."""
    # Two connections that both read the file and then both ask for the exclusive lock the
    # switch needs deadlock; SQLite answers one of them "database is locked" at once, without
    # waiting out the busy timeout. Once the file is in WAL the pragma takes no lock.
    for attempt in range(WAL_ATTEMPTS):
        try:
            dbapi_connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError:
            if attempt == WAL_ATTEMPTS - 1:
                raise
            time.sleep(0.02 * (attempt + 1))


def _set_sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """Turn on WAL, a busy timeout and foreign keys for a new SQLite connection."""
    cursor = dbapi_connection.cursor()
    try:
        # A writer waits for the lock instead of failing at once with "database is locked".
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # WAL lets readers run while one process writes; the API and every Celery worker
        # write to the same file.
        use_wal(dbapi_connection)
        # Off by default in SQLite: without it ON DELETE CASCADE and every FK are ignored.
        cursor.execute("PRAGMA foreign_keys=ON")
        # Durable at each checkpoint rather than each commit: the usual choice with WAL.
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def unicode_lower(value: Any) -> Any:
    """Lower-case a text the way Python does (SQL's `folio_lower` on SQLite)."""
    return value.lower() if isinstance(value, str) else value


def _add_sqlite_functions(dbapi_connection: Any, connection_record: Any) -> None:
    """Register `folio_lower`: SQLite's own lower() folds ASCII only, so "É" stays "É"."""
    dbapi_connection.create_function("folio_lower", 1, unicode_lower, deterministic=True)


def configure_engine(engine: Engine) -> None:
    """Apply the per-connection settings that `engine`'s database needs."""
    # pysqlite's default transaction handling is kept on purpose: it sends BEGIN just before
    # the first write, so a write transaction takes the lock with its first statement and
    # waits for it (busy timeout) instead of failing when another process wrote in between.
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _set_sqlite_pragmas)
        event.listen(engine, "connect", _add_sqlite_functions)
