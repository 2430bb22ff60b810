"""A page's text runs in one pass over its characters: linear in the page's content.

pdfium reports a page's text as rectangles, one per run of characters of one text object
(`FPDFText_GetRect`). Reading each rectangle's text with `FPDFText_GetBoundedText` scans the
whole page every time, so a page of n lines cost O(n²): 82 s for 20,000 lines. This module
reads every character once (its box, its text object, its code) and rebuilds both the
rectangles and the text that `GetBoundedText` gives for each, restricted to the run's own
characters. On the corpus novels the result is identical, rectangle for rectangle.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Any

import pypdfium2.raw as pdfium_c

_SPACE = 0x20
_PDFIUM_HYPHEN = 0x02  # what GetUnicode and GetBoundedText give for a line-end hyphen
_RANGE_HYPHEN = 0xFFFE  # what GetText gives for the same character
_MIN_SIZE = 0.01  # pdfium leaves boxes thinner than this out of its rectangles
# A run is read a little inside its box: a break hyphen's box touches the letter before it.
_INSET = 0.6

Box = tuple[float, float, float, float]  # left, bottom, right, top
Rect = tuple[float, float, float, float, str]  # the box and its text


@dataclass(slots=True)
class _Run:
    """Consecutive characters of one text object; `box` is the union of their boxes."""

    first: int
    last: int
    left: float
    bottom: float
    right: float
    top: float


def text_rects(textpage: Any) -> list[Rect]:
    """The page's text rectangles in content order, each with its text, in one pass."""
    raw = textpage.raw
    count = pdfium_c.FPDFText_CountChars(raw)
    boxes = _char_boxes(raw, count)
    codes = _codes(raw, count)
    first_other = next((i for i, code in enumerate(codes) if code != _SPACE), count)
    rects: list[Rect] = []
    for run in _runs(raw, boxes):
        inset = min(_INSET, (run.right - run.left) / 4)
        window = (run.left + inset, run.bottom, run.right - inset, run.top)
        text = _bounded_text(raw, codes, boxes, run, window, first_other < run.first)
        if text.strip():
            rects.append((run.left, run.bottom, run.right, run.top, text))
    return rects


def _fast(function: Any, restype: Any, *argtypes: Any) -> Any:
    """The same C function with plain argument types: no pointer objects made per call."""
    # The bindings' typed pointers cost about a microsecond a call; this loop makes several
    # calls for each character of the page, so plain addresses halve the time of a page.
    clone = type(function)(ctypes.cast(function, ctypes.c_void_p).value)
    clone.restype, clone.argtypes = restype, argtypes
    return clone


_VOID, _INT = ctypes.c_void_p, ctypes.c_int
_get_char_box = _fast(pdfium_c.FPDFText_GetCharBox, _INT, _VOID, _INT, _VOID, _VOID, _VOID, _VOID)
_get_text_object = _fast(pdfium_c.FPDFText_GetTextObject, _VOID, _VOID, _INT)


def _char_boxes(raw: Any, count: int) -> list[Box | None]:
    """Each character's box, or None for one pdfium leaves out of rectangles."""
    page = ctypes.cast(raw, ctypes.c_void_p).value
    values = (ctypes.c_double * 4)()  # left, right, bottom, top: FPDFText_GetCharBox's order
    first = ctypes.addressof(values)
    size = ctypes.sizeof(ctypes.c_double)
    addresses = (first, first + size, first + 2 * size, first + 3 * size)
    boxes: list[Box | None] = []
    for index in range(count):
        _get_char_box(page, index, *addresses)
        left, right, bottom, top = values
        # Generated characters (spaces and line feeds pdfium adds) have a point for a box,
        # so this test also leaves them out, as GetRectArray does, without a call for each.
        if right - left < _MIN_SIZE or top - bottom < _MIN_SIZE:
            boxes.append(None)
        else:
            boxes.append((left, bottom, right, top))
    return boxes


def _runs(raw: Any, boxes: list[Box | None]) -> list[_Run]:
    """Group the boxed characters into runs of one text object, as `FPDFText_GetRect` does."""
    page = ctypes.cast(raw, ctypes.c_void_p).value
    runs: list[_Run] = []
    current = _Run(-1, -1, 0.0, 0.0, 0.0, 0.0)
    owner: int | None = None
    for index, box in enumerate(boxes):
        if box is None:
            continue
        obj = _get_text_object(page, index)
        if current.first < 0 or obj != owner:
            current = _Run(index, index, *box)
            runs.append(current)
            owner = obj
            continue
        left, bottom, right, top = box
        current.last = index
        if left < current.left:
            current.left = left
        if bottom < current.bottom:
            current.bottom = bottom
        if right > current.right:
            current.right = right
        if top > current.top:
            current.top = top
    return runs


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


def _bounded_text(
    raw: Any,
    codes: list[int],
    boxes: list[Box | None],
    run: _Run,
    window: Box,
    after_other: bool,
) -> str:
    """What `FPDFText_GetBoundedText(window)` gives, looking at the run's characters only.

    The same walk as pdfium's `GetTextByPredicate`: a character whose box meets the window
    is taken; a space right after a taken character is kept; a line feed separates two
    taken stretches that another non-space character came between, unless both lie on the
    same baseline. `after_other`: a non-space character comes before the run on the page.
    """
    left, bottom, right, top = (ctypes.c_float(value).value for value in window)
    span = boxes[run.first : run.last + 1]
    # The usual run: every character boxed and inside the window's width (a box lies within
    # the run's height, so it meets the window's). Its text is its characters.
    if all(box is not None and box[0] < right and box[2] > left for box in span):
        text = "".join(chr(code) for code in codes[run.first : run.last + 1] if code)
        after = run.last + 1 < len(codes) and codes[run.last + 1] == _SPACE
        return text + " " if after else text
    out: list[str] = []
    contained = False
    baseline = 0.0
    for index in range(run.first, run.last + 1):
        box, code = boxes[index], codes[index]
        if (
            box is not None
            and max(left, box[0]) < min(right, box[2])
            and max(bottom, box[1]) < min(top, box[3])
        ):  # the box shares an area with the window (touching edges do not count)
            if not contained and after_other:
                origin = _origin_y(raw, index)
                if origin != baseline:
                    baseline = origin
                    if out:
                        out.append("\r\n")
            contained, after_other = True, False
            if code:
                out.append(chr(code))
        elif code == _SPACE:
            if contained:
                out.append(" ")
                contained = after_other = False
        else:
            contained, after_other = False, True
    # The character after the run (pdfium's generated space between words) still counts.
    if contained and run.last + 1 < len(codes) and codes[run.last + 1] == _SPACE:
        out.append(" ")
    return "".join(out)


def _origin_y(raw: Any, index: int) -> float:
    """The baseline (origin y) of a character."""
    x, y = ctypes.c_double(), ctypes.c_double()
    pdfium_c.FPDFText_GetCharOrigin(raw, index, ctypes.byref(x), ctypes.byref(y))
    return y.value
