"""The PDF source's entry points for untrusted files: every read runs in a sandbox.

Inspection, learning the running heads, extraction and unlocking each run in a forked
child within `Budgets` (`sandbox.run_bounded`), so a hostile file costs its sandbox only.
Extraction fails soft: when a chunk's sandbox dies (memory, time, a crash), its pages are
read again one sandbox each, and only the pages that fail again are lost, listed in
`Extracted.unreadable` with their reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from folio.pipeline.budgets import Budgets
from folio.pipeline.errors import DocumentTooComplex, ExtractionStopped
from folio.pipeline.model import DocumentInfo, Furniture
from folio.pipeline.sandbox import Bounds, SandboxCrash, run_bounded
from folio.pipeline.sources.base import Extracted
from folio.pipeline.sources.pdf.document import Source, save_unlocked
from folio.pipeline.sources.pdf.extract import PagesRead, assemble_read, read_pages
from folio.pipeline.sources.pdf.inspect import (
    OCR_FURNITURE_SAMPLE,
    Limits,
    inspect_pdf,
    learn_furniture,
)
from folio.pipeline.sources.pdf.ocr import NO_OCR, OCR_SECONDS_PER_PAGE, OcrOptions

logger = logging.getLogger(__name__)

# Told the last page read so far after each sandbox; True asks extraction to stop there.
PageCallback = Callable[[int], bool]


def inspect_document(
    path: Source,
    password: str | None = None,
    limits: Limits | None = None,
    budgets: Budgets | None = None,
    *,
    quick: bool = False,
    ocr: OcrOptions = NO_OCR,
) -> DocumentInfo:
    """`inspect_pdf` in a sandbox; the upload's quick inspection has its own shorter time.

    With `ocr` enabled, a few scanned pages may be OCRed to learn the running heads: the
    sandbox gets their time on top.
    """
    budgets = budgets or Budgets()
    seconds = budgets.inspect_seconds if quick else budgets.seconds
    if ocr.enabled and not quick:
        seconds += OCR_FURNITURE_SAMPLE * OCR_SECONDS_PER_PAGE
    bounds = Bounds(budgets.memory_mb, seconds)
    return run_bounded(bounds, _inspect, str(path), password, limits, budgets, quick, ocr)


def _inspect(
    path: str,
    password: str | None,
    limits: Limits | None,
    budgets: Budgets,
    quick: bool,
    ocr: OcrOptions,
) -> DocumentInfo:
    return inspect_pdf(path, password, limits, quick=quick, budgets=budgets, ocr=ocr)


def document_furniture(
    path: Source,
    password: str | None = None,
    budgets: Budgets | None = None,
    ocr: OcrOptions = NO_OCR,
) -> Furniture:
    """Running heads learnt in a sandbox; none when that fails (each page then shows them).

    With `ocr` enabled, a scanned book's heads are learnt from a few pages read by OCR.
    """
    budgets = budgets or Budgets()
    seconds = budgets.seconds + (OCR_FURNITURE_SAMPLE * OCR_SECONDS_PER_PAGE if ocr.enabled else 0)
    bounds = Bounds(budgets.memory_mb, seconds)
    try:
        return run_bounded(bounds, learn_furniture, str(path), password, budgets, ocr)
    except (DocumentTooComplex, SandboxCrash) as error:
        logger.warning("running heads not learnt: %s", error)
        return Furniture()


def unlock(path: Source, password: str | None, destination: Source, budgets: Budgets) -> None:
    """`save_unlocked` in a sandbox."""
    run_bounded(_bounds(budgets), save_unlocked, str(path), password, str(destination))


def extract_pages(
    path: Source,
    first: int,
    last: int,
    furniture: Furniture,
    password: str | None = None,
    budgets: Budgets | None = None,
    ocr: OcrOptions = NO_OCR,
    *,
    scanned: frozenset[int] = frozenset(),
    on_page: PageCallback | None = None,
) -> Extracted:
    """Pages `first`..`last` read in sandboxes; page by page where a sandbox fails.

    Pages that OCR will read (`scanned`, or every page with `--ocr always`) take a sandbox
    each, and `on_page` is told after each of them (progress, and a cancel seen within one
    page: it returns True to stop, and `ExtractionStopped` is raised); the text pages
    between them are read together, in milliseconds. A sandbox gets `OCR_SECONDS_PER_PAGE`
    more per page when OCR may run in it.
    """
    budgets = budgets or Budgets()
    read = PagesRead(first, [], {})
    for low, high, alone in ocr_segments(first, last, scanned, ocr):
        part = _read_segment(path, low, high, furniture, password, budgets, ocr)
        read.pages.extend(part.pages)
        read.unreadable.update(part.unreadable)
        read.ocr_seconds.update(part.ocr_seconds)
        if alone and on_page is not None and on_page(high):
            raise ExtractionStopped(f"stopped after page {high}")
    return assemble_read(read)


def ocr_segments(
    first: int, last: int, scanned: frozenset[int], ocr: OcrOptions
) -> list[tuple[int, int, bool]]:
    """Pages `first`..`last` cut into ranges read together, each page OCR reads on its own.

    (first, last, whether it is a page OCR reads), in order.
    """
    if not ocr.enabled:
        return [(first, last, False)]
    alone = set(range(first, last + 1)) if ocr.mode == "always" else scanned
    segments: list[tuple[int, int, bool]] = []
    start = first
    for number in range(first, last + 1):
        if number in alone:
            if start < number:
                segments.append((start, number - 1, False))
            segments.append((number, number, True))
            start = number + 1
    if start <= last:
        segments.append((start, last, False))
    return segments


def _read_segment(
    path: Source,
    first: int,
    last: int,
    furniture: Furniture,
    password: str | None,
    budgets: Budgets,
    ocr: OcrOptions,
) -> PagesRead:
    """Pages `first`..`last` in one sandbox; one sandbox per page if that one fails."""
    args = (str(path), first, last, furniture, password, budgets, ocr)
    seconds = budgets.seconds
    if ocr.enabled:
        seconds += (last - first + 1) * OCR_SECONDS_PER_PAGE
    try:
        read: PagesRead = run_bounded(Bounds(budgets.memory_mb, seconds), read_pages, *args)
        return read
    except (DocumentTooComplex, SandboxCrash) as error:
        if first == last:
            code = getattr(error, "code", "page_unreadable")
            return PagesRead(first, [[]], {first: f"{code}: {error}"})
        logger.warning(
            "pages %d-%d failed together (%s); reading them one by one", first, last, error
        )
    read = PagesRead(first, [], {})
    for number in range(first, last + 1):
        page = _one_page(path, number, furniture, password, budgets, ocr)
        read.pages.extend(page.pages)
        read.unreadable.update(page.unreadable)
        read.ocr_seconds.update(page.ocr_seconds)
    return read


def _one_page(
    path: Source,
    number: int,
    furniture: Furniture,
    password: str | None,
    budgets: Budgets,
    ocr: OcrOptions,
) -> PagesRead:
    """One page in its own sandbox; a failure becomes that page's entry in `unreadable`."""
    seconds = budgets.page_seconds + (OCR_SECONDS_PER_PAGE if ocr.enabled else 0)
    bounds = Bounds(budgets.memory_mb, seconds)
    args = (str(path), number, number, furniture, password, budgets, ocr)
    try:
        read: PagesRead = run_bounded(bounds, read_pages, *args)
    except (DocumentTooComplex, SandboxCrash) as error:
        code = getattr(error, "code", "page_unreadable")
        return PagesRead(number, [[]], {number: f"{code}: {error}"})
    return read


def _bounds(budgets: Budgets) -> Bounds:
    return Bounds(budgets.memory_mb, budgets.seconds)
