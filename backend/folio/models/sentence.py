"""The sentences a finished job produced, in reading order."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from folio.models.base import Base, JsonType


class JobSentence(Base):
    """One output sentence of a finished job, in reading order (`index` from 1)."""

    __tablename__ = "job_sentences"
    __table_args__ = (UniqueConstraint("job_id", "index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    index: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    page: Mapped[int]
    source_id: Mapped[str] = mapped_column(String(16))
    part: Mapped[int]
    words: Mapped[int]
    heading: Mapped[bool]
    processor: Mapped[str] = mapped_column(String(32))
    split: Mapped[bool]
    cut: Mapped[str] = mapped_column(String(8))
    # An LLM failed this sentence and the local normalizer split it instead.
    repaired: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The author's sentence the row comes from; whether the row is left over the limit, and
    # then its reading units (a JSON list of strings).
    source_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    over_limit: Mapped[bool] = mapped_column(default=False, server_default=false())
    units: Mapped[list[str]] = mapped_column(JsonType, default=list)
