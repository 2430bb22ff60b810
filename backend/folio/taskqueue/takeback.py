"""A new pool process takes back, at once, the chunks its node's dead processes held.

Celery replaces a pool process that died (killed, out of memory) and requeues its message,
but behind every message already queued: the chunk would wait for the rest of the book, or
for its lease and the reconciler. The replacement knows better. It starts knowing its node,
and a process of its own node that no longer exists can only be dead, so on start it sends
those chunks again ahead of the queue (`services/reconcile.take_back_from`). It does so from
a thread: a pool process that takes more than a few seconds to start is killed by Celery.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery.signals import celeryd_after_setup, worker_process_init
from flask import Flask

from folio.services.reconcile import take_back_from

logger = logging.getLogger(__name__)


class TakeBack:
    """Connects to Celery's signals: the node name before the fork, the start of each child."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.node: str | None = None

    def connect(self) -> None:
        """Listen, once per process whatever the number of apps created (tests create many)."""
        celeryd_after_setup.connect(self.remember_node, weak=False, dispatch_uid="folio.node")
        worker_process_init.connect(self.on_start, weak=False, dispatch_uid="folio.takeback")

    def remember_node(self, sender: str, **kwargs: Any) -> None:
        """The worker's node name: the pool processes forked after this inherit it."""
        self.node = sender

    def on_start(self, **kwargs: Any) -> None:
        """In a new pool process: take the dead processes' chunks back, off the start path."""
        if self.node is not None:
            threading.Thread(target=self.run, name="take-back", daemon=True).start()

    def run(self) -> None:
        """Send again what dead processes of this node held; log, never raise."""
        assert self.node is not None
        try:
            with self.app.app_context():
                sent = take_back_from(self.node)
        except Exception:  # the reconciler repairs what this misses, one lease later
            logger.warning("Could not take back the chunks of dead processes", exc_info=True)
            return
        if sent:
            logger.warning("Sent %s chunk(s) of dead pool processes again", sent)
