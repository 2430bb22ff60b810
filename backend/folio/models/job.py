"""Jobs and their chunks: the rows that the fan-out runs on and the frontend polls."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from folio.models.base import Base, JsonType, enum_column, utcnow


class JobStatus(enum.StrEnum):
    """Where a job is in its life; the last four are final."""

    QUEUED = "queued"
    RUNNING = "running"
    CANCELLING = "cancelling"
    COMPLETED = "completed"
    PARTIAL = "partial"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ChunkStatus(enum.StrEnum):
    """Where one chunk of a job is."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Job(Base):
    """One document to process for one user, with its progress, usage and credits."""

    __tablename__ = "jobs"
    __table_args__ = (
        # The user's job list, optionally filtered by status, newest first.
        Index("ix_jobs_user_id_created_at", "user_id", "created_at"),
        Index("ix_jobs_user_id_status_created_at", "user_id", "status", "created_at"),
        CheckConstraint(
            "processed_chunks + failed_chunks <= total_chunks", name="chunk_counts_add_up"
        ),
        CheckConstraint("progress_percent BETWEEN 0 AND 100", name="progress_is_percent"),
        CheckConstraint(
            "estimated_credits >= 0 AND reserved_credits >= 0", name="credits_non_negative"
        ),
        # The estimate is the most a job can cost.
        CheckConstraint(
            "charged_credits IS NULL OR charged_credits BETWEEN 0 AND reserved_credits",
            name="charge_within_reservation",
        ),
    )

    # Random, so that job ids in URLs cannot be enumerated.
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[JobStatus] = mapped_column(
        enum_column(JobStatus, "job_status"), default=JobStatus.QUEUED
    )
    settings: Mapped[dict[str, Any]] = mapped_column(JsonType)
    original_filename: Mapped[str] = mapped_column(String(255))
    file_key: Mapped[str] = mapped_column(String(255))
    page_count: Mapped[int]
    total_chunks: Mapped[int] = mapped_column(default=0)
    processed_chunks: Mapped[int] = mapped_column(default=0)
    failed_chunks: Mapped[int] = mapped_column(default=0)
    progress_percent: Mapped[int] = mapped_column(default=0)
    current_step: Mapped[str | None] = mapped_column(String(32))
    current_page: Mapped[int | None]
    total_pages: Mapped[int | None]
    # The seconds OCR took in the job's done chunks.
    ocr_seconds: Mapped[float] = mapped_column(default=0.0, server_default="0")
    estimated_credits: Mapped[int] = mapped_column(default=0)
    reserved_credits: Mapped[int] = mapped_column(default=0)
    charged_credits: Mapped[int | None]
    llm_calls: Mapped[int] = mapped_column(default=0)
    tokens_in: Mapped[int] = mapped_column(default=0)
    tokens_out: Mapped[int] = mapped_column(default=0)
    prompt_version: Mapped[str | None] = mapped_column(String(64))
    model: Mapped[str | None] = mapped_column(String(128))
    cancel_requested_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    processing_seconds: Mapped[float | None]
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    # The chunk queue ("lane") this job's chunks go to: jobs spread over lanes that workers
    # read in turn, so a short job is not stuck behind a long one.
    lane: Mapped[str | None] = mapped_column(String(32))
    # 0 for the first run; each retry of failed chunks is run 1, 2… (its own credit reserve).
    run: Mapped[int] = mapped_column(default=0, server_default="0")
    sentence_count: Mapped[int | None]
    # Bumped on every change the poller should see: the ETag of GET /jobs/{id}.
    version: Mapped[int] = mapped_column(default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    # Set when the user deletes a finished job: its file, chunks and sentences are gone, but
    # the row stays because the credit ledger's rows point at it (see docs/api.md).
    deleted_at: Mapped[datetime | None]

    @property
    def planned_ocr_pages(self) -> int:
        """How many pages OCR reads, as planned at creation (the list is in `settings`)."""
        return len(self.settings.get("ocr_pages", []))


class JobChunk(Base):
    """One unit of parallel work: the pages it owns and reads, its lease, result and usage."""

    __tablename__ = "job_chunks"
    __table_args__ = (
        UniqueConstraint("job_id", "index"),
        CheckConstraint(
            "read_first_page <= owned_first_page AND owned_first_page <= owned_last_page"
            " AND owned_last_page <= read_last_page",
            name="pages_nested",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    index: Mapped[int]
    owned_first_page: Mapped[int]
    owned_last_page: Mapped[int]
    read_first_page: Mapped[int]
    read_last_page: Mapped[int]
    status: Mapped[ChunkStatus] = mapped_column(
        enum_column(ChunkStatus, "chunk_status"), default=ChunkStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    # A worker owns a running chunk until then; after it, the reconciler may hand it out again.
    lease_expires_at: Mapped[datetime | None]
    worker: Mapped[str | None] = mapped_column(String(255))
    last_error: Mapped[str | None] = mapped_column(Text)
    # The chunk's output sentences: the database, not the result backend, is the record.
    result: Mapped[list[dict[str, Any]] | None] = mapped_column(JsonType)
    # Owned pages a done chunk could not read (over a budget, or killing their sandbox).
    unreadable_pages: Mapped[list[int] | None] = mapped_column(JsonType)
    # Owned pages a done chunk found without text (blank, or OCR read nothing): not charged.
    empty_pages: Mapped[list[int] | None] = mapped_column(JsonType)
    # Owned pages a done chunk read by OCR and that gave text (charged the OCR price), and the
    # seconds OCR took in its last attempt, the pages read around its own included.
    ocr_pages: Mapped[list[int] | None] = mapped_column(JsonType)
    ocr_seconds: Mapped[float | None]
    # Owned pages this chunk has got through in its current attempt: the job's progress.
    pages_done: Mapped[int] = mapped_column(default=0, server_default="0")
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    seconds: Mapped[float | None]
    tokens_in: Mapped[int] = mapped_column(default=0)
    tokens_out: Mapped[int] = mapped_column(default=0)
    # The run of the job this chunk last ran in (0, or the retry that re-ran it): billing.
    run: Mapped[int] = mapped_column(default=0, server_default="0")
    # The id of the last message sent for this chunk (to revoke it) and when it was sent.
    task_id: Mapped[str | None] = mapped_column(String(255))
    dispatched_at: Mapped[datetime | None]
