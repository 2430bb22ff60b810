"""Page geometry: the text lines of a page with their boxes, and what counts as page furniture.

pdfium reports text as rectangles in content order; a line is a run of rectangles that share a
baseline band. Geometry is what tells a paragraph start (an indent), a heading (a short centred
line on its own) and a running header or page number (an isolated line at the top or bottom).
"""

from __future__ import annotations

import itertools
import re
import statistics
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from folio.pipeline.model import Furniture
from folio.pipeline.sources.pdf.chars import Rect, text_rects
from folio.pipeline.text import SOFT_HYPHENS

_PAGE_NUMBER = re.compile(
    # Roman page numbers are lower case (front matter); 'IV' alone is a chapter heading.
    r"^[\W_]*(?:[Pp]age\s+)?(?:\d{1,4}|[ivxlcdm]{1,7})(?:\s*(?:/|sur|of)\s*\d{1,4})?[\W_]*$"
)
_DIGITS = re.compile(r"\d+")
_SPACES = re.compile(r"\s+")
_NOT_KEY = re.compile(r"[^\w#]|_")


@dataclass(frozen=True, slots=True)
class Line:
    """One text line; coordinates in PDF points, origin bottom-left."""

    text: str
    x0: float
    x1: float
    bottom: float
    top: float

    @property
    def soft_hyphen(self) -> bool:
        """Whether the line ends with a break hyphen that the producer itself inserted."""
        return self.text.endswith(tuple(SOFT_HYPHENS))

    @property
    def height(self) -> float:
        """Height of the line box."""
        return self.top - self.bottom


def read_lines(textpage: Any) -> list[Line]:
    """Group a pdfium text page's rectangles into lines, in content order; linear time."""
    return group_lines(text_rects(textpage))


def group_lines(rects: Iterable[Rect]) -> list[Line]:
    """Lines from text rectangles in content order: runs that share a line's height.

    A rectangle joins the current line when it does not start left of the line's rightmost
    start and its height overlaps the line's band by half the smaller of the two: a smaller
    font (small capitals, a superscript) or a small glyph (`«`, a dash) in a run of its own
    sits inside the band of the line it belongs to, wherever the line's first run set the
    band, while the next line (a baseline further down) overlaps it little or not at all.
    The band is kept as running bounds, so a line of a million rectangles costs a million
    steps, not their square.
    """
    lines: list[Line] = []
    current: list[tuple[int, Rect]] = []
    bottom = top = rightmost = 0.0
    for order, rect in enumerate(rects):
        if current and not (rect[0] >= rightmost and _shares_band(rect, bottom, top)):
            lines.append(_make_line(current))
            current = []
        if not current:
            bottom, top, rightmost = rect[1], rect[3], rect[0]
        bottom, top, rightmost = min(bottom, rect[1]), max(top, rect[3]), max(rightmost, rect[0])
        current.append((order, rect))
    if current:
        lines.append(_make_line(current))
    return lines


def _shares_band(rect: Rect, bottom: float, top: float) -> bool:
    """Whether the rectangle's height overlaps [bottom, top] by half the smaller height."""
    overlap = min(top, rect[3]) - max(bottom, rect[1])
    return overlap >= 0.5 * min(top - bottom, rect[3] - rect[1])


def _make_line(rects: list[tuple[int, Rect]]) -> Line:
    """One line from its rectangles (with their places in content order), left to right.

    Between two rectangles a space is added when they stand more than a point apart, unless
    pdfium read them as one stretch of text: consecutive in content order with nothing
    between them (a change of font inside a word, or before its punctuation: `l'|Organon`,
    `Vampire|.`), where it saw no word space and a space would split the word.
    """
    rects = sorted(rects, key=lambda item: item[1][0])
    parts: list[str] = []
    previous: tuple[int, Rect] | None = None
    for order, rect in rects:
        left, text = rect[0], rect[4]
        piece = text.replace("\r", " ").replace("\n", " ")
        if previous is not None:
            before_order, before = previous
            glued = before[5] and before_order + 1 == order
            if not glued and left - before[2] > 1.0 and piece.strip(SOFT_HYPHENS):
                parts.append(" ")
        parts.append(piece)
        previous = (order, rect)
    text = _SPACES.sub(" ", "".join(parts)).strip()
    return Line(
        text=text,
        x0=rects[0][1][0],
        x1=max(r[2] for _o, r in rects),
        bottom=min(r[1] for _o, r in rects),
        top=max(r[3] for _o, r in rects),
    )


def furniture_key(text: str) -> str:
    """Normalise a line so that 'Chapitre 3 — 47' and 'Chapitre 3 — 48' compare equal."""
    return _DIGITS.sub("#", _SPACES.sub(" ", text.strip().casefold()))


def loose_key(key: str) -> str:
    """A furniture key with accents, apostrophes, punctuation and spaces folded away.

    OCR reads the same running head as `L’Éducation` on one page and `L'Education` on the
    next; a page's furniture is recognised by this looser form. Only lines at the top or
    bottom edge are compared, so the looser match costs no line of text.
    """
    letters = unicodedata.normalize("NFKD", key)
    folded = _NOT_KEY.sub("", "".join(c for c in letters if not unicodedata.combining(c)))
    return folded or key  # a line of signs only (`* * *`) keeps its exact form


def is_page_number(text: str) -> bool:
    """Whether a line looks like a page number ('12', '- 12 -', 'xiv', 'Page 3 sur 9')."""
    return bool(_PAGE_NUMBER.match(text.strip()))


def edge_lines(lines: list[Line]) -> list[Line]:
    """The top and bottom lines of a page when they stand apart from the body.

    A running header or footer is set off by a gap of about a line or more; lines of body
    text are not, so a first line of text is never learnt as furniture even if it repeats.
    """
    if len(lines) < 3:
        return []  # a header or footer needs a body to stand apart from
    ordered = sorted(lines, key=lambda line: -line.top)
    gaps = [upper.bottom - lower.top for upper, lower in itertools.pairwise(ordered)]
    height = statistics.median(line.height for line in ordered)
    if len(gaps) > 2:
        # The first and last gaps are the ones in question; the body's spacing is the others'.
        threshold = max(2 * statistics.median(gaps[1:-1]), 0.8 * height)
    else:
        threshold = 1.5 * height  # a one-line page: only a wide gap sets a line apart
    edges: list[Line] = []
    if gaps[0] > threshold:
        edges.append(ordered[0])
    if gaps[-1] > threshold:
        edges.append(ordered[-1])
    return edges


def find_furniture(pages: Iterable[list[Line]], sampled: int) -> Furniture:
    """Texts that stand apart at a page edge on two pages or more, and a sixth of the sample.

    Alternating heads (title on odd pages, author on even ones) each reach half the pages.
    """
    counts: Counter[str] = Counter()  # by loose key: OCR's readings of one head count together
    spellings: dict[str, Counter[str]] = {}
    for lines in pages:
        keys = {furniture_key(line.text) for line in edge_lines(lines)}
        for loose in {loose_key(key) for key in keys}:
            counts[loose] += 1
        for key in keys:
            spellings.setdefault(loose_key(key), Counter())[key] += 1
    threshold = max(2, sampled // 6)
    return Furniture(
        frozenset(
            spellings[loose].most_common(1)[0][0]
            for loose, count in counts.items()
            if count >= threshold
        )
    )


def strip_furniture(lines: list[Line], furniture: Furniture) -> list[Line]:
    """Remove running headers, footers and page numbers from the top and bottom of a page."""
    ordered = sorted(lines, key=lambda line: -line.top)
    known = {loose_key(text) for text in furniture.texts}
    removed: set[int] = set()
    for edge in (ordered, ordered[::-1]):
        for line in edge[:2]:  # a header may sit above a page number, or the reverse
            if not _is_furniture(line, known):
                break
            removed.add(id(line))
    return [line for line in lines if id(line) not in removed]


def _is_furniture(line: Line, known: set[str]) -> bool:
    return is_page_number(line.text) or loose_key(furniture_key(line.text)) in known
