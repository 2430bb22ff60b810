"""Measures of extraction quality against the corpus's ground-truth texts."""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from folio.pipeline.model import OutputSentence
from folio.pipeline.text import HyphenJoin, count_words

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


@dataclass(frozen=True)
class Completeness:
    """The parser check over a processed book at one limit (docs/quality.md)."""

    cut_rows: int
    cut_complete: float  # share of complete rows among the rows a cut made
    kept_rows: int
    kept_complete: float  # share among the book's own sentences that needed no change
    over_share: float  # source sentences over the limit, among all
    brought_under: float  # of those, the share whose rows are all within the limit
    left_whole: float  # of those, the share kept whole (one row, flagged)
    mean_words: float
    p95_words: int


def completeness(sentences: Sequence[OutputSentence], limit: int, sample: int = 0) -> Completeness:
    """Measure rows with the parser check; `sample` > 0 checks at most that many of each kind."""
    from folio.pipeline.french.check import is_complete
    from folio.pipeline.french.parser import parse

    rows = [s for s in sentences if not s.heading]
    by_source: dict[str, list[OutputSentence]] = {}
    for row in rows:
        by_source.setdefault(row.source_id, []).append(row)
    cut = [row.text for row in rows if row.split]
    kept = [g[0].text for g in by_source.values() if g[0].words <= limit and len(g) == 1]
    over = [group for group in by_source.values() if count_words(group[0].source_text) > limit]
    if sample:
        cut, kept = _spread(cut, sample), _spread(kept, sample)
    words = sorted(row.words for row in rows)

    def share(texts: list[str]) -> float:
        return sum(is_complete(doc) for doc in parse(texts)) / max(1, len(texts))

    return Completeness(
        cut_rows=len(cut),
        cut_complete=share(cut),
        kept_rows=len(kept),
        kept_complete=share(kept),
        over_share=len(over) / max(1, len(by_source)),
        brought_under=sum(all(not r.over_limit for r in g) for g in over) / max(1, len(over)),
        left_whole=sum(len(g) == 1 for g in over) / max(1, len(over)),
        mean_words=sum(words) / max(1, len(words)),
        p95_words=words[int(0.95 * (len(words) - 1))] if words else 0,
    )


def _spread(items: list[str], count: int) -> list[str]:
    """At most `count` items taken evenly through the list (deterministic)."""
    if len(items) <= count:
        return items
    step = len(items) / count
    return [items[int(i * step)] for i in range(count)]


_QUOTES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "“": '"', "”": '"', "„": '"'})
_WHITESPACE = re.compile(r"\s+")


def fold_for_cer(text: str) -> str:
    """Text compared by characters: NFC, typographic quotes as straight ones, one space."""
    text = unicodedata.normalize("NFC", text).translate(_QUOTES)
    return _WHITESPACE.sub(" ", text).strip()


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance, bit-parallel (Myers 1999, Hyyrö's global form): O(len(b)) big-int
    steps of len(a) bits, so two 20,000-character pages compare in well under a second."""
    if not a:
        return len(b)
    masks: dict[str, int] = {}
    for index, char in enumerate(a):
        masks[char] = masks.get(char, 0) | (1 << index)
    full = (1 << len(a)) - 1
    last = 1 << (len(a) - 1)
    plus, minus, score = full, 0, len(a)
    for char in b:
        eq = masks.get(char, 0)
        xv = eq | minus
        xh = (((eq & plus) + plus) ^ plus) | eq
        up = minus | ~(xh | plus)
        down = plus & xh
        if up & last:
            score += 1
        elif down & last:
            score -= 1
        up = (up << 1) | 1
        down <<= 1
        plus = (down | ~(xv | up)) & full
        minus = up & xv & full
    return score


def character_error_rate(reference: str, read: str) -> float:
    """Edits from the reference to what was read, per reference character (both folded)."""
    reference, read = fold_for_cer(reference), fold_for_cer(read)
    return edit_distance(reference, read) / max(1, len(reference))
