"""A supervised child's health check: a command run now and then, never blocking the loop.

A Celery worker whose pool is wedged (a killed pool process left the pool's lock held: see
ADR 0008) stays alive and answers ping, so the supervisor only learns it from a check that
makes the pool run a task (`celery-entrypoint.sh healthcheck worker`). Failing it
`failures_allowed` times in a row means: kill the child, and let the supervisor restart it.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field


@dataclass
class HealthCheck:
    """`argv` run every `every` seconds (after `grace` at each start) while the child runs."""

    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    every: float = 60.0
    grace: float = 60.0
    failures_allowed: int = 2
    failures: int = 0
    next_at: float = 0.0
    process: subprocess.Popen[bytes] | None = None

    def restart(self, now: float) -> None:
        """The child (re)started: forget past failures, first check after the grace."""
        self.cancel()
        self.failures, self.next_at = 0, now + self.grace

    def poll(self, now: float) -> bool:
        """Advance the check; True once it failed `failures_allowed` times in a row."""
        if self.process is None:
            if now >= self.next_at:
                self.process = subprocess.Popen(
                    self.argv,
                    env=self.env or None,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            return False
        code = self.process.poll()
        if code is None:
            return False
        self.process, self.next_at = None, now + self.every
        self.failures = 0 if code == 0 else self.failures + 1
        return self.failures >= self.failures_allowed

    def cancel(self) -> None:
        """Stop a check still running (the child stops or restarts)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None
