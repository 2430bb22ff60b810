"""The supervisor of `make run`: starts processes, keeps their logs, restarts what dies.

Each child runs in a session of its own with its output (both streams) on a pipe; the
supervisor appends it to the child's log file, and also shows it on the terminal, each line
prefixed with the child's name, when verbose (or when the child has no log file). A child
that exits on its own is restarted after a back-off (1 s, doubling up to 30 s; back to 1 s
once it had run for a minute). Ctrl-C (or SIGTERM) sends SIGTERM to each main process, so
that gunicorn and Celery shut down their own children (a worker first finishes its running
task); after the grace, whatever is left of each process group is killed.
"""

from __future__ import annotations

import ctypes
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import IO

from folio.ops.health import HealthCheck

PR_SET_PDEATHSIG = 1
# A second signal this soon after the first is the same Ctrl-C seen twice (make forwards a
# SIGTERM that the whole group also received), not a request to stop faster.
REPEAT_WINDOW_SECONDS = 1.0
# After the SIGKILLs, how long to wait for output pipes held by processes outside the group.
KILL_WAIT_SECONDS = 5.0
FIRST_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 30.0
# A child that ran this long before it died failed anew: its back-off starts again at 1 s.
STABLE_SECONDS = 60.0


@dataclass
class Child:
    """One supervised process: what to run, where its log goes, and its current run."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    returncode: int | None = None
    pipe_open: bool = False
    partial: bytes = b""
    last_line: bytes = b""
    swept: bool = False
    log: IO[bytes] | None = None
    started_at: float = 0.0
    backoff: float = 0.0  # the delay before its last restart; 0 while it never died
    restart_at: float | None = None
    health: HealthCheck | None = None  # a wedged child fails it and is restarted

    @property
    def done(self) -> bool:
        """Never started, or exited with nothing left holding its output pipe."""
        return self.process is None or (self.returncode is not None and not self.pipe_open)


def next_backoff(previous: float, uptime: float) -> float:
    """The delay before restarting a child that died after `uptime` seconds."""
    if previous <= 0 or uptime >= STABLE_SECONDS:
        return FIRST_BACKOFF_SECONDS
    return min(previous * 2, MAX_BACKOFF_SECONDS)


def shown_path(path: Path) -> str:
    """`path` relative to the current folder when it is inside it (shorter to read)."""
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


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
    """Starts the children, keeps their output, restarts the dead, and stops them together."""

    def __init__(
        self, children: Sequence[Child], grace: float, out: IO[bytes], verbose: bool = False
    ) -> None:
        self.children = list(children)
        self.grace = grace
        self.out = out
        self.verbose = verbose
        self.width = max(len(child.name) for child in [*self.children, Child("run", [], {})])
        self.signalled_at: float | None = None
        self.forced = False
        self.setup = child_setup()

    def say(self, message: str) -> None:
        """Print a line of the supervisor's own (prefixed like the children's when verbose)."""
        if self.verbose:
            self.emit("run", message.encode())
        else:
            self.out.write(message.encode() + b"\n")
            self.out.flush()

    def emit(self, name: str, line: bytes) -> None:
        """Print one line of output under `name`."""
        self.out.write(f"{name:<{self.width}} | ".encode() + line.rstrip(b"\r\n") + b"\n")
        self.out.flush()

    def note(self, child: Child, message: str) -> None:
        """Record an event of the child's in its own log file, where its output is."""
        if child.log is not None:
            stamp = datetime.now().astimezone().isoformat(sep=" ", timespec="seconds")
            child.log.write(f"{stamp} folio.ops.supervisor: {child.name} {message}\n".encode())
            child.log.flush()

    def on_signal(self, _signum: int, _frame: FrameType | None) -> None:
        """Note a stop request; a second one, not a duplicate, kills without waiting."""
        now = time.monotonic()
        if self.signalled_at is None:
            self.signalled_at = now
        elif now - self.signalled_at > REPEAT_WINDOW_SECONDS:
            self.forced = True

    def run(self, on_idle: Callable[[], None]) -> int:
        """Supervise until a signal, then stop everything; return the exit code."""
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self.on_signal)
        selector = selectors.DefaultSelector()
        try:
            for child in self.children:
                self.start(child, selector)
        except OSError as error:
            self.say(f"could not start every process: {error}")
            self.stop(selector)
            return 1
        while self.signalled_at is None:
            self.relay(selector)
            for child in self.reap():
                self.schedule_restart(child)
            self.sweep()
            self.watch()
            self.restart_due(selector)
            on_idle()
        self.say("stopping every process (press Ctrl-C again to kill them at once)")
        self.stop(selector)
        return 0

    def start(self, child: Child, selector: selectors.BaseSelector) -> None:
        """Start the child with its output on a pipe that `selector` watches."""
        if child.log is None and child.log_path is not None:
            child.log = child.log_path.open("ab")
        # preexec_fn is fork-safe here: the supervisor runs a single thread.
        process = subprocess.Popen(
            child.argv,
            env=child.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            preexec_fn=self.setup,
        )
        assert process.stdout is not None
        os.set_blocking(process.stdout.fileno(), False)
        selector.register(process.stdout, selectors.EVENT_READ, child)
        child.process, child.returncode, child.pipe_open = process, None, True
        child.swept, child.restart_at, child.started_at = False, None, time.monotonic()
        child.last_line = b""
        if child.health is not None:
            child.health.restart(child.started_at)
        self.note(child, f"started (pid {process.pid})")
        if self.verbose or child.log is None:
            self.say(f"started {child.name} (pid {process.pid})")

    def watch(self) -> None:
        """Kill each running child that keeps failing its health check: it is restarted."""
        now = time.monotonic()
        for child in self.children:
            running = child.process is not None and child.returncode is None
            if child.health is None or not running or not child.health.poll(now):
                continue
            times = child.health.failures
            self.note(child, f"failed its health check {times} times in a row: killing it")
            self.say(f"{child.name} failed its health check {times} times in a row; restarting it")
            self.signal_child(child, signal.SIGKILL, group=True)

    def schedule_restart(self, child: Child) -> None:
        """A child exited on its own: say so, and when it will be started again."""
        uptime = time.monotonic() - child.started_at
        child.backoff = next_backoff(child.backoff, uptime)
        child.restart_at = time.monotonic() + child.backoff
        where = f"; its log: {shown_path(child.log_path)}" if child.log_path is not None else ""
        last = (child.partial or child.last_line).decode(errors="replace").strip()[:200]
        said = f" (its last line: {last})" if last else ""
        message = f"exited with code {child.returncode} after {uptime:.0f} s"
        self.note(child, f"{message}; restarting it in {child.backoff:.0f} s")
        self.say(f"{child.name} {message}{said}; restarting it in {child.backoff:.0f} s{where}")

    def restart_due(self, selector: selectors.BaseSelector) -> None:
        """Start again each dead child whose back-off has passed."""
        now = time.monotonic()
        for child in self.children:
            if child.restart_at is None or now < child.restart_at:
                continue
            if child.pipe_open and child.process is not None:
                self.close_pipe(child, selector)  # held by a process that left the group
            try:
                self.start(child, selector)
            except OSError as error:
                child.started_at = now
                self.say(f"could not restart {child.name}: {error}")
                self.schedule_restart(child)

    def stop(self, selector: selectors.BaseSelector) -> None:
        """SIGTERM each main process, wait for all, SIGKILL what is left after the grace."""
        for child in self.children:
            child.restart_at = None
            if child.health is not None:
                child.health.cancel()
            self.signal_child(child, signal.SIGTERM, group=False)
        deadline = time.monotonic() + self.grace
        killed = False
        while not all(child.done for child in self.children):
            self.relay(selector)
            for child in self.reap():
                self.note(child, f"stopped (code {child.returncode})")
                self.say(f"{child.name} stopped (code {child.returncode})")
            self.sweep()
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
        for child in self.children:
            if child.log is not None:
                child.log.close()
        self.say("every process has stopped")

    def sweep(self) -> None:
        """Kill what is left in the group of each child whose main process has ended."""
        for child in self.children:
            # Anything left in its group (a pool process, the entrypoint's wait) would be an
            # orphan, and would still hold the pipe.
            if child.returncode is not None and child.pipe_open and not child.swept:
                self.signal_child(child, signal.SIGKILL, group=True)
                child.swept = True

    def relay(self, selector: selectors.BaseSelector, timeout: float = 0.2) -> None:
        """Log (and show) what the children wrote; note the pipes that closed."""
        for key, _events in selector.select(timeout):
            child: Child = key.data
            data = os.read(key.fd, 65536)
            if not data:
                self.close_pipe(child, selector)
                continue
            if child.log is not None:
                child.log.write(data)
                child.log.flush()
            *lines, child.partial = (child.partial + data).split(b"\n")
            for line in lines:
                self.show(child, line)

    def show(self, child: Child, line: bytes) -> None:
        """Remember the child's last line; print it when verbose or when it has no log."""
        if line.strip():
            child.last_line = line
        if self.verbose or child.log is None:
            self.emit(child.name, line)

    def close_pipe(self, child: Child, selector: selectors.BaseSelector) -> None:
        """Stop watching the child's output pipe (closed, or given up on)."""
        assert child.process is not None and child.process.stdout is not None
        selector.unregister(child.process.stdout)
        child.process.stdout.close()
        child.pipe_open = False
        if child.partial:
            self.show(child, child.partial)
            child.partial = b""

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
