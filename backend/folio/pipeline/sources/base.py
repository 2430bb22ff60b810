"""The contract of a source: what every format's extraction hands to segmentation."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from folio.pipeline.text import HyphenJoin


@dataclass(slots=True)
class Extracted:
    """Text of the pages read, and where each page and heading lies in it."""

    text: str = ""
    page_starts: list[int] = field(default_factory=list)
    page_numbers: list[int] = field(default_factory=list)
    headings: set[int] = field(default_factory=set)
    joins: list[HyphenJoin] = field(default_factory=list)
    pages_without_text: list[int] = field(default_factory=list)
    # Pages that could not be read within their budgets or the sandbox's: number → reason.
    unreadable: dict[int, str] = field(default_factory=dict)
    # Pages read by OCR: number → the seconds Tesseract took on it.
    ocr_seconds: dict[int, float] = field(default_factory=dict)

    def locate(self, position: int) -> tuple[int, int]:
        """(page number, offset in that page's text) of a position in `text`."""
        index = bisect.bisect_right(self.page_starts, position) - 1
        return self.page_numbers[index], position - self.page_starts[index]
