"""Hostile files (tests/hostile.py) through the whole service: upload, job, real workers.

On embedded defaults (SQLite, the filesystem broker) with a real chunk worker: each file is
refused at upload with its code, or its job ends within 20 s with the bad pages listed and
not charged. Every worker process stays under 600 MB at its peak (the kernel's high-water
mark, VmHWM), the API answers throughout, and the ledger charges exactly the pages read.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from test_hostile import FILES
from workers import FINAL, Stack, StackUser, running_stack, stack_environ

PEAK_MB = 600
SECONDS = 20


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[Stack]:
    environ = stack_environ(
        tmp_path,
        f"sqlite:///{tmp_path / 'folio.db'}",
        "filesystem://",
        f"db+sqlite:///{tmp_path / 'results.db'}",
    )
    with running_stack(environ, tmp_path) as stack:
        yield stack


def peak_mb(pid: int) -> float:
    """The peak resident memory of `pid` and of its children now alive, in MB (the largest)."""
    peaks = []
    for candidate in [pid, *_children(pid)]:
        try:
            status = Path(f"/proc/{candidate}/status").read_text()
        except OSError:
            continue
        line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
        peaks.append(int(line.split()[1]) / 1024)
    return max(peaks, default=0.0)


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        for child in map(int, text):
            found += [child, *_children(child)]
    return found


def test_hostile_files_through_the_service(embedded: Stack, tmp_path: Path) -> None:
    worker = embedded.start_worker("w1", concurrency=2)
    user = StackUser(embedded.app(), "reader@example.com", credits=10_000)
    outcomes: dict[str, str] = {}
    for name, build in FILES.items():
        pdf = build(tmp_path / f"{name}.pdf")
        started = time.monotonic()
        with pdf.open("rb") as handle:
            upload = user.client.post(
                "/api/v1/uploads",
                data={"file": (handle, pdf.name, "application/pdf")},
                headers=user.headers,
                content_type="multipart/form-data",
            )
        if upload.status_code != 201:
            body = upload.get_json()
            assert 400 <= upload.status_code < 500 and body["error"]["code"], (name, body)
            outcomes[name] = f"refused {body['error']['code']}"
            continue
        created = user.client.post(
            "/api/v1/jobs",
            json={"upload_id": upload.get_json()["id"], "settings": {"limit": 8}},
            headers=user.headers,
        )
        assert created.status_code == 202, (name, created.get_json())
        job_id = str(created.get_json()["id"])
        final = user.wait(job_id, SECONDS, FINAL)[-1]
        assert time.monotonic() - started < SECONDS, name
        assert final["status"] in {"completed", "partial"}, (name, final)
        missing = sum(r["last"] - r["first"] + 1 for r in final.get("missing_pages") or [])
        # Exactly the pages read are charged: the unreadable ones are listed and free.
        assert final["charged_credits"] == final["page_count"] - missing, (name, final)
        outcomes[name] = f"{final['status']}, {missing} page(s) unreadable"
    assert embedded.processes[0].poll() is None, "the worker died"
    assert peak_mb(worker.pid) < PEAK_MB, (peak_mb(worker.pid), outcomes)
    assert os.getpid() and user.client.get("/health").status_code == 200
    print(outcomes)  # shown with -s: what each file became
