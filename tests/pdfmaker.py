"""Small PDFs made on the fly for tests: text lines placed where a typesetter would put them."""

from __future__ import annotations

import ctypes
from dataclasses import dataclass, field
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

A5 = (419.5, 595.3)


@dataclass
class TextLine:
    """One line of text at (x, y) in points from the bottom-left corner."""

    text: str
    x: float
    y: float
    size: float = 11.0


@dataclass
class PageSpec:
    """The lines of one page; an empty list makes a page with no text layer."""

    lines: list[TextLine] = field(default_factory=list)


def make_pdf(path: Path, pages: list[PageSpec], size: tuple[float, float] = A5) -> Path:
    """Write a PDF whose pages carry exactly the given lines, in Times-Roman."""
    document = pdfium.PdfDocument.new()
    for spec in pages:
        page = document.new_page(*size)
        for line in spec.lines:
            _add_text(document, page, line)
        pdfium_c.FPDFPage_GenerateContent(page.raw)
    document.save(str(path))
    document.close()
    return path


def _add_text(document: pdfium.PdfDocument, page: pdfium.PdfPage, line: TextLine) -> None:
    obj = pdfium_c.FPDFPageObj_NewTextObj(document.raw, b"Times-Roman", ctypes.c_float(line.size))
    encoded = (line.text + "\x00").encode("utf-16-le")
    buffer = ctypes.create_string_buffer(encoded)
    pdfium_c.FPDFText_SetText(obj, ctypes.cast(buffer, ctypes.POINTER(pdfium_c.FPDF_WCHAR)))
    pdfium_c.FPDFPageObj_Transform(obj, 1, 0, 0, 1, line.x, line.y)
    pdfium_c.FPDFPage_InsertObject(page.raw, obj)


def book_pages(
    paragraphs_per_page: list[list[list[str]]],
    header: str | None = "Le Titre",
    numbers: bool = True,
) -> list[PageSpec]:
    """Pages typeset like the corpus books: header, indented paragraphs, page number.

    `paragraphs_per_page[p]` lists the paragraphs of page p, each a list of line texts; a
    paragraph whose first line text starts with '+' continues the previous page (no indent).
    """
    pages: list[PageSpec] = []
    for number, paragraphs in enumerate(paragraphs_per_page, start=1):
        lines: list[TextLine] = []
        if header:
            lines.append(TextLine(header, 170, 553, 9))
        y = 520.0
        for paragraph in paragraphs:
            for index, text in enumerate(paragraph):
                indent = 14 if index == 0 and not text.startswith("+") else 0
                lines.append(TextLine(text.lstrip("+"), 45 + indent, y))
                y -= 14
        if numbers:
            lines.append(TextLine(str(number), 207, 30, 9))
        pages.append(PageSpec(lines))
    return pages
