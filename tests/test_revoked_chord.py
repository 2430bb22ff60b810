"""A chord whose chunks a cancel revoked is one INFO line; any other chord error stays an ERROR."""

from __future__ import annotations

import logging

import pytest
from celery.exceptions import ChordError, TaskRevokedError

from folio.taskqueue import revoked


def chord_error(
    caplog: pytest.LogCaptureFixture, logger: str, error: Exception
) -> logging.LogRecord:
    """What Celery logs when a chord's join raises `error`, as the filter leaves it."""
    revoked.install()
    caplog.clear()
    try:
        raise error
    except Exception as exc:
        logging.getLogger(logger).exception("Chord %r raised: %r", "group-1", exc)
    [record] = caplog.records
    return record


@pytest.mark.parametrize("logger", revoked.CHORD_LOGGERS)
def test_a_revoked_chunk_makes_one_info_line(caplog: pytest.LogCaptureFixture, logger: str) -> None:
    record = chord_error(caplog, logger, TaskRevokedError("revoked"))
    assert record.levelno == logging.INFO
    assert record.exc_info is None
    assert record.getMessage() == (
        "Chord 'group-1' stopped: its chunks were revoked by a cancel (the cancel sends finalize)"
    )


def test_the_redis_backend_s_chord_error_names_the_revoke(caplog: pytest.LogCaptureFixture) -> None:
    error = ChordError("Dependency chunk-1 raised TaskRevokedError('revoked')")
    record = chord_error(caplog, "celery.backends.redis", error)
    assert record.levelno == logging.INFO


def test_a_revoke_that_caused_the_error_counts(caplog: pytest.LogCaptureFixture) -> None:
    try:
        raise TaskRevokedError("revoked")
    except TaskRevokedError as cause:
        error = ChordError("Dependency chunk-1 failed")
        error.__cause__ = cause
    record = chord_error(caplog, "celery.app.builtins", error)
    assert record.levelno == logging.INFO


def test_any_other_chord_error_keeps_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    record = chord_error(caplog, "celery.app.builtins", ValueError("a chunk failed"))
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None


def test_installing_twice_adds_one_filter() -> None:
    revoked.install()
    revoked.install()
    for name in revoked.CHORD_LOGGERS:
        filters = logging.getLogger(name).filters
        assert sum(isinstance(f, revoked.RevokedChordFilter) for f in filters) == 1
