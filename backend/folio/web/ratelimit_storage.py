"""A storage for the `limits` library in a SQLite file: the rate-limit counts of every API
process of one host, on embedded defaults (`make run` runs gunicorn with two workers).

Defining the class registers its URL scheme with `limits`, so FOLIO_RATELIMIT_STORAGE_URL =
`sqlite:///PATH` selects it (the default: `ratelimits.db` in FOLIO_DATA_DIR). Redis stays the
choice when API processes run on several hosts (production). It serves Flask-Limiter's
default strategy, the fixed window, which is the one Folio uses: a count per key that starts
at the first hit and expires `expiry` seconds later. Each call opens its own connection (a
gunicorn worker forks after the app is built, and a connection must not cross a fork) and
changes the count inside an immediate transaction, so two processes never lose a hit; the
same way as `pipeline/processors/llm/limits.py` shares the LLM limits.
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from pathlib import Path
from typing import Any

from limits.storage import Storage

from folio.models.engine import use_wal

SCHEME = "sqlite"
PREFIX = f"{SCHEME}:///"
BUSY_TIMEOUT_SECONDS = 30


class SQLiteStorage(Storage):
    """Fixed-window counts in a SQLite file shared by the processes of one host."""

    STORAGE_SCHEME = [SCHEME]  # noqa: RUF012 (the type `limits` declares: a list)

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options: Any) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        # As FOLIO_LLM_LIMITS_URL writes it: sqlite:/// then the path (absolute: four slashes).
        if not uri.startswith(PREFIX):
            raise ValueError(f"a SQLite rate-limit storage URL is {PREFIX}PATH, got {uri!r}")
        self.path = Path(uri.removeprefix(PREFIX))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as connection:
            # WAL: a count is read while another process writes one.
            use_wal(connection)
            connection.execute(
                "CREATE TABLE IF NOT EXISTS counts"
                " (key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires REAL NOT NULL)"
            )

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return sqlite3.Error

    def _connect(self) -> sqlite3.Connection:
        # Autocommit mode: the transactions below are explicit.
        return sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """Add `amount` to the count of `key`, starting a window of `expiry` s if it has none."""
        with closing(self._connect()) as connection:
            # IMMEDIATE takes the write lock first: one process at a time reads and adds.
            connection.execute("BEGIN IMMEDIATE")
            now = time.time()  # the processes share the host's clock
            connection.execute("DELETE FROM counts WHERE expires <= ?", (now,))
            connection.execute(
                "INSERT INTO counts (key, count, expires) VALUES (?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET count = count + excluded.count",
                (key, amount, now + expiry),
            )
            (count,) = connection.execute(
                "SELECT count FROM counts WHERE key = ?", (key,)
            ).fetchone()
            connection.execute("COMMIT")
        return int(count)

    def _row(self, key: str) -> tuple[int, float] | None:
        with closing(self._connect()) as connection:
            row = connection.execute(
                "SELECT count, expires FROM counts WHERE key = ? AND expires > ?",
                (key, time.time()),
            ).fetchone()
        return None if row is None else (int(row[0]), float(row[1]))

    def get(self, key: str) -> int:
        """The count of `key` in its current window (0 when it has none)."""
        row = self._row(key)
        return 0 if row is None else row[0]

    def get_expiry(self, key: str) -> float:
        """When the window of `key` ends (now when it has none), in seconds since the epoch."""
        row = self._row(key)
        return time.time() if row is None else row[1]

    def check(self) -> bool:
        """Whether the file answers."""
        try:
            with closing(self._connect()) as connection:
                connection.execute("SELECT 1 FROM counts LIMIT 1").fetchall()
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        """Forget every count; how many there were."""
        with closing(self._connect()) as connection:
            return connection.execute("DELETE FROM counts").rowcount

    def clear(self, key: str) -> None:
        """Forget the count of `key`."""
        with closing(self._connect()) as connection:
            connection.execute("DELETE FROM counts WHERE key = ?", (key,))
