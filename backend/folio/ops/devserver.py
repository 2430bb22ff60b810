"""`make run`: the API, both Celery workers, beat and Flower, supervised; Ctrl-C stops all.

usage: python -m folio.ops.devserver [--host H] [--port P] [--flower-port F] [--log-dir D]
                                     [--verbose] -- API COMMAND...

Each process's output goes to a file of its own in the log folder (FOLIO_DATA_DIR/log, so
`var/log/` by default); --verbose also shows it on the terminal, prefixed with its name.
Once every address answers 200, the workers answer a ping and beat has started, the
supervisor prints the addresses: the last thing it prints while all is well. A process
that exits is restarted after a back-off (folio.ops.supervisor).
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import secrets
import shlex
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from folio.config import REPO_ROOT, Settings
from folio.ops.health import HealthCheck
from folio.ops.supervisor import Child, Supervisor, shown_path
from folio.taskqueue.heartbeat import HEARTBEAT_FILE

ENTRYPOINT = REPO_ROOT / "celery-entrypoint.sh"
PASSWORD_FILE = "flower-password"
PROBE_SECONDS = 0.5
# How long the supervisor waits quietly for everything to answer before saying what is late.
NOTICE_SECONDS = 30.0
# Celery's node names (-n in celery-entrypoint.sh): the ones /ready must list.
WORKER_NODES = ("chunks@", "control@")


@dataclass(frozen=True)
class Address:
    """A line of the banner: an address that answers 200 (with `auth`, if any)."""

    label: str
    url: str
    note: str = ""
    auth: tuple[str, str] | None = None


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


def local_host(host: str) -> str:
    """A host to connect to for a server bound to `host` (a wildcard means this machine)."""
    return {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)


def url_host(host: str) -> str:
    """`host` as it is written in a URL (an IPv6 address goes in brackets)."""
    return f"[{host}]" if ":" in host else host


def fetch(url: str, auth: tuple[str, str] | None = None, timeout: float = 0.5) -> bytes | None:
    """The body of GET `url` when it answers 200, else None (no proxy: a local server)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    headers = {}
    if auth is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(":".join(auth).encode()).decode()
    try:
        connection.request("GET", parts.path or "/", headers=headers)
        response = connection.getresponse()
        body = response.read()
        return body if response.status == 200 else None
    except OSError:
        return None
    finally:
        connection.close()


def workers_ready(url: str) -> bool:
    """Whether /ready answers 200 and lists both workers (chunks@… and control@…)."""
    # /ready pings the workers for a second: allow for it.
    body = fetch(url, timeout=5.0)
    if body is None:
        return False
    try:
        nodes = json.loads(body)["components"]["workers"]["nodes"]
        return all(any(node.startswith(prefix) for node in nodes) for prefix in WORKER_NODES)
    except (ValueError, KeyError, TypeError, AttributeError):
        return False  # not the answer /ready gives: keep waiting rather than stop


def answers(address: Address) -> Callable[[], bool]:
    """A check that `address` answers 200."""
    return lambda: fetch(address.url, address.auth) is not None


def beat_started(heartbeat: Path, since: float) -> bool:
    """Whether beat touched its heartbeat file since `since` (a wall-clock time)."""
    try:
        return heartbeat.stat().st_mtime >= since
    except FileNotFoundError:
        return False


class Readiness:
    """The checks the banner waits for, each run until it passes; then the banner, once."""

    def __init__(
        self, checks: dict[str, Callable[[], bool]], say: Callable[[str], None], banner: str
    ) -> None:
        self.pending = dict(checks)
        self.say = say
        self.banner = banner
        self.next_probe = 0.0
        self.next_notice = time.monotonic() + NOTICE_SECONDS

    def poll(self) -> None:
        """Run the pending checks every half second; print the banner once all have passed."""
        now = time.monotonic()
        if not self.pending or now < self.next_probe:
            return
        self.next_probe = now + PROBE_SECONDS
        self.pending = {name: check for name, check in self.pending.items() if not check()}
        if not self.pending:
            for line in self.banner.split("\n"):
                self.say(line)
        elif now > self.next_notice:
            self.next_notice = now + NOTICE_SECONDS
            self.say(f"still waiting for: {', '.join(self.pending)}")


def addresses(
    api: str, flower: str, user: str, password: str, saved_in: Path | None
) -> list[Address]:
    """What the banner lists; each answers 200 before it is shown."""
    where = f", kept in {saved_in}" if saved_in is not None else ""
    return [
        Address("web app", f"{api}/", "sign up there"),
        Address("API", f"{api}/api/v1/openapi.json", "its OpenAPI document"),
        Address("API docs", f"{api}/api/v1/docs"),
        Address("health", f"{api}/ready", "database, broker, storage, workers; /health: the API"),
        Address(
            "Flower", f"{flower}/", f"user {user}, password {password}{where}", (user, password)
        ),
    ]


def banner(
    shown: list[Address],
    log_dir: Path,
    children: list[Child],
    verbose: bool,
    environ: Mapping[str, str],
) -> str:
    """What the terminal shows once everything answers: addresses, logs, next steps."""
    flask = shown_path(Path(sys.prefix, "bin", "flask"))
    prefix = ""
    if environ.get("FOLIO_DATA_DIR", "").strip():
        prefix = f"FOLIO_DATA_DIR={shlex.quote(environ['FOLIO_DATA_DIR'])} "
    files = ", ".join(child.log_path.name for child in children if child.log_path is not None)
    how = "shown above too" if verbose else "make run VERBOSE=1 shows them here"
    lines = ["", "Folio is running. Ctrl-C stops every process."]
    lines += [f"  {a.label:<9} {a.url}" + (f"  ({a.note})" if a.note else "") for a in shown]
    lines += [
        f"  {'logs':<9} {shown_path(log_dir)}/  ({files}; {how})",
        "Or create an account with 1000 credits (the password is asked for):",
        f"  {prefix}{flask} --app folio.wsgi users create you@example.com --credits 1000",
        "Then try it with curl: docs/running.md",
        "",
    ]
    return "\n".join(lines)


def prepare_logs(log_dir: Path, names: Sequence[str]) -> dict[str, Path]:
    """Each process's log file; the previous run's is kept as NAME.log.1."""
    log_dir.mkdir(parents=True, exist_ok=True)
    paths = {name: log_dir / f"{name}.log" for name in names}
    for path in paths.values():
        if path.exists():
            path.replace(path.with_name(path.name + ".1"))
    return paths


def make_children(
    api_command: list[str], password: str, flower: tuple[str, int], log_dir: Path
) -> list[Child]:
    """The API command and the four Celery roles, each with its environment and log file."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # Only Flower needs the password: no other process's environment carries it.
    env.pop("FOLIO_FLOWER_PASSWORD", None)
    if sys.prefix != sys.base_prefix:
        # The entrypoint picks $VIRTUAL_ENV first: this one, not one active in the shell.
        env["VIRTUAL_ENV"] = sys.prefix
    flower_env = {
        **env,
        "FOLIO_FLOWER_PASSWORD": password,
        "FOLIO_FLOWER_ADDRESS": flower[0],
        "FOLIO_FLOWER_PORT": str(flower[1]),
    }
    entrypoint = str(ENTRYPOINT)
    roles = {
        "api": (api_command, env),
        "worker": ([entrypoint, "worker"], env),
        "control": ([entrypoint, "control-worker"], env),
        "beat": ([entrypoint, "beat"], env),
        "flower": ([entrypoint, "flower"], flower_env),
    }
    logs = prepare_logs(log_dir, list(roles))
    children = [Child(name, argv, env, logs[name]) for name, (argv, env) in roles.items()]
    # A worker whose pool is wedged still answers ping: a probe task finds it out.
    checks = {"worker": "worker", "control": "control-worker"}
    for child in children:
        if child.name in checks:
            child.health = HealthCheck([entrypoint, "healthcheck", checks[child.name]], env)
    return children


def parse_args(argv: Sequence[str] | None) -> tuple[argparse.Namespace, list[str]]:
    """The options, and the API command given after --."""
    parser = argparse.ArgumentParser(prog="python -m folio.ops.devserver", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="the API's address (for the banner)")
    parser.add_argument("--port", type=int, default=8000, help="the API's port")
    parser.add_argument("--flower-port", type=int, default=5555)
    parser.add_argument("--grace", type=float, default=10.0, help="seconds to stop cleanly")
    parser.add_argument("--log-dir", type=Path, help="default: FOLIO_DATA_DIR/log")
    parser.add_argument("--verbose", action="store_true", help="show every log here too")
    parser.add_argument("api_command", nargs=argparse.REMAINDER, help="-- the API command")
    args = parser.parse_args(argv)
    api_command = args.api_command[1:] if args.api_command[:1] == ["--"] else args.api_command
    if not api_command:
        parser.error("give the API command after --")
    return args, api_command


def main(argv: Sequence[str] | None = None) -> int:
    """Start the API command and the four Celery roles; return when all have stopped."""
    args, api_command = parse_args(argv)
    try:
        settings = Settings.from_env()
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    password = flower_password(settings.data_dir, os.environ)
    given = bool(os.environ.get("FOLIO_FLOWER_PASSWORD", "").strip())
    saved_in = None if given else settings.data_dir / PASSWORD_FILE
    # Not the API's HOST: Flower is for the operator, so it stays local unless asked.
    flower_address = os.environ.get("FOLIO_FLOWER_ADDRESS", "").strip() or "127.0.0.1"
    log_dir = (args.log_dir or settings.data_dir / "log").absolute()
    children = make_children(api_command, password, (flower_address, args.flower_port), log_dir)
    supervisor = Supervisor(children, args.grace, sys.stdout.buffer, verbose=args.verbose)

    api = f"http://{url_host(local_host(args.host))}:{args.port}"
    flower = f"http://{url_host(local_host(flower_address))}:{args.flower_port}"
    shown = addresses(api, flower, settings.flower_user, password, saved_in)
    checks = {address.label: answers(address) for address in shown}
    since = time.time()
    checks["beat"] = lambda: beat_started(settings.data_dir / HEARTBEAT_FILE, since)
    # /ready answers 200 once one worker answers: the banner waits for both.
    checks["health"] = lambda: workers_ready(f"{api}/ready")
    text = banner(shown, log_dir, children, args.verbose, os.environ)
    readiness = Readiness(checks, supervisor.say, text)
    if not args.verbose:
        supervisor.say(
            f"Starting the API, the chunk and control workers, beat and Flower; their logs go "
            f"to {shown_path(log_dir)}/. The addresses follow once everything answers."
        )
    return supervisor.run(readiness.poll)


if __name__ == "__main__":
    sys.exit(main())
