"""Stage 4, segment: French sentence segmentation with source positions.

A boundary is a run of terminal punctuation (. ! ? … or '..'), with any closing quotes that
follow it, then white space, then something that can start a sentence. Every decision looks
only at a few characters around the candidate, never at state carried from earlier in the
text: a chunk that starts reading mid-sentence finds the same boundaries after its first one
as a chunk that read from the start. Paragraph ends (newlines) are always boundaries.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from folio.pipeline.model import Sentence
from folio.pipeline.sources.base import Extracted

# Terminal punctuation, then closers that belong to the sentence (« … ! » keeps its »).
_CANDIDATE = re.compile(r"(?:[.!?…]+)(?:[ \u00a0]?[»”\")\]’])*(?=[ \u00a0]+(\S))")

# Abbreviations that take a full stop inside a sentence (compared case-sensitively).
ABBREVIATIONS = frozenset(
    """M MM Mme Mmes Mlle Mlles Mgr Me Dr Pr St Ste Cie cf Cf p pp vol chap ch env av apr
    art fig No no n° ibid id op éd""".split()
)
# 'J.-C.', 'S.-E.', 'U.S.A.': letters joined by stops, the last stop not a sentence end.
_DOTTED = re.compile(r"(?:[A-Z]\.-?)+[A-Z]$")
_WORD_BEFORE = re.compile(r"([\w°.\-]+)\.$")
_OPENERS = '«“"(—-–[¿¡'


def split_paragraph(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) spans of the sentences of one paragraph, stripped of outer spaces."""
    start = 0
    for match in _CANDIDATE.finditer(text):
        end = match.end()
        if _is_boundary(text, match.start(), end, match.group(1)):
            yield from _span(text, start, end)
            start = end
    yield from _span(text, start, len(text))


def _span(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        yield start, end


def _is_boundary(text: str, punct_start: int, end: int, following: str) -> bool:
    if following.islower():
        return False  # '? demanda-t-il', '… et puis', '» répliqua Frédéric'
    if not (following.isupper() or following.isdigit() or following in _OPENERS):
        return False
    punct = text[punct_start:end].rstrip('»”")]’ \u00a0')
    if punct == ".":
        return not _is_abbreviation(text, punct_start + 1)
    return True


def _is_abbreviation(text: str, stop_end: int) -> bool:
    """Whether the full stop that ends at `stop_end` belongs to an abbreviation or initial."""
    window = text[max(0, stop_end - 24) : stop_end]
    match = _WORD_BEFORE.search(window)
    if match is None:
        return False
    word = match.group(1).lstrip('(«"-—')
    if word in ABBREVIATIONS or _DOTTED.search(word):
        return True
    return len(word) == 1 and word.isupper()  # an initial: 'James W. Weldon'


def segment(extracted: Extracted) -> list[Sentence]:
    """The sentences of an extraction, each located by (page, offset), headings marked."""
    sentences: list[Sentence] = []
    text = extracted.text
    position = 0
    for paragraph in text.split("\n"):
        heading = position in extracted.headings
        for start, end in split_paragraph(paragraph) if not heading else _whole(paragraph):
            page, offset = extracted.locate(position + start)
            sentences.append(Sentence(page, offset, paragraph[start:end], heading=heading))
        position += len(paragraph) + 1
    return sentences


def _whole(paragraph: str) -> Iterator[tuple[int, int]]:
    yield from _span(paragraph, 0, len(paragraph))
