"""A chunk worker loads the French parser in its main process, before its pool forks.

Loading spaCy's French pipeline costs about 6 s of a core (4 s of it compiling the
tokenizer's exception patterns), and the lemmatizer that checks LLM answers 3 s more.
Loaded lazily, every pool process pays it on its first chunk: 8 slots on 2 cores lose 24 s
or more at the start of a job. Loaded once before the fork (the lemmatizer only when an LLM
processor is set up), the pool processes share it copy-on-write and start at once. A worker
that reads no chunk queue (the control worker) loads neither.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from celery.signals import celeryd_after_setup

from folio.config import Settings
from folio.pipeline.french import parser

logger = logging.getLogger(__name__)
CHUNK_QUEUE_PREFIX = "chunks-"


class Preload:
    """Connects to the signal Celery sends once a worker is set up and before its pool starts."""

    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.preload_parser
        # The lemma pipes (3 s, 140 MB) serve only the checks of LLM answers.
        self.lemmas = any(config.enabled for config in settings.llm.values())

    def connect(self) -> None:
        """Listen, once per process whatever the number of apps created (tests create many)."""
        celeryd_after_setup.connect(self.load, weak=False, dispatch_uid="folio.preload")

    def load(self, sender: str, instance: Any, **kwargs: Any) -> None:
        """Load the parser when this worker reads a chunk queue."""
        queues = instance.app.amqp.queues.consume_from or {}
        if not self.enabled or not any(str(q).startswith(CHUNK_QUEUE_PREFIX) for q in queues):
            return
        started = time.perf_counter()
        parser.load()
        if self.lemmas:
            parser.load_lemmatizer()
        seconds = time.perf_counter() - started
        logger.info("French parser loaded before the pool forks (%.1f s)", seconds)
