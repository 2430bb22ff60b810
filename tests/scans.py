"""Scanned books made from the corpus: pages of a typeset novel as image-only PDF pages."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image


def image_pdf(book: Path, numbers: list[int], path: Path, dpi: int = 300) -> Path:
    """Pages `numbers` of `book` rendered to greyscale images at `dpi`, one per page."""
    document = pdfium.PdfDocument(str(book))
    try:
        images = [
            document[number - 1].render(scale=dpi / 72, grayscale=True).to_pil()
            for number in numbers
        ]
    finally:
        document.close()
    images[0].save(path, "PDF", resolution=float(dpi), save_all=True, append_images=images[1:])
    return path


def blank_scan(path: Path, pages: int = 1, dpi: int = 150) -> Path:
    """Image-only pages with nothing on them to read: white A5 sheets, scanned."""
    size = (round(5.83 * dpi), round(8.27 * dpi))
    images = [Image.new("L", size, 255) for _ in range(pages)]
    images[0].save(path, "PDF", resolution=float(dpi), save_all=True, append_images=images[1:])
    return path


def assemble(parts: list[tuple[Path, list[int]]], path: Path) -> Path:
    """A PDF of the given pages (1-based) of each part, in order."""
    out = pdfium.PdfDocument.new()
    sources = []
    try:
        for source, numbers in parts:
            document = pdfium.PdfDocument(str(source))
            sources.append(document)
            out.import_pages(document, [n - 1 for n in numbers])
        out.save(str(path))
    finally:
        for document in sources:
            document.close()
        out.close()
    return path
