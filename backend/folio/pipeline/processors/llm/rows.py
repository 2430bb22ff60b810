"""The rows of a hybrid run: the local rows by sentence, which go to the model, and the
model's sentences as rows, put together in reading order."""

from __future__ import annotations

import dataclasses

from folio.pipeline.model import CUT_LLM, OutputSentence, Sentence
from folio.pipeline.text import count_words


def by_source(rows: list[OutputSentence]) -> dict[str, list[OutputSentence]]:
    """Rows grouped by their source sentence, in order."""
    grouped: dict[str, list[OutputSentence]] = {}
    for row in rows:
        grouped.setdefault(row.source_id, []).append(row)
    return grouped


def needs_model(sentence: Sentence, local: dict[str, list[OutputSentence]]) -> bool:
    """Whether the local processor left a row of `sentence` over the limit."""
    return not sentence.heading and any(row.over_limit for row in local[sentence.source_id])


def repaired(sentence: Sentence, local: dict[str, list[OutputSentence]]) -> list[OutputSentence]:
    """The local rows of a sentence the model failed, flagged (their processor: "local")."""
    return [dataclasses.replace(row, repaired=True) for row in local[sentence.source_id]]


def model_rows(source: Sentence, texts: list[str], processor: str) -> list[OutputSentence]:
    """The model's sentences for `source` as rows."""
    return [
        OutputSentence(
            text=text,
            source_id=source.source_id,
            page=source.page,
            part=part,
            words=count_words(text),
            processor=processor,
            split=len(texts) > 1,
            cut=CUT_LLM if part else "",
            source_text=source.text,
        )
        for part, text in enumerate(texts)
    ]


def assemble(
    kept: list[Sentence],
    results: dict[str, list[OutputSentence]],
    local: dict[str, list[OutputSentence]],
    processor: str,
    stopped: bool,
) -> list[OutputSentence]:
    """Every kept sentence's rows in reading order; after a cancel, those done."""
    out: list[OutputSentence] = []
    for sentence in kept:
        pieces = results.get(sentence.source_id)
        if pieces is None and needs_model(sentence, local):
            # Only a cancel leaves a long sentence unanswered: every batch that ran to its end
            # recorded each of its items, from the model or the local repair.
            assert stopped, f"{sentence.source_id} was lost"
            break
        if pieces is None:
            pieces = [
                dataclasses.replace(row, processor=processor) for row in local[sentence.source_id]
            ]
        out.extend(pieces)
    return out


def neighbours(kept: list[Sentence], first: int, last: int, count: int) -> list[str]:
    """The texts of up to `count` sentences before index `first` and after index `last`."""
    if count == 0:
        return []
    around = kept[max(0, first - count) : first] + kept[last + 1 : last + 1 + count]
    return [sentence.text for sentence in around]
