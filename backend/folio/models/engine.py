"""Engine set-up that the models cannot express: SQLite's settings for several writers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event

SQLITE_BUSY_TIMEOUT_MS = 30_000


def _set_sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """Turn on WAL, a busy timeout and foreign keys for a new SQLite connection."""
    cursor = dbapi_connection.cursor()
    try:
        # WAL lets readers run while one process writes; the API and every Celery worker
        # write to the same file.
        cursor.execute("PRAGMA journal_mode=WAL")
        # A writer waits for the lock instead of failing at once with "database is locked".
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
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
