"""The key of a model rewrite in the shared rewrite cache (`base.RewriteCache`).

A rewrite depends on the source sentence, the limit and minimum words it was asked under, the
model and the prompt version, and on nothing else: not the user, not the book. So the same
public-domain novel processed again, by anyone, asks the model for nothing it was asked.
"""

from __future__ import annotations

import hashlib
import json

from folio.pipeline.model import ProcessSettings


def rewrite_key(text: str, settings: ProcessSettings, model: str, prompt_version: str) -> str:
    """A fixed-length key (SHA-256, hex) for the rewrite of `text` under these terms."""
    terms = [text, settings.limit, settings.min_words, model, prompt_version]
    return hashlib.sha256(json.dumps(terms, ensure_ascii=False).encode("utf-8")).hexdigest()
