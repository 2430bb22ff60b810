"""The built-in processor: offline, deterministic, and it never makes a fragment.

A sentence within the limit is kept as the author wrote it. A longer one is cut only where
French allows it, by `shorten` on the French parser: at `;` and `:`, between coordinated
clauses, with a repeated subject or a pronoun for a final «qui» clause; every piece is
checked by the parser before it is accepted. What cannot be brought under the limit that way
stays whole, flagged `over_limit`, with its sense groups (`units`) to read it in short steps.
Every row carries the text of its source sentence.
"""

from __future__ import annotations

from typing import ClassVar

from folio.pipeline.model import OutputSentence, ProcessSettings, Sentence
from folio.pipeline.processors.base import ProcessContext, ProcessOutput
from folio.pipeline.processors.shorten import Piece, shorten
from folio.pipeline.processors.units import sense_groups
from folio.pipeline.text import count_words

# Longer sentences are not parsed: the longest in the corpus has 116 words, and a hostile
# document's 300,000-word "sentence" would hold the parser for minutes. They stay whole,
# flagged, with their reading units.
MAX_PARSED_WORDS = 250


class LocalNormalizer:
    """The `local` processor: see the module docstring."""

    name = "local"
    model = ""
    prompt_version = ""
    calls_model: ClassVar[bool] = False
    page_cost_factor: ClassVar[int] = 1

    def process(
        self,
        sentences: list[Sentence],
        settings: ProcessSettings,
        context: ProcessContext | None = None,
    ) -> ProcessOutput:
        """Every kept sentence as rows, in order; the local processor has nothing to cancel."""
        kept = [s for s in sentences if settings.include_headings or not s.heading]
        long = [
            s
            for s in kept
            if not s.heading and settings.limit < count_words(s.text) <= MAX_PARSED_WORDS
        ]
        pieces = dict(
            zip(
                (s.source_id for s in long),
                shorten([s.text for s in long], settings.limit, settings.min_words),
                strict=True,
            )
        )
        out: list[OutputSentence] = []
        for sentence in kept:
            out.extend(rows(sentence, pieces.get(sentence.source_id), settings))
        return ProcessOutput(out)

    def split(self, sentence: Sentence, settings: ProcessSettings) -> list[OutputSentence]:
        """The rows of one source sentence (what an LLM processor falls back to)."""
        return self.process([sentence], settings).sentences


def rows(
    sentence: Sentence, pieces: list[Piece] | None, settings: ProcessSettings
) -> list[OutputSentence]:
    """The output rows of a sentence from its pieces (None: the sentence is kept whole)."""
    found = pieces or [Piece(sentence.text)]
    split = len(found) > 1
    out = []
    for part, piece in enumerate(found):
        words = count_words(piece.text)
        over = words > settings.limit and not sentence.heading
        out.append(
            OutputSentence(
                text=piece.text,
                source_id=sentence.source_id,
                page=sentence.page,
                part=part,
                words=words,
                heading=sentence.heading,
                processor=LocalNormalizer.name,
                split=split,
                cut=piece.cut,
                source_text=sentence.text,
                over_limit=over,
                units=sense_groups(piece.text, settings.limit, settings.min_words) if over else (),
            )
        )
    return out
