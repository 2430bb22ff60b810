"""The one mapping between each pipeline type and the row that stores it."""

from __future__ import annotations

import uuid
from typing import Any

from folio.models.job import ChunkStatus, JobChunk
from folio.models.sentence import JobSentence
from folio.pipeline.model import ChunkPlan, OutputSentence


def chunk_row(job_id: uuid.UUID, plan: ChunkPlan) -> JobChunk:
    """A pending chunk row for one planned chunk of the job."""
    return JobChunk(
        job_id=job_id,
        index=plan.index,
        owned_first_page=plan.owned_first,
        owned_last_page=plan.owned_last,
        read_first_page=plan.read_first,
        read_last_page=plan.read_last,
        status=ChunkStatus.PENDING,
    )


def chunk_plan(row: JobChunk) -> ChunkPlan:
    """The plan a chunk row stores."""
    return ChunkPlan(
        row.index,
        row.owned_first_page,
        row.owned_last_page,
        row.read_first_page,
        row.read_last_page,
    )


def sentence_values(job_id: uuid.UUID, index: int, sentence: OutputSentence) -> dict[str, Any]:
    """The column values of the `index`-th output sentence of the job (for a bulk insert)."""
    return {"job_id": job_id, "index": index, **sentence.to_dict()}


def output_sentence(row: JobSentence) -> OutputSentence:
    """The output sentence a row stores, every field of it (`repaired` included)."""
    return OutputSentence.from_dict(
        {name: getattr(row, name) for name in OutputSentence.__dataclass_fields__}
    )
