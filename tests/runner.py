"""Helpers for the tests that run Folio's processes for real (celery-entrypoint.sh, `make run`):
environments, free ports, HTTP probes, waiting, stopping, and finding leftover processes."""

from __future__ import annotations

import base64
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ENTRYPOINT = REPO / "celery-entrypoint.sh"
SECRET_KEY = "test-secret-key-of-a-decent-length-0123456789"
# Inherited variables that would change what the processes under test do.
_DROPPED = ("FOLIO_", "FLOWER_", "CELERY_", "MAKEFLAGS", "MAKELEVEL", "MFLAGS")


def clean_environ(**extra: str) -> dict[str, str]:
    """This process's environment without Folio, Flower or make settings, plus `extra`."""
    environ = {key: value for key, value in os.environ.items() if not key.startswith(_DROPPED)}
    if sys.prefix != sys.base_prefix:
        # The entrypoint prefers $VIRTUAL_ENV: the interpreter that runs the tests.
        environ["VIRTUAL_ENV"] = sys.prefix
    environ.update(extra)
    return environ


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def http_status(port: int, path: str, auth: tuple[str, str] | None = None) -> int | None:
    """The status of GET `path` on 127.0.0.1:`port`, or None when nothing answers."""
    headers = {}
    if auth is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path, headers=headers)
        return connection.getresponse().status
    except OSError:
        return None
    finally:
        connection.close()


def wait_until(condition: Callable[[], bool], timeout: float, what: str, log: Path) -> None:
    """Poll `condition` until it holds; fail with `what` and the end of `log` otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-60:]) if log.exists() else ""
    raise AssertionError(f"timed out after {timeout} s waiting for {what}; log:\n{tail}")


def start(argv: list[str], environ: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start `argv` in a session of its own, its output (both streams) in `log`."""
    with log.open("wb") as out:
        return subprocess.Popen(
            argv, env=environ, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def group_alive(pgid: int) -> bool:
    """Whether any process is left in the process group `pgid`."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL whatever is left of the process group of `process` (cleanup after a failure)."""
    if group_alive(process.pid):
        os.killpg(process.pid, signal.SIGKILL)
    if process.poll() is None:
        process.wait(timeout=10)


def processes_with(marker: str) -> list[str]:
    """Every live process whose command line or environment contains `marker` (Linux /proc)."""
    found = []
    needle = marker.encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue  # gone meanwhile, or not ours to read
        # A zombie has an empty command line: it is dead, only not reaped yet.
        if cmdline and (needle in cmdline or needle in environ):
            shown = cmdline.replace(b"\0", b" ").decode(errors="replace")
            found.append(f"{entry.name}: {shown}")
    return found


def cmdline(pid: int) -> list[str]:
    """The command line of process `pid`."""
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]
