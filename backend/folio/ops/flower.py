"""Flower as Folio runs it: `python -m folio.ops.flower celery -A folio.worker flower ...`.

Runs the celery command given after the module name, with one change to Flower first: its
`/metrics` page (Prometheus) asks for the same basic auth as every other page. Flower 2.2
serves it to anyone who can reach the port, and has no option to protect or turn it off;
`/healthcheck` stays open for health checks. celery-entrypoint.sh's `flower` role uses it.
"""

from __future__ import annotations

import sys

import tornado.web

_PROTECTED: set[object] = set()


def protect_metrics() -> None:
    """Put Flower's /metrics behind its authentication (basic auth, or its OAuth login)."""
    from flower.views.monitor import Metrics

    if Metrics.get not in _PROTECTED:  # once: wrapping twice would change nothing but the stack
        Metrics.get = tornado.web.authenticated(Metrics.get)
        _PROTECTED.add(Metrics.get)


def main(argv: list[str]) -> None:
    """Run `argv` (`celery …`) with /metrics protected."""
    if not argv or argv[0] != "celery":
        sys.exit("usage: python -m folio.ops.flower celery -A APP flower [options]")
    protect_metrics()
    from celery.__main__ import main as celery_main

    sys.argv = argv  # celery reads its arguments there, and Flower its program name
    celery_main()


if __name__ == "__main__":
    main(sys.argv[1:])
