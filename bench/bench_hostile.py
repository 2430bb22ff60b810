"""Line reading before and after, side by side: pages of 5k, 20k and 40k lines, and the corpus.

"Before" is the quadratic method kept here for comparison: one `get_text_bounded` per
rectangle, each a scan of the whole page. "After" is `layout.read_lines` (one pass over the
page's characters). The hostile pages come from tests/hostile.py; the corpus book, if
present, checks that both give the same lines. Usage:
python bench/bench_hostile.py [--lines 5000 20000 40000] [--old-limit 60] [--markdown]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

import hostile  # noqa: E402
from folio.pipeline.sources.pdf.layout import Line, group_lines, read_lines  # noqa: E402

BOOK = Path("/work/shared/corpus/pdfs/book_flaubert_education.pdf")


def read_lines_quadratic(textpage: Any) -> list[Line]:
    """The method before: bounded text per rectangle, O(rectangles × characters)."""
    rects = []
    for index in range(textpage.count_rects()):
        left, bottom, right, top = textpage.get_rect(index)
        inset = min(0.6, (right - left) / 4)
        text = textpage.get_text_bounded(left + inset, bottom, right - inset, top)
        if text.strip():
            rects.append((left, bottom, right, top, text, False))
    return group_lines(rects)


def timed(function: Any, textpage: Any) -> tuple[float, list[Line]]:
    started = time.perf_counter()
    lines = function(textpage)
    return time.perf_counter() - started, lines


def bench_page(count: int, folder: Path, old_limit: float) -> tuple[int, float | None, float]:
    """(lines, seconds before or None when skipped, seconds after) for one page of `count`."""
    path = hostile.write_pdf(
        folder / f"lines{count}.pdf", [hostile.many_lines(count)], hostile.TALL
    )
    document = pdfium.PdfDocument(str(path))
    textpage = document[0].get_textpage()
    after, lines = timed(read_lines, textpage)
    # The old method's time grows with the square: estimate before running past the limit.
    before: float | None = None
    if (count / 20_000) ** 2 * 82 <= old_limit:
        before, old = timed(read_lines_quadratic, textpage)
        assert old == lines, "the two methods disagree"
    return len(lines), before, after


def bench_book(path: Path) -> tuple[int, float, float]:
    """(pages, seconds before, seconds after) over a whole book; both give the same lines."""
    document = pdfium.PdfDocument(str(path))
    textpages = [document[i].get_textpage() for i in range(len(document))]
    before = after = 0.0
    for textpage in textpages:
        old_seconds, old = timed(read_lines_quadratic, textpage)
        new_seconds, new = timed(read_lines, textpage)
        assert old == new, "the two methods disagree on a corpus page"
        before, after = before + old_seconds, after + new_seconds
    return len(textpages), before, after


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, nargs="*", default=[5_000, 20_000, 40_000])
    parser.add_argument("--old-limit", type=float, default=200.0, help="skip slower old runs")
    parser.add_argument("--book", type=Path, default=BOOK)
    args = parser.parse_args()
    print("| page | lines | before (quadratic) | after (linear) |")
    print("|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as folder:
        for count in args.lines:
            lines, before, after = bench_page(count, Path(folder), args.old_limit)
            shown = f"{before:.2f} s" if before is not None else "skipped"
            print(f"| {count:,} lines | {lines:,} | {shown} | {after:.2f} s |")
    if args.book.exists():
        pages, before, after = bench_book(args.book)
        print(f"| {args.book.name} ({pages} pages) | all | {before:.2f} s | {after:.2f} s |")


if __name__ == "__main__":
    main()
