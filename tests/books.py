"""The corpus books and their ground-truth texts, processed once per test session."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from folio.pipeline.model import ProcessSettings
from folio.pipeline.runner import DocumentResult, run_document


@dataclass(frozen=True)
class Book:
    """A typeset PDF of the corpus, the text it was made from, and its running headers."""

    key: str
    pdf: str
    text: str
    running_heads: tuple[str, str]


BOOKS = {
    book.key: book
    for book in (
        Book(
            "flaubert",
            "book_flaubert_education.pdf",
            "Flaubert_EducationSentimentale-rd0041.txt",
            ("L’Éducation sentimentale", "Gustave Flaubert"),
        ),
        Book(
            "verne",
            "book_verne_capitaine15ans.pdf",
            "Verne_CapitaineQuinzeAns-rd0087.txt",
            ("Un capitaine de quinze ans", "Jules Verne"),
        ),
        Book(
            "feval",
            "book_feval_vampire.pdf",
            "FevalPP_Vampire-rd0732.txt",
            ("La Vampire", "Paul Féval"),
        ),
    )
}


@functools.cache
def processed(
    corpus: Path, key: str, limit: int = 8, chunk_pages: int = 10_000, overlap: int = 1
) -> DocumentResult:
    """A book through the whole pipeline (cached: several tests read the same run)."""
    return run_document(
        corpus / "pdfs" / BOOKS[key].pdf,
        ProcessSettings(limit=limit, min_words=2),
        chunk_pages=chunk_pages,
        overlap=overlap,
        workers=2,
    )


@functools.cache
def source_text(corpus: Path, key: str) -> str:
    """The ground-truth text of a book."""
    return (corpus / "texts" / BOOKS[key].text).read_text(encoding="utf-8")
