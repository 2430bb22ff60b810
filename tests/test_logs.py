"""Logs: the JSON and text formats, secrets kept out, the request id, the user, and a task's
job id and chunk index on its log lines."""

from __future__ import annotations

import json
import logging
import sys
import uuid
from typing import Any

import pytest
from flask import Flask

from factories import auth_headers, make_user
from folio import logs, tasks
from folio.config import Settings

LOGGER = logging.getLogger("folio.test")


def make_record(message: str, *args: object, **extra: Any) -> logging.LogRecord:
    """A record made the way a logger makes it (through the context record factory)."""
    logs.configure_logging("INFO", "text")  # installs the factory (idempotent)
    return LOGGER.makeRecord(
        LOGGER.name, logging.INFO, __file__, 1, message, args, None, extra=extra or None
    )


def test_json_lines_carry_the_context_and_extra_fields() -> None:
    logs.bind(request_id="req-1", user_id=7, job_id="job-9", chunk_index=2)
    try:
        line = logs.JsonFormatter().format(make_record("chunk %s done", 2, duration_ms=12.5))
    finally:
        logs.clear()
    entry = json.loads(line)
    assert "\n" not in line
    assert entry["message"] == "chunk 2 done"
    assert entry["level"] == "INFO"
    assert entry["logger"] == "folio.test"
    assert entry["time"].endswith("+00:00")
    assert entry["request_id"] == "req-1"
    assert entry["user_id"] == 7
    assert entry["job_id"] == "job-9"
    assert entry["chunk_index"] == 2
    assert entry["duration_ms"] == 12.5


def test_json_lines_leave_out_unset_context_and_keep_tracebacks_on_one_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        made = make_record("failed")
        made.exc_info = sys.exc_info()
    line = logs.JsonFormatter().format(made)
    entry = json.loads(line)
    assert "request_id" not in entry and "job_id" not in entry
    assert "ValueError: boom" in entry["exception"]
    assert "\n" not in line


@pytest.mark.parametrize(
    ("message", "secret"),
    [
        ("broker at redis://:hunter2@redis:6379/0 is down", "hunter2"),
        ("db postgresql://folio:s3cr3t@db/folio refused", "s3cr3t"),
        ("sent Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc", "eyJhbGciOiJIUzI1NiJ9"),
        ("retrying with api_key=AIzaSyA-very-secret", "AIzaSyA-very-secret"),
        ('{"password": "correct horse"}', "correct"),
    ],
)
def test_secrets_are_masked_in_both_formats(message: str, secret: str) -> None:
    for formatter in (logs.JsonFormatter(), logs.TextFormatter()):
        line = formatter.format(make_record(message))
        assert secret not in line
        assert "***" in line


def test_text_format_appends_the_context() -> None:
    logs.bind(request_id="abc")
    try:
        line = logs.TextFormatter().format(make_record("hello"))
    finally:
        logs.clear()
    assert line.endswith("folio.test: hello [request_id=abc]")


def test_the_format_setting_defaults_to_json_in_production_only() -> None:
    base = {"FOLIO_SECRET_KEY": "x" * 40}
    assert Settings.from_env({**base, "FOLIO_ENV": "production"}).log_format == "json"
    assert Settings.from_env({**base, "FOLIO_ENV": "development"}).log_format == "text"
    assert Settings.from_env({**base, "FOLIO_LOG_FORMAT": "JSON"}).log_format == "json"
    with pytest.raises(ValueError, match="FOLIO_LOG_FORMAT"):
        Settings.from_env({**base, "FOLIO_LOG_FORMAT": "xml"})


def request_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """The per-request log lines captured so far."""
    return [r for r in caplog.records if r.name == "folio.request"]


def test_a_request_id_is_made_echoed_and_logged(
    sqlite_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="folio.request")
    response = sqlite_app.test_client().get("/health")
    request_id = response.headers["X-Request-ID"]
    assert len(request_id) == 32 and uuid.UUID(request_id)
    (line,) = request_records(caplog)
    assert line.request_id == request_id  # type: ignore[attr-defined]
    assert line.status == 200 and line.path == "/health"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("given", "kept"),
    [("abc-123.X:y_z", True), ("x" * 129, False), ("bad id with spaces", False), ("", False)],
)
def test_a_clients_request_id_is_kept_only_when_plain(
    sqlite_app: Flask, given: str, kept: bool
) -> None:
    response = sqlite_app.test_client().get("/health", headers={"X-Request-ID": given})
    assert (response.headers["X-Request-ID"] == given) is kept


def test_request_lines_carry_the_user_and_the_context_ends_with_the_request(
    sqlite_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="folio.request")
    with sqlite_app.app_context():
        user = make_user()
        user_id = user.id
        headers = {**auth_headers(user), "X-Request-ID": "trace-42"}
    client = sqlite_app.test_client()
    assert client.get("/api/v1/jobs", headers=headers).status_code == 200
    client.get("/health")
    authenticated, anonymous = request_records(caplog)
    assert authenticated.request_id == "trace-42"  # type: ignore[attr-defined]
    assert authenticated.user_id == user_id  # type: ignore[attr-defined]
    assert anonymous.user_id is None  # type: ignore[attr-defined]
    assert anonymous.request_id != "trace-42"  # type: ignore[attr-defined]
    assert "Bearer" not in caplog.text


def test_a_chunk_tasks_log_lines_carry_its_job_and_chunk(
    sqlite_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="celery.app.trace")
    job_id = str(uuid.uuid4())
    task = sqlite_app.extensions["celery"].tasks[tasks.process_chunk.name]
    # A job that does not exist: the real task runs, finds nothing to do, and logs its end.
    assert task.apply(args=(job_id, 3)).get() == "skipped"
    (line,) = [r for r in caplog.records if "succeeded" in r.getMessage()]
    entry = json.loads(logs.JsonFormatter().format(line))
    assert entry["job_id"] == job_id
    assert entry["chunk_index"] == 3
    # Once the task has ended, later lines carry no job.
    assert make_record("after").job_id is None  # type: ignore[attr-defined]
