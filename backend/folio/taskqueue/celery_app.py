"""Celery wired into Flask: every task runs inside the app context (Flask's Celery pattern).

Two run modes from one code base, chosen by the settings: embedded (a `filesystem://` broker
and a SQLite result backend, no server to install) and production (Redis for both).
"""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from celery.signals import celeryd_after_setup
from flask import Flask
from kombu import Exchange, Queue

from folio.config import Settings
from folio.services.dispatch import CHORD_UNLOCK_INTERVAL
from folio.services.lanes import CONTROL_QUEUE, chunk_queues, probe_queue
from folio.taskqueue import results, revoked
from folio.taskqueue.preload import Preload
from folio.taskqueue.takeback import TakeBack

TASK_MODULES = ["folio.tasks"]


def celery_init_app(app: Flask) -> Celery:
    """Create the Celery app for `app`, its tasks running in `app`'s context."""
    settings: Settings = app.config["FOLIO_SETTINGS"]

    class FlaskTask(Task):  # type: ignore[misc]  # Celery ships no type hints
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.name, task_cls=FlaskTask, include=TASK_MODULES)
    # db+… result backends (the embedded SQLite one) without Celery's insert race.
    celery.loader.override_backends = {**celery.loader.override_backends, **results.ALIASES}
    celery.config_from_object(celery_config(settings))
    revoked.install()
    TakeBack(app).connect()
    Preload(settings).connect()
    celery.set_default()
    app.extensions["celery"] = celery
    return celery


def celery_config(settings: Settings) -> dict[str, Any]:
    """Celery's settings; docs/tasks.md says why each one matters."""
    hard_limit = settings.chunk_time_limit
    return {
        "broker_url": settings.broker_url,
        "result_backend": settings.result_backend,
        "broker_transport_options": _transport_options(settings),
        **_transport(settings),
        "broker_connection_retry_on_startup": True,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        # A task is acknowledged when it ends, not when it starts: a worker that dies
        # mid-chunk leaves the message to be delivered again.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_track_started": True,
        "task_soft_time_limit": max(1, hard_limit - 30),
        "task_time_limit": hard_limit,
        "result_expires": 3600,
        "worker_max_tasks_per_child": 200,
        "worker_max_memory_per_child": 750_000,  # KiB: a worker that grew past it is replaced
        "task_default_queue": CONTROL_QUEUE,
        "task_queues": [_queue(CONTROL_QUEUE), *map(_queue, chunk_queues(settings.chunk_lanes))],
        # A heartbeat file for beat's health check.
        "beat_scheduler": "folio.taskqueue.heartbeat:HeartbeatScheduler",
        "beat_schedule": {
            "reconcile": {"task": "folio.reconcile", "schedule": settings.reconcile_seconds}
        },
        "worker_hijack_root_logger": False,
        # Backends without native chords (the embedded SQLite one) poll for the header's end
        # with `celery.chord_unlock`; dispatch caps its retries (FOLIO_CHORD_UNLOCK_SECONDS).
        # Finalize does not wait for it: the last chunk to finish asks for it.
        "result_chord_retry_interval": CHORD_UNLOCK_INTERVAL,
    }


def _read_own_probe_queue(sender: str, instance: Any, **kwargs: Any) -> None:
    """Every worker also reads a queue of its own, named after its node, whatever its -Q.

    The health check sends its probe task there (services/probe.py): it must reach this
    worker's pool, not any worker's.
    """
    instance.app.amqp.queues.select_add(_queue(probe_queue(sender)))


celeryd_after_setup.connect(_read_own_probe_queue, weak=False)


def _queue(name: str) -> Queue:
    # Published through the nameless default exchange, straight to the queue: no exchange
    # binding to lose. A Redis that restarted empty (or was flushed) forgets bindings, and a
    # message sent to an exchange without bindings is silently dropped.
    return Queue(name, Exchange(""), routing_key=name)


def _transport(settings: Settings) -> dict[str, Any]:
    if settings.broker_url.startswith("filesystem://"):
        return {"broker_transport": "folio.taskqueue.broker:Transport"}
    return {}


def _transport_options(settings: Settings) -> dict[str, Any]:
    if settings.broker_url.startswith("filesystem://"):
        folder = settings.broker_dir
        for sub in ("queue", "control", "processed"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        return {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "control_folder": str(folder / "control"),
            "processed_folder": str(folder / "processed"),
            "store_processed": False,
            # The transport polls its folder; the default second would idle a worker between
            # short chunks (a 25-page chunk takes about 0.2 s). Listing a folder 20 times a
            # second costs next to nothing.
            "polling_interval": 0.05,
        }
    # Redis re-delivers an unacknowledged message after this long: far above the longest
    # chunk, so a slow chunk is never run twice at once (the lease guards that too).
    return {"visibility_timeout": max(3600, 4 * settings.chunk_time_limit)}
