"""Run a function in a child process with a memory and a wall-time limit.

A document bomb must cost its own sandbox, never the API worker or the chunk worker that
asked. `run_bounded` forks; the child lowers its address-space limit (RLIMIT_AS) to what it
has plus the budget, runs the function and pipes the pickled result back. The parent waits
at most the wall time, then kills the child. A child that dies (a signal: pdfium aborts when
an allocation fails), runs out of memory (MemoryError) or overruns its time becomes
`DocumentTooComplex`; a `FolioError` raised in the child is raised again in the parent.

Fork, not spawn: a child starts in milliseconds with the parent's modules already imported,
and the parent never enters pdfium itself (every read of a document goes through here), so
no lock of pdfium's can be held by another thread at the fork.
"""

from __future__ import annotations

import faulthandler
import os
import pickle
import resource
import select
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from folio.errors import FolioError
from folio.pipeline.budgets import MB
from folio.pipeline.errors import DocumentTooComplex

_T = TypeVar("_T")
_CHUNK = 1 << 16


@dataclass(frozen=True, slots=True)
class Bounds:
    """What one sandboxed call may use: address space added (MB) and wall time (seconds)."""

    memory_mb: int
    seconds: float


@dataclass(frozen=True, slots=True)
class _Crash:
    """An unexpected exception in the child, carried as text (it may not pickle)."""

    kind: str
    text: str


def run_bounded(bounds: Bounds, function: Callable[..., _T], *args: Any) -> _T:
    """`function(*args)` run in a forked child within `bounds`; its result or its error."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(reader)
        _child(bounds, writer, function, args)
    os.close(writer)
    try:
        payload = _read(reader, pid, bounds.seconds)
    finally:
        os.close(reader)
        status = _reap(pid)
    return cast(_T, _outcome(payload, status, bounds))


def _child(bounds: Bounds, writer: int, function: Callable[..., Any], args: Any) -> None:
    """Limit this process, run the function, write ("ok"|"error", value), exit at once."""
    code = 0
    try:
        # pdfium aborts when an allocation fails: expected here, reported by the parent.
        faulthandler.disable()
        _limit_memory(bounds.memory_mb)
        # A second, independent bound: CPU time, in case the parent is gone.
        cpu = int(bounds.seconds) + 2
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        try:
            message: tuple[str, Any] = ("ok", function(*args))
        except MemoryError:
            message = ("memory", None)
        except FolioError as error:
            message = ("error", error)
        except BaseException as error:  # everything else is reported, never swallowed
            message = ("crash", _Crash(type(error).__name__, str(error)[:500]))
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(writer, "wb") as pipe:
            pipe.write(data)
    except BaseException:
        code = 1
    finally:
        os._exit(code)  # no atexit handlers, no flushing of the parent's buffers


def _limit_memory(memory_mb: int) -> None:
    """Cap the address space at what the child has now plus `memory_mb`."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            current = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # no /proc: the budget alone, as an absolute cap
        current = 0
    limit = current + memory_mb * MB
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _read(reader: int, pid: int, seconds: float) -> bytes | None:
    """The child's whole message, or None when the time ran out (the child is then killed)."""
    deadline = time.monotonic() + seconds
    parts: list[bytes] = []
    while True:
        left = deadline - time.monotonic()
        ready, _, _ = select.select([reader], [], [], max(left, 0))
        if not ready:
            os.kill(pid, signal.SIGKILL)
            return None
        part = os.read(reader, _CHUNK)
        if not part:
            return b"".join(parts)
        parts.append(part)


def _reap(pid: int) -> int:
    """Wait for the child; its wait status."""
    while True:
        try:
            return os.waitpid(pid, 0)[1]
        except ChildProcessError:  # already reaped (a SIGCHLD handler of the host's)
            return 0
        except InterruptedError:
            continue


def _outcome(payload: bytes | None, status: int, bounds: Bounds) -> Any:
    if payload is None:
        raise DocumentTooComplex(
            f"Reading the document took longer than {bounds.seconds:g} s and was stopped."
        )
    if not payload:
        cause = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"status {status}"
        raise DocumentTooComplex(
            f"Reading the document needed more than {bounds.memory_mb} MB or failed ({cause})."
        )
    kind, value = pickle.loads(payload)
    if kind == "ok":
        return value
    if kind == "memory":
        raise DocumentTooComplex(f"Reading the document needed more than {bounds.memory_mb} MB.")
    if kind == "error":
        raise value
    raise SandboxCrash(f"{value.kind}: {value.text}")


class SandboxCrash(RuntimeError):
    """An unexpected exception in the sandboxed function (a bug or an unknown failure)."""
