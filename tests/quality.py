"""Measures of extraction quality against the corpus's ground-truth texts."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

_NON_WORD = re.compile(r"[\W_]+")


def fold(text: str) -> list[str]:
    """Words with case and punctuation folded away ('L’Éducation' -> ['l', 'éducation'])."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return _NON_WORD.sub(" ", text).split()


def ngrams(words: list[str], n: int) -> Counter[tuple[str, ...]]:
    """Multiset of the word n-grams of a sequence."""
    return Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))


@dataclass(frozen=True)
class Overlap:
    """Recall and precision of the output's n-grams against the source's."""

    recall: float
    precision: float
    source_ngrams: int
    output_ngrams: int


def ngram_overlap(source: str, output: Iterable[str], n: int = 8) -> Overlap:
    """How much of `source` the output gives back (recall), and how much it adds (precision)."""
    expected = ngrams(fold(source), n)
    found = ngrams(fold(" ".join(output)), n)
    common = sum((expected & found).values())
    return Overlap(
        recall=common / max(1, sum(expected.values())),
        precision=common / max(1, sum(found.values())),
        source_ngrams=sum(expected.values()),
        output_ngrams=sum(found.values()),
    )
