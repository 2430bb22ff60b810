"""The Celery application for worker, beat and Flower processes: `celery -A folio.worker`."""

from __future__ import annotations

from celery import Celery

from folio.app import create_app

flask_app = create_app()
celery: Celery = flask_app.extensions["celery"]
