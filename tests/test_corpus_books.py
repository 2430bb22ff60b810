"""The whole pipeline on the three novels of the corpus, measured against their source texts."""

from __future__ import annotations

import difflib
import re
from collections import Counter
from pathlib import Path

import pytest

from books import BOOKS, processed, source_text
from folio.pipeline.model import CUT_RELATIVE, CUT_SUBJECT, OutputSentence
from folio.pipeline.text import count_words
from quality import completeness, fold, ngram_overlap

pytestmark = pytest.mark.corpus


@pytest.mark.parametrize("key", sorted(BOOKS))
def test_nothing_lost_nothing_added(corpus_dir: Path, key: str) -> None:
    result = processed(corpus_dir, key)
    # Rows read in order give the book back but for the rewrites: a repeated subject or a
    # pronoun for «qui» changes one or two words, which breaks up to 8 word 8-grams each
    # (docs/quality.md: about 0.96 at limit 8; issue 3/7 hoped for 0.99).
    overlap = ngram_overlap(source_text(corpus_dir, key), (s.text for s in result.sentences))
    assert overlap.recall >= 0.95, overlap
    assert overlap.precision >= 0.95, overlap
    # The source sentences, whole, give it back as exactly as before the processor.
    sources = {s.source_id: s.source_text for s in result.sentences}  # one per sentence
    exact = ngram_overlap(source_text(corpus_dir, key), sources.values())
    assert exact.recall >= 0.995 and exact.precision >= 0.995, exact


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


@pytest.mark.parametrize("key", sorted(BOOKS))
def test_rows_change_no_word_but_the_documented_rewrites(corpus_dir: Path, key: str) -> None:
    """Each sentence's rows, read together, are its words: a cut adds at most a subject of
    up to 3 words (or a pronoun in place of «qui»), and loses nothing else."""
    result = processed(corpus_dir, key)
    groups: dict[str, list[OutputSentence]] = {}
    for row in result.sentences:
        groups.setdefault(row.source_id, []).append(row)
    for rows in groups.values():
        source = fold(rows[0].source_text)
        written = fold(" ".join(row.text for row in rows))
        rewrites = sum(row.cut in (CUT_SUBJECT, CUT_RELATIVE) for row in rows)
        changes = difflib.SequenceMatcher(a=source, b=written, autojunk=False).get_opcodes()
        for tag, a0, a1, b0, b1 in changes:
            if tag == "equal":
                continue
            assert tag in ("insert", "replace") and a1 - a0 <= 1 and b1 - b0 <= 3, (
                tag,
                source[a0:a1],
                written[b0:b1],
                rows[0].source_text,
            )
            if tag == "replace":
                assert source[a0:a1] == ["qui"], (source[a0:a1], rows[0].source_text)
        assert sum(tag != "equal" for tag, *_ in changes) <= rewrites, rows[0].source_text


def _occurrences(words: list[str], phrase: str) -> int:
    return len(re.findall(rf"(?<!\S){re.escape(phrase)}(?!\S)", " ".join(words)))


@pytest.mark.parametrize(("key", "limit"), [(k, n) for k in sorted(BOOKS) for n in (8, 12)])
def test_cut_rows_are_at_least_as_complete_as_the_authors_own(
    corpus_dir: Path, key: str, limit: int
) -> None:
    """Issue 3/7, must show 1: the parser check, rows a cut made against untouched sentences."""
    result = processed(corpus_dir, key, limit=limit)
    measured = completeness(result.sentences, limit, sample=600)
    assert measured.cut_rows > 100, measured
    assert measured.cut_complete >= measured.kept_complete, measured
    # And the processor really shortens: some sentences over the limit are brought under it.
    assert 0 < measured.brought_under < 1, measured


@pytest.mark.parametrize("limit", [5, 8, 12, 20])
def test_every_row_within_the_limit_or_flagged_with_its_units(corpus_dir: Path, limit: int) -> None:
    result = processed(corpus_dir, "feval", limit=limit)
    assert result.sentences
    for sentence in result.sentences:
        assert sentence.words == count_words(sentence.text)
        assert sentence.source_text
        if sentence.split:  # a piece of a longer sentence is never shorter than min_words
            assert sentence.words >= 2, sentence
        if sentence.words <= limit or sentence.heading:
            assert not sentence.over_limit and not sentence.units, sentence
            continue
        assert sentence.over_limit, sentence
        assert all(count_words(unit) <= limit for unit in sentence.units), sentence
        assert " ".join(sentence.units).split() == sentence.text.split()


def test_fewer_rows_over_a_higher_limit(corpus_dir: Path) -> None:
    over = [processed(corpus_dir, "feval", limit=limit).over_limit for limit in (5, 8, 12)]
    assert over[0] > over[1] > over[2]


@pytest.mark.parametrize(("chunk_pages", "overlap"), [(40, 1), (5, 1), (15, 2)])
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


# --- sentences a learner can use: never a fragment (issue 3/7) ----------------------------

# Limit 8 on the whole book in one chunk, the CLI's defaults (chunks of 25 pages), limit 20.
SETTINGS = [
    pytest.param({"limit": 8}, id="limit-8"),
    pytest.param({"limit": 8, "chunk_pages": 25}, id="cli-defaults"),
    pytest.param({"limit": 20}, id="limit-20"),
]
_CLOSERS = "»)]”"
_SOURCE_END = re.compile(r"[.!?…][»”\"’')\]\s]*$")


def _opening(text: str) -> tuple[str, tuple[str, ...]]:
    """A sentence's first character and first four words, case and punctuation folded."""
    return text.lstrip()[:1], tuple(fold(text)[:4])


def _source_openings(text: str) -> set[tuple[str, tuple[str, ...]]]:
    """How the source's paragraphs open where the one before ended a sentence, and those
    that open with a closing mark (the `»` that carries a quotation on to a new paragraph)."""
    openings = set()
    previous = ""
    for line in text.splitlines():
        line = line.strip()
        if line and (not previous or _SOURCE_END.search(previous) or line[0] in _CLOSERS):
            openings.add(_opening(line))
        previous = line or previous
    return openings


def _opens_like(text: str, openings: set[tuple[str, tuple[str, ...]]]) -> bool:
    """Whether a row opens as one of the source's paragraphs (a short row: its words)."""
    first, words = _opening(text)
    return any(first == o[0] and o[1][: len(words)] == words for o in openings)


@pytest.mark.parametrize("settings", SETTINGS)
@pytest.mark.parametrize("key", sorted(BOOKS))
def test_no_row_is_only_punctuation(corpus_dir: Path, key: str, settings: dict[str, int]) -> None:
    result = processed(corpus_dir, key, **settings)
    bare = [s for s in result.sentences if not any(c.isalnum() for c in s.text)]
    assert bare == []


@pytest.mark.parametrize("settings", SETTINGS)
@pytest.mark.parametrize("key", sorted(BOOKS))
def test_a_row_opens_in_lower_case_or_with_a_closing_mark_only_as_its_source_does(
    corpus_dir: Path, key: str, settings: dict[str, int]
) -> None:
    """Such a row must be the first piece of a sentence the source itself opens so: a
    paragraph of the source text that opens that way after a sentence's end (Flaubert's
    `il alla dîner…` after `pensa Deslauriers.`, the `» Monsieur,` of a letter quoted over
    several paragraphs). A fragment cut off by a change of font is never one of them."""
    result = processed(corpus_dir, key, **settings)
    openings = _source_openings(source_text(corpus_dir, key))
    odd = [
        s
        for s in result.sentences
        if (s.text[:1].islower() or s.text[:1] in _CLOSERS)
        and not (s.part == 0 and _opens_like(s.text, openings))
    ]
    assert odd == []
    # The exceptions stay exceptions: Flaubert's source opens 14 paragraphs so, the others 2.
    allowed = [s for s in result.sentences if s.text[:1].islower() or s.text[:1] in _CLOSERS]
    assert len(allowed) <= 14


@pytest.mark.parametrize("settings", SETTINGS)
def test_the_feval_sentences_with_a_title_or_small_capitals_come_out_whole(
    corpus_dir: Path, settings: dict[str, int]
) -> None:
    rows = [s.text for s in processed(corpus_dir, "feval", **settings).sentences]
    assert "A la pêche miraculeuse." in rows
    folded = [row.casefold() for row in rows]
    assert any(row.endswith("c'était la vampire.") for row in folded)
    assert any("sur l'organon de samuel hahnemann." in row for row in folded)
    for fragment in ("A la pêche miraculeuse", ".", "Sur l'", "Organon", "VAMPIRE", "C'était la"):
        assert fragment not in rows
