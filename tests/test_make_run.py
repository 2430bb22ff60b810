"""`make run` for real: everything starts on embedded defaults, the banner tells where, and a
signal to its process group leaves no process behind. Also the devserver's parts alone."""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from folio.ops import devserver
from runner import (
    REPO,
    clean_environ,
    free_port,
    http_status,
    kill_group,
    processes_with,
    start,
    wait_until,
)

# The first `make run` of a checkout also installs .venv/: allow for it.
STARTUP_SECONDS = 180
STOP_SECONDS = 20

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/environ").exists(), reason="finding leftover processes needs /proc"
)


def assert_all_gone(marker: str, since: float, log: Path) -> None:
    """Every process carrying `marker` exits within STOP_SECONDS of `since`."""
    left = STOP_SECONDS - (time.monotonic() - since)
    try:
        wait_until(lambda: not processes_with(marker), max(left, 0.1), "every process", log)
    except AssertionError:
        survivors = "\n".join(processes_with(marker))
        message = f"still running {STOP_SECONDS} s after the signal:\n{survivors}"
        raise AssertionError(message) from None


def kill_all(marker: str) -> None:
    """SIGKILL whatever a failed test left running."""
    for line in processes_with(marker):
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(line.split(":", 1)[0]), signal.SIGKILL)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_make_run_starts_everything_and_a_signal_stops_everything(
    tmp_path: Path, signum: signal.Signals
) -> None:
    data_dir = tmp_path / "data"
    api_port, flower_port = free_port(), free_port()
    log = tmp_path / "make-run.log"
    environ = clean_environ(FOLIO_DATA_DIR=str(data_dir), FOLIO_WORKER_CONCURRENCY="1")
    argv = ["make", "--no-print-directory", "-C", str(REPO), "run"]
    make = start([*argv, f"PORT={api_port}", f"FLOWER_PORT={flower_port}"], environ, log)
    try:
        wait_until(lambda: http_status(api_port, "/health") == 200, STARTUP_SECONDS, "the API", log)
        wait_until(
            lambda: http_status(flower_port, "/") == 401, STARTUP_SECONDS, "Flower's 401", log
        )
        wait_until(lambda: "Folio is running" in log.read_text(), 30, "the banner", log)
        password_file = data_dir / "flower-password"
        password = password_file.read_text().strip()
        assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
        assert http_status(flower_port, "/", auth=("admin", password)) == 200

        text = log.read_text()
        api = f"http://127.0.0.1:{api_port}"
        for url in (f"{api}/", f"{api}/api/v1/docs", f"{api}/health"):
            assert url in text
        assert f"http://127.0.0.1:{flower_port}/  (user admin, password {password}" in text
        assert "users create you@example.com --credits 1000" in text
        assert http_status(api_port, "/api/v1/docs") == 200
        # The password shows in the banner only: in no other log line, on no command line.
        assert text.count(password) == 1
        running = processes_with(str(data_dir))
        assert not [line for line in running if password in line]
        commands = "\n".join(running)
        for role in ("gunicorn", "-Q chunks-0,chunks-1,chunks-2,chunks-3", "-Q control"):
            assert role in commands
        assert "celery -A folio.worker beat" in commands
        assert "celery -A folio.worker flower" in commands

        signalled = time.monotonic()
        os.killpg(make.pid, signum)
        make.wait(timeout=STOP_SECONDS)
        assert_all_gone(str(data_dir), signalled, log)
        text = log.read_text()
        assert "stopping every process" in text
        assert "every process has stopped" in text
        assert "killing what is left" not in text  # all stopped cleanly within the grace
    finally:
        kill_group(make)
        kill_all(str(data_dir))


def test_a_process_that_exits_stops_all_the_others(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    environ = clean_environ(
        FOLIO_DATA_DIR=str(data_dir),
        FOLIO_ENV="test",
        FOLIO_WORKER_CONCURRENCY="1",
        FOLIO_FLOWER_PORT=str(free_port()),
    )
    log = tmp_path / "devserver.log"
    # The "API" fails after a moment: the Celery roles are starting up, or already up.
    failing_api = [sys.executable, "-c", "import sys, time; time.sleep(3); sys.exit(3)"]
    argv = [sys.executable, "-m", "folio.ops.devserver", "--port", str(free_port())]
    server = start([*argv, "--flower-port", str(free_port()), "--", *failing_api], environ, log)
    try:
        assert server.wait(timeout=60) == 1
        assert_all_gone(str(data_dir), time.monotonic(), log)
        text = log.read_text()
        assert "api exited with code 3: stopping all" in text
        assert "every process has stopped" in text
    finally:
        kill_group(server)
        kill_all(str(data_dir))


def test_the_flower_password_is_made_once_and_kept_private(tmp_path: Path) -> None:
    password = devserver.flower_password(tmp_path, {})
    path = tmp_path / devserver.PASSWORD_FILE
    assert len(password) >= 20
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert devserver.flower_password(tmp_path, {}) == password
    # A password in the environment wins, and the saved one is left alone.
    assert devserver.flower_password(tmp_path, {"FOLIO_FLOWER_PASSWORD": "given"}) == "given"
    assert path.read_text().strip() == password
    path.write_text("\n")
    renewed = devserver.flower_password(tmp_path, {})
    assert renewed and renewed != password


def test_the_devserver_needs_an_api_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "folio.ops.devserver", "--port", "1"],
        env=clean_environ(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "give the API command after --" in result.stderr


# Two children for the supervisor alone: one that ignores SIGTERM and has a child that does
# too (what a stuck worker and its pool look like), and one that stops when asked.
SUPERVISED = """
import os, sys
from folio.ops.devserver import Child, Supervisor

stubborn = (
    "import signal, subprocess, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']); "
    "print('ready', flush=True); time.sleep(600)"
)
polite = "import time; print('ready', flush=True); time.sleep(600)"
children = [
    Child("stubborn", [sys.executable, "-c", stubborn], dict(os.environ)),
    Child("polite", [sys.executable, "-c", polite], dict(os.environ)),
]
sys.exit(Supervisor(children, float(sys.argv[1]), sys.stdout.buffer).run(lambda: None))
"""


@pytest.mark.parametrize(
    ("grace", "signals"), [(1.0, 1), (60.0, 2)], ids=["after-the-grace", "second-ctrl-c"]
)
def test_what_ignores_sigterm_is_killed_with_its_children(
    tmp_path: Path, grace: float, signals: int
) -> None:
    marker = str(tmp_path)
    log = tmp_path / "supervisor.log"
    environ = clean_environ(SUPERVISOR_TEST_MARKER=marker)
    supervisor = start([sys.executable, "-c", SUPERVISED, str(grace)], environ, log)
    try:
        wait_until(lambda: log.read_text().count("| ready") == 2, 30, "both children", log)
        signalled = time.monotonic()
        supervisor.send_signal(signal.SIGINT)
        if signals == 2:
            time.sleep(1.5)  # a second Ctrl-C, not the same one seen twice
            supervisor.send_signal(signal.SIGINT)
        assert supervisor.wait(timeout=STOP_SECONDS) == 0
        assert time.monotonic() - signalled < 10
        assert_all_gone(marker, signalled, log)
        text = log.read_text()
        assert "polite stopped (code -15)" in text
        assert "killing what is left" in text
        assert "stubborn stopped (code -9)" in text
    finally:
        kill_group(supervisor)
        kill_all(marker)
