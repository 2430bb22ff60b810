"""WSGI entry point: `gunicorn folio.wsgi:app`."""

from __future__ import annotations

from folio.app import create_app

app = create_app()
