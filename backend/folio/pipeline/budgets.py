"""The bounds that untrusted documents are read within: a sandbox's, and each page's.

Every document is hostile until read: an 18 KB file can decompress to gigabytes, a 141 KB
page can hold two million text objects. Extraction runs in a sandbox (`sandbox.py`) with a
memory and a time limit, and every page is checked against its budgets before and while it
is read, so an over-budget page is refused cheaply and cleanly instead of exhausting the
sandbox. The defaults are generous for books: a novel's page has a few kilobytes of content
stream, a few hundred text objects, 1,000 to 3,000 characters and 30 to 45 lines.
"""

from __future__ import annotations

from dataclasses import dataclass

MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Budgets:
    """Limits of one sandboxed read and of each page (FOLIO_SANDBOX_*, FOLIO_PAGE_*)."""

    # Address space a sandbox may add to the process that started it (RLIMIT_AS).
    memory_mb: int = 384
    # Wall time of one sandboxed call: a chunk's extraction, or learning running heads.
    seconds: float = 60.0
    # Wall time of the upload's inspection: it runs while the client waits for its answer.
    inspect_seconds: float = 10.0
    # Wall time of one page read alone, after the read of its whole chunk failed.
    page_seconds: float = 10.0
    # Decompressed size of a page's content streams, measured before pdfium parses them.
    page_content_mb: float = 8.0
    # Text-showing operators (Tj, TJ, ', ") in a page's content streams.
    page_text_objects: int = 50_000
    # Characters on a page (pdfium's text page).
    page_chars: int = 100_000
    # Text lines on a page.
    page_lines: int = 2_000

    @property
    def page_content_bytes(self) -> int:
        """`page_content_mb` in bytes."""
        return int(self.page_content_mb * MB)
