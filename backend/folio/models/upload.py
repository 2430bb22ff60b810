"""Uploaded PDFs waiting for the user to confirm a job."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from folio.models.base import Base, JsonType, utcnow


class Upload(Base):
    """A validated PDF in the file store; a job consumes it, or it expires."""

    __tablename__ = "uploads"
    __table_args__ = (Index("ix_uploads_expires_at", "expires_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The server-made name in the file store; the user's file name is never a path.
    file_key: Mapped[str] = mapped_column(String(255))
    original_filename: Mapped[str] = mapped_column(String(255))
    size_bytes: Mapped[int]
    page_count: Mapped[int]
    # What inspect learnt: title, author, encryption, pages without text, warnings.
    info: Mapped[dict[str, Any]] = mapped_column(JsonType)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    # Set when a job takes the file over; the upload row then only records where it went.
    job_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("jobs.id", ondelete="SET NULL"), unique=True
    )
