"""Stage 7, merge: the chunks' output in reading order, overlap duplicates dropped."""

from __future__ import annotations

from collections.abc import Iterable

from folio.pipeline.model import OutputSentence


def merge(chunk_outputs: Iterable[list[OutputSentence]]) -> list[OutputSentence]:
    """Order by source position and keep one chunk's pieces for each source id.

    A source id seen in two chunks (the overlap, or a chunk run twice) is kept from the first
    chunk that produced it, all its pieces together, so an LLM that rewrote the same sentence
    twice never mixes two rewrites. Equal texts with different ids are real repetitions.
    """
    owner: dict[str, int] = {}
    kept: list[OutputSentence] = []
    for index, sentences in enumerate(chunk_outputs):
        for sentence in sentences:
            if owner.setdefault(sentence.source_id, index) == index:
                kept.append(sentence)
    kept.sort(key=lambda sentence: sentence.order_key)
    return kept
