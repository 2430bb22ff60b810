"""Small PDFs made on the fly for tests: text lines placed where a typesetter would put them.

A line's text may change font mid-line, as a typesetter does for a title or a foreign word:
`*Organon*` is set in italic, `^Vampire^` in small capitals (the capitals at full size, the
other letters as capitals at 80 %, as LibreOffice simulates them), and `|` only ends a text
object (`«|Oui`: the guillemet in one object, the word in the next). Each run of one font is
a text object of its own, placed right after the previous one's advance.
"""

from __future__ import annotations

import ctypes
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

A5 = (419.5, 595.3)
ROMAN, ITALIC = "Times-Roman", "Times-Italic"
SMALL_CAPS_SCALE = 0.8
_MARKUP = re.compile(r"\*([^*]+)\*|\^([^^]+)\^|\|")


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
    """Write a PDF whose pages carry exactly the given lines, in Times (roman or italic)."""
    document = pdfium.PdfDocument.new()
    for spec in pages:
        page = document.new_page(*size)
        for line in spec.lines:
            x = line.x
            for text, font, font_size in runs(line.text, line.size):
                x += _add_text(document, page, text, font, font_size, x, line.y)
        pdfium_c.FPDFPage_GenerateContent(page.raw)
    document.save(str(path))
    document.close()
    return path


def plain(text: str) -> str:
    """The text a reader sees: the markup gone, small capitals as capitals."""
    return "".join(piece for piece, _font, _size in runs(text, 1.0))


def runs(text: str, size: float) -> list[tuple[str, str, float]]:
    """The line's runs of one font: (text, font, size), markup resolved."""
    out: list[tuple[str, str, float]] = []
    position = 0
    for match in _MARKUP.finditer(text):
        out.append((text[position : match.start()], ROMAN, size))
        if match.group(1) is not None:
            out.append((match.group(1), ITALIC, size))
        elif match.group(2) is not None:
            out.extend(_small_caps(match.group(2), size))
        position = match.end()
    out.append((text[position:], ROMAN, size))
    return [run for run in out if run[0]]


def _small_caps(text: str, size: float) -> list[tuple[str, str, float]]:
    """Capitals at full size, the other letters as capitals at SMALL_CAPS_SCALE."""
    pieces = re.findall(r"[^\W\d_]*?[A-ZÀ-Ý]+|[^A-ZÀ-Ý]+", text)
    return [
        (piece.upper(), ROMAN, size if piece.isupper() else size * SMALL_CAPS_SCALE)
        for piece in pieces
    ]


def _add_text(
    document: pdfium.PdfDocument,
    page: pdfium.PdfPage,
    text: str,
    font: str,
    size: float,
    x: float,
    y: float,
) -> float:
    """Place one text object at (x, y); returns its advance width."""
    obj = _text_object(document, text, font, size)
    advance = _advance(document, text, font, size)
    pdfium_c.FPDFPageObj_Transform(obj, 1, 0, 0, 1, x, y)
    pdfium_c.FPDFPage_InsertObject(page.raw, obj)
    return advance


def _text_object(document: pdfium.PdfDocument, text: str, font: str, size: float) -> Any:
    obj = pdfium_c.FPDFPageObj_NewTextObj(document.raw, font.encode(), ctypes.c_float(size))
    buffer = ctypes.create_string_buffer((text + "\x00").encode("utf-16-le"))
    pdfium_c.FPDFText_SetText(obj, ctypes.cast(buffer, ctypes.POINTER(pdfium_c.FPDF_WCHAR)))
    return obj


def _advance(document: pdfium.PdfDocument, text: str, font: str, size: float) -> float:
    """How far the pen moves over `text`: the right edge of `text|` less that of `|`."""
    return _right(document, text + "|", font, size) - _right(document, "|", font, size)


def _right(document: pdfium.PdfDocument, text: str, font: str, size: float) -> float:
    obj = _text_object(document, text, font, size)
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    pdfium_c.FPDFPageObj_GetBounds(
        obj, ctypes.byref(left), ctypes.byref(bottom), ctypes.byref(right), ctypes.byref(top)
    )
    pdfium_c.FPDFPageObj_Destroy(obj)
    return right.value


def book_pages(
    paragraphs_per_page: list[list[list[str]]],
    header: str | None = "Le Titre",
    numbers: bool = True,
) -> list[PageSpec]:
    """Pages typeset like the corpus books: header, indented paragraphs, page number.

    `paragraphs_per_page[p]` lists the paragraphs of page p, each a list of line texts; a
    paragraph whose first line text starts with '+' continues the previous page (no indent).
    Line texts may carry font markup (see the module's docstring).
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
