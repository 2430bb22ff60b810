"""The API under load: upload latency and job-status polls over real HTTP against gunicorn.

Starts `gunicorn --workers 4 --preload folio.wsgi:app` on embedded defaults (no Celery worker)
on a free loopback port, and stops it at the end. Usage: python bench/bench_api.py
[--pdf PATH] [--uploads 40] [--pollers 50] [--seconds 10] [--markdown]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from folio.pipeline.sources.pdf.inspect import inspect_pdf

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BOOK = "pdfs/book_flaubert_education.pdf"
EMAIL, PASSWORD = "bench@example.com", "bench-password-0123456789"
HOST = "127.0.0.1"
JSON = {"Content-Type": "application/json"}
SETTINGS = {  # embedded defaults (SQLite, filesystem broker), rate limits off
    "FOLIO_ENV": "test",
    "FOLIO_RATELIMIT_ENABLED": "false",
    "FOLIO_SECRET_KEY": "bench-secret-key-of-a-decent-length-0123456789",
    "FOLIO_MAX_UPLOAD_MB": "100",
}
WARMUPS = 3
MAX_POLLS = 20_000  # per poller: the count bound, besides the time bound
Answer = tuple[int, dict[str, str], bytes]
Conn = http.client.HTTPConnection


@dataclass
class Polls:
    """One round of concurrent polls: request count, status codes, latencies, throughput."""

    count: int
    statuses: dict[int, int]
    p50_ms: float
    p99_ms: float
    rate: float


def default_pdf() -> Path:
    """Return the Flaubert book inside FOLIO_CORPUS_DIR (default: <repo>/../shared/corpus)."""
    corpus = Path(os.environ.get("FOLIO_CORPUS_DIR", REPO.parent / "shared" / "corpus"))
    return corpus / BOOK


def free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def send(conn: Conn, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> Answer:
    """One request on `conn` (http.client reconnects if the server closed it); 0 on error."""
    try:
        conn.request(method, path, body=body, headers=headers)
        answer = conn.getresponse()
        return answer.status, dict(answer.getheaders()), answer.read()
    except OSError:
        conn.close()
        return 0, {}, b""


def expect(answer: Answer, status: int, what: str) -> Any:
    """The JSON body of `answer`; exit with an error unless its status is `status`."""
    if answer[0] != status:
        sys.exit(f"error: {what} answered {answer[0]}: {answer[2][:300]!r}")
    return json.loads(answer[2])


@contextmanager
def gunicorn(data_dir: Path) -> Iterator[Conn]:
    """Migrate, add the bench user, serve the API; yield a connection to it; always stop it."""
    env = {**os.environ, **SETTINGS, "FOLIO_DATA_DIR": str(data_dir)}
    flask = [str(BIN / "flask"), "--app", "folio.wsgi"]
    create = ["users", "create", EMAIL, "--password", PASSWORD, "--credits", "10000"]
    for args in (["db", "upgrade"], create):
        subprocess.run([*flask, *args], env=env, cwd=REPO, check=True, capture_output=True)
    port, log = free_port(), data_dir / "gunicorn.log"
    cmd = [str(BIN / "gunicorn"), "--bind", f"{HOST}:{port}", "--workers", "4", "--preload"]
    server = subprocess.Popen(
        [*cmd, "folio.wsgi:app"],
        env=env,
        cwd=REPO,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    conn, deadline = Conn(HOST, port, timeout=60), time.monotonic() + 60
    try:
        while send(conn, "GET", "/health", None, {})[0] != 200:
            if server.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"error: gunicorn did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.2)
        yield conn
    finally:
        conn.close()
        server.terminate()  # the master stops its workers gracefully
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


def upload_request(pdf: Path, auth: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    """The multipart/form-data body (the PDF as its `file` part) and headers of an upload."""
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{pdf.name}"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    body = head + pdf.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    return body, {**auth, "Content-Type": f"multipart/form-data; boundary={boundary}"}


def pct(values: list[float], q: int) -> float:
    """The q-th percentile (inclusive method; 100 is the maximum) of `values`, in milliseconds."""
    cuts = [*statistics.quantiles(values, n=100, method="inclusive"), max(values)]
    return 1000 * cuts[q - 1]


def bench_uploads(conn: Conn, auth: dict[str, str], pdf: Path, count: int) -> list[float]:
    """POST the PDF WARMUPS + `count` times in a row; the measured latencies in seconds."""
    body, headers = upload_request(pdf, auth)
    times = []
    for number in range(WARMUPS + count):
        start = time.perf_counter()
        answer = send(conn, "POST", "/api/v1/uploads", body, headers)
        elapsed = time.perf_counter() - start
        expect(answer, 201, "upload")
        if number >= WARMUPS:
            times.append(elapsed)
    return times


def bench_inspect(pdf: Path, repeat: int = 10) -> dict[bool, list[float]]:
    """Seconds of each quick (True) and full (False) inspection, in-process, round-robin."""
    runs: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(repeat):
        for quick, times in runs.items():
            start = time.perf_counter()
            inspect_pdf(pdf, quick=quick)
            times.append(time.perf_counter() - start)
    return runs


def bench_polls(
    conn: Conn, path: str, headers: dict[str, str], pollers: int, seconds: float
) -> Polls:
    """`pollers` threads, each on its own connection, GET `path` until `seconds` have passed."""
    times: list[list[float]] = [[] for _ in range(pollers)]
    seen: list[Counter[int]] = [Counter() for _ in range(pollers)]
    barrier, deadline = threading.Barrier(pollers + 1), [0.0]

    def poll(mine: list[float], statuses: Counter[int]) -> None:
        own = Conn(conn.host, conn.port, timeout=60)
        barrier.wait()
        while time.perf_counter() < deadline[0] and len(mine) < MAX_POLLS:
            start = time.perf_counter()
            statuses[send(own, "GET", path, None, headers)[0]] += 1
            mine.append(time.perf_counter() - start)
        own.close()

    threads = [threading.Thread(target=poll, args=args) for args in zip(times, seen, strict=True)]
    for thread in threads:
        thread.start()
    start = time.perf_counter()
    deadline[0] = start + seconds
    barrier.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    flat = [t for mine in times for t in mine]
    statuses = dict(sum(seen, Counter[int]()))
    return Polls(len(flat), statuses, pct(flat, 50), pct(flat, 99), len(flat) / elapsed)


def table(rows: list[list[str]], markdown: bool) -> str:
    """Format rows (the first is the header) as a Markdown table or aligned plain text."""
    if markdown:
        lines = ["| " + " | ".join(r) + " |" for r in rows]
        lines.insert(1, "|---|" + "---:|" * (len(rows[0]) - 1))
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    pad = [str.ljust] + [str.rjust] * (len(widths) - 1)  # names left, figures right
    return "\n".join(
        "  ".join(p(c, w) for p, c, w in zip(pad, r, widths, strict=True)) for r in rows
    )


def main() -> None:
    """Parse the arguments, serve the API, run the three measurements and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pdf", type=Path, default=None, help="PDF to upload (default: Flaubert)")
    parser.add_argument("--uploads", type=int, default=40, help="measured uploads (default 40)")
    parser.add_argument("--pollers", type=int, default=50, help="concurrent pollers (default 50)")
    parser.add_argument("--seconds", type=float, default=10, help="per poll round (default 10)")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    args = parser.parse_args()
    pdf: Path = args.pdf or default_pdf()
    if not pdf.is_file():
        sys.exit(f"error: PDF not found: {pdf} (pass --pdf or set FOLIO_CORPUS_DIR)")
    if args.uploads < 2 or args.pollers < 1 or not 0 < args.seconds <= 60:
        sys.exit("error: --uploads >= 2, --pollers >= 1, 0 < --seconds <= 60")
    with tempfile.TemporaryDirectory(prefix="folio-bench-api-") as tmp, gunicorn(Path(tmp)) as conn:
        login = json.dumps({"email": EMAIL, "password": PASSWORD}).encode()
        token = expect(send(conn, "POST", "/api/v1/auth/login", login, JSON), 200, "login")
        auth = {"Authorization": f"Bearer {token['access_token']}"}
        print(f"uploading {pdf.name} {WARMUPS}+{args.uploads} times …", file=sys.stderr)
        uploads = bench_uploads(conn, auth, pdf, args.uploads)
        print("inspecting in-process …", file=sys.stderr)
        inspect = bench_inspect(pdf)
        answer = send(conn, "POST", "/api/v1/uploads", *upload_request(pdf, auth))
        upload = expect(answer, 201, "upload")
        body = json.dumps({"upload_id": upload["id"], "settings": {}}).encode()
        job = expect(send(conn, "POST", "/api/v1/jobs", body, {**auth, **JSON}), 202, "new job")
        path = f"/api/v1/jobs/{job['id']}"
        answer = send(conn, "GET", path, None, auth)
        job_status, headers = expect(answer, 200, "job")["status"], answer[1]
        connection = headers.get("Connection", "keep-alive")
        rounds = {
            "no If-None-Match (200)": auth,
            "If-None-Match (304)": {**auth, "If-None-Match": headers["ETag"]},
        }
        polls: dict[str, Polls] = {}
        for name, sent in rounds.items():
            print(f"{args.pollers} pollers, {name}, {args.seconds:g} s …", file=sys.stderr)
            polls[name] = bench_polls(conn, path, sent, args.pollers, args.seconds)
    print(f"{pdf.name} ({pdf.stat().st_size / 1e6:.1f} MB): uploads after {WARMUPS} warm-ups\n")
    rows = [["measurement", "runs", "p50 ms", "p95 ms", "max ms"]]
    named = {"POST /api/v1/uploads over HTTP (quick inspection)": uploads}
    named |= {f"inspect_pdf(book, quick={q}) in-process": times for q, times in inspect.items()}
    for name, times in named.items():
        rows.append([name, str(len(times)), *(f"{pct(times, q):.0f}" for q in (50, 95, 100))])
    print(table(rows, args.markdown))
    print(
        f"\nPolls of one job (status {job_status}: no worker runs), {args.pollers} pollers, "
        f"{args.seconds:g} s each; server's Connection header: {connection}\n"
    )
    rows = [["polls", "requests", "statuses", "p50 ms", "p99 ms", "requests/s"]]
    for name, p in polls.items():
        codes = ", ".join(f"{code}: {n}" for code, n in sorted(p.statuses.items()))
        rows.append(
            [name, str(p.count), codes, f"{p.p50_ms:.1f}", f"{p.p99_ms:.1f}", f"{p.rate:.0f}"]
        )
    print(table(rows, args.markdown))


if __name__ == "__main__":
    main()
