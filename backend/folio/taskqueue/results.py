"""The embedded result backend: Celery's database backend without its insert race.

Celery's DatabaseBackend stores a task's state by reading the task's row, and inserting it
when there is none. After a cancel, the revoke broadcast makes every worker mark the same
revoked chunks in the backend (and the chunk worker marks each again when it discards its
message), so two processes can both find no row and both insert: the second insert breaks
the unique `task_id`, and Celery logs the IntegrityError with its traceback before retrying.
Here the row is first created by an INSERT … ON CONFLICT DO NOTHING, committed on its own,
so that every writer finds it and none inserts it twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from celery import states
from celery.backends.database import DatabaseBackend as CeleryDatabaseBackend
from celery.backends.database import session_cleanup
from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite

# The backend aliases (as in db+sqlite:///…) that name this class instead of Celery's.
ALIASES = {
    "db": "folio.taskqueue.results:DatabaseBackend",
    "database": "folio.taskqueue.results:DatabaseBackend",
}
_INSERTS: dict[str, Callable[[Table], sqlite.Insert | postgresql.Insert]] = {
    "sqlite": sqlite.insert,
    "postgresql": postgresql.insert,
}


class DatabaseBackend(CeleryDatabaseBackend):  # type: ignore[misc]  # Celery ships no types
    """Celery's database result backend whose task rows are created race-free."""

    def _store_result(self, task_id: str, *args: Any, **kwargs: Any) -> Any:
        """Make sure the task's row exists, then store the state as Celery does."""
        self._ensure_row(task_id)
        return super()._store_result(task_id, *args, **kwargs)

    def _ensure_row(self, task_id: str) -> None:
        """Insert a PENDING row for `task_id` unless one exists (a no-op then)."""
        session = self.ResultSession()
        with session_cleanup(session):
            insert = _INSERTS.get(session.get_bind().dialect.name)
            if insert is None:  # another database: Celery's own read-then-insert
                return
            statement = insert(self.task_cls.__table__).values(
                task_id=task_id, status=states.PENDING
            )
            session.execute(statement.on_conflict_do_nothing(index_elements=["task_id"]))
            session.commit()
