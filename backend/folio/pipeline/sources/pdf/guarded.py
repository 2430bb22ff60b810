"""The PDF source's entry points for untrusted files: every read runs in a sandbox.

Inspection, learning the running heads, extraction and unlocking each run in a forked
child within `Budgets` (`sandbox.run_bounded`), so a hostile file costs its sandbox only.
Extraction fails soft: when a chunk's sandbox dies (memory, time, a crash), its pages are
read again one sandbox each, and only the pages that fail again are lost, listed in
`Extracted.unreadable` with their reason.
"""

from __future__ import annotations

import logging

from folio.pipeline.budgets import Budgets
from folio.pipeline.errors import DocumentTooComplex
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
) -> Extracted:
    """Pages `first`..`last` read in a sandbox; page by page if that sandbox fails.

    When `ocr` may run, the sandbox gets `OCR_SECONDS_PER_PAGE` more for each page.
    """
    budgets = budgets or Budgets()
    args = (str(path), first, last, furniture, password, budgets, ocr)
    seconds = budgets.seconds
    if ocr.enabled:
        seconds += (last - first + 1) * OCR_SECONDS_PER_PAGE
    try:
        return assemble_read(run_bounded(Bounds(budgets.memory_mb, seconds), read_pages, *args))
    except (DocumentTooComplex, SandboxCrash) as error:
        logger.warning(
            "pages %d-%d failed together (%s); reading them one by one", first, last, error
        )
    pages = [
        _one_page(path, number, furniture, password, budgets, ocr)
        for number in range(first, last + 1)
    ]
    read = PagesRead(first, [], {})
    for page in pages:
        read.pages.extend(page.pages)
        read.unreadable.update(page.unreadable)
    return assemble_read(read)


def _one_page(
    path: Source,
    number: int,
    furniture: Furniture,
    password: str | None,
    budgets: Budgets,
    ocr: OcrOptions,
) -> PagesRead:
    """One page in its own sandbox; a failure becomes that page's entry in `unreadable`."""
    bounds = Bounds(budgets.memory_mb, budgets.page_seconds)
    args = (str(path), number, number, furniture, password, budgets, ocr)
    try:
        read: PagesRead = run_bounded(bounds, read_pages, *args)
    except (DocumentTooComplex, SandboxCrash) as error:
        code = getattr(error, "code", "page_unreadable")
        return PagesRead(number, [[]], {number: f"{code}: {error}"})
    return read


def _bounds(budgets: Budgets) -> Bounds:
    return Bounds(budgets.memory_mb, budgets.seconds)
