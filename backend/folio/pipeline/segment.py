"""Stage 4, segment: French sentence segmentation with source positions.

A boundary is a run of terminal punctuation (. ! ? … or '..'), with any closing quotes that
follow it, then white space, then something that can start a sentence. Every decision looks
only at a few characters around the candidate, never at state carried from earlier in the
text: a chunk that starts reading mid-sentence finds the same boundaries after its first one
as a chunk that read from the start. A paragraph end (a newline) is a boundary unless the
text on both sides shows that the sentence goes on (`continues`): a paragraph that opens
with punctuation or in lower case, or one that follows an article, a preposition or an
elision. Books made from texts that set every italic title or small-capital name apart
(`c'était la` / `VAMPIRE` / `.`) have such breaks; a sentence never ends there.
"""

from __future__ import annotations

import bisect
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


# A paragraph that opens with one of these carries on the one before: no sentence opens so.
_CANNOT_OPEN = ".,;:!?…)]"
_NO_SPACE_BEFORE = ".,…)]"
# The paragraph before ended its sentence: a full stop, ! or ? (not an ellipsis: `juvat...`
# / `mais on les cite`), and any closing quotes.
_SENTENCE_END = re.compile(r"(?<![.…])[.!?][»”\"’')\]\s]*$")
# Words a sentence cannot end on, even without its full stop (a title, a line of verse can
# end on others): articles and determiners, prepositions, conjunctions and relatives,
# subject pronouns and the copula.
_DANGLING = frozenset(
    """le la les l un une des du au aux ce cet cette ces son sa ses mon ma mes ton ta tes
    leur leurs notre nos votre vos de d à dans par pour sur sous avec vers chez entre
    contre sans et ou mais ni car que qu qui dont où je j tu il ils on est sont était
    étaient fut furent""".split()
)
_LAST_WORD = re.compile(r"(\w+)\W*$")
_ELISION = re.compile(r"\b(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu|quoiqu|presqu)['’]$", re.IGNORECASE)


def continues(before: str, after: str) -> bool:
    """Whether the paragraph `after` carries on the sentence that `before` leaves open.

    Looks only at the end of one and the start of the other: `… sur l'` / `Organon`,
    `c'était la` / `VAMPIRE`, `VAMPIRE` / `.`, `Apennins` / `; il sonnait`, `baptisé:` /
    `la Vampire`. A paragraph that opens in lower case after a full stop stays a sentence of
    its own (`» pensa Deslauriers.` / `il alla dîner`): the source says so, not the layout.
    """
    a, b = before.rstrip(), after.lstrip()
    if not a or not b:
        return False
    if b[0] in _CANNOT_OPEN:
        return True
    if a[-1] in "«“([" or _ELISION.search(a) or a in ("—", "--", "–"):
        return True
    if b[0].islower():
        return not _SENTENCE_END.search(a)
    if b[0].isalnum() or b[0] == "(":
        if a[-1] == ",":
            return True
        word = _LAST_WORD.search(a)
        return word is not None and a[-1].isalnum() and word.group(1).lower() in _DANGLING
    return False


def segment(extracted: Extracted) -> list[Sentence]:
    """The sentences of an extraction, each located by (page, offset), headings marked.

    A run of paragraphs that carry on one another is read as one (see `continues`): the
    breaks become a space, or nothing before a closing mark (`VAMPIRE.`).
    """
    sentences: list[Sentence] = []
    text = extracted.text
    for heading, pieces in _runs_of_paragraphs(text, extracted.headings):
        joined, starts, positions = _join(pieces)
        spans = _whole(joined) if heading else split_paragraph(joined)
        for start, end in spans:
            index = bisect.bisect_right(starts, start) - 1
            page, offset = extracted.locate(positions[index] + start - starts[index])
            sentences.append(Sentence(page, offset, joined[start:end], heading=heading))
    return sentences


def _runs_of_paragraphs(
    text: str, headings: set[int]
) -> Iterator[tuple[bool, list[tuple[int, str]]]]:
    """(heading, [(position, paragraph), …]): the paragraphs, those that carry on grouped."""
    run: list[tuple[int, str]] = []
    position = 0
    for paragraph in text.split("\n"):
        heading = position in headings
        if heading or not run or not continues(run[-1][1], paragraph):
            if run:
                yield False, run
            run = []
        if heading:
            yield True, [(position, paragraph)]
        elif paragraph.strip():
            run.append((position, paragraph))
        position += len(paragraph) + 1
    if run:
        yield False, run


def _join(pieces: list[tuple[int, str]]) -> tuple[str, list[int], list[int]]:
    """One text from paragraphs, and where each starts in it and in the extracted text."""
    parts: list[str] = []
    starts: list[int] = []
    positions: list[int] = []
    length = 0
    for number, (position, paragraph) in enumerate(pieces):
        if number:
            body = paragraph.lstrip()
            position += len(paragraph) - len(body)
            paragraph = body
            kept = parts[-1].rstrip()
            length -= len(parts[-1]) - len(kept)
            parts[-1] = kept
            if paragraph[0] not in _NO_SPACE_BEFORE and not _ELISION.search(kept):
                parts.append(" ")
                length += 1
        starts.append(length)
        positions.append(position)
        parts.append(paragraph)
        length += len(paragraph)
    return "".join(parts), starts, positions


def _whole(paragraph: str) -> Iterator[tuple[int, int]]:
    yield from _span(paragraph, 0, len(paragraph))
