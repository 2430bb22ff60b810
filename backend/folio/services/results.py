"""What a job produced: its chunks' report, its sentences (paged, searchable), its exports.

The sentences are the `job_sentences` rows that finalize wrote, in reading order; they are
served only once the job is final, since a retry replaces them.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Function, func, select
from sqlalchemy.orm import defer

from folio.extensions import db
from folio.models import Job, JobChunk, JobSentence, Upload
from folio.models.mapping import output_sentence
from folio.pipeline import export
from folio.services import uploads
from folio.services.errors import Conflict, InvalidFormat
from folio.services.jobs import get_job
from folio.services.jobstate import FINAL

DEFAULT_EXPORT_NAME = "sentences"


@dataclass(frozen=True, slots=True)
class SentencePage:
    """Sentences in reading order after index `after`, the next cursor, and how many match."""

    items: list[JobSentence]
    next_after: int | None
    total: int


@dataclass(frozen=True, slots=True)
class ExportFile:
    """An export ready to send."""

    content: bytes
    media_type: str
    filename: str


def chunk_report(user_id: int, job_id: uuid.UUID) -> list[JobChunk]:
    """The caller's job's chunks in order, without their results (which can be large)."""
    job = get_job(user_id, job_id)
    return list(
        db.session.scalars(
            select(JobChunk)
            .options(defer(JobChunk.result))
            .where(JobChunk.job_id == job.id)
            .order_by(JobChunk.index)
        )
    )


def sentence_page(
    user_id: int, job_id: uuid.UUID, *, query: str | None, after: int | None, limit: int
) -> SentencePage:
    """The finished job's sentences after index `after`, those containing `query` (any case)."""
    job = finished_job(user_id, job_id)
    conditions: list[ColumnElement[bool]] = [JobSentence.job_id == job.id]
    if query:
        conditions.append(_contains(JobSentence.text, query))
    total = db.session.scalar(select(func.count(JobSentence.id)).where(*conditions)) or 0
    if after is not None:
        conditions.append(JobSentence.index > after)
    rows = list(
        db.session.scalars(
            select(JobSentence).where(*conditions).order_by(JobSentence.index).limit(limit + 1)
        )
    )
    next_after = rows[limit - 1].index if len(rows) > limit else None
    return SentencePage(items=rows[:limit], next_after=next_after, total=total)


def export_job(user_id: int, job_id: uuid.UUID, fmt: str) -> ExportFile:
    """The finished job's sentences as a file in format `fmt` (see `pipeline.export.FORMATS`)."""
    if fmt not in export.FORMATS:
        raise InvalidFormat(
            f"Unknown format {fmt!r}; choose one of: {', '.join(export.FORMATS)}.",
            {"formats": list(export.FORMATS)},
        )
    job = finished_job(user_id, job_id)
    sentences = [
        output_sentence(row)
        for row in db.session.scalars(
            select(JobSentence).where(JobSentence.job_id == job.id).order_by(JobSentence.index)
        )
    ]
    out = io.BytesIO()
    export.export(sentences, fmt, out, _meta(job))
    return ExportFile(
        content=out.getvalue(),
        media_type=export.MEDIA_TYPES[fmt],
        filename=f"{_stem(job.original_filename)}.{export.EXTENSIONS[fmt]}",
    )


def finished_job(user_id: int, job_id: uuid.UUID) -> Job:
    """The caller's job if it ended with sentences stored; 409 job_not_finished otherwise."""
    job = get_job(user_id, job_id)
    if job.status not in FINAL or job.sentence_count is None:
        raise Conflict("job_not_finished", "This job has no sentences yet; wait until it ends.")
    return job


def _contains(column: Any, query: str) -> ColumnElement[bool]:
    """`column` contains `query`, ignoring case (accents too: "É" matches "é")."""
    escaped = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    lowered: Function[str] = (
        # SQLite's lower() folds ASCII only; folio.models.engine registers a Unicode one.
        func.folio_lower(column)
        if db.session.get_bind().dialect.name == "sqlite"
        else func.lower(column)
    )
    return lowered.like(f"%{escaped}%", escape="\\")


def _meta(job: Job) -> dict[str, Any]:
    """What the exports say about their source (the Anki back side shows the title)."""
    upload = db.session.scalar(select(Upload).where(Upload.job_id == job.id))
    return {
        "title": uploads.title_of(upload) or _stem(job.original_filename),
        "source": job.original_filename,
        "job_id": str(job.id),
        "sentences": job.sentence_count,
        "word_limit": job.settings.get("limit"),
        "processor": job.settings.get("processor"),
    }


def _stem(filename: str) -> str:
    """The display name without a `.pdf` extension: the base of the export's name."""
    stem = filename[:-4] if filename.lower().endswith(".pdf") else filename
    return stem.strip(" .") or DEFAULT_EXPORT_NAME
