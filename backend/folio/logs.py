"""Logging: JSON lines or text, each record carrying its request id, user, job and chunk.

The context lives in context variables, set by request hooks (the request id, taken from
X-Request-ID or made here, and echoed in the answer), by the JWT user loader (the user id) and
by Celery's task_prerun/task_postrun signals (job id and chunk index). A log record factory
copies them onto every record, whichever logger or handler it goes through.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from celery.signals import task_postrun, task_prerun
from flask import Flask, Response, g, request

REQUEST_ID_HEADER = "X-Request-ID"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
CONTEXT_FIELDS = ("request_id", "user_id", "job_id", "chunk_index")
# A client's request id is kept only when it is short and plain: it goes into every log line.
_CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# Secrets that may slip into a message: URL passwords, bearer tokens, key=value secrets.
_SECRETS = (
    (re.compile(r"(://[^:/@\s]*:)[^@\s]+@"), r"\1***@"),
    (re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE), r"\1***"),
    (
        re.compile(r"((?:password|passwd|secret|token|api_key)[\"']?\s*[=:]\s*[\"']?)[^\s\"',&]+"),
        r"\1***",
    ),
)
# Attributes every LogRecord has: whatever else a record carries came from `extra=`.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    *CONTEXT_FIELDS,
}
# Task name → the names of its positional arguments that go into the log context.
TASK_CONTEXT = {
    "folio.process_chunk": ("job_id", "chunk_index"),
    "folio.finalize_job": ("job_id",),
}

_context: dict[str, ContextVar[Any]] = {
    name: ContextVar(f"folio_log_{name}", default=None) for name in CONTEXT_FIELDS
}
_HANDLER_NAME = "folio"


def scrub(text: str) -> str:
    """`text` with URL passwords, bearer tokens and key=value secrets replaced by ***."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def one_line(error: BaseException) -> str:
    """The error's message on one line, secrets masked (driver messages span several)."""
    return scrub(" ".join(str(error).split()) or type(error).__name__)


def bind(**values: Any) -> None:
    """Set log context fields (request_id, user_id, job_id, chunk_index) for what follows."""
    for name, value in values.items():
        _context[name].set(value)


def clear() -> None:
    """Forget every log context field (the end of a request or task)."""
    for var in _context.values():
        var.set(None)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, context and extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        """Render `record` as a single line of JSON."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
            "pid": record.process,
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        for name, value in vars(record).items():
            if name not in _STANDARD and not name.startswith("_"):
                entry[name] = value
        if record.exc_info:
            entry["exception"] = scrub(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = scrub(self.formatStack(record.stack_info))
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """The classic one-line text format, with the context fields that are set appended."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        """Render `record` as text, context in brackets, secrets scrubbed."""
        text = super().format(record)
        context = " ".join(
            f"{name}={getattr(record, name)}"
            for name in CONTEXT_FIELDS
            if getattr(record, name, None) is not None
        )
        return scrub(f"{text} [{context}]" if context else text)


def _context_record_factory(base: Callable[..., logging.LogRecord]) -> Callable[..., Any]:
    """Wrap a LogRecord factory so that each record carries the current context fields."""

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = base(*args, **kwargs)
        for name, var in _context.items():
            setattr(record, name, var.get())
        return record

    factory.folio_context = True  # type: ignore[attr-defined]
    return factory


def configure_logging(level: str, log_format: str) -> None:
    """Log to stderr at `level` in `log_format` ("json" or "text"); safe to call again."""
    base = logging.getLogRecordFactory()
    if not getattr(base, "folio_context", False):
        logging.setLogRecordFactory(_context_record_factory(base))
    formatter = JsonFormatter() if log_format == "json" else TextFormatter()
    root = logging.getLogger()
    ours = [handler for handler in root.handlers if handler.name == _HANDLER_NAME]
    if ours:
        ours[0].setFormatter(formatter)
    elif not root.handlers:
        # Something else (pytest) that configured the root logger keeps its handlers.
        handler = logging.StreamHandler(sys.stderr)
        handler.name = _HANDLER_NAME
        handler.setFormatter(formatter)
        root.addHandler(handler)
        root.setLevel(level)
    logging.getLogger("folio").setLevel(level)


def register_request_logging(app: Flask) -> None:
    """Give each request an id (X-Request-ID, echoed back) and log one line when it ends."""
    app.before_request(_start_request)
    app.after_request(_finish_request)
    app.teardown_request(lambda error: clear())


def _start_request() -> None:
    clear()
    given = request.headers.get(REQUEST_ID_HEADER, "")
    request_id = given if _CLIENT_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
    g.folio_started = time.perf_counter()
    bind(request_id=request_id)


def _finish_request(response: Response) -> Response:
    request_id = _context["request_id"].get()
    if request_id is not None:
        response.headers[REQUEST_ID_HEADER] = request_id
    started = g.get("folio_started")
    duration_ms = round((time.perf_counter() - started) * 1000, 1) if started else None
    # The path only: a query string is the client's and may hold anything.
    logging.getLogger("folio.request").info(
        "%s %s %s",
        request.method,
        request.path,
        response.status_code,
        extra={
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": duration_ms,
        },
    )
    return response


def register_task_logging() -> None:
    """Bind a task's job id and chunk index to its log lines (Celery signals; idempotent)."""
    task_prerun.connect(_task_started, weak=False, dispatch_uid="folio.logs.prerun")
    task_postrun.connect(_task_ended, weak=False, dispatch_uid="folio.logs.postrun")


def _task_started(sender: Any = None, args: Any = None, **kwargs: Any) -> None:
    clear()
    names = TASK_CONTEXT.get(getattr(sender, "name", ""), ())
    bind(**dict(zip(names, args or (), strict=False)))


def _task_ended(**kwargs: Any) -> None:
    clear()
