"""Stage 3, extract: the clean paragraph text of a range of pages, with page offsets.

The result is one string for the pages read: paragraphs separated by newlines, running
headers, footers and page numbers removed, break hyphens joined, Unicode normalised. Each
page's text starts at a known offset in that string, so a position maps back to (page, offset).
A page's text depends only on itself and its neighbours, which makes offsets identical
whichever chunk reads the page: the ground of exact overlap ownership.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from folio.pipeline.budgets import Budgets
from folio.pipeline.errors import PageTooComplex
from folio.pipeline.model import Furniture
from folio.pipeline.sources.base import Extracted
from folio.pipeline.sources.pdf.document import Source, open_pdf, serialized
from folio.pipeline.sources.pdf.gauge import Gauge
from folio.pipeline.sources.pdf.layout import Line, read_lines, strip_furniture
from folio.pipeline.sources.pdf.ocr import NO_OCR, OcrOptions, ocr_page, wants_ocr
from folio.pipeline.text import HyphenJoin, join_lines, normalize


@dataclass(frozen=True, slots=True)
class Block:
    """A paragraph fragment on one page; `continues` if it carries on the previous page's."""

    lines: tuple[str, ...]
    heading: bool
    continues: bool


@dataclass(frozen=True, slots=True)
class PagesRead:
    """The blocks of pages `first`.. (None: no text layer), and the pages refused, with why."""

    first: int
    pages: list[list[Block] | None]
    unreadable: dict[int, str]
    # Pages read by OCR: number → the seconds it took.
    ocr_seconds: dict[int, float] = field(default_factory=dict)

    @property
    def numbers(self) -> list[int]:
        """The page numbers read, in order."""
        return list(range(self.first, self.first + len(self.pages)))


def extract(
    path: Source,
    first: int,
    last: int,
    furniture: Furniture,
    password: str | None = None,
    budgets: Budgets | None = None,
    ocr: OcrOptions = NO_OCR,
) -> Extracted:
    """Extract pages `first`..`last` (1-based, inclusive) of the PDF at `path`."""
    return assemble_read(read_pages(path, first, last, furniture, password, budgets, ocr))


def assemble_read(read: PagesRead) -> Extracted:
    """The text of pages read, the refused ones listed in `unreadable` and left empty."""
    out = assemble(read.numbers, read.pages)
    out.unreadable = dict(read.unreadable)
    out.ocr_seconds = dict(read.ocr_seconds)
    return out


@serialized
def read_pages(
    path: Source,
    first: int,
    last: int,
    furniture: Furniture,
    password: str | None = None,
    budgets: Budgets | None = None,
    ocr: OcrOptions = NO_OCR,
) -> PagesRead:
    """The blocks of pages `first`..`last`; a page over a budget is refused, not read.

    A page without a usable text layer is read by OCR when `ocr` allows it (`ocr.py`).
    """
    budgets = budgets or Budgets()
    gauge = Gauge(str(path), password, budgets)
    document = open_pdf(path, password)
    read = PagesRead(first, [], {})
    try:
        for number in range(first, last + 1):
            try:
                read.pages.append(_page_blocks(document, number, furniture, gauge, ocr, read))
            except PageTooComplex as error:
                read.pages.append([])
                read.unreadable[number] = f"{error.code}: {error.message}"
    finally:
        document.close()
    return read


def _page_blocks(
    document: Any,
    number: int,
    furniture: Furniture,
    gauge: Gauge,
    ocr: OcrOptions,
    into: PagesRead,
) -> list[Block] | None:
    lines = page_lines(document, number, gauge)
    page = document[number - 1]
    width = page.get_width()
    if wants_ocr(page, lines, ocr):
        started = time.perf_counter()
        read = ocr_page(page, number, ocr, gauge.budgets.page_seconds)
        into.ocr_seconds[number] = time.perf_counter() - started
        lines, width = read.lines or None, read.width
    if lines is None:
        return None
    return page_blocks(strip_furniture(lines, furniture), width)


def page_lines(document: Any, number: int, gauge: Gauge) -> list[Line] | None:
    """A page's text lines within its budgets; None for a page without text."""
    gauge.check(number)  # before pdfium parses the page: a bomb is refused unopened
    budgets = gauge.budgets
    textpage = document[number - 1].get_textpage()
    chars = textpage.count_chars()
    if chars == 0:
        return None
    if chars > budgets.page_chars:
        raise PageTooComplex(number, f"Page {number} holds {chars} characters of text.")
    lines = read_lines(textpage)
    if len(lines) > budgets.page_lines:
        raise PageTooComplex(
            number, f"Page {number} holds {len(lines)} lines; the limit is {budgets.page_lines}."
        )
    return lines


def page_blocks(lines: list[Line], page_width: float) -> list[Block]:
    """Group a page's body lines into paragraph blocks, marking headings."""
    if not lines:
        return []
    left = _left_margin(lines, page_width)
    blocks: list[Block] = []
    current: list[str] = []
    current_heading = False
    previous: Line | None = None
    for line in lines:
        heading = _is_heading(line, page_width)
        if previous is not None and (
            heading or current_heading or _starts_paragraph(line, previous, left)
        ):
            blocks.append(Block(tuple(current), current_heading, continues=not blocks))
            current = []
        current.append(line.text)
        current_heading = heading
        previous = line
    blocks.append(Block(tuple(current), current_heading, continues=not blocks))
    first = blocks[0]
    if first.heading or _starts_paragraph(lines[0], None, left):
        blocks[0] = Block(first.lines, first.heading, continues=False)
    return blocks


def _left_margin(lines: list[Line], page_width: float) -> float:
    full = [line.x0 for line in lines if line.x1 - line.x0 > 0.5 * page_width]
    return min(full) if full else min(line.x0 for line in lines)


def _starts_paragraph(line: Line, previous: Line | None, left: float) -> bool:
    """An indented line, or one set off by a blank line, starts a paragraph."""
    if line.x0 - left > max(4.0, line.height * 0.5):
        return True
    if previous is None:
        return False
    return previous.bottom - line.top > 1.5 * max(previous.height, line.height)


def _is_heading(line: Line, page_width: float) -> bool:
    """A short line centred on the page, like 'I' or 'PREMIÈRE PARTIE'."""
    width = line.x1 - line.x0
    centre = (line.x0 + line.x1) / 2
    return width < 0.55 * page_width and abs(centre - page_width / 2) < 0.06 * page_width


def assemble(numbers: list[int], pages: list[list[Block] | None]) -> Extracted:
    """Join the pages' blocks into one text, with page offsets and heading positions.

    A page's last block stays raw until the next page is seen, because a paragraph that runs
    on may need its break hyphen removed; only then is it normalised and appended.
    """
    out = Extracted()
    parts: list[str] = []
    length = 0
    tail = ""  # raw text of the previous page's last block
    tail_open = False  # whether that block is a paragraph the next page may continue
    for number, blocks in zip(numbers, pages, strict=True):
        if blocks is None:
            out.pages_without_text.append(number)
            blocks = []
        if blocks and blocks[0].continues and tail_open:
            closing = join_lines(tail, blocks[0].lines[0], out.joins)
        else:
            closing = tail + "\n" if tail else ""
        piece = normalize(closing)
        parts.append(piece)
        length += len(piece)
        out.page_starts.append(length)
        out.page_numbers.append(number)
        for index, block in enumerate(blocks):
            text = _join(block.lines, out.joins)
            if block.heading:
                out.headings.add(length)
            if index == len(blocks) - 1:
                tail, tail_open = text, not block.heading
                break
            piece = normalize(text) + "\n"
            parts.append(piece)
            length += len(piece)
        else:
            tail, tail_open = "", False
    parts.append(normalize(tail))
    out.text = "".join(parts)
    return out


def _join(lines: tuple[str, ...], joins: list[HyphenJoin]) -> str:
    text = lines[0]
    for line in lines[1:]:
        text = join_lines(text, line, joins) + line
    return text
