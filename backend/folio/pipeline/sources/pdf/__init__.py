"""The PDF source: pdfium opening, inspection, page layout and text extraction."""
