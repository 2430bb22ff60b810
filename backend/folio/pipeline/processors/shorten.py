"""Bring long sentences under the limit with cuts that leave only complete sentences.

A sentence over the limit is parsed; every cut its parse suggests (`french.clauses`) is
written out as two pieces, the pieces are parsed, and the best cut whose two pieces are
complete (`french.check`) and long enough is taken. A piece still over the limit is worked on
the same way, up to `MAX_DEPTH` cuts deep. What no cut can shorten stays as it is: the caller
flags it `over_limit`. Sentences are handled level by level in batches, so that the parser
sees many texts at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from folio.pipeline.french import clauses, parser
from folio.pipeline.french.check import is_complete
from folio.pipeline.text import count_words

MAX_DEPTH = 4
# Cuts tried per sentence and level: the best kinds first (see `clauses.candidates`).
MAX_CANDIDATES = 6
_ENDINGS = (".", "!", "?", "…", "»", "”", ")")
_STRIP = " ,;:—–-"


@dataclass(slots=True)
class Piece:
    """A sentence, or a piece of one; `cut` names how it was cut from the piece before."""

    text: str
    cut: str = ""
    doc: Any = field(default=None, repr=False, compare=False)

    @property
    def words(self) -> int:
        """Words of the piece (`text.count_words`)."""
        return count_words(self.text)


def shorten(texts: Sequence[str], limit: int, min_words: int) -> list[list[Piece]]:
    """For each text, its pieces in reading order (the text alone when nothing cut it)."""
    if not texts:
        return []  # nothing to parse: the parser is not even loaded (a page of no text)
    results = [[Piece(text)] for text in texts]
    docs = parser.parse(texts)
    for pieces, doc in zip(results, docs, strict=True):
        pieces[0].doc = doc
    for _ in range(MAX_DEPTH):
        work = [
            (row, index)
            for row, pieces in enumerate(results)
            for index, piece in enumerate(pieces)
            if piece.words > limit and piece.doc is not None
        ]
        if not work:
            break
        splits = _best_splits([results[row][index] for row, index in work], min_words)
        # Replace from the right, so that earlier indices in a row stay valid.
        for (row, index), split in sorted(zip(work, splits, strict=True), reverse=True):
            if split is None:
                results[row][index].doc = None  # nothing cuts it: leave it whole
            else:
                results[row][index : index + 1] = list(split)
    return results


def _best_splits(pieces: list[Piece], min_words: int) -> list[tuple[Piece, Piece] | None]:
    """For each piece, its first valid cut into two complete pieces (in rank order), or None.

    Cuts are tried in rounds, one per piece and round, all of a round parsed in one batch:
    most pieces are settled by their first or second cut, so few pieces are parsed in vain.
    """
    queues = [_ranked_trials(piece, min_words) for piece in pieces]
    chosen: list[tuple[Piece, Piece] | None] = [None] * len(pieces)
    while True:
        round_ = [(n, queue.pop(0)) for n, queue in enumerate(queues) if queue]
        if not round_:
            return chosen
        docs = parser.parse([text for _, (_, left, right) in round_ for text in (left, right)])
        for position, (number, (cut, left, right)) in enumerate(round_):
            left_doc, right_doc = docs[2 * position], docs[2 * position + 1]
            if is_complete(left_doc) and is_complete(right_doc):
                kind = clauses.KIND_NAMES[cut.kind]
                chosen[number] = (
                    Piece(left, pieces[number].cut, left_doc),
                    Piece(right, kind, right_doc),
                )
                queues[number] = []


def _ranked_trials(piece: Piece, min_words: int) -> list[tuple[clauses.Cut, str, str]]:
    """The piece's cuts written out, best kind first and, within a kind, the most even."""
    trials = []
    for cut in clauses.candidates(piece.doc):
        left, right = write_cut(piece.text, cut)
        sizes = (count_words(left), count_words(right))
        if min(sizes) >= min_words:
            trials.append(((cut.kind, max(sizes)), (cut, left, right)))
    trials.sort(key=lambda trial: trial[0])
    return [trial for _, trial in trials[:MAX_CANDIDATES]]


def write_cut(text: str, cut: clauses.Cut) -> tuple[str, str]:
    """The two sentences a cut makes of `text`: each ended, capitalised, its « » balanced."""
    left = text[: cut.left_end].rstrip(_STRIP)
    right = text[cut.right_start :].lstrip(_STRIP)
    question = right.rstrip(" »”").endswith("?")
    if not left.endswith(_ENDINGS):
        # «Connaissez-vous un homme qui porte ce nom ?» asks its question in the left piece.
        left += "?" if question and cut.kind == clauses.RELATIVE else "."
    if question and cut.kind == clauses.RELATIVE:
        right = right.rstrip(" ?") + "."
    right = " ".join(part for part in (cut.lead, cut.prefix, right) if part)
    return balance_quotes(left), balance_quotes(capitalise(right))


def capitalise(text: str) -> str:
    """`text` with its first letter in upper case (marks before it kept)."""
    for index, char in enumerate(text):
        if char.isalpha():
            return text[:index] + char.upper() + text[index + 1 :]
        if char.isdigit():
            break
    return text


def balance_quotes(text: str) -> str:
    """Close a « the piece opened, or open a » it closes."""
    opened, closed = text.count("«"), text.count("»")
    if opened > closed:
        return text + " »"
    if closed > opened:
        return "« " + text
    return text
