"""Measures of extraction quality against the corpus's ground-truth texts."""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from folio.pipeline.text import HyphenJoin

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


@dataclass(frozen=True)
class HyphenReport:
    """Line-end hyphen joins checked against the source text."""

    joins: int
    removed_wrongly: int  # the source writes the word with its hyphen
    kept_wrongly: int  # the source writes the word solid
    undecidable: int  # the source has both spellings, or neither
    examples: tuple[str, ...]


_SEGMENTS = re.compile(r"[’'\-]")


def check_hyphen_joins(joins: Iterable[HyphenJoin], source: str) -> HyphenReport:
    """Compare each join with how the source spells the word: hyphenated, solid, or both."""
    text = unicodedata.normalize("NFC", source).casefold()
    solid_words = set(re.findall(r"\w+", text))
    hyphen_pairs: set[tuple[str, str]] = set()
    for compound in re.findall(r"\w+(?:-\w+)+", text):
        parts = compound.split("-")
        hyphen_pairs.update(itertools.pairwise(parts))
    removed = kept = undecidable = total = 0
    examples: list[str] = []
    for join in joins:
        total += 1
        left = _SEGMENTS.split(join.left.casefold())[-1].strip("«»()—,.;:!?")
        right = _SEGMENTS.split(join.right.casefold())[0].strip("«»()—,.;:!?")
        hyphenated = (left, right) in hyphen_pairs
        solid = left + right in solid_words
        if hyphenated == solid:
            undecidable += 1
        elif hyphenated and not join.kept:
            removed += 1
            examples.append(f"{join.left}|{join.right} (hyphen removed)")
        elif solid and join.kept:
            kept += 1
            examples.append(f"{join.left}|{join.right} (hyphen kept)")
    return HyphenReport(total, removed, kept, undecidable, tuple(examples))
