"""The end-to-end harness: the real stack on embedded defaults (what `make run` starts), a
small JSON client of its API, and screenshots kept as test artifacts."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, ViewportSize

from runner import REPO, SECRET_KEY, clean_environ, free_port, http_status, processes_with, start
from workers import with_tests_dir

FRONTEND_OUT = REPO / "frontend" / "out"
ARTIFACTS = REPO / "tests" / "artifacts" / "e2e"
DOC_IMAGES = REPO / "docs" / "images"
# The README's screenshots are refreshed from a run only when asked (`make screenshots`):
# otherwise every test run would leave the working tree changed.
UPDATE_DOC_IMAGES = os.environ.get("FOLIO_E2E_UPDATE_DOC_IMAGES") == "1"
BIN = Path(sys.executable).parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 375, "height": 812}
# Each test signs up its own account: the novel (308 credits) fits in its grant many times.
SIGNUP_CREDITS = 2000
PASSWORD = "correct horse battery staple"
STARTUP_SECONDS = 120
STOP_SECONDS = 20


class ApiError(AssertionError):
    """An answer other than 2xx, with its status and JSON error body."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body


@dataclass
class Api:
    """The stack's JSON API, signed in as one user."""

    base: str
    token: str = ""

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One request under /api/v1; the decoded JSON answer (None for 204)."""
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(
            f"{self.base}/api/v1{path}", data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                raw = answer.read()
        except urllib.error.HTTPError as error:
            raise ApiError(error.code, error.read().decode(errors="replace")) from None
        return json.loads(raw) if raw else None

    def login(self, email: str, password: str = PASSWORD) -> Api:
        """A client signed in as `email` (a token family of its own, beside the browser's)."""
        answer = self.request("POST", "/auth/login", {"email": email, "password": password})
        return Api(self.base, answer["access_token"])

    def me(self) -> dict[str, Any]:
        result: dict[str, Any] = self.request("GET", "/auth/me")
        return result

    def job(self, job_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request("GET", f"/jobs/{job_id}")
        return result

    def jobs(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.request("GET", "/jobs?limit=100")["items"]
        return items

    def chunks(self, job_id: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.request("GET", f"/jobs/{job_id}/chunks")["items"]
        return items

    def ledger(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.request("GET", "/credits/ledger?limit=100")["items"]
        return items

    def matches(self, job_id: str, q: str) -> int:
        """How many of the job's sentences contain `q` (any case)."""
        query = urllib.parse.urlencode({"q": q, "limit": 1})
        total: int = self.request("GET", f"/jobs/{job_id}/sentences?{query}")["total"]
        return total

    def sentences(self, job_id: str) -> list[dict[str, Any]]:
        """Every sentence of a finished job, in order, read page after page."""
        found: list[dict[str, Any]] = []
        after: int | None = 0
        while after is not None:
            page = self.request("GET", f"/jobs/{job_id}/sentences?limit=500&after={after}")
            found.extend(page["items"])
            after = page["next_after"]
        return found


@dataclass
class Stack:
    """The API (gunicorn), the chunk and control workers, beat and Flower on one data folder."""

    base: str
    data_dir: Path
    log: Path
    process: subprocess.Popen[bytes]

    @property
    def api(self) -> Api:
        return Api(self.base)

    def inject_faults(self, **faults: Any) -> None:
        """Slow down or fail the chunks that start from now on (FOLIO_ENV=test only)."""
        (self.data_dir / "faults.json").write_text(json.dumps(faults), encoding="utf-8")

    def clear_faults(self) -> None:
        (self.data_dir / "faults.json").unlink(missing_ok=True)

    def log_tail(self, lines: int = 80) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def frontend_missing_reason(out: Path = FRONTEND_OUT) -> str | None:
    """Why the frontend's static export cannot be served, or None when it can."""
    if not (out / "index.html").is_file():
        return (
            f"the frontend's static export is not at {out}: run `make test`, or build the "
            "frontend (cd frontend && npm install && npm run build)"
        )
    return None


def _not_ready(process: subprocess.Popen[bytes], log: Path, port: int) -> list[str]:
    """What of the stack is not up yet (empty once every role is); fails if it stopped."""
    if process.poll() is not None:
        raise AssertionError(f"the stack exited with code {process.returncode}:\n{_tail(log)}")
    text = log.read_text(errors="replace")
    missing = [
        f"the {role} worker"
        for role in ("worker", "control")
        if not re.search(rf"^{role}\s+\|.*\bready\.", text, re.M)
    ]
    if http_status(port, "/health") != 200:
        missing.append("the API")
    return missing


def _tail(log: Path, lines: int = 150) -> str:
    text = log.read_text(errors="replace") if log.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def _wait_until_up(process: subprocess.Popen[bytes], log: Path, port: int) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while missing := _not_ready(process, log, port):
        if time.monotonic() > deadline:
            raise AssertionError(
                f"after {STARTUP_SECONDS} s still waiting for {', '.join(missing)}; "
                f"log:\n{_tail(log)}"
            )
        time.sleep(0.2)


def stack_environ(data_dir: Path, frontend_dir: Path) -> dict[str, str]:
    """Embedded defaults (SQLite, the filesystem broker), plus what the e2e tests need."""
    return clean_environ(
        # The entrypoint starts `celery -A faultworker`: folio.worker plus the seam that reads
        # data_dir/faults.json (the cancel and partial tests).
        CELERY_APP="faultworker",
        PYTHONPATH=with_tests_dir(),
        FOLIO_DATA_DIR=str(data_dir),
        FOLIO_FRONTEND_DIR=str(frontend_dir),
        FOLIO_SECRET_KEY=SECRET_KEY,
        FOLIO_SIGNUP_CREDITS=str(SIGNUP_CREDITS),
        FOLIO_RATELIMIT_ENABLED="false",
        FOLIO_WORKER_CONCURRENCY="2",
        FOLIO_RECONCILE_SECONDS="5",
    )


@contextlib.contextmanager
def running_stack(folder: Path, frontend_dir: Path) -> Iterator[Stack]:
    """`make run` in `folder`: migrate, start folio.ops.devserver, wait until every role is up;
    afterwards stop it (SIGTERM, then SIGKILL of whatever carries the data folder)."""
    data_dir = folder / "data"
    data_dir.mkdir(parents=True)
    environ = stack_environ(data_dir, frontend_dir)
    log = folder / "stack.log"
    migrate = subprocess.run(
        [str(BIN / "flask"), "--app", "folio.wsgi", "db", "upgrade"],
        env=environ,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    port, flower_port = free_port(), free_port()
    argv = [
        str(BIN / "python"),
        "-m",
        "folio.ops.devserver",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--flower-port",
        str(flower_port),
        # Every process's output in stack.log too (the readiness check reads the workers').
        "--verbose",
        "--",
        str(BIN / "gunicorn"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        "--preload",
        "folio.wsgi:app",
    ]
    process = start(argv, environ, log)
    stack = Stack(f"http://127.0.0.1:{port}", data_dir, log, process)
    try:
        _wait_until_up(process, log, port)
        yield stack
    finally:
        stop(process, str(data_dir))
        # The whole stack's output, beside the screenshots, for whoever reads a failure.
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(log, ARTIFACTS / "stack.log")


def stop(process: subprocess.Popen[bytes], marker: str) -> None:
    """SIGTERM the supervisor (it stops every role); SIGKILL what is left after the grace."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    # Each role runs in a session of its own: find any survivor by the data folder.
    deadline = time.monotonic() + 5
    while processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    for line in processes_with(marker):
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(line.split(":", 1)[0]), signal.SIGKILL)


class Shots:
    """Screenshots of each step, numbered in the order taken, in the artifacts folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0
        folder.mkdir(parents=True, exist_ok=True)

    def take(self, page: Page, name: str, *, doc_image: str | None = None) -> Path:
        """Save the page as NN-name.png; refresh docs/images/`doc_image` too when asked."""
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        page.screenshot(path=str(path))
        if doc_image is not None and UPDATE_DOC_IMAGES:
            DOC_IMAGES.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, DOC_IMAGES / doc_image)
        return path


def unique_email(name: str) -> str:
    return f"{name}-{time.time_ns()}@example.com"
