"""Check that a worker's pool runs tasks: `python -m folio.ops.probe NODE [--timeout S]`.

What `celery-entrypoint.sh healthcheck worker|control-worker` runs. Exits 0 when the worker
ran the probe task (or is busy with chunks whose leases it renews), 1 with the reason on
stderr otherwise; services/probe.py says how.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from folio.app import create_app
from folio.services.probe import probe_worker

DEFAULT_TIMEOUT_SECONDS = 10.0


def main(argv: Sequence[str] | None = None) -> int:
    """Probe the worker named on the command line; 0 if healthy, 1 if not."""
    parser = argparse.ArgumentParser(prog="python -m folio.ops.probe", description=__doc__)
    parser.add_argument("node", help="the worker's node name, e.g. chunks@HOSTNAME")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_SECONDS)
    args = parser.parse_args(argv)
    app = create_app()
    with app.app_context():
        verdict = probe_worker(args.node, args.timeout)
    if not verdict.healthy:
        print(f"folio.ops.probe: unhealthy: {verdict.reason}", file=sys.stderr)
        return 1
    print(f"folio.ops.probe: healthy: {verdict.reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
