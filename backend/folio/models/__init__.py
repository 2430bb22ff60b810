"""The database models; importing this package registers every table on `Base.metadata`."""

from __future__ import annotations

from folio.models.base import Base
from folio.models.credit import LedgerEntry, LedgerKind
from folio.models.job import ChunkStatus, Job, JobChunk, JobStatus
from folio.models.rewrite import LLMRewrite
from folio.models.sentence import JobSentence
from folio.models.upload import Upload
from folio.models.user import RefreshToken, Role, User

__all__ = [
    "Base",
    "ChunkStatus",
    "Job",
    "JobChunk",
    "JobSentence",
    "JobStatus",
    "LLMRewrite",
    "LedgerEntry",
    "LedgerKind",
    "RefreshToken",
    "Role",
    "Upload",
    "User",
]
