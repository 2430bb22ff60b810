"""Stage 1, inspect: validate a PDF and learn what planning needs, in one cheap pass."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pypdfium2.raw as pdfium_c

from folio.pipeline import errors
from folio.pipeline.budgets import Budgets
from folio.pipeline.errors import PageTooComplex
from folio.pipeline.model import DocumentInfo, Furniture
from folio.pipeline.sources.pdf.document import (
    Source,
    check_signature,
    metadata,
    open_pdf,
    security,
    serialized,
)
from folio.pipeline.sources.pdf.extract import page_lines
from folio.pipeline.sources.pdf.gauge import Gauge
from folio.pipeline.sources.pdf.layout import Line, find_furniture
from folio.pipeline.sources.pdf.ocr import (
    NO_OCR,
    OcrOptions,
    check_available,
    draws_something,
    looks_scanned,
    wants_ocr,
)
from folio.pipeline.sources.pdf.ocr import ocr_page as read_by_ocr

FURNITURE_SAMPLE = 40  # pages read whole to learn the running headers; enough for any layout
# Scanned pages read by OCR to learn the running heads when the text layer gives fewer pages
# than this (OCR costs 1-2 s a page, a text page a few milliseconds).
OCR_FURNITURE_SAMPLE = 8


@dataclass(frozen=True, slots=True)
class Limits:
    """What the service accepts; the CLI uses generous defaults."""

    max_pages: int = 2000
    max_bytes: int = 200 * 1024 * 1024


@serialized
def inspect_pdf(
    path: Source,
    password: str | None = None,
    limits: Limits | None = None,
    *,
    quick: bool = False,
    budgets: Budgets | None = None,
    ocr: OcrOptions = NO_OCR,
) -> DocumentInfo:
    """Validate `path` and describe it; raises an `InputError` subclass for bad input.

    `quick` (for an upload that must answer at once) checks the text layer of a sample of
    pages only and learns no running heads; `learn_furniture` does that part later. When
    `ocr` is enabled and pages need it, a document is refused (`OcrUnavailable`) unless
    Tesseract can read its language, and scanned pages teach the running heads too.
    """
    limits = limits or Limits()
    size = check_signature(path)
    if size > limits.max_bytes:
        raise errors.FileTooLarge(
            f"The file is {size / 1e6:.1f} MB; the limit is {limits.max_bytes / 1e6:.0f} MB."
        )
    gauge = Gauge(str(path), password, budgets or Budgets())
    document = open_pdf(path, password)
    try:
        return _describe(document, size, limits, quick, gauge, ocr)
    finally:
        document.close()


@serialized
def learn_furniture(
    path: Source,
    password: str | None = None,
    budgets: Budgets | None = None,
    ocr: OcrOptions = NO_OCR,
) -> Furniture:
    """The running heads of a document, from a sample of its pages (over-budget ones left out)."""
    gauge = Gauge(str(path), password, budgets or Budgets())
    document = open_pdf(path, password)
    try:
        sample = sample_pages(len(document), FURNITURE_SAMPLE)
        lines = [_sample_lines(document, number, gauge) for number in sample]
        read = [page for page in lines if page is not None]
        scanned = [n for n, page in zip(sample, lines, strict=True) if page is None]
        scanned = [n for n in scanned if draws_something(_page(document, n))]
        read += _ocr_sample(document, scanned, len(read), ocr, gauge)
        return find_furniture(read, len(read))
    finally:
        document.close()


def _ocr_sample(
    document: Any, scanned: list[int], have: int, ocr: OcrOptions, gauge: Gauge
) -> list[list[Line]]:
    """Lines of scanned pages read by OCR, when the text layer gave too few to learn from.

    Raises `OcrUnavailable` when there are scanned pages and Tesseract cannot read them.
    """
    if not ocr.enabled or not scanned:
        return []
    check_available(ocr.lang)
    if have >= OCR_FURNITURE_SAMPLE:
        return []
    picks = [scanned[i - 1] for i in sample_pages(len(scanned), OCR_FURNITURE_SAMPLE - have)]
    read: list[list[Line]] = []
    for number in picks:
        try:
            gauge.check(number)
            page = read_by_ocr(_page(document, number), number, ocr, gauge.budgets.page_seconds)
        except PageTooComplex:
            continue
        read.append(page.lines)
    return read


def _sample_lines(document: Any, number: int, gauge: Gauge) -> list[Line] | None:
    """A sampled page's lines; None when it has no text or breaks a budget."""
    try:
        gauge.check(number)
        if not has_text_layer(_page(document, number)):
            return None
        return page_lines(document, number, gauge)
    except PageTooComplex:
        return None


def _describe(
    document: Any, size: int, limits: Limits, quick: bool, gauge: Gauge, ocr: OcrOptions
) -> DocumentInfo:
    page_count = len(document)
    if page_count > limits.max_pages:
        raise errors.TooManyPages(
            f"The PDF has {page_count} pages; the limit is {limits.max_pages}."
        )
    encrypted, restricted = security(document)
    title, author = metadata(document)
    # Every page's text layer is checked, quick or not: a few milliseconds a page, and the
    # preflight must know how many pages OCR will read.
    checked = range(1, page_count + 1)
    furniture_sample = set() if quick else set(sample_pages(page_count, FURNITURE_SAMPLE))
    without_text: list[int] = []
    scanned: list[int] = []  # pages `--ocr auto` reads by OCR
    too_complex: list[int] = []
    sampled_lines: list[list[Line]] = []
    for number in checked:
        try:
            gauge.check(number)  # before pdfium parses the page's content
            kind, lines = _classify(document, number, number in furniture_sample, gauge)
        except PageTooComplex:
            too_complex.append(number)
            continue
        if kind in ("scan", "blank"):
            without_text.append(number)
        if kind in ("scan", "stamped"):
            scanned.append(number)
        if lines is not None:
            sampled_lines.append(lines)
    if not quick:
        to_read = scanned
        if ocr.mode == "always":  # every page by OCR, its text layer ignored
            to_read, sampled_lines = [n for n in checked if n not in too_complex], []
        sampled_lines += _ocr_sample(document, to_read, len(sampled_lines), ocr, gauge)
    return DocumentInfo(
        page_count=page_count,
        file_size=size,
        title=title,
        author=author,
        encrypted=encrypted,
        extraction_restricted=restricted,
        pages_without_text=tuple(without_text),
        pages_scanned=tuple(scanned),
        furniture=find_furniture(sampled_lines, len(sampled_lines)),
        pages_checked=len(checked),
        warnings=tuple(_warnings(len(checked), scanned, restricted, too_complex)),
        pages_too_complex=tuple(too_complex),
    )


def _classify(
    document: Any, number: int, sample: bool, gauge: Gauge
) -> tuple[str, list[Line] | None]:
    """A page's kind for OCR, and its lines when sampled for the running heads.

    "text": a usable text layer; "scan": no text layer, an image or drawing (OCR reads it);
    "stamped": a scan whose page number is stamped as text (OCR reads it too); "blank".
    """
    page = _page(document, number)
    if not has_text_layer(page):
        return ("scan" if draws_something(page) else "blank"), None
    scan_like = looks_scanned(page)
    lines = page_lines(document, number, gauge) if sample or scan_like else None
    if scan_like and wants_ocr(page, lines, OcrOptions()):
        return "stamped", None
    return "text", (lines or [] if sample else None)


def _page(document: Any, number: int) -> Any:
    try:
        return document[number - 1]
    except Exception:  # pdfium raises a bare PdfiumError for an unreadable page object
        raise errors.DamagedPdf(f"Page {number} of the PDF cannot be read.") from None


def has_text_layer(page: Any) -> bool:
    """Whether a page holds any text object (a scan holds only images)."""
    # Cheaper than building pdfium's text page, which inspect needs for a sample only.
    raw = page.raw
    return any(
        pdfium_c.FPDFPageObj_GetType(pdfium_c.FPDFPage_GetObject(raw, index))
        == pdfium_c.FPDF_PAGEOBJ_TEXT
        for index in range(pdfium_c.FPDFPage_CountObjects(raw))
    )


def sample_pages(page_count: int, size: int) -> list[int]:
    """`size` page numbers spread evenly over the document (all pages if it is short)."""
    if page_count <= size:
        return list(range(1, page_count + 1))
    step = page_count / size
    return sorted({1 + int(i * step) for i in range(size)})


def _warnings(
    checked: int, scanned: list[int], restricted: bool, too_complex: list[int]
) -> list[str]:
    found: list[str] = []
    if too_complex:
        pages = ", ".join(map(str, too_complex[:10])) + ("…" if len(too_complex) > 10 else "")
        found.append(
            f"{len(too_complex)} of {checked} pages checked are too complex to read "
            f"(page {pages}); they will give no sentences and are not charged."
        )
    if scanned:
        share = len(scanned) / checked
        found.append(
            f"{len(scanned)} of {checked} pages ({share:.0%}) are scanned images without a "
            "usable text layer; they are read by OCR, which is slower, costs more and may "
            "misread some words."
        )
    if restricted:
        found.append(
            "The owner of this PDF restricted text extraction; Folio reads it for your own use."
        )
    return found
