"""A job's progress: counted in pages, moved by finished chunks and by each page OCR reads.

Every chunk keeps `pages_done`, the owned pages its current attempt got through (set, never
added to, so an attempt run again after a crash counts its pages once). The job's
`current_page` is their sum and its `progress_percent` that share of its pages, 99 at most
(100 is for finalize) and never moving back.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, case, func, select, update

from folio.extensions import db
from folio.models import Job, JobChunk
from folio.models.base import utcnow
from folio.pipeline.model import ChunkPlan, Usage
from folio.services.jobstate import touched
from folio.services.leases import Claim, held

# A chunk's `pages_done` once it finished, failed or was given up on: all its pages.
EVERY_PAGE = JobChunk.owned_last_page - JobChunk.owned_first_page + 1


def page_reached(claim: Claim, job_id: uuid.UUID, chunk: ChunkPlan, page: int) -> None:
    """Record that the claimed chunk got through `page` (committed): the job's progress moves."""
    done = max(0, min(page, chunk.owned_last) - chunk.owned_first + 1)
    moved = db.session.execute(
        update(JobChunk)
        .where(*held(claim), JobChunk.pages_done < done)
        .values(pages_done=done)
        .returning(JobChunk.id)
    ).one_or_none()
    if moved is not None:
        db.session.execute(
            update(Job).where(Job.id == job_id).values(touched(utcnow(), **_pages(job_id)))
        )
    db.session.commit()


def count_finished(
    job_id: uuid.UUID,
    now: datetime,
    *,
    failed: int = 0,
    processed: int = 0,
    usage: Usage | None = None,
    ocr_seconds: float = 0.0,
) -> None:
    """Add finished chunks to the job's counters and move its progress (not committed)."""
    usage = usage or Usage()
    db.session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(
            touched(
                now or utcnow(),
                processed_chunks=Job.processed_chunks + processed,
                failed_chunks=Job.failed_chunks + failed,
                llm_calls=Job.llm_calls + usage.calls,
                tokens_in=Job.tokens_in + usage.tokens_in,
                tokens_out=Job.tokens_out + usage.tokens_out,
                ocr_seconds=Job.ocr_seconds + ocr_seconds,
                **_pages(job_id),
            )
        )
    )


def _pages(job_id: uuid.UUID) -> dict[str, ColumnElement[int]]:
    """The job's page counter and progress, from its chunks' `pages_done`."""
    done = (
        select(func.coalesce(func.sum(JobChunk.pages_done), 0))
        .where(JobChunk.job_id == job_id)
        .scalar_subquery()
    )
    # 99 at most: 100 is for finalize, when the sentences are merged and stored.
    share = (done * 99) // func.coalesce(func.nullif(Job.total_pages, 0), Job.page_count)
    return {
        "current_page": done,
        "progress_percent": case((share > Job.progress_percent, share), else_=Job.progress_percent),
    }
