"""A SQLite file switches to WAL even while another process holds a lock on it."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import closing
from pathlib import Path

from folio.models.engine import use_wal
from folio.web.ratelimit_storage import SQLiteStorage


def test_the_switch_waits_for_a_lock_sqlite_refused_at_once(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("CREATE TABLE t (x INTEGER)")
    holder.execute("BEGIN IMMEDIATE")  # another process starting up, mid-transaction
    holder.execute("INSERT INTO t VALUES (1)")
    # timeout=0: SQLite answers "database is locked" at once, as it does to one of two
    # connections that deadlock on the switch, whatever their busy timeout.
    with closing(sqlite3.connect(path, timeout=0, isolation_level=None)) as late:
        try:
            late.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError as error:
            assert "locked" in str(error)
        else:
            raise AssertionError("the switch should have been refused while the lock is held")
        release = threading.Timer(0.3, lambda: holder.execute("COMMIT"))
        release.start()
        use_wal(late)
        release.join()
        assert late.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    holder.close()


def test_the_rate_limit_file_is_in_wal(tmp_path: Path) -> None:
    storage = SQLiteStorage(f"sqlite:///{tmp_path / 'ratelimits.db'}")
    assert storage.incr("k", 60) == 1
    with closing(sqlite3.connect(storage.path)) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
