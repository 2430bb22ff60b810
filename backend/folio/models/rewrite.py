"""Model rewrites kept for every later job: the shared rewrite cache's table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from folio.models.base import Base, JsonType, utcnow


class LLMRewrite(Base):
    """One source sentence's rewrite under one set of terms (`processors.llm.cache`).

    `sentences` is None when the model's answers failed the checks twice: the local rows
    stand, and the model is not asked again under the same terms.
    """

    __tablename__ = "llm_rewrites"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    sentences: Mapped[list[str] | None] = mapped_column(JsonType, nullable=True)
    model: Mapped[str] = mapped_column(String(128))
    prompt_version: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
