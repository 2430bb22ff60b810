"""`make run`: the API, both Celery workers, beat and Flower in one terminal; Ctrl-C stops all.

usage: python -m folio.ops.devserver [--host H] [--port P] [--flower-port F] -- API COMMAND...

Each process gets a session of its own and its output is shown prefixed with its name.
Ctrl-C (or SIGTERM) sends SIGTERM to each main process, so that gunicorn and Celery shut
down their own children (a worker first finishes its running task); after --grace seconds
whatever is left of each process group is killed. If one process exits, all are stopped.
"""

from __future__ import annotations

import argparse
import ctypes
import http.client
import os
import secrets
import selectors
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO

from folio.config import REPO_ROOT, Settings

ENTRYPOINT = REPO_ROOT / "celery-entrypoint.sh"
PASSWORD_FILE = "flower-password"
PR_SET_PDEATHSIG = 1
# A second signal this soon after the first is the same Ctrl-C seen twice (make forwards a
# SIGTERM that the whole group also received), not a request to stop faster.
REPEAT_WINDOW_SECONDS = 1.0
# After the SIGKILLs, how long to wait for output pipes held by processes outside the group.
KILL_WAIT_SECONDS = 5.0


@dataclass
class Child:
    """One supervised process, its output pipe and its unfinished last line."""

    name: str
    argv: list[str]
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    returncode: int | None = None
    pipe_open: bool = True
    partial: bytes = b""

    swept: bool = False

    @property
    def done(self) -> bool:
        """Never started, or exited with nothing left holding its output pipe."""
        return self.process is None or (self.returncode is not None and not self.pipe_open)


def flower_password(data_dir: Path, environ: Mapping[str, str]) -> str:
    """FOLIO_FLOWER_PASSWORD, else the one saved in `data_dir`/flower-password (made once)."""
    given = environ.get("FOLIO_FLOWER_PASSWORD", "").strip()
    if given:
        return given
    path = data_dir / PASSWORD_FILE
    if path.exists():
        saved = path.read_text(encoding="utf-8").strip()
        if saved:
            return saved
        path.unlink()
    data_dir.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(18)
    # Mode 0600 from creation on: never readable by others, not even for a moment.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(password + "\n")
    return password


def child_setup() -> Callable[[], None]:
    """What each child runs before exec: its own session, and SIGTERM when the supervisor dies."""
    # PR_SET_PDEATHSIG (Linux): the kernel signals the child even if the supervisor is
    # SIGKILLed, so no worker is ever left orphaned.
    parent = os.getpid()
    prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None

    def setup() -> None:
        os.setsid()
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
            if os.getppid() != parent:  # the supervisor died before prctl took effect
                os._exit(1)

    return setup


class Supervisor:
    """Starts the children, relays their output, and stops them all together."""

    def __init__(self, children: Sequence[Child], grace: float, out: IO[bytes]) -> None:
        self.children = list(children)
        self.grace = grace
        self.out = out
        self.width = max(len(child.name) for child in self.children)
        self.signalled_at: float | None = None
        self.forced = False

    def say(self, message: str) -> None:
        """Print a line of the supervisor's own."""
        self.emit("run", message.encode())

    def emit(self, name: str, line: bytes) -> None:
        """Print one line of output under `name`."""
        self.out.write(f"{name:<{self.width}} | ".encode() + line.rstrip(b"\r\n") + b"\n")
        self.out.flush()

    def on_signal(self, _signum: int, _frame: FrameType | None) -> None:
        """Note a stop request; a second one, not a duplicate, kills without waiting."""
        now = time.monotonic()
        if self.signalled_at is None:
            self.signalled_at = now
        elif now - self.signalled_at > REPEAT_WINDOW_SECONDS:
            self.forced = True

    def run(self, on_idle: Callable[[], None]) -> int:
        """Run until a signal or a child's exit, then stop everything; return the exit code."""
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self.on_signal)
        selector = selectors.DefaultSelector()
        try:
            self.start(selector)
        except OSError as error:
            self.say(f"could not start every process: {error}")
            self.stop(selector)
            return 1
        exit_code = 0
        while self.signalled_at is None:  # the `else` below runs when a signal ended it
            self.relay(selector)
            self.reap()
            exited = next((child for child in self.children if child.returncode is not None), None)
            if exited is not None:
                self.say(f"{exited.name} exited with code {exited.returncode}: stopping all")
                exit_code = 1
                break
            on_idle()
        else:
            self.say("stopping every process (press Ctrl-C again to kill them at once)")
        self.stop(selector)
        return exit_code

    def start(self, selector: selectors.BaseSelector) -> None:
        """Start every child with its output on a pipe that `selector` watches."""
        setup = child_setup()
        for child in self.children:
            # preexec_fn is fork-safe here: the supervisor runs a single thread.
            process = subprocess.Popen(
                child.argv,
                env=child.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                preexec_fn=setup,
            )
            assert process.stdout is not None
            os.set_blocking(process.stdout.fileno(), False)
            selector.register(process.stdout, selectors.EVENT_READ, child)
            child.process = process
            self.say(f"started {child.name} (pid {process.pid})")

    def stop(self, selector: selectors.BaseSelector) -> None:
        """SIGTERM each main process, wait for all, SIGKILL what is left after the grace."""
        for child in self.children:
            self.signal_child(child, signal.SIGTERM, group=False)
        deadline = time.monotonic() + self.grace
        killed = False
        while not all(child.done for child in self.children):
            self.relay(selector)
            for child in self.reap():
                self.say(f"{child.name} stopped (code {child.returncode})")
            for child in self.children:
                # Its main process is gone: anything left in its group (a pool process, the
                # entrypoint's wait) would be an orphan.
                if child.returncode is not None and child.pipe_open and not child.swept:
                    self.signal_child(child, signal.SIGKILL, group=True)
                    child.swept = True
            if not killed and (self.forced or time.monotonic() > deadline):
                self.say("killing what is left")
                for child in self.children:
                    if not child.done:
                        self.signal_child(child, signal.SIGKILL, group=True)
                killed = True
                deadline = time.monotonic() + KILL_WAIT_SECONDS
            elif killed and time.monotonic() > deadline:
                self.say("gave up waiting for output pipes held outside the process groups")
                break
        self.say("every process has stopped")

    def relay(self, selector: selectors.BaseSelector, timeout: float = 0.2) -> None:
        """Print the complete lines the children wrote; note the pipes that closed."""
        for key, _events in selector.select(timeout):
            child: Child = key.data
            data = os.read(key.fd, 65536)
            if not data:
                selector.unregister(key.fileobj)
                key.fileobj.close()  # type: ignore[union-attr]
                child.pipe_open = False
                if child.partial:
                    self.emit(child.name, child.partial)
                continue
            *lines, child.partial = (child.partial + data).split(b"\n")
            for line in lines:
                self.emit(child.name, line)

    def reap(self) -> list[Child]:
        """Record the exit code of each child whose main process ended since the last call."""
        ended = []
        for child in self.children:
            if child.returncode is None and child.process is not None:
                child.returncode = child.process.poll()
                if child.returncode is not None:
                    ended.append(child)
        return ended

    def signal_child(self, child: Child, signum: int, *, group: bool) -> None:
        """Send `signum` to the child's main process, or to its whole process group."""
        if child.process is None:
            return
        try:
            if group:
                os.killpg(child.process.pid, signum)
            elif child.returncode is None:
                child.process.send_signal(signum)
        except ProcessLookupError:
            pass  # already gone


def local_host(host: str) -> str:
    """A host to connect to for a server bound to `host` (a wildcard means this machine)."""
    return {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)


def url_host(host: str) -> str:
    """`host` as it is written in a URL (an IPv6 address goes in brackets)."""
    return f"[{host}]" if ":" in host else host


def api_answers(host: str, port: int) -> bool:
    """Whether GET /health answers 200 (no proxy: the API is on this machine)."""
    connection = http.client.HTTPConnection(host, port, timeout=0.5)
    try:
        connection.request("GET", "/health")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def banner(
    api: str,
    flower: str,
    user: str,
    password: str,
    saved_in: Path | None,
    environ: Mapping[str, str],
) -> str:
    """What the terminal shows once the API answers: addresses, Flower login, next steps."""
    where = f", kept in {saved_in}" if saved_in is not None else ""
    flask = Path(sys.prefix, "bin", "flask")
    if flask.is_relative_to(Path.cwd()):
        flask = flask.relative_to(Path.cwd())
    prefix = ""
    if environ.get("FOLIO_DATA_DIR", "").strip():
        prefix = f"FOLIO_DATA_DIR={shlex.quote(environ['FOLIO_DATA_DIR'])} "
    return "\n".join(
        [
            "",
            "Folio is running. Ctrl-C stops every process.",
            f"  web app      {api}/  (sign up there)",
            f"  API          {api}/api/v1/",
            f"  API docs     {api}/api/v1/docs",
            f"  health       {api}/health",
            f"  Flower       {flower}/  (user {user}, password {password}{where})",
            "Or create an account with 1000 credits (the password is asked for):",
            f"  {prefix}{flask} --app folio.wsgi users create you@example.com --credits 1000",
            "Then try it with curl: docs/running.md",
            "",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Start the API command and the four Celery roles; return when all have stopped."""
    parser = argparse.ArgumentParser(prog="python -m folio.ops.devserver", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="the API's address (for the banner)")
    parser.add_argument("--port", type=int, default=8000, help="the API's port")
    parser.add_argument("--flower-port", type=int, default=5555)
    parser.add_argument("--grace", type=float, default=10.0, help="seconds to stop cleanly")
    parser.add_argument("api_command", nargs=argparse.REMAINDER, help="-- the API command")
    args = parser.parse_args(argv)
    api_command = args.api_command[1:] if args.api_command[:1] == ["--"] else args.api_command
    if not api_command:
        parser.error("give the API command after --")
    try:
        settings = Settings.from_env()
    except ValueError as error:
        parser.exit(2, f"error: {error}\n")
    password = flower_password(settings.data_dir, os.environ)
    given = bool(os.environ.get("FOLIO_FLOWER_PASSWORD", "").strip())
    saved_in = None if given else settings.data_dir / PASSWORD_FILE
    # Not the API's HOST: Flower is for the operator, so it stays local unless asked.
    flower_address = os.environ.get("FOLIO_FLOWER_ADDRESS", "").strip() or "127.0.0.1"

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # Only Flower needs the password: no other process's environment carries it.
    env.pop("FOLIO_FLOWER_PASSWORD", None)
    if sys.prefix != sys.base_prefix:
        # The entrypoint picks $VIRTUAL_ENV first: this one, not one active in the shell.
        env["VIRTUAL_ENV"] = sys.prefix
    flower_env = {
        **env,
        "FOLIO_FLOWER_PASSWORD": password,
        "FOLIO_FLOWER_ADDRESS": flower_address,
        "FOLIO_FLOWER_PORT": str(args.flower_port),
    }
    entrypoint = str(ENTRYPOINT)
    children = [
        Child("api", api_command, env),
        Child("worker", [entrypoint, "worker"], env),
        Child("control", [entrypoint, "control-worker"], env),
        Child("beat", [entrypoint, "beat"], env),
        Child("flower", [entrypoint, "flower"], flower_env),
    ]
    supervisor = Supervisor(children, args.grace, sys.stdout.buffer)

    api_host = local_host(args.host)
    api = f"http://{url_host(api_host)}:{args.port}"
    flower = f"http://{url_host(local_host(flower_address))}:{args.flower_port}"
    next_probe = 0.0
    shown = False

    def show_banner_when_up() -> None:
        nonlocal next_probe, shown
        if shown or time.monotonic() < next_probe:
            return
        next_probe = time.monotonic() + 0.5
        if api_answers(api_host, args.port):
            shown = True
            text = banner(api, flower, settings.flower_user, password, saved_in, os.environ)
            for line in text.split("\n"):
                supervisor.say(line)

    return supervisor.run(show_banner_when_up)


if __name__ == "__main__":
    sys.exit(main())
