"""A page's text rectangles and their text, in time linear in the page's content.

pdfium reports a page's text as rectangles, one per run of characters of one text object
(`FPDFText_CountRects` / `FPDFText_GetRect`). Reading each rectangle's text with
`FPDFText_GetBoundedText` scans the whole page every time, so a page of n lines cost O(n²):
82 s for 20,000 lines. This module finds where each run starts and ends in the page's
character stream instead, and takes the run's text from one `FPDFText_GetText` of the page.

Where a run ends is asked of pdfium itself, a few calls per run rather than several per
character: `FPDFText_CountRects(first, n)` counts the runs among n characters from a run's
first one, so the smallest n for which it says 2 is the next run's first character
(galloping, then bisection: O(L log L) steps in C for a run of L characters, a dozen calls).
Only the characters between two runs (a space, a line feed pdfium generated) are looked at
one by one, to find the run's last boxed character. A run's text is every character from its
first to its last boxed one, and the space after it.

That is what `GetBoundedText` gave for the run's box read 0.6 pt inside (the inset kept a
break hyphen's box from taking the letter it touches), except for a character whose own box
lies within 0.6 pt of the run's edge; on the three corpus novels the rectangles and texts are
identical, rectangle for rectangle (`bench/bench_hostile.py` asserts the lines).
"""

from __future__ import annotations

import ctypes
from typing import Any

import pypdfium2.raw as pdfium_c

_SPACE = 0x20
_RANGE_HYPHEN = 0xFFFE  # what GetText gives for a line-end hyphen; GetUnicode gives 0x02
_MIN_SIZE = 0.01  # pdfium leaves boxes thinner than this out of its rectangles

# left, bottom, right, top; the text; and whether the next rectangle in content order
# carries on this one's text with no character between them (pdfium saw no word space).
Rect = tuple[float, float, float, float, str, bool]


def _fast(function: Any, restype: Any, *argtypes: Any) -> Any:
    """The same C function with plain argument types: no pointer objects made per call."""
    # The bindings' typed pointers cost about a microsecond a call; plain addresses do not.
    clone = type(function)(ctypes.cast(function, ctypes.c_void_p).value)
    clone.restype, clone.argtypes = restype, argtypes
    return clone


_VOID, _INT = ctypes.c_void_p, ctypes.c_int
_get_char_box = _fast(pdfium_c.FPDFText_GetCharBox, _INT, _VOID, _INT, _VOID, _VOID, _VOID, _VOID)
_count_rects = _fast(pdfium_c.FPDFText_CountRects, _INT, _VOID, _INT, _INT)
_get_rect = _fast(pdfium_c.FPDFText_GetRect, _INT, _VOID, _INT, _VOID, _VOID, _VOID, _VOID)


class _Doubles:
    """Four C doubles and their addresses, for pdfium's out-parameters."""

    def __init__(self) -> None:
        self.values = (ctypes.c_double * 4)()
        first, size = ctypes.addressof(self.values), ctypes.sizeof(ctypes.c_double)
        self.addresses = (first, first + size, first + 2 * size, first + 3 * size)


def text_rects(textpage: Any) -> list[Rect]:
    """The page's text rectangles in content order, each with its text."""
    raw = textpage.raw
    page = ctypes.cast(raw, ctypes.c_void_p).value or 0
    count = pdfium_c.FPDFText_CountChars(raw)
    spans = _runs(page, count)
    if not spans:
        return []
    if _count_rects(page, 0, -1) != len(spans):  # cannot happen; never read a page wrongly
        raise RuntimeError("pdfium's rectangles do not match the runs found")
    codes = _codes(raw, count)
    kept: list[tuple[int, str]] = []  # (run index, text) of the runs that are not blank
    for index, (first, last) in enumerate(spans):
        text = "".join(chr(code) for code in codes[first : last + 1] if code)
        if last + 1 < count and codes[last + 1] == _SPACE:
            text += " "
        if text.strip():
            kept.append((index, text))
    box = _Doubles()
    rects: list[Rect] = []
    for position, (index, text) in enumerate(kept):
        _get_rect(page, index, *box.addresses)  # GetRect's order: left, top, right, bottom
        left, top, right, bottom = box.values
        following = kept[position + 1][0] if position + 1 < len(kept) else -1
        glued = following == index + 1 and spans[following][0] == spans[index][1] + 1
        rects.append((left, bottom, right, top, text, glued))
    return rects


def _runs(page: int, count: int) -> list[tuple[int, int]]:
    """(first, last) character of each run: its first and last boxed characters."""
    box = _Doubles()

    def boxed(index: int) -> bool:
        _get_char_box(page, index, *box.addresses)  # left, right, bottom, top
        left, right, bottom, top = box.values
        # Generated characters (spaces and line feeds pdfium adds) have a point for a box,
        # so this test leaves them out too, as pdfium's rectangles do.
        return right - left >= _MIN_SIZE and top - bottom >= _MIN_SIZE

    first = 0
    while first < count and not boxed(first):
        first += 1
    spans: list[tuple[int, int]] = []
    while first < count:
        following = _next_run(page, first, count)
        last = following - 1
        while last > first and not boxed(last):
            last -= 1
        spans.append((first, last))
        first = following
    return spans


def _next_run(page: int, first: int, count: int) -> int:
    """The first character of the run after the one that starts at `first`; `count` if none.

    `FPDFText_CountRects(page, first, n)` is 1 while the n characters hold one run and 2
    from the next run's first character on: gallop to a window that holds two, then bisect.
    """
    rest = count - first
    low, high = 1, 2  # invariant: one run among `low` characters
    while high < rest and _count_rects(page, first, high) < 2:
        low, high = high, 2 * high
    if high >= rest:
        if _count_rects(page, first, rest) < 2:
            return count
        high = rest
    while high - low > 1:
        middle = (low + high) // 2
        if _count_rects(page, first, middle) < 2:
            low = middle
        else:
            high = middle
    return first + high - 1


def _codes(raw: Any, count: int) -> list[int]:
    """Every character's code point: one GetText call, per character where it is unsure."""
    buffer = (ctypes.c_ushort * (count + 1))()
    written = pdfium_c.FPDFText_GetText(raw, 0, count, buffer) if count else 1
    codes = list(buffer[:count])
    if written != count + 1 or any(0xD800 <= code <= 0xDFFF for code in codes):
        # A character outside the BMP takes two UTF-16 units: ask for each code point.
        return [pdfium_c.FPDFText_GetUnicode(raw, index) for index in range(count)]
    for index, code in enumerate(codes):
        if code == _RANGE_HYPHEN:  # GetText rewrites the hyphen mark; keep the real code
            codes[index] = pdfium_c.FPDFText_GetUnicode(raw, index)
    return codes
