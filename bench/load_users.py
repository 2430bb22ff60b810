"""Locust users for bench/bench_load.py: readers who sign up, upload novels and wait for them.

Each simulated reader signs up, signs in, then lives the API guide's loop over and over:
upload a PDF (a corpus novel or a small generated one), confirm the job, poll it every
second or two with the last ETag as If-None-Match (304 while nothing changed), cancel some
jobs on the way, and download the sentences (CSV or JSON) of every job that completed.
Not run alone: bench_load.py starts Locust on this file, with the settings below in the
environment.

BENCH_LOAD_NOVELS, BENCH_LOAD_SMALL  PDFs to upload, os.pathsep-separated (both required)
BENCH_LOAD_NOVEL_SHARE               share of uploads that are novels (default 0.25)
BENCH_LOAD_CANCEL_SHARE              share of jobs cancelled after a poll or two (default 0.15)
BENCH_LOAD_STALL_SECONDS             seconds without any change of a job (status, progress:
                                     its ETag) before it counts as stuck (180)
"""

from __future__ import annotations

import os
import random
import time
import uuid
from pathlib import Path
from typing import Any

from locust import HttpUser, between, task

API = "/api/v1"
FINAL = {"completed", "partial", "failed", "cancelled"}
PASSWORD = "load-test Passphrase 0123456789"


def _pdfs(name: str) -> list[tuple[str, bytes]]:
    """The PDFs listed in the environment variable `name`, read once into memory."""
    paths = [Path(p) for p in os.environ.get(name, "").split(os.pathsep) if p]
    if not paths:
        raise SystemExit(f"load_users: {name} names no PDF")
    return [(path.name, path.read_bytes()) for path in paths]


NOVELS = _pdfs("BENCH_LOAD_NOVELS")
SMALL = _pdfs("BENCH_LOAD_SMALL")
NOVEL_SHARE = float(os.environ.get("BENCH_LOAD_NOVEL_SHARE", "0.25"))
CANCEL_SHARE = float(os.environ.get("BENCH_LOAD_CANCEL_SHARE", "0.15"))
# Stuck means not moving: a novel queued behind other readers' novels on two cores can take
# minutes and still be fine, but its answer changes as its chunks finish.
STALL_SECONDS = float(os.environ.get("BENCH_LOAD_STALL_SECONDS", "180"))


class StuckJobError(Exception):
    """A job whose answer did not change for BENCH_LOAD_STALL_SECONDS."""


class Reader(HttpUser):
    """One reader: an account of their own, one job at a time."""

    wait_time = between(2, 8)  # between two jobs

    def on_start(self) -> None:
        """Sign up (a new address), then sign in as a returning reader would."""
        self.email = f"load-{uuid.uuid4().hex[:16]}@example.com"
        self.refresh_token = ""
        credentials = {"email": self.email, "password": PASSWORD}
        self.client.post(f"{API}/auth/register", json=credentials, name="POST /auth/register")
        self._sign_in()

    def _sign_in(self) -> None:
        credentials = {"email": self.email, "password": PASSWORD}
        answer = self.client.post(f"{API}/auth/login", json=credentials, name="POST /auth/login")
        if answer.status_code == 200:
            self._use(answer.json())

    def _use(self, tokens: dict[str, Any]) -> None:
        self.client.headers["Authorization"] = f"Bearer {tokens['access_token']}"
        self.refresh_token = tokens["refresh_token"]

    def _refresh(self) -> None:
        """A new token pair (the access token lives 15 minutes; a long run outlives it)."""
        answer = self.client.post(
            f"{API}/auth/refresh",
            headers={"Authorization": f"Bearer {self.refresh_token}"},
            name="POST /auth/refresh",
        )
        if answer.status_code == 200:
            self._use(answer.json())
        else:
            self._sign_in()

    def _send(self, method: str, path: str, name: str, **kwargs: Any) -> Any:
        """One request; on 401 token_expired, refresh the tokens and send it once more."""
        answer = self.client.request(method, f"{API}{path}", name=name, **kwargs)
        if answer.status_code == 401:
            self._refresh()
            answer = self.client.request(method, f"{API}{path}", name=name, **kwargs)
        return answer

    @task
    def one_job(self) -> None:
        """Upload, confirm, poll (cancelling some), download."""
        novel = random.random() < NOVEL_SHARE
        filename, content = random.choice(NOVELS if novel else SMALL)
        files = {"file": (filename, content, "application/pdf")}
        kind = "novel" if novel else "small"
        upload = self._send("POST", "/uploads", f"POST /uploads ({kind})", files=files)
        if upload.status_code != 201:
            return
        body = {"upload_id": upload.json()["id"], "settings": {}}
        created = self._send("POST", "/jobs", "POST /jobs", json=body)
        if created.status_code != 202:
            return
        job = created.json()
        self._follow(job["id"], cancel_after=random.randint(1, 3), cancel=random.random())

    def _follow(self, job_id: str, cancel_after: int, cancel: float) -> None:
        """Poll the job with If-None-Match until it is final, then fetch its results."""
        etag, status, polls, delay = "", "queued", 0, 1.0
        started = moved = time.monotonic()
        while status not in FINAL:
            if time.monotonic() - moved > STALL_SECONDS:
                self.environment.events.request.fire(
                    request_type="JOB",
                    name="job reaches a final status",
                    response_time=(time.monotonic() - started) * 1000,
                    response_length=0,
                    exception=StuckJobError(f"job {job_id} still {status}"),
                    context={},
                )
                return
            time.sleep(delay)  # gevent-patched: yields to the other users
            delay = min(delay * 1.25, 3.0)
            headers = {"If-None-Match": etag} if etag else {}
            with self.client.get(
                f"{API}/jobs/{job_id}", headers=headers, name="GET /jobs/{id}", catch_response=True
            ) as answer:
                answer.request_meta["name"] = f"GET /jobs/{{id}} ({answer.status_code})"
                if answer.status_code == 200:
                    etag, status = answer.headers.get("ETag", ""), answer.json()["status"]
                    moved = time.monotonic()
                elif answer.status_code == 304:
                    answer.success()
                elif answer.status_code == 401:
                    answer.success()  # the token expired: not an error of the server
                    self._refresh()
            polls += 1
            if polls == cancel_after and cancel < CANCEL_SHARE and status not in FINAL:
                self._cancel(job_id)
        if status in {"completed", "partial"}:
            fmt = random.choice(("csv", "json"))
            self._send(
                "GET",
                f"/jobs/{job_id}/download?format={fmt}",
                f"GET /jobs/{{id}}/download?format={fmt}",
            )

    def _cancel(self, job_id: str) -> None:
        """Cancel; 409 job_finished only means the job won the race, which is fine."""
        with self.client.post(
            f"{API}/jobs/{job_id}/cancel", name="POST /jobs/{id}/cancel", catch_response=True
        ) as answer:
            if answer.status_code == 409 and b"job_finished" in answer.content:
                answer.success()
