"""Stage 2, plan, and stage 5, own: cut pages into chunks, keep what each chunk owns."""

from __future__ import annotations

from collections.abc import Collection

from folio.pipeline.errors import InvalidSettings
from folio.pipeline.model import ChunkPlan, Sentence

DEFAULT_CHUNK_PAGES = 25
DEFAULT_OVERLAP = 1
DEFAULT_OCR_CHUNK_PAGES = 10
MAX_OVERLAP = 5


def plan_chunks(
    page_count: int,
    chunk_pages: int = DEFAULT_CHUNK_PAGES,
    overlap: int = DEFAULT_OVERLAP,
    ocr_pages: Collection[int] = (),
    ocr_chunk_pages: int = DEFAULT_OCR_CHUNK_PAGES,
) -> list[ChunkPlan]:
    """Owned page ranges that partition the document, each read with `overlap` pages around it.

    A sentence is owned by the chunk whose owned pages hold its start; the overlap lets that
    chunk read the sentence whole when it runs onto the next page, and lets it find where
    its first owned sentence starts when the previous page ends mid-sentence. A chunk holds
    at most `chunk_pages` pages, and at most `ocr_chunk_pages` of the pages OCR reads
    (`ocr_pages`, a second or more each where a text page takes milliseconds).
    """
    if page_count < 1:
        raise InvalidSettings("A document needs at least one page.")
    if chunk_pages < 1 or ocr_chunk_pages < 1:
        raise InvalidSettings("Chunk size must be at least one page.")
    if not 1 <= overlap <= MAX_OVERLAP:
        raise InvalidSettings(f"Overlap must be between 1 and {MAX_OVERLAP} pages.")
    heavy = set(ocr_pages)
    chunks: list[ChunkPlan] = []
    first = 1
    while first <= page_count:
        last, scans = first, int(first in heavy)
        while last < page_count and last - first + 1 < chunk_pages:
            scans += last + 1 in heavy
            if scans > ocr_chunk_pages:
                break
            last += 1
        chunks.append(
            ChunkPlan(
                index=len(chunks),
                owned_first=first,
                owned_last=last,
                read_first=max(1, first - overlap),
                read_last=min(page_count, last + overlap),
            )
        )
        first = last + 1
    return chunks


def own(chunk: ChunkPlan, sentences: list[Sentence]) -> list[Sentence]:
    """The sentences that start on the chunk's owned pages."""
    return [sentence for sentence in sentences if chunk.owns(sentence.page)]
