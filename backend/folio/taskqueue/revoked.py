"""A chord whose chunks a cancel revoked: one INFO line, not an ERROR with a traceback.

Cancelling a job revokes its queued chunks, so the chord of those chunks can never complete:
Celery then logs "Chord … raised: TaskRevokedError" with a traceback (chord_unlock on the
embedded backend, the Redis backend's chord counter in production) and fails the chord's
body. That is expected: the cancel sends the job's finalize itself
(`jobstate.request_cancel`), so nothing waits for the body. Any other chord error is
logged as Celery logs it.
"""

from __future__ import annotations

import logging

from celery.exceptions import TaskRevokedError

# Where Celery logs "Chord %r raised: %r": chord_unlock, the key-value backends, Redis.
CHORD_LOGGERS = ("celery.app.builtins", "celery.backends.base", "celery.backends.redis")
MESSAGE = "Chord %r stopped: its chunks were revoked by a cancel (the cancel sends finalize)"


class RevokedChordFilter(logging.Filter):
    """Turns a chord error caused by a revoked task into one INFO line."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place when it is a revoked chord's error; keep every record."""
        if str(record.msg).startswith("Chord %r raised") and caused_by_revoke(record):
            group_id = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
            record.msg, record.args = MESSAGE, (group_id,)
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.exc_info, record.exc_text = None, None
        return True


def caused_by_revoke(record: logging.LogRecord) -> bool:
    """Whether the record's error, or what it was raised from, is a revoked task."""
    error = record.exc_info[1] if record.exc_info else None
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        # The Redis backend's ChordError carries the revoke in its message only.
        if isinstance(error, TaskRevokedError) or "TaskRevokedError" in str(error):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def install() -> None:
    """Add the filter to Celery's chord loggers (once per process)."""
    for name in CHORD_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RevokedChordFilter) for f in logger.filters):
            logger.addFilter(RevokedChordFilter())
