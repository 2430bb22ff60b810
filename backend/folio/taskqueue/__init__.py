"""Celery plumbing: the Celery app and its settings, the embedded broker, beat's heartbeat."""
