"""Stage 1, inspect: validate a PDF and learn what planning needs, in one cheap pass."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pypdfium2.raw as pdfium_c

from folio.pipeline import errors
from folio.pipeline.layout import Line, find_furniture, read_lines
from folio.pipeline.model import DocumentInfo
from folio.pipeline.pdf import Source, check_signature, metadata, open_pdf, security

FURNITURE_SAMPLE = 40  # pages read whole to learn the running headers; enough for any layout


@dataclass(frozen=True, slots=True)
class Limits:
    """What the service accepts; the CLI uses generous defaults."""

    max_pages: int = 2000
    max_bytes: int = 200 * 1024 * 1024


def inspect_pdf(
    path: Source, password: str | None = None, limits: Limits | None = None
) -> DocumentInfo:
    """Validate `path` and describe it; raises an `InputError` subclass for bad input."""
    limits = limits or Limits()
    size = check_signature(path)
    if size > limits.max_bytes:
        raise errors.FileTooLarge(
            f"The file is {size / 1e6:.1f} MB; the limit is {limits.max_bytes / 1e6:.0f} MB."
        )
    document = open_pdf(path, password)
    try:
        return _describe(document, size, limits)
    finally:
        document.close()


def _describe(document: Any, size: int, limits: Limits) -> DocumentInfo:
    page_count = len(document)
    if page_count > limits.max_pages:
        raise errors.TooManyPages(
            f"The PDF has {page_count} pages; the limit is {limits.max_pages}."
        )
    encrypted, restricted = security(document)
    title, author = metadata(document)
    sample = set(sample_pages(page_count, FURNITURE_SAMPLE))
    without_text: list[int] = []
    sampled_lines: list[list[Line]] = []
    for number in range(1, page_count + 1):
        try:
            page = document[number - 1]
        except Exception:  # pdfium raises a bare PdfiumError for an unreadable page object
            raise errors.DamagedPdf(f"Page {number} of the PDF cannot be read.") from None
        if not has_text_layer(page):
            without_text.append(number)
        elif number in sample:
            sampled_lines.append(read_lines(page.get_textpage()))
    furniture = find_furniture(sampled_lines, len(sampled_lines))
    return DocumentInfo(
        page_count=page_count,
        file_size=size,
        title=title,
        author=author,
        encrypted=encrypted,
        extraction_restricted=restricted,
        pages_without_text=tuple(without_text),
        furniture=furniture,
        warnings=tuple(_warnings(page_count, without_text, restricted)),
    )


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


def _warnings(page_count: int, without_text: list[int], restricted: bool) -> list[str]:
    found: list[str] = []
    if without_text:
        share = len(without_text) / page_count
        found.append(
            f"{len(without_text)} of {page_count} pages ({share:.0%}) have no text layer "
            "(scanned images); they need OCR and give no sentences in this version."
        )
    if restricted:
        found.append(
            "The owner of this PDF restricted text extraction; Folio reads it for your own use."
        )
    return found
