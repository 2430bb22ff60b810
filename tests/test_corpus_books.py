"""The whole pipeline on the three novels of the corpus, measured against their source texts."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from books import BOOKS, processed, source_text
from folio.pipeline.text import count_words
from quality import fold, ngram_overlap

pytestmark = pytest.mark.corpus


@pytest.mark.parametrize("key", sorted(BOOKS))
def test_nothing_lost_nothing_added(corpus_dir: Path, key: str) -> None:
    result = processed(corpus_dir, key)
    overlap = ngram_overlap(source_text(corpus_dir, key), (s.text for s in result.sentences))
    assert overlap.recall >= 0.995, overlap
    assert overlap.precision >= 0.995, overlap


@pytest.mark.parametrize("key", sorted(BOOKS))
def test_no_running_header_or_page_number_in_output(corpus_dir: Path, key: str) -> None:
    result = processed(corpus_dir, key)
    source = fold(source_text(corpus_dir, key))
    output = fold(" ".join(s.text for s in result.sentences))
    # A running head may occur in the novel itself: the output must have it no more often.
    for head in BOOKS[key].running_heads:
        pattern = " ".join(fold(head))
        assert _occurrences(output, pattern) == _occurrences(source, pattern), head
    # Page numbers would add numbers that the novel does not have.
    numbers = Counter(word for word in output if word.isdigit())
    expected = Counter(word for word in source if word.isdigit())
    assert numbers - expected == Counter()


def _occurrences(words: list[str], phrase: str) -> int:
    return len(re.findall(rf"(?<!\S){re.escape(phrase)}(?!\S)", " ".join(words)))


@pytest.mark.parametrize("key", sorted(BOOKS))
def test_hard_cuts_are_rare_at_limit_8(corpus_dir: Path, key: str) -> None:
    result = processed(corpus_dir, key)
    assert result.hard_cuts == sum(1 for s in result.sentences if s.hard_cut)
    assert result.hard_cuts < 0.01 * len(result.sentences)


@pytest.mark.parametrize("limit", [5, 8, 12, 20])
def test_every_sentence_within_the_limit(corpus_dir: Path, limit: int) -> None:
    result = processed(corpus_dir, "feval", limit=limit)
    assert result.sentences
    for sentence in result.sentences:
        assert sentence.words == count_words(sentence.text)
        assert sentence.words <= limit, sentence
        if sentence.split:  # a piece of a longer sentence is never shorter than min_words
            assert sentence.words >= 2, sentence


def test_fewer_pieces_with_a_higher_limit(corpus_dir: Path) -> None:
    counts = [len(processed(corpus_dir, "feval", limit=limit).sentences) for limit in (5, 8, 12)]
    assert counts[0] > counts[1] > counts[2]


@pytest.mark.parametrize(("chunk_pages", "overlap"), [(40, 1), (15, 1), (5, 1), (40, 2), (5, 2)])
def test_fan_out_is_exact(corpus_dir: Path, chunk_pages: int, overlap: int) -> None:
    whole = processed(corpus_dir, "flaubert")
    assert len(whole.chunks) == 1
    chunked = processed(corpus_dir, "flaubert", chunk_pages=chunk_pages, overlap=overlap)
    assert len(chunked.chunks) == -(-whole.info.page_count // chunk_pages)
    assert chunked.sentences == whole.sentences


def test_overlap_really_produces_duplicates_that_merge_drops(corpus_dir: Path) -> None:
    chunked = processed(corpus_dir, "flaubert", chunk_pages=5, overlap=1)
    produced = sum(len(result.sentences) for result in chunked.chunks)
    ids = [s.source_id for s in chunked.sentences]
    assert produced == len(chunked.sentences)  # owned sentences only: nothing to drop
    assert len(set(ids)) == len({(s.source_id) for s in chunked.sentences})
    assert ids == sorted(ids)
