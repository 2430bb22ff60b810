"""The Celery app of the test-suite's workers: `folio.worker` plus a fault seam.

Tests write `faults.json` in the data folder: `delay_seconds` slows every chunk down and
`fail_chunks` lists the chunk indexes that fail with `injected_fault`. Production code has no
hook for this: the seam wraps the pipeline call of `folio.services.chunks` when a worker
loads this module (`celery -A faultworker`, or CELERY_APP=faultworker for the entrypoint),
before the pool forks.
"""

from __future__ import annotations

import json
import time
from typing import Any

from folio.config import current_settings
from folio.pipeline import runner
from folio.pipeline.budgets import Budgets
from folio.pipeline.errors import PipelineError
from folio.pipeline.model import ChunkPlan, ChunkResult, Furniture, ProcessSettings
from folio.pipeline.processors import ProcessContext
from folio.pipeline.sources.pdf.document import Source
from folio.services import chunks
from folio.worker import celery, flask_app

__all__ = ["celery", "flask_app"]
FAULTS_FILE = "faults.json"


class InjectedFault(PipelineError):
    """A chunk failure that a test asked for."""

    code = "injected_fault"


def run_chunk_with_faults(
    path: Source,
    chunk: ChunkPlan,
    furniture: Furniture,
    settings: ProcessSettings,
    password: str | None = None,
    context: ProcessContext | None = None,
    budgets: Budgets | None = None,
    **pages: Any,
) -> ChunkResult:
    """Slow down or fail the chunk as the fault file says, then run it."""
    faults_path = current_settings().data_dir / FAULTS_FILE
    if faults_path.exists():
        faults = json.loads(faults_path.read_text(encoding="utf-8"))
        time.sleep(float(faults.get("delay_seconds", 0)))
        if chunk.index in faults.get("fail_chunks", []):
            raise InjectedFault(f"fault injected in chunk {chunk.index}")
    return runner.run_chunk(path, chunk, furniture, settings, password, context, budgets, **pages)


# The name `folio.services.chunks` calls; the pipeline's own function stays as it is.
chunks.run_chunk = run_chunk_with_faults  # type: ignore[attr-defined]
