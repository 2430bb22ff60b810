"""Folio under load, for real: Locust readers against each stack, then an open-loop poll test.

For each mode (embedded: SQLite + the filesystem broker; production: PostgreSQL + Redis) the
script starts the whole stack as deployed — `flask db upgrade`, `gunicorn --preload
folio.wsgi:app`, and `celery-entrypoint.sh worker`, `control-worker` and `beat` — in a
temporary FOLIO_DATA_DIR, on a free loopback port. Then:

1. Locust, headless, for --minutes: simulated readers (bench/load_users.py) sign up and in,
   upload corpus novels and small generated PDFs, confirm jobs, poll them with If-None-Match,
   cancel some and download the results (CSV or JSON). Locust writes its CSV statistics.
2. A drain of at most --drain-seconds: every job submitted must reach a final status.
3. An open-loop poll test: GET /api/v1/jobs/{id} with the job's ETag (304) sent at a
   constant --poll-rate (300/s), whatever the answers' latency, each on a new connection
   (gunicorn's sync workers close each one); latency counts from the scheduled send time.

All the while, the RSS of every Folio process (each process started here leads a session
of its own; its children are found by session id) is sampled every --sample-seconds.
Both modes are printed side by side as Markdown tables. Needs the corpus, PostgreSQL
(FOLIO_TEST_POSTGRES_URL, a fresh database is created and dropped) and Redis (databases 4
and 5 of FOLIO_TEST_REDIS_URL's server, flushed before and after).

Usage: python bench/bench_load.py [--minutes 10] [--users 10] [--modes embedded,production]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import http.client
import json
import os
import platform
import random
import re
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import create_engine, select, text

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the test harness: PDFs and PostgreSQL databases

from databases import REDIS_URL, fresh_postgres_database  # noqa: E402
from folio.config import Settings  # noqa: E402
from folio.models.job import Job, JobStatus  # noqa: E402
from pdfmaker import book_pages, make_pdf  # noqa: E402

BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
BROKER_DB, RESULTS_DB = 4, 5  # the Redis databases this benchmark may use (and flush)
NOVELS = ("book_flaubert_education.pdf", "book_feval_vampire.pdf", "book_verne_capitaine15ans.pdf")
SMALL_PAGES = (4, 12, 30)
FINAL = ("completed", "partial", "failed", "cancelled")
ROLES = ("api", "worker", "control", "beat")
PASSWORD = "load-test Passphrase 0123456789"
SECRET = "bench-load-secret-key-of-a-decent-length-0123456789"
MB = 1024 * 1024
PAGE = os.sysconf("SC_PAGE_SIZE")


# --- the stack -------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def redis_url(number: int) -> str:
    """Database `number` of the Redis server."""
    return REDIS_URL.rsplit("/", 1)[0] + f"/{number}"


def flush_redis() -> None:
    """Empty this benchmark's two Redis databases (and only those)."""
    for number in (BROKER_DB, RESULTS_DB):
        redis.Redis.from_url(redis_url(number)).flushdb()


def environ_for(
    mode: str, data_dir: Path, database_url: str, args: argparse.Namespace
) -> dict[str, str]:
    """The process environment of one stack: no FOLIO_* variable of the caller leaks in."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("FOLIO_", "CELERY_"))}
    env = {
        **base,
        "PYTHONUNBUFFERED": "1",
        "FOLIO_DATA_DIR": str(data_dir),
        "FOLIO_SECRET_KEY": SECRET,
        # The load measures the stack, not the limiter: sign-ups and jobs per hour are unlimited.
        "FOLIO_RATELIMIT_ENABLED": "false",
        "FOLIO_SIGNUP_CREDITS": "10000000",
        "FOLIO_WORKER_CONCURRENCY": str(args.concurrency),
        "FOLIO_WAIT_SECONDS": "30",
    }
    if mode == "production":
        env |= {
            "FOLIO_ENV": "production",
            "FOLIO_DATABASE_URL": database_url,
            "FOLIO_BROKER_URL": redis_url(BROKER_DB),
            "FOLIO_RESULT_BACKEND": redis_url(RESULTS_DB),
            "FOLIO_RATELIMIT_STORAGE_URL": redis_url(RESULTS_DB),
            "FOLIO_LLM_LIMITS_URL": redis_url(RESULTS_DB),
        }
    return env


@dataclass
class Stack:
    """One running deployment: its processes (each a session leader) and logs."""

    mode: str
    data_dir: Path
    environ: dict[str, str]
    port: int
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def base(self) -> str:
        """The API's address."""
        return f"http://{HOST}:{self.port}"

    def log(self, role: str) -> Path:
        """The log file of `role`."""
        return self.data_dir / "log" / f"{role}.log"

    def start(self, role: str, command: list[str]) -> None:
        """Start `command` in a session of its own, its output to its log."""
        self.log(role).parent.mkdir(parents=True, exist_ok=True)
        self.processes[role] = subprocess.Popen(
            command,
            env=self.environ,
            cwd=REPO,
            stdout=self.log(role).open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self) -> None:
        """SIGTERM each main process (a warm shutdown), SIGKILL each session left after 20 s."""
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()  # gunicorn and celery stop their own children
        deadline = time.monotonic() + 20
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    def problems(self) -> dict[str, int]:
        """Tracebacks, ERROR lines and 5xx answers per log: every one is worth reading."""
        found: dict[str, int] = {}
        for role in ROLES:
            lines = self.log(role).read_text(errors="replace").splitlines()
            count = sum("Traceback" in line or "ERROR" in line for line in lines)
            if count:
                found[role] = count
        answers = self.log("api").read_text(errors="replace")
        if server_errors := len(re.findall(r"folio\.request: \S+ \S+ 5\d\d\b", answers)):
            found["api 5xx"] = server_errors
        return found


def wait_until(condition: Any, seconds: float, what: str, stack: Stack) -> None:
    """Poll `condition` until it holds; exit naming `what` (and the logs) after `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        for role, process in stack.processes.items():
            if process.poll() is not None:
                raise SystemExit(f"error: {role} exited: see {stack.log(role)}")
        if time.monotonic() > deadline:
            raise SystemExit(f"error: timed out waiting for {what}; logs in {stack.data_dir}/log")
        time.sleep(0.2)


def http_status(port: int, path: str) -> int:
    """The status of GET `path` on the API, 0 if it does not answer."""
    conn = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    except OSError:
        return 0
    finally:
        conn.close()


def start_stack(stack: Stack, api_workers: int) -> None:
    """Migrate, then start the API, the chunk and control workers and beat; wait for them."""
    flask = [str(BIN / "flask"), "--app", "folio.wsgi", "db", "upgrade"]
    subprocess.run(flask, env=stack.environ, cwd=REPO, check=True, capture_output=True)
    gunicorn = [str(BIN / "gunicorn"), "--bind", f"{HOST}:{stack.port}"]
    stack.start("api", [*gunicorn, "--workers", str(api_workers), "--preload", "folio.wsgi:app"])
    entry = str(REPO / "celery-entrypoint.sh")
    stack.start("worker", [entry, "worker"])
    stack.start("control", [entry, "control-worker"])
    stack.start("beat", [entry, "beat"])
    wait_until(lambda: http_status(stack.port, "/health") == 200, 60, "the API", stack)
    for role in ("worker", "control"):
        log = stack.log(role)
        wait_until(lambda log=log: "ready." in log.read_text(errors="replace"), 90, role, stack)


# --- memory ----------------------------------------------------------------------------------


def proportional_kib(proc: str) -> int:
    """A process's PSS in KiB (its private pages, plus its share of the shared ones)."""
    try:
        for line in Path(proc, "smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class Sampler(threading.Thread):
    """Every `period` s, the RSS of every process of each session the stack started."""

    def __init__(self, stack: Stack, period: float) -> None:
        super().__init__(daemon=True)
        self.stack, self.period = stack, period
        self.samples: list[tuple[float, dict[str, int], dict[str, int]]] = []  # t, sum, count
        self.pss: list[int] = []  # the PSS of all of them (shared pages counted once)
        self.largest: dict[str, int] = {}  # the largest single process of each role
        self.halt = threading.Event()
        self.start_time = time.monotonic()

    def sample(self) -> None:
        """One sample: per role, RSS summed over its processes, and their number."""
        roles = {process.pid: role for role, process in self.stack.processes.items()}
        rss: Counter[str] = Counter()
        count: Counter[str] = Counter()
        pss = 0
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            role = roles.get(int(fields[3]))  # the session id
            if role is None:
                continue
            size = int(fields[21]) * PAGE
            rss[role] += size
            count[role] += 1
            pss += proportional_kib(entry.path) * 1024
            self.largest[role] = max(self.largest.get(role, 0), size)
        self.samples.append((time.monotonic() - self.start_time, dict(rss), dict(count)))
        self.pss.append(pss)

    def run(self) -> None:
        """Sample until stopped."""
        while not self.halt.is_set():
            self.sample()
            self.halt.wait(self.period)


# --- Locust ----------------------------------------------------------------------------------


def small_pdfs(folder: Path) -> list[Path]:
    """Small books made here: SMALL_PAGES pages of plain prose, typeset like the corpus."""
    rng = random.Random(7)
    words = (
        "le la les un une des du de et il elle nous vous ils elles voit prend dit aime "
        "maison jardin rivière ville soir matin lettre voyage ami mère père enfant porte "
        "fenêtre table livre chemin longtemps doucement encore jamais toujours"
    ).split()

    def sentence() -> str:
        text = " ".join(rng.choice(words) for _ in range(rng.randint(4, 14)))
        return text[0].upper() + text[1:] + "."

    paths = []
    for pages in SMALL_PAGES:
        spec = []
        for _ in range(pages):
            paragraphs = []
            for _ in range(5):
                prose = " ".join(sentence() for _ in range(4))
                lines = [prose[i : i + 62] for i in range(0, len(prose), 62)][:6]
                paragraphs.append(lines)
            spec.append(paragraphs)
        paths.append(make_pdf(folder / f"small_{pages}p.pdf", book_pages(spec, header="Essai")))
    return paths


def run_locust(stack: Stack, args: argparse.Namespace, pdfs: dict[str, list[Path]]) -> Path:
    """Locust headless for --minutes; the prefix of its CSV files."""
    prefix = stack.data_dir / "locust"
    env = {
        **os.environ,
        "BENCH_LOAD_NOVELS": os.pathsep.join(map(str, pdfs["novels"])),
        "BENCH_LOAD_SMALL": os.pathsep.join(map(str, pdfs["small"])),
        "BENCH_LOAD_NOVEL_SHARE": str(args.novel_share),
        "BENCH_LOAD_CANCEL_SHARE": str(args.cancel_share),
    }
    command = [
        str(BIN / "locust"),
        "-f",
        str(REPO / "bench" / "load_users.py"),
        "--headless",
        "--host",
        stack.base,
        "--users",
        str(args.users),
        "--spawn-rate",
        str(args.spawn_rate),
        "--run-time",
        f"{int(args.minutes * 60)}s",
        "--stop-timeout",
        "10",
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    with (stack.data_dir / "log" / "locust.log").open("wb") as log:
        subprocess.run(command, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    return prefix


@dataclass
class Endpoint:
    """One row of Locust's statistics."""

    requests: int
    failures: int
    rate: float
    p50: str
    p99: str


def read_locust(prefix: Path) -> tuple[dict[str, Endpoint], list[str]]:
    """Per endpoint (Locust's name) its figures, and the distinct failures Locust recorded."""
    rows: dict[str, Endpoint] = {}
    with Path(f"{prefix}_stats.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            rows[row["Name"]] = Endpoint(
                int(row["Request Count"]),
                int(row["Failure Count"]),
                float(row["Requests/s"]),
                row["50%"],
                row["99%"],
            )
    failures = []
    with Path(f"{prefix}_failures.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            failures.append(f"{row['Method']} {row['Name']}: {row['Error']} ×{row['Occurrences']}")
    return rows, failures


# --- jobs ------------------------------------------------------------------------------------


def job_statuses(url: str) -> Counter[str]:
    """How many jobs the database holds in each status."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT status, COUNT(*) FROM jobs GROUP BY status"))
            return Counter({str(status).lower(): int(n) for status, n in rows})
    finally:
        engine.dispose()


def job_seconds(url: str) -> dict[str, list[float]]:
    """Seconds from POST /jobs to the final status of each completed job, small and novels."""
    engine = create_engine(url)
    query = select(Job.page_count, Job.created_at, Job.finished_at).where(
        Job.status == JobStatus.COMPLETED, Job.finished_at.is_not(None)
    )
    times: dict[str, list[float]] = {"small": [], "novel": []}
    try:
        with engine.connect() as conn:
            for pages, created, finished in conn.execute(query):
                kind = "novel" if pages > max(SMALL_PAGES) else "small"
                if finished is not None:
                    times[kind].append((finished - created).total_seconds())
    finally:
        engine.dispose()
    return times


def drain(url: str, seconds: float) -> tuple[Counter[str], float]:
    """Wait until every job is final or `seconds` have passed; the statuses and time waited."""
    start = time.monotonic()
    while True:
        statuses = job_statuses(url)
        if all(status in FINAL for status in statuses) or time.monotonic() - start > seconds:
            return statuses, time.monotonic() - start
        time.sleep(2)


# --- the open-loop poll test -----------------------------------------------------------------


class Api:
    """A few plain HTTP calls for the poll test's set-up."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.headers: dict[str, str] = {}

    def call(self, method: str, path: str, body: Any = None, **headers: str) -> Any:
        """One request; its status, headers and JSON body (None when empty)."""
        conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
        payload = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        if body is not None and not isinstance(body, bytes):
            headers["Content-Type"] = "application/json"
        conn.request(method, f"/api/v1{path}", body=payload, headers={**self.headers, **headers})
        answer = conn.getresponse()
        data = answer.read()
        conn.close()
        return answer.status, dict(answer.getheaders()), json.loads(data) if data else None


def poll_targets(port: int, pdf: Path, count: int) -> list[tuple[str, str, str]]:
    """A new reader's `count` finished jobs: (path, token, ETag) of each."""
    api = Api(port)
    email = f"poll-{uuid.uuid4().hex[:12]}@example.com"
    status, _, tokens = api.call("POST", "/auth/register", {"email": email, "password": PASSWORD})
    if status != 201:
        raise SystemExit(f"error: register answered {status}")
    token = tokens["access_token"]
    api.headers = {"Authorization": f"Bearer {token}"}
    boundary = uuid.uuid4().hex
    body = (
        (
            f"--{boundary}\r\nContent-Disposition: form-data; "
            f'name="file"; filename="{pdf.name}"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + pdf.read_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    jobs = []
    for _ in range(count):
        kind = f"multipart/form-data; boundary={boundary}"
        status, _, upload = api.call("POST", "/uploads", body, **{"Content-Type": kind})
        status, _, job = api.call("POST", "/jobs", {"upload_id": upload["id"], "settings": {}})
        if status != 202:
            raise SystemExit(f"error: POST /jobs answered {status}: {job}")
        jobs.append(f"/api/v1/jobs/{job['id']}")
    targets, deadline = [], time.monotonic() + 120
    for path in jobs:
        while True:
            status, headers, job = api.call("GET", path.removeprefix("/api/v1"))
            if job["status"] in FINAL or time.monotonic() > deadline:
                targets.append((path, token, headers["ETag"]))
                break
            time.sleep(0.5)
    return targets


@dataclass
class OpenLoop:
    """The poll test's result: latencies in seconds, answers by status (0: error/timeout)."""

    sent: int
    seconds: float
    latencies: list[float]
    statuses: Counter[int]
    late_sends: int  # requests the generator itself sent more than 10 ms after their time


async def one_poll(
    port: int, request: bytes, scheduled: float, timeout: float
) -> tuple[int, float]:
    """Send `request` on a new connection; its status (0 on error) and latency from `scheduled`."""
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(HOST, port)
            writer.write(request)
            await writer.drain()
            data = await reader.read()  # gunicorn's sync workers close after each answer
            writer.close()
        status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
    except (OSError, TimeoutError, ValueError, IndexError):
        status = 0
    return status, time.perf_counter() - scheduled


async def open_loop(
    port: int, targets: list[tuple[str, str, str]], rate: float, seconds: float
) -> OpenLoop:
    """GET the targets round-robin at `rate` per second for `seconds`, not waiting on answers."""
    requests = [
        (
            f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nAuthorization: Bearer {token}\r\n"
            f"If-None-Match: {etag}\r\nConnection: close\r\n\r\n"
        ).encode()
        for path, token, etag in targets
    ]
    total = int(rate * seconds)
    tasks, late = [], 0
    start = time.perf_counter()
    for number in range(total):
        scheduled = start + number / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        elif delay < -0.01:
            late += 1
        request = requests[number % len(requests)]
        tasks.append(asyncio.create_task(one_poll(port, request, scheduled, timeout=5)))
    results = await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    statuses = Counter(status for status, _ in results)
    return OpenLoop(total, elapsed, [latency for _, latency in results], statuses, late)


# --- one mode --------------------------------------------------------------------------------


@dataclass
class ModeResult:
    """Everything measured on one stack."""

    mode: str
    endpoints: dict[str, Endpoint]
    failures: list[str]
    at_stop: Counter[str]
    after_drain: Counter[str]
    drain_seconds: float
    poll: OpenLoop
    turnaround: dict[str, list[float]]
    samples: list[tuple[float, dict[str, int], dict[str, int]]]
    pss: list[int]
    largest: dict[str, int]
    problems: dict[str, int]
    logs: Path


def run_mode(
    mode: str, args: argparse.Namespace, pdfs: dict[str, list[Path]], keep: Path
) -> ModeResult:
    """Start the stack of `mode`, load it, drain it, poll it open-loop, stop it."""
    data_dir = keep / mode
    data_dir.mkdir(parents=True)
    with contextlib.ExitStack() as cleanup:
        database_url = ""
        if mode == "production":
            flush_redis()
            cleanup.callback(flush_redis)
            database_url = cleanup.enter_context(fresh_postgres_database())
        environ = environ_for(mode, data_dir, database_url, args)
        url = Settings.from_env(environ).database_url
        stack = Stack(mode, data_dir, environ, free_port())
        cleanup.callback(stack.stop)
        say(f"{mode}: starting the stack in {data_dir}")
        start_stack(stack, args.api_workers)
        sampler = Sampler(stack, args.sample_seconds)
        sampler.start()
        cleanup.callback(sampler.halt.set)
        say(f"{mode}: Locust, {args.users} users, {args.minutes:g} min")
        prefix = run_locust(stack, args, pdfs)
        at_stop = job_statuses(url)
        say(f"{mode}: draining (at most {args.drain_seconds:g} s): {dict(at_stop)}")
        after, waited = drain(url, args.drain_seconds)
        turnaround = job_seconds(url)  # before the poll test adds jobs of its own
        say(f"{mode}: open-loop polls, {args.poll_rate:g}/s for {args.poll_seconds:g} s")
        targets = poll_targets(stack.port, pdfs["small"][0], 4)
        poll = asyncio.run(open_loop(stack.port, targets, args.poll_rate, args.poll_seconds))
        sampler.halt.set()
        sampler.join()
        sampler.sample()
        stack.stop()
        endpoints, failures = read_locust(prefix)
        return ModeResult(
            mode,
            endpoints,
            failures,
            at_stop,
            after,
            waited,
            poll,
            turnaround,
            sampler.samples,
            sampler.pss,
            sampler.largest,
            stack.problems(),
            data_dir / "log",
        )
    raise AssertionError("unreachable")


# --- the report ------------------------------------------------------------------------------


def say(message: str) -> None:
    """Progress, on standard error."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def markdown(rows: list[list[str]]) -> str:
    """A Markdown table; the first row is the header, the first column text, the rest figures."""
    lines = ["| " + " | ".join(row) + " |" for row in rows]
    lines.insert(1, "|---|" + "---:|" * (len(rows[0]) - 1))
    return "\n".join(lines)


def pct(values: list[float], q: int) -> float:
    """The q-th percentile of `values` (seconds) in milliseconds."""
    if len(values) < 2:
        return 1000 * (values[0] if values else 0.0)
    return 1000 * statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def ended(statuses: Counter[str]) -> int:
    """Jobs in a final status."""
    return sum(n for status, n in statuses.items() if status in FINAL)


def report(results: list[ModeResult], args: argparse.Namespace) -> str:
    """The tables, both modes side by side."""
    modes = [r.mode for r in results]
    out = []
    names = sorted({name for r in results for name in r.endpoints if name != "Aggregated"})
    header = ["endpoint"]
    for mode in modes:
        header += [f"{mode} requests", "req/s", "p50 ms", "p99 ms", "errors"]
    rows = [header]
    for name in [*names, "Aggregated"]:
        row = [name if name != "Aggregated" else "**all**"]
        for r in results:
            e = r.endpoints.get(name)
            row += (
                [str(e.requests), f"{e.rate:.2f}", e.p50, e.p99, str(e.failures)]
                if e
                else ["–"] * 5
            )
        rows.append(row)
    out += [
        "Locust, per endpoint (Locust's percentiles are rounded to 2 significant digits):",
        "",
        markdown(rows),
        "",
    ]

    rows = [["jobs", *modes]]
    rows.append(["submitted", *(str(sum(r.after_drain.values())) for r in results)])
    rows.append(["ended when Locust stopped", *(str(ended(r.at_stop)) for r in results)])
    rows.append(
        [
            "ended after the drain",
            *(f"{ended(r.after_drain)} ({r.drain_seconds:.0f} s)" for r in results),
        ]
    )
    for status in (*FINAL, "queued", "running", "cancelling"):
        counts = [str(r.after_drain.get(status, 0)) for r in results]
        if any(c != "0" for c in counts):
            rows.append([f"· {status}", *counts])
    for kind in ("small", "novel"):
        label = f"completed {kind} jobs: s from POST /jobs to completed, p50 / p90 / max"
        cells = []
        for r in results:
            times = r.turnaround[kind]
            cells.append(
                f"{pct(times, 50) / 1000:.1f} / {pct(times, 90) / 1000:.1f} / {max(times):.1f}"
                if times
                else "–"
            )
        rows.append([label, *cells])
    rows.append(
        [
            "Locust errors (all requests)",
            *(str(r.endpoints["Aggregated"].failures) for r in results),
        ]
    )
    rows.append(
        [
            "Traceback/ERROR lines in the logs",
            *(", ".join(f"{k}: {v}" for k, v in r.problems.items()) or "0" for r in results),
        ]
    )
    out += [markdown(rows), ""]

    rows = [["open-loop polls (If-None-Match → 304)", *modes]]
    rows.append(
        [
            "target rate, duration",
            *(f"{args.poll_rate:g}/s, {args.poll_seconds:g} s" for _ in results),
        ]
    )
    rows.append(
        [
            "sent (achieved rate)",
            *(f"{r.poll.sent} ({r.poll.sent / r.poll.seconds:.0f}/s)" for r in results),
        ]
    )
    rows.append(
        [
            "answers",
            *(", ".join(f"{k}: {v}" for k, v in sorted(r.poll.statuses.items())) for r in results),
        ]
    )
    for q in (50, 90, 99):
        rows.append([f"p{q} ms", *(f"{pct(r.poll.latencies, q):.1f}" for r in results)])
    rows.append(["max ms", *(f"{1000 * max(r.poll.latencies):.0f}" for r in results)])
    rows.append(["sends late by > 10 ms (generator)", *(str(r.poll.late_sends) for r in results)])
    out += [markdown(rows), ""]

    head = ["memory, MB", "t s", *(f"{role} RSS" for role in ROLES), "total RSS", "total PSS"]
    rows = [head]
    for r in results:
        for fraction in (0.0, 0.25, 0.5, 0.75, 1.0):
            index = round(fraction * (len(r.samples) - 1))
            t, rss, _ = r.samples[index]
            figures = [rss.get(role, 0) for role in ROLES] + [sum(rss.values()), r.pss[index]]
            rows.append([r.mode, f"{t:.0f}", *(f"{v / MB:.0f}" for v in figures)])
        peaks = [max(sample[1].get(role, 0) for sample in r.samples) for role in ROLES]
        peaks += [max(sum(sample[1].values()) for sample in r.samples), max(r.pss)]
        rows.append([f"{r.mode} **peak**", "", *(f"{v / MB:.0f}" for v in peaks)])
        largest = [f"{r.largest.get(role, 0) / MB:.0f}" for role in ROLES]
        rows.append([f"{r.mode} largest process", "", *largest, "", ""])
        most = [str(max(sample[2].get(role, 0) for sample in r.samples)) for role in ROLES]
        rows.append([f"{r.mode} processes", "", *most, "", ""])
    out += [
        f"Memory of the Folio processes, sampled every {args.sample_seconds:g} s from the stack's "
        "start to its stop: RSS summed over each role's processes (shared pages counted in each), "
        "and the PSS of all of them (shared pages counted once):",
        "",
        markdown(rows),
    ]
    for r in results:
        if r.failures:
            out += ["", f"Locust's failures ({r.mode}):", *(f"- {f}" for f in r.failures)]
    return "\n".join(out)


def main() -> None:
    """Parse the arguments, run each mode, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10, help="Locust run per mode (10)")
    parser.add_argument("--users", type=int, default=10, help="simulated readers (10)")
    parser.add_argument(
        "--spawn-rate", type=float, default=2, help="readers started per second (2)"
    )
    parser.add_argument("--modes", default="embedded,production", help="embedded,production")
    parser.add_argument("--api-workers", type=int, default=4, help="gunicorn workers (4)")
    parser.add_argument(
        "--concurrency", type=int, default=os.cpu_count() or 2, help="chunk worker -c (CPUs)"
    )
    parser.add_argument(
        "--novel-share", type=float, default=0.25, help="uploads that are novels (0.25)"
    )
    parser.add_argument("--cancel-share", type=float, default=0.15, help="jobs cancelled (0.15)")
    parser.add_argument("--drain-seconds", type=float, default=180, help="wait for jobs (180)")
    parser.add_argument("--poll-rate", type=float, default=300, help="open-loop polls/s (300)")
    parser.add_argument("--poll-seconds", type=float, default=None, help="(15 s per minute, ≤ 60)")
    parser.add_argument("--sample-seconds", type=float, default=5, help="RSS sampling period (5)")
    parser.add_argument(
        "--corpus", type=Path, default=None, help="FOLIO_CORPUS_DIR (../shared/corpus)"
    )
    parser.add_argument("--keep", type=Path, default=None, help="keep data and logs here")
    args = parser.parse_args()
    if args.poll_seconds is None:
        args.poll_seconds = min(60.0, 15 * args.minutes)
    modes = [m for m in args.modes.split(",") if m]
    if not modes or set(modes) - {"embedded", "production"}:
        raise SystemExit("error: --modes is a comma-separated list of embedded, production")
    corpus = args.corpus or Path(
        os.environ.get("FOLIO_CORPUS_DIR", REPO.parent / "shared" / "corpus")
    )
    novels = [corpus / "pdfs" / name for name in NOVELS]
    if missing := [str(p) for p in novels if not p.is_file()]:
        raise SystemExit(f"error: not found: {', '.join(missing)} (pass --corpus)")
    with contextlib.ExitStack() as stack:
        keep = args.keep or Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="folio-load-"))
        )
        keep.mkdir(parents=True, exist_ok=True)
        folder = keep / "pdfs"
        folder.mkdir(exist_ok=True)
        pdfs = {"novels": novels, "small": small_pdfs(folder)}
        results = [run_mode(mode, args, pdfs, keep) for mode in modes]
        print(
            f"{platform.node()}: {os.cpu_count()} CPUs, load average at the end "
            f"{os.getloadavg()[0]:.1f}; {args.users} users for {args.minutes:g} min per mode, "
            f"gunicorn --workers {args.api_workers}, chunk worker -c {args.concurrency}\n"
        )
        print(report(results, args))


if __name__ == "__main__":
    main()
