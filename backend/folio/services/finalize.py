"""Finalizing a job: merge its chunks, store the sentences, settle the credits, end it.

Idempotent: a conditional status transition is the first write of the transaction, so of
two finalizers only one proceeds (the other's UPDATE finds the job final and stops), and the
stored sentences, the final status and the settlement commit together.
"""

from __future__ import annotations

import uuid

from sqlalchemy import delete, insert, select, update

from folio.config import current_settings
from folio.extensions import db
from folio.models import ChunkStatus, Job, JobChunk, JobSentence, JobStatus
from folio.models.base import utcnow
from folio.models.mapping import sentence_values
from folio.pipeline.merge import merge
from folio.pipeline.model import OutputSentence, Usage
from folio.pipeline.processors import traits
from folio.pipeline.processors.llm.pricing import credits_for
from folio.services import credits
from folio.services.jobstate import (
    FINAL,
    cancel_pending_chunks,
    owned_pages,
    process_settings,
    touched,
)


def finalize_job(job_id: uuid.UUID) -> JobStatus | None:
    """End the job if all its chunks are finished; the final status, or None if not yet."""
    job = db.session.get(Job, job_id)
    if job is None or job.status in FINAL:
        return None
    now = utcnow()
    if job.cancel_requested_at is not None:
        cancel_pending_chunks(job_id, now)
        db.session.commit()
    chunks = list(
        db.session.scalars(
            select(JobChunk).where(JobChunk.job_id == job_id).order_by(JobChunk.index)
        )
    )
    if any(chunk.status in (ChunkStatus.PENDING, ChunkStatus.RUNNING) for chunk in chunks):
        return None  # a chunk is still at work; it, or the reconciler, will ask again
    sentences = merge(
        [OutputSentence.from_dict(row) for row in chunk.result or []]
        for chunk in chunks
        if chunk.status == ChunkStatus.DONE
    )
    status = final_status(job, chunks)
    no_text = status == JobStatus.COMPLETED and not sentences
    if no_text:  # every page read, none gave a sentence: nothing was done worth a credit
        status = JobStatus.FAILED
    won = db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status.not_in(FINAL))
        .values(touched(now, status=status, finished_at=now, current_step="done"))
        .returning(Job.id)
    ).one_or_none()
    if won is None:
        db.session.rollback()
        return None
    _store(job, chunks, status, sentences, no_text)
    # commits with the above
    credits.settle(job_id, 0 if no_text else charge(job, chunks), run=job.run)
    return status


def charge(job: Job, chunks: list[JobChunk]) -> int:
    """What this run costs: the pages of its done chunks; with an LLM, its tokens if more.

    An LLM processor is hybrid: the local processor runs on every page, and the model only
    sees what it left over the limit, or nothing when the shared rewrite cache has it. So a
    run is never charged less than the local price of its pages, and a book whose rewrites
    are all cached costs just that (docs/llm.md, "Credits").
    """
    settings = current_settings()
    in_run = [chunk for chunk in chunks if chunk.run == job.run]
    done = [chunk for chunk in in_run if chunk.status == ChunkStatus.DONE]
    # Pages that gave text, and on top the OCR price of those OCR read (docs/ocr.md).
    pages = sum(owned_pages(chunk) for chunk in done) * settings.credits_per_page
    pages += sum(len(chunk.ocr_pages or []) for chunk in done) * settings.ocr_credits_per_page
    if not traits(process_settings(job).processor).calls_model:
        return pages
    # Every call of the run is paid, a cancelled chunk's included: the calls were made. A
    # failed chunk is not charged.
    billed = [chunk for chunk in in_run if chunk.status != ChunkStatus.FAILED]
    usage = Usage(0, sum(c.tokens_in for c in billed), sum(c.tokens_out for c in billed))
    reservation = credits.reservation_of(job.id, job.run)
    reserved = -reservation.delta if reservation is not None else 0
    return min(reserved, max(pages, credits_for(usage, job.model or "", settings.llm_pricing)))


def final_status(job: Job, chunks: list[JobChunk]) -> JobStatus:
    """cancelled if asked; else completed, partial or failed by the chunks' outcomes."""
    if job.cancel_requested_at is not None:
        return JobStatus.CANCELLED
    done = sum(1 for chunk in chunks if chunk.status == ChunkStatus.DONE)
    if done == len(chunks):
        # A page that could not be read is missing from the result: partial, not completed.
        unread = any(chunk.unreadable_pages for chunk in chunks)
        return JobStatus.PARTIAL if unread else JobStatus.COMPLETED
    return JobStatus.PARTIAL if done else JobStatus.FAILED


def _no_text(job: Job) -> dict[str, object]:
    """A job whose pages gave no sentence: failed with its own code, nothing charged."""
    ocr = process_settings(job).ocr
    how = "from its text layer" if ocr == "never" else "from its text layer or by OCR"
    return {
        "error_code": "no_text",
        "error_message": f"No page of the document gave any sentence, {how}; nothing was charged.",
    }


def _store(
    job: Job,
    chunks: list[JobChunk],
    status: JobStatus,
    sentences: list[OutputSentence],
    no_text: bool,
) -> None:
    """Replace the job's sentences with the merge of its done chunks; set the counters."""
    db.session.execute(delete(JobSentence).where(JobSentence.job_id == job.id))
    if sentences:
        db.session.execute(
            insert(JobSentence),
            [
                sentence_values(job.id, index, sentence)
                for index, sentence in enumerate(sentences, start=1)
            ],
        )
    failed = [chunk for chunk in chunks if chunk.status == ChunkStatus.FAILED]
    values: dict[str, object] = {"sentence_count": len(sentences)}
    if status != JobStatus.CANCELLED:
        values["progress_percent"] = 100
    unread = [c for c in chunks if c.status == ChunkStatus.DONE and c.unreadable_pages]
    if unread and not failed:
        values["error_code"] = "pages_unreadable"
        values["error_message"] = "; ".join(c.last_error or "" for c in unread)[:4000]
    if failed:
        values["error_code"] = "chunks_failed"
        values["error_message"] = f"{len(failed)} of {len(chunks)} chunks failed: " + "; ".join(
            f"pages {c.owned_first_page}-{c.owned_last_page} ({c.last_error})" for c in failed
        )
    if no_text:  # every chunk done (no failure, no unreadable page), and not one sentence
        values.update(_no_text(job))
    started = job.started_at or job.created_at
    values["processing_seconds"] = (utcnow() - started).total_seconds()
    db.session.execute(update(Job).where(Job.id == job.id).values(**values))
