"""The shared LLM rewrite cache in the database: what `ProcessContext.rewrites` reads and keeps.

Keyed by `pipeline.processors.llm.cache.rewrite_key` (the source sentence, limit, minimum
words, model and prompt version), so a rewrite serves every user. A cached rewrite costs no
model call and so no credit: a job is charged for the tokens of the calls it made (see
docs/llm.md). Two chunks that keep the same key at once both succeed: the first value stays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from folio.extensions import db
from folio.models import LLMRewrite
from folio.models.base import utcnow

# Keys per SELECT, rows per INSERT: under every database's limit on bound parameters.
_BATCH = 500


class DatabaseRewriteCache:
    """A `RewriteCache` on the `llm_rewrites` table, used from the task's thread."""

    def get(self, keys: Sequence[str]) -> dict[str, list[str] | None]:
        """The kept entries among `keys`."""
        found: dict[str, list[str] | None] = {}
        for start in range(0, len(keys), _BATCH):
            rows = db.session.execute(
                select(LLMRewrite.key, LLMRewrite.sentences).where(
                    LLMRewrite.key.in_(keys[start : start + _BATCH])
                )
            ).all()
            found.update({row.key: row.sentences for row in rows})
        db.session.commit()  # end the read: the pipeline runs for a while after it
        return found

    def put(
        self, entries: Mapping[str, list[str] | None], *, model: str, prompt_version: str
    ) -> None:
        """Keep `entries`; a key already kept (by another chunk, another job) is left alone."""
        if not entries:
            return
        now = utcnow()
        values = [
            {
                "key": key,
                "sentences": sentences,
                "model": model,
                "prompt_version": prompt_version,
                "created_at": now,
            }
            for key, sentences in entries.items()
        ]
        for start in range(0, len(values), _BATCH):
            db.session.execute(_insert_ignoring_duplicates().values(values[start : start + _BATCH]))
        db.session.commit()


def _insert_ignoring_duplicates() -> Any:
    """INSERT … ON CONFLICT (key) DO NOTHING, in the dialect of the session's database."""
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(LLMRewrite).on_conflict_do_nothing(index_elements=["key"])
