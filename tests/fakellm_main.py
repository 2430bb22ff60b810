"""Run the fake LLM server as its own process, and control it over HTTP from another one.

`python tests/fakellm_main.py --port 0 --port-file PATH` (or `python -m fakellm` with tests/ on
the path) serves until SIGTERM; `start_process()` does that and returns a `FakeProcess` handle.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from types import TracebackType
from typing import Any

from fakellm import Fault, LogEntry, Server


class FakeProcess:
    """Control of a fake running in another process, over its `/_fake/*` endpoints."""

    def __init__(self, url: str, process: subprocess.Popen[bytes] | None = None) -> None:
        self.url, self.process = url, process

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def set_faults(self, rules: Iterable[Fault]) -> None:
        """Replace the fault rules."""
        self._call("POST", "/_fake/faults", {"faults": [asdict(r) for r in rules]})

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self._call("DELETE", "/_fake/faults")

    @property
    def log(self) -> list[LogEntry]:
        """The request log."""
        return [LogEntry(**e) for e in self._call("GET", "/_fake/log")["entries"]]

    def stats(self) -> dict[str, Any]:
        """Request counts, as `GET /_fake/stats`."""
        result: dict[str, Any] = self._call("GET", "/_fake/stats")
        return result

    def reset(self) -> None:
        """Forget the log and the request counts."""
        self._call("DELETE", "/_fake/log")

    def stop(self) -> None:
        """Terminate the process (if this handle started it)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> FakeProcess:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def start_process(timeout: float = 10.0) -> FakeProcess:
    """Run the fake as a separate Python process on a free port; stop it with `.stop()`."""
    port_file = Path(tempfile.mkdtemp(prefix="fakellm-")) / "port"
    command = [sys.executable, str(Path(__file__).resolve()), "--port-file", str(port_file)]
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    try:
        while not port_file.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"the fake LLM process did not start (exit {process.poll()})")
            time.sleep(0.02)
        return FakeProcess(f"http://127.0.0.1:{int(port_file.read_text())}", process)
    finally:
        shutil.rmtree(port_file.parent, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    """Serve until SIGTERM or SIGINT; write the bound port to --port-file once listening."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", type=Path)
    args = parser.parse_args(argv)
    server = Server(args.host, args.port)
    if args.port_file:
        partial = args.port_file.with_suffix(".partial")
        partial.write_text(str(server.server_address[1]))
        os.replace(partial, args.port_file)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.state.stopping.set()
        server.server_close()


if __name__ == "__main__":
    main()
