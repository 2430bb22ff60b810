"""Real Celery worker and beat processes for the fan-out tests, in either run mode.

A `Stack` is one deployment: its environment (database, broker, result backend, data folder)
shared by the in-process Flask app the test drives and by the worker and beat subprocesses
it starts. Embedded mode is SQLite + the filesystem broker; production mode is PostgreSQL +
Redis, as CI provides them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import flask_migrate
from flask import Flask
from flask.testing import FlaskClient

from factories import PASSWORD, make_user
from folio.app import create_app
from folio.config import Settings
from folio.extensions import db
from folio.services.lanes import CONTROL_QUEUE, chunk_queues

FINAL = {"completed", "partial", "failed", "cancelled"}
CELERY = str(Path(sys.executable).with_name("celery"))
TESTS_DIR = str(Path(__file__).resolve().parent)


def with_tests_dir() -> str:
    """PYTHONPATH with this folder first, so that a worker can load `faultworker`."""
    return os.pathsep.join(filter(None, [TESTS_DIR, os.environ.get("PYTHONPATH")]))


LANES = 4


@dataclass
class Stack:
    """One deployment of Folio for a test, and the processes it started."""

    environ: dict[str, str]
    data_dir: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    def app(self) -> Flask:
        """A Flask app on this stack's settings (the API side of the test)."""
        return create_app(Settings.from_env(self.environ))

    def start_worker(self, name: str, concurrency: int = 2, queues: str | None = None) -> Any:
        """Start a worker process (its own process group, so a test can kill it whole)."""
        queues = queues or ",".join([CONTROL_QUEUE, *chunk_queues(LANES)])
        return self._start(
            name,
            [
                "worker",
                "-Q",
                queues,
                "-c",
                str(concurrency),
                "-n",
                f"{name}@%h",
                "--without-gossip",
                "--without-mingle",
                "--loglevel",
                "INFO",
            ],
        )

    def start_beat(self) -> Any:
        """Start Celery beat (it sends the reconciler every FOLIO_RECONCILE_SECONDS)."""
        schedule = self.data_dir / "beat-schedule"
        return self._start("beat", ["beat", "-s", str(schedule), "--loglevel", "INFO"])

    def inject_faults(self, **faults: Any) -> None:
        """Make the workers fail or slow down chunks (see services.chunks._inject_fault)."""
        (self.data_dir / "faults.json").write_text(json.dumps(faults), encoding="utf-8")

    def clear_faults(self) -> None:
        """Remove every injected fault."""
        (self.data_dir / "faults.json").unlink(missing_ok=True)

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        """SIGKILL a worker and its children at once: no clean shutdown, no acknowledgement."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self) -> None:
        """Stop every process this stack started."""
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)

    def log_tail(self, lines: int = 40) -> str:
        """The end of every process log, for failure messages."""
        return "\n".join(
            f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
            for log in self.logs
        )

    def _start(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        log = self.data_dir / f"{name}.log"
        process = subprocess.Popen(
            # faultworker: folio.worker plus the seam that reads faults.json (tests only).
            [CELERY, "-A", "faultworker", *args],
            env={**os.environ, **self.environ},
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(process)
        self.logs.append(log)
        if args[0] == "worker":
            wait_for(lambda: "ready." in log.read_text(errors="replace"), 60, f"{name} ready")
        return process


def stack_environ(data_dir: Path, database_url: str, broker: str, backend: str) -> dict[str, str]:
    """The settings a test stack runs on: short leases and reconciler period."""
    return {
        "FOLIO_ENV": "test",
        "FOLIO_DATA_DIR": str(data_dir),
        "FOLIO_DATABASE_URL": database_url,
        "FOLIO_BROKER_URL": broker,
        "FOLIO_RESULT_BACKEND": backend,
        "FOLIO_RATELIMIT_ENABLED": "false",
        "FOLIO_SECRET_KEY": "test-secret-key-of-a-decent-length-0123456789",
        "FOLIO_CHUNK_LANES": str(LANES),
        "FOLIO_CHUNK_LEASE_SECONDS": "6",
        "FOLIO_RECONCILE_SECONDS": "2",
        "FOLIO_SIGNUP_CREDITS": "0",
        # Workers start 6 s sooner; tests/test_preload.py checks the default (true).
        "FOLIO_PRELOAD_PARSER": "false",
        # Workers started through celery-entrypoint.sh load the fault seam too.
        "CELERY_APP": "faultworker",
        "PYTHONPATH": with_tests_dir(),
    }


@contextmanager
def running_stack(environ: dict[str, str], data_dir: Path) -> Iterator[Stack]:
    """Migrate the stack's database, yield it, and stop its processes afterwards."""
    stack = Stack(environ, data_dir)
    app = stack.app()
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()
    try:
        yield stack
    finally:
        stack.stop()


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `condition` until it holds; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class StackUser:
    """A signed-in user of the stack's API (the Flask test client, the real app)."""

    def __init__(self, app: Flask, email: str, credits: int) -> None:
        self.app = app
        self.client: FlaskClient = app.test_client()
        with app.app_context():
            make_user(email, granted=credits)
        token = self.client.post(
            "/api/v1/auth/login", json={"email": email, "password": PASSWORD}
        ).get_json()["access_token"]
        self.headers = {"Authorization": f"Bearer {token}"}

    def upload(self, pdf: Path) -> dict[str, Any]:
        """POST /uploads with `pdf`; the preflight answer."""
        with pdf.open("rb") as handle:
            upload = self.client.post(
                "/api/v1/uploads",
                data={"file": (handle, pdf.name, "application/pdf")},
                headers=self.headers,
                content_type="multipart/form-data",
            )
        assert upload.status_code == 201, upload.get_json()
        return dict(upload.get_json())

    def start(self, upload_id: str, **settings: Any) -> str:
        """POST /jobs on an upload (limit 8 unless told); the job id."""
        job = self.client.post(
            "/api/v1/jobs",
            json={"upload_id": upload_id, "settings": {"limit": 8, **settings}},
            headers=self.headers,
        )
        assert job.status_code == 202, job.get_json()
        return str(job.get_json()["id"])

    def submit(self, pdf: Path, **settings: Any) -> str:
        """Upload `pdf` and confirm a job on it; the job id."""
        return self.start(self.upload(pdf)["id"], **settings)

    def job(self, job_id: str) -> dict[str, Any]:
        """GET /jobs/{id}."""
        response = self.client.get(f"/api/v1/jobs/{job_id}", headers=self.headers)
        assert response.status_code == 200, response.get_json()
        return dict(response.get_json())

    def wait(self, job_id: str, timeout: float, until: set[str] = FINAL) -> list[dict[str, Any]]:
        """Poll the job until its status is in `until`; every answer seen, in order."""
        seen: list[dict[str, Any]] = []

        def reached() -> bool:
            seen.append(self.job(job_id))
            return seen[-1]["status"] in until

        wait_for(reached, timeout, f"job {job_id} to reach {sorted(until)}")
        return seen

    def download(self, job_id: str, fmt: str = "jsonl") -> bytes:
        """The job's sentences as an export file."""
        response = self.client.get(
            f"/api/v1/jobs/{job_id}/download?format={fmt}", headers=self.headers
        )
        assert response.status_code == 200, response.get_json()
        return bytes(response.data)
