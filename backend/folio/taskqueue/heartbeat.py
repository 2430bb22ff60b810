"""Celery beat's heartbeat: a file in the data dir that beat touches on every pass of its loop.

Beat sends tasks but runs none and consumes no queue, so `celery inspect ping` cannot see it.
Instead its scheduler (`HeartbeatScheduler`, set as `beat_scheduler` in folio.taskqueue.celery_app)
touches `FOLIO_DATA_DIR/beat-heartbeat` when it starts and after each pass, and wakes at
least every `INTERVAL_SECONDS` to do so, whatever the schedule. A beat that died, hangs or
lost its data dir stops touching it; `python -m folio.taskqueue.heartbeat` (what
`celery-entrypoint.sh healthcheck beat` runs) exits 1 once the file is older than
`MAX_AGE_SECONDS`, or missing.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from celery.beat import PersistentScheduler

from folio.config import DEFAULT_DATA_DIR, env_path

HEARTBEAT_FILE = "beat-heartbeat"
INTERVAL_SECONDS = 10.0
MAX_AGE_SECONDS = 60.0


def heartbeat_path(environ: Mapping[str, str] | None = None) -> Path:
    """The heartbeat file: in the data dir exactly as the settings resolve it."""
    environ = os.environ if environ is None else environ
    return env_path(environ, "FOLIO_DATA_DIR", DEFAULT_DATA_DIR) / HEARTBEAT_FILE


def touch(path: Path) -> None:
    """Set the heartbeat's modification time to now (creating the file and its folder)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()


class HeartbeatScheduler(PersistentScheduler):  # type: ignore[misc]  # Celery ships no types
    """Celery's default scheduler (schedule kept in a file), plus the heartbeat."""

    def setup_schedule(self) -> None:
        """Open the schedule as usual, then beat once: a started beat is healthy at once."""
        super().setup_schedule()
        self.heartbeat = heartbeat_path()
        touch(self.heartbeat)

    def tick(self, *args: Any, **kwargs: Any) -> float:
        """Send what is due, beat, and sleep no longer than the heartbeat interval."""
        delay: float = super().tick(*args, **kwargs)
        touch(self.heartbeat)
        return min(delay, INTERVAL_SECONDS)


def check(path: Path, max_age: float = MAX_AGE_SECONDS, now: float | None = None) -> str | None:
    """None when the heartbeat is fresh; otherwise why it is not."""
    try:
        modified = path.stat().st_mtime
    except FileNotFoundError:
        return f"no heartbeat at {path}: beat has not started in this data dir"
    age = (time.time() if now is None else now) - modified
    if age > max_age:
        return f"the heartbeat at {path} is {age:.0f} s old (at most {max_age:.0f} s)"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Exit 0 when beat's heartbeat is fresh, 1 with the reason on stderr otherwise."""
    del argv  # no options: the data dir comes from the environment, as for beat itself
    path = heartbeat_path()
    problem = check(path)
    if problem is not None:
        print(f"folio.taskqueue.heartbeat: unhealthy: {problem}", file=sys.stderr)
        return 1
    age = time.time() - path.stat().st_mtime
    print(f"folio.taskqueue.heartbeat: beat is alive (heartbeat {age:.0f} s old)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
