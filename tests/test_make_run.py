"""`make run` for real: everything starts on embedded defaults, the banner comes last and every
address in it answers, each process logs to a file of its own, a cancelled job leaves no
traceback, a process that dies is restarted, and a signal to the process group leaves no
process behind. Also the supervisor's and the devserver's parts alone."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from folio.ops import devserver, supervisor
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
from workers import with_tests_dir

# The first `make run` of a checkout also installs .venv/: allow for it.
STARTUP_SECONDS = 180
STOP_SECONDS = 20
BANNER_END = "Then try it with curl: docs/running.md"
LOGS = ("api", "worker", "control", "beat", "flower")

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


def stop_cleanly(process: subprocess.Popen[bytes], signum: int, marker: str, log: Path) -> int:
    """Signal the process group; the supervisor stops every process within the grace."""
    signalled = time.monotonic()
    os.killpg(process.pid, signum)
    code = process.wait(timeout=STOP_SECONDS)  # make itself dies of the SIGINT
    assert_all_gone(marker, signalled, log)
    text = log.read_text()
    assert "stopping every process" in text
    assert "every process has stopped" in text
    assert "killing what is left" not in text  # all stopped cleanly within the grace
    return code


def banner_urls(text: str) -> list[str]:
    """Every address of the banner (the last block of `text`)."""
    return re.findall(r"http://\S+", text[text.rindex("Folio is running") :])


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_make_run_prints_the_banner_last_and_a_signal_stops_everything(
    tmp_path: Path, signum: signal.Signals
) -> None:
    data_dir = tmp_path / "data"
    api_port, flower_port = free_port(), free_port()
    log = tmp_path / "make-run.log"
    environ = clean_environ(FOLIO_DATA_DIR=str(data_dir), FOLIO_WORKER_CONCURRENCY="1")
    argv = ["make", "--no-print-directory", "-C", str(REPO), "run"]
    make = start([*argv, f"PORT={api_port}", f"FLOWER_PORT={flower_port}"], environ, log)
    try:
        wait_until(lambda: BANNER_END in log.read_text(), STARTUP_SECONDS, "the banner", log)
        password_file = data_dir / "flower-password"
        password = password_file.read_text().strip()
        assert stat.S_IMODE(password_file.stat().st_mode) == 0o600

        text = log.read_text()
        api, flower = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{flower_port}"
        urls = banner_urls(text)
        assert {f"{api}/", f"{api}/api/v1/docs", f"{api}/ready", f"{flower}/"} <= set(urls)
        for url in urls:
            port, path = int(url.split(":")[2].split("/")[0]), "/" + url.split("/", 3)[3]
            auth = ("admin", password) if port == flower_port else None
            assert http_status(port, path, auth=auth) == 200, url
        assert http_status(flower_port, "/") == 401  # Flower asks for its password
        assert f"{flower}/  (user admin, password {password}" in text
        assert "users create you@example.com --credits 1000" in text
        # The password shows in the banner only: in no other line, on no command line.
        assert text.count(password) == 1
        running = processes_with(str(data_dir))
        assert not [line for line in running if password in line]
        commands = "\n".join(running)
        for role in ("gunicorn", "-Q chunks-0,chunks-1,chunks-2,chunks-3", "-Q control"):
            assert role in commands
        assert "celery -A folio.worker beat" in commands
        assert "celery -A folio.worker flower" in commands

        # The processes' output is in their log files, not on the terminal; one request is
        # logged once (Folio's own line, no gunicorn access log beside it).
        log_dir = data_dir / "log"
        assert f"their logs go to {log_dir}/" in text
        assert "celery.apps.worker" not in text and "Booting worker" not in text
        assert "chunks@" in (log_dir / "worker.log").read_text()
        for name in LOGS:
            assert password not in (log_dir / f"{name}.log").read_text()
        marker = uuid.uuid4().hex
        assert http_status(api_port, f"/no-such-page-{marker}") == 404
        api_log = log_dir / "api.log"
        wait_until(lambda: marker in api_log.read_text(), 10, "the request's log line", log)
        assert api_log.read_text().count(marker) == 1
        # Nothing was printed after the banner, though every address was asked meanwhile.
        assert log.read_text().rstrip().endswith(BANNER_END)

        stop_cleanly(make, signum, str(data_dir), log)
    finally:
        kill_group(make)
        kill_all(str(data_dir))


def devserver_argv(api_port: int, flower_port: int, *extra: str) -> list[str]:
    """The devserver with the API command of `make run`."""
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    api = [gunicorn, "--bind", f"127.0.0.1:{api_port}", "--workers", "2", "--preload"]
    ports = ["--port", str(api_port), "--flower-port", str(flower_port)]
    return [
        sys.executable,
        "-m",
        "folio.ops.devserver",
        *ports,
        *extra,
        "--",
        *api,
        "folio.wsgi:app",
    ]


def call(url: str, method: str = "GET", token: str = "", body: Any = None) -> Any:
    """The JSON answer of an API call (no proxy: the stack is on this machine)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = None
    if isinstance(body, Path):  # an upload: one multipart file field
        boundary = uuid.uuid4().hex
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        data = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="{body.name}"\r\nContent-Type: application/pdf\r\n\r\n'
            ).encode()
            + body.read_bytes()
            + f"\r\n--{boundary}--\r\n".encode()
        )
    elif body is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=30) as response:
        return json.load(response)


@pytest.mark.corpus
def test_a_cancelled_job_leaves_no_traceback_in_any_log(tmp_path: Path, corpus_dir: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    # Chunks of a quarter second, one at a time: most are still queued when the cancel comes.
    (data_dir / "faults.json").write_text(json.dumps({"delay_seconds": 0.25}))
    environ = clean_environ(
        FOLIO_DATA_DIR=str(data_dir),
        FOLIO_WORKER_CONCURRENCY="1",
        FOLIO_SIGNUP_CREDITS="1000",
        CELERY_APP="faultworker",  # the entrypoint's workers read faults.json
        PYTHONPATH=with_tests_dir(),
    )
    flask = str(Path(sys.executable).with_name("flask"))
    upgrade = [flask, "--app", "folio.wsgi", "db", "upgrade"]
    subprocess.run(upgrade, env=environ, cwd=REPO, check=True, capture_output=True, timeout=120)
    api_port, flower_port = free_port(), free_port()
    log = tmp_path / "devserver.log"
    server = start(devserver_argv(api_port, flower_port), environ, log)
    try:
        wait_until(lambda: BANNER_END in log.read_text(), STARTUP_SECONDS, "the banner", log)
        api = f"http://127.0.0.1:{api_port}/api/v1"
        login = {"email": "reader@example.com", "password": "correct horse battery staple"}
        token = call(f"{api}/auth/register", "POST", body=login)["access_token"]
        pdf = corpus_dir / "pdfs" / "book_feval_vampire.pdf"
        upload = call(f"{api}/uploads", "POST", token, pdf)
        body = {"upload_id": upload["id"], "settings": {"limit": 8}}
        job = call(f"{api}/jobs", "POST", token, body)
        url = f"{api}/jobs/{job['id']}"
        started = lambda: call(url, token=token)["processed_chunks"] >= 1  # noqa: E731
        wait_until(started, 60, "the first chunk", log)
        call(f"{url}/cancel", "POST", token)
        cancelled = lambda: call(url, token=token)["status"] == "cancelled"  # noqa: E731
        wait_until(cancelled, 60, "the job to be cancelled", log)
        assert call(url, token=token)["processed_chunks"] < job["total_chunks"]
        # The revoked chunks' chord ends on one INFO line, and finalize ran all the same.
        control = data_dir / "log" / "control.log"
        chord = "stopped: its chunks were revoked by a cancel"
        wait_until(lambda: chord in control.read_text(), 30, "the chord's line", log)
        assert stop_cleanly(server, signal.SIGTERM, str(data_dir), log) == 0
        for name in LOGS:
            text = (data_dir / "log" / f"{name}.log").read_text()
            assert "Traceback" not in text, f"{name}.log:\n{text}"
            assert "IntegrityError" not in text, f"{name}.log:\n{text}"
        assert "Discarding revoked task" in (data_dir / "log" / "worker.log").read_text()
    finally:
        kill_group(server)
        kill_all(str(data_dir))


def test_a_process_that_exits_is_restarted_and_the_others_keep_running(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    environ = clean_environ(FOLIO_DATA_DIR=str(data_dir), FOLIO_WORKER_CONCURRENCY="1")
    log = tmp_path / "devserver.log"
    # The "API" fails after a moment: the Celery roles are starting up, or already up.
    failing_api = [sys.executable, "-c", "import sys, time; time.sleep(2); sys.exit(3)"]
    argv = [sys.executable, "-m", "folio.ops.devserver", "--port", str(free_port())]
    server = start([*argv, "--flower-port", str(free_port()), "--", *failing_api], environ, log)
    try:
        second = re.compile(r"^api exited with code 3 after \d+ s; restarting it in 2 s", re.M)
        wait_until(lambda: bool(second.search(log.read_text())), 60, "a second restart", log)
        text = log.read_text()
        where = re.escape(str(data_dir / "log" / "api.log"))
        first = rf"^api exited with code 3 after \d+ s; restarting it in 1 s; its log: {where}"
        assert re.search(first, text, re.M)
        api_log = (data_dir / "log" / "api.log").read_text()
        assert api_log.count("folio.ops.supervisor: api started") >= 2
        # The others were never stopped.
        for name in ("worker", "control", "beat", "flower"):
            assert f"{name} exited" not in text
            assert (data_dir / "log" / f"{name}.log").read_text().count("started (pid") == 1
        assert server.poll() is None
        assert stop_cleanly(server, signal.SIGINT, str(data_dir), log) == 0
    finally:
        kill_group(server)
        kill_all(str(data_dir))


def test_the_backoff_doubles_to_30_seconds_and_starts_again_after_a_good_run() -> None:
    delays, previous = [], 0.0
    for _ in range(7):
        previous = supervisor.next_backoff(previous, uptime=1.0)
        delays.append(previous)
    assert delays == [1, 2, 4, 8, 16, 30, 30]
    assert supervisor.next_backoff(30.0, uptime=supervisor.STABLE_SECONDS) == 1


def test_verbose_shows_every_process_with_its_name(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    environ = clean_environ(FOLIO_DATA_DIR=str(data_dir), FOLIO_WORKER_CONCURRENCY="1")
    api_port, flower_port = free_port(), free_port()
    log = tmp_path / "devserver.log"
    server = start(devserver_argv(api_port, flower_port, "--verbose"), environ, log)
    try:
        wait_until(lambda: BANNER_END in log.read_text(), STARTUP_SECONDS, "the banner", log)
        text = log.read_text()
        assert re.search(r"^worker +\| .*chunks@\S+ ready\.", text, re.M)
        assert re.search(r"^api +\| .*Listening at", text, re.M)
        assert re.search(r"^run +\| +API docs +http://", text, re.M)
        # The files get the same output.
        assert "ready." in (data_dir / "log" / "control.log").read_text()
        assert stop_cleanly(server, signal.SIGTERM, str(data_dir), log) == 0
    finally:
        kill_group(server)
        kill_all(str(data_dir))


def test_the_previous_run_s_logs_are_kept_once(tmp_path: Path) -> None:
    (tmp_path / "api.log").write_text("first run\n")
    paths = devserver.prepare_logs(tmp_path, ["api", "worker"])
    assert paths == {"api": tmp_path / "api.log", "worker": tmp_path / "worker.log"}
    assert (tmp_path / "api.log.1").read_text() == "first run\n"
    assert not (tmp_path / "api.log").exists()


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
from folio.ops.supervisor import Child, Supervisor

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


# A child that never dies but fails its health check, and one whose check passes.
WATCHED = """
import os, sys
from folio.ops.health import HealthCheck
from folio.ops.supervisor import Child, Supervisor

sleeper = "import time; print('ready', flush=True); time.sleep(600)"
wedged = Child("wedged", [sys.executable, "-c", sleeper], dict(os.environ))
wedged.health = HealthCheck(["false"], every=0.3, grace=0.5)
healthy = Child("healthy", [sys.executable, "-c", sleeper], dict(os.environ))
healthy.health = HealthCheck(["true"], every=0.3, grace=0.5)
sys.exit(Supervisor([wedged, healthy], 5.0, sys.stdout.buffer).run(lambda: None))
"""


def test_a_child_that_fails_its_health_check_is_restarted(tmp_path: Path) -> None:
    marker = str(tmp_path)
    log = tmp_path / "supervisor.log"
    environ = clean_environ(SUPERVISOR_TEST_MARKER=marker)
    supervisor = start([sys.executable, "-c", WATCHED], environ, log)
    try:
        wait_until(
            lambda: log.read_text().count("started wedged") >= 2, 30, "a restart of wedged", log
        )
        text = log.read_text()
        assert "wedged failed its health check 2 times in a row; restarting it" in text
        assert "healthy failed" not in text
        assert text.count("started healthy") == 1
        supervisor.send_signal(signal.SIGINT)
        assert supervisor.wait(timeout=STOP_SECONDS) == 0
    finally:
        kill_group(supervisor)
        kill_all(marker)
