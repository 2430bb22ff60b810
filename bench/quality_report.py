"""Quality figures of the pipeline on the corpus novels, as a Markdown table.

Usage: python bench/quality_report.py  (reads FOLIO_CORPUS_DIR, default ../shared/corpus)
The same measures as the test-suite (tests/quality.py), printed instead of asserted.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the shared measures

from books import BOOKS, processed, source_text
from folio.config import Settings
from folio.pipeline.sources.pdf.extract import extract
from folio.pipeline.sources.pdf.inspect import inspect_pdf
from quality import check_hyphen_joins, completeness, ngram_overlap


def book_rows(corpus: Path) -> list[str]:
    """One row per book at limit 8: recall, precision, rows and cuts by kind."""
    rows = [
        "| book | pages | source sentences | rows | 8-gram recall | 8-gram precision "
        "| clause cuts | subject repeated | «qui» rewritten | rows over the limit |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key in BOOKS:
        result = processed(corpus, key)
        overlap = ngram_overlap(source_text(corpus, key), (s.text for s in result.sentences))
        cuts = Counter(s.cut for s in result.sentences)
        rows.append(
            f"| {key} | {result.info.page_count} | {result.source_sentences} "
            f"| {len(result.sentences)} | {overlap.recall:.4f} | {overlap.precision:.4f} "
            f"| {cuts['clause']} | {cuts['subject']} | {cuts['relative']} | {result.over_limit} |"
        )
    return rows


def completeness_rows(corpus: Path) -> list[str]:
    """The parser check per book and limit (issue 3/7, must show 1 and 4)."""
    rows = [
        "| book | limit | complete: cut rows | complete: untouched sentences | sentences over "
        "the limit | brought under | left whole | words per row: mean | 95th percentile |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for key in BOOKS:
        for limit in (8, 12):
            m = completeness(processed(corpus, key, limit=limit).sentences, limit)
            rows.append(
                f"| {key} | {limit} | {m.cut_complete:.1%} of {m.cut_rows} "
                f"| {m.kept_complete:.1%} of {m.kept_rows} | {m.over_share:.1%} "
                f"| {m.brought_under:.1%} | {m.left_whole:.1%} | {m.mean_words:.1f} "
                f"| {m.p95_words} |"
            )
    return rows


def limit_rows(corpus: Path) -> list[str]:
    """Rows and rows over the limit for several limits, on the Féval novel."""
    rows = ["| limit | rows | over the limit | longest |", "|---|---|---|---|"]
    for limit in (5, 8, 12, 20):
        result = processed(corpus, "feval", limit=limit)
        longest = max(s.words for s in result.sentences)
        rows.append(f"| {limit} | {len(result.sentences)} | {result.over_limit} | {longest} |")
    return rows


def hyphen_rows(corpus: Path) -> list[str]:
    """Line-end hyphen joins checked against the source spelling."""
    rows = [
        "| book | line-end hyphens | removed wrongly | kept wrongly | undecidable |",
        "|---|---|---|---|---|",
    ]
    for key in ("flaubert", "verne", "feval"):
        pdf = corpus / "pdfs" / BOOKS[key].pdf
        info = inspect_pdf(pdf)
        joins = extract(pdf, 1, info.page_count, info.furniture).joins
        report = check_hyphen_joins(joins, source_text(corpus, key))
        rows.append(
            f"| {key} | {report.joins} | {report.removed_wrongly} | {report.kept_wrongly} "
            f"| {report.undecidable} |"
        )
    return rows


def main() -> None:
    """Print the three tables."""
    corpus = Settings.from_env().corpus_dir
    if not (corpus / "pdfs").is_dir():
        sys.exit(f"corpus not found at {corpus}; set FOLIO_CORPUS_DIR")
    tables = (book_rows(corpus), completeness_rows(corpus), limit_rows(corpus), hyphen_rows(corpus))
    for table in tables:
        print("\n".join(table), end="\n\n")


if __name__ == "__main__":
    main()
