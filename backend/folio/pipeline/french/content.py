"""Content preservation: does a rewrite keep the source's nouns, verbs and adjectives?

Measured by lemma, so «partit» in the source is found as «parti» in «Il est parti»: the
share of the source's distinct content words (NOUN, VERB, ADJ) that the rewrite holds, as
the same lemma or the same word form (the lemmatizer may read one word two ways in two
contexts: the form then still matches).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

CONTENT_POS = frozenset({"NOUN", "VERB", "ADJ"})


def kept_share(source: Any, rewrite: Sequence[Any]) -> float:
    """The share of the lemmatized `source` doc's content words found in the `rewrite` docs."""
    wanted = {
        (token.lemma_.casefold(), token.lower_) for token in source if token.pos_ in CONTENT_POS
    }
    if not wanted:
        return 1.0
    found = {
        form for doc in rewrite for token in doc for form in (token.lemma_.casefold(), token.lower_)
    }
    return sum(1 for lemma, form in wanted if lemma in found or form in found) / len(wanted)
