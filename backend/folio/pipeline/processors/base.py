"""Stage 6, process: the contract every processor (local, LLM) fulfils."""

from __future__ import annotations

from typing import Protocol

from folio.pipeline.model import OutputSentence, ProcessSettings, Sentence


class Processor(Protocol):
    """Turns a chunk's owned source sentences into output sentences.

    Every output sentence carries the `source_id` of the sentence it came from, and the
    pieces of one source sentence are numbered by `part` in reading order. Headings pass
    through unchanged (or are dropped when the settings exclude them).
    """

    name: str

    def process(self, sentences: list[Sentence], settings: ProcessSettings) -> list[OutputSentence]:
        """Process `sentences` in order."""
        ...
