"""Planning chunks, owning sentences and merging the chunks' output."""

from __future__ import annotations

import pytest

from folio.pipeline.errors import InvalidSettings
from folio.pipeline.merge import merge
from folio.pipeline.model import ChunkPlan, OutputSentence, Sentence
from folio.pipeline.plan import own, plan_chunks


@pytest.mark.parametrize(
    ("pages", "size", "overlap"), [(1, 25, 1), (445, 25, 1), (445, 5, 2), (10, 3, 1), (7, 7, 3)]
)
def test_owned_ranges_partition_the_document(pages: int, size: int, overlap: int) -> None:
    chunks = plan_chunks(pages, size, overlap)
    owned = [p for c in chunks for p in range(c.owned_first, c.owned_last + 1)]
    assert owned == list(range(1, pages + 1))
    for chunk in chunks:
        assert chunk.read_first == max(1, chunk.owned_first - overlap)
        assert chunk.read_last == min(pages, chunk.owned_last + overlap)
    assert [c.index for c in chunks] == list(range(len(chunks)))


def test_small_documents_are_one_chunk() -> None:
    assert plan_chunks(12, 25, 1) == [ChunkPlan(0, 1, 12, 1, 12)]


@pytest.mark.parametrize(("size", "overlap"), [(0, 1), (10, 0), (10, 6)])
def test_bad_plans_are_refused(size: int, overlap: int) -> None:
    with pytest.raises(InvalidSettings):
        plan_chunks(100, size, overlap)


def test_own_keeps_sentences_that_start_on_owned_pages() -> None:
    chunk = ChunkPlan(1, 6, 10, 5, 11)
    sentences = [
        Sentence(5, 900, "fin de phrase."),
        Sentence(6, 0, "A."),
        Sentence(10, 5, "B."),
        Sentence(11, 0, "C."),
    ]
    assert [s.text for s in own(chunk, sentences)] == ["A.", "B."]


def out(page: int, offset: int, text: str, part: int = 0) -> OutputSentence:
    return OutputSentence(text, Sentence(page, offset, text).source_id, page, part)


def test_merge_orders_and_drops_overlap_duplicates_keeping_one_chunks_pieces() -> None:
    first = [out(1, 0, "Il sourit."), out(1, 20, "Une longue phrase", 0), out(1, 20, "coupée.", 1)]
    # The next chunk read page 1 again (the overlap) and rewrote the long sentence differently.
    second = [out(1, 20, "Une phrase", 0), out(1, 20, "réécrite.", 1), out(2, 0, "Il sourit.")]
    merged = merge([second, first])
    assert [s.text for s in merged] == ["Il sourit.", "Une phrase", "réécrite.", "Il sourit."]
    assert [s.page for s in merged] == [1, 1, 1, 2]


def test_identical_text_at_two_positions_is_kept() -> None:
    merged = merge([[out(4, 10, "Il sourit."), out(4, 80, "Il sourit.")]])
    assert len(merged) == 2
