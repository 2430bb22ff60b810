"""OCR of the pages that have no usable text layer: Tesseract's words as the same `Line`s.

Page by page, like `ocrmypdf --skip-text`: a page whose text layer holds text is read as
before; a page without a text layer that draws something (a scan is one image), or whose
text layer is nearly empty (fewer than `MIN_TEXT_CHARS` letters and digits) over a large
image, is rendered with pdfium in greyscale — at the image's own resolution when the page
is one image, else at `DEFAULT_DPI` — and read by Tesseract (`pytesseract.image_to_data`,
its TSV output). Each Tesseract line (block, paragraph, line) becomes a `layout.Line` with
its box in PDF points, origin bottom-left, straightened by the page's skew, so running
heads, paragraphs, headings and line-end hyphens are found by the same code as for a text
layer. docs/ocr.md tells the rules and the measures.

Tesseract runs as a child process of the sandbox, which inherits its memory and CPU limits;
`OMP_THREAD_LIMIT=1` keeps it to one core (Folio runs one chunk per core already).
"""

from __future__ import annotations

import os
import re
import statistics
from dataclasses import dataclass
from typing import Any

import pypdfium2.raw as pdfium_c

from folio.pipeline.errors import OcrUnavailable, PageTooComplex
from folio.pipeline.model import DEFAULT_LANG, ProcessSettings, check_ocr_settings
from folio.pipeline.sources.pdf.layout import Line

DEFAULT_DPI = 300
# The resolution of a page that is one image is its own, within these bounds.
MIN_DPI, MAX_DPI = 150, 600
# A rendered page larger than this (in pixels) is rendered smaller: a poster-sized page.
MAX_PIXELS = 40_000_000
# A text layer with fewer letters and digits than this is no text layer (a stray page number).
MIN_TEXT_CHARS = 16
# An image that covers this share of the page makes the page "one image" (a scan)...
_FULL_PAGE = 0.8
# ... and one that covers this share makes a page of nearly no text a scan worth reading.
_SCANNED = 0.5
# Extra wall time a sandboxed read of pages is given per page when OCR may run (a page took
# 1.5-3.2 s of one core of the development machine; docs/ocr.md).
OCR_SECONDS_PER_PAGE = 3.0
_ALNUM = re.compile(r"[^\W_]")


@dataclass(frozen=True, slots=True)
class OcrOptions:
    """When to OCR a page (`mode`) and in which Tesseract language(s) (`lang`)."""

    mode: str = "auto"
    lang: str = DEFAULT_LANG

    def __post_init__(self) -> None:
        check_ocr_settings(self.mode, self.lang)

    @classmethod
    def of(cls, settings: ProcessSettings) -> OcrOptions:
        """The OCR options of a job's or a run's settings."""
        return cls(settings.ocr, settings.lang)

    @property
    def enabled(self) -> bool:
        """Whether any page may be OCRed."""
        return self.mode != "never"


NO_OCR = OcrOptions(mode="never")


def wants_ocr(page: Any, lines: list[Line] | None, options: OcrOptions) -> bool:
    """Whether a page is read by OCR: always, or (auto) when it has no usable text layer.

    Auto: a page without text that draws anything, or one of fewer than `MIN_TEXT_CHARS`
    letters and digits on an image covering half of it or more.
    """
    if options.mode == "never":
        return False
    if options.mode == "always":
        return True
    if not lines:
        return draws_something(page)
    # Nearly no text: a scan with a page number stamped on it, not a heading page with an
    # ornament (a small image) or a page of one line of text.
    text = sum(len(_ALNUM.findall(line.text)) for line in lines)
    if text >= MIN_TEXT_CHARS:
        return False
    return looks_scanned(page)


def looks_scanned(page: Any) -> bool:
    """Whether one image covers half the page or more, as on a scanned page."""
    image = _largest_image(page)
    return image is not None and image[0] >= _SCANNED


def draws_something(page: Any) -> bool:
    """Whether a page holds anything but text (an image, a form, paths): a blank page does not."""
    raw = page.raw
    return any(
        pdfium_c.FPDFPageObj_GetType(pdfium_c.FPDFPage_GetObject(raw, index))
        != pdfium_c.FPDF_PAGEOBJ_TEXT
        for index in range(pdfium_c.FPDFPage_CountObjects(raw))
    )


def check_available(lang: str) -> None:
    """Raise `OcrUnavailable` unless Tesseract and the data of every language in `lang` exist."""
    missing = [name for name in lang.split("+") if name not in installed_languages()]
    if missing:
        packages = " ".join(f"tesseract-ocr-{name.replace('_', '-')}" for name in missing)
        raise OcrUnavailable(
            f"This document has pages without a text layer that need OCR, and Tesseract has "
            f"no data for the language {', '.join(missing)} (Debian: apt-get install "
            f"{packages}). {_WITHOUT_OCR}"
        )


_WITHOUT_OCR = (
    "To read only the pages that have text, turn OCR off (ocr: never; the CLI's --ocr never)."
)


def installed_languages() -> frozenset[str]:
    """The languages the Tesseract on PATH has data for; raises `OcrUnavailable` without it.

    A success is remembered for the process; a failure is asked again next time, so Tesseract
    installed while the service runs is found without a restart.
    """
    global _found_languages
    if _found_languages is None:
        import pytesseract

        try:
            _found_languages = frozenset(pytesseract.get_languages())
        except (pytesseract.TesseractNotFoundError, OSError):
            raise OcrUnavailable(
                "This document has pages without a text layer that need OCR, and Tesseract is "
                "not installed (Debian: apt-get install tesseract-ocr tesseract-ocr-fra). "
                + _WITHOUT_OCR
            ) from None
    return _found_languages


_found_languages: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class OcrPage:
    """A page's OCR lines, and its width in PDF points (the frame of their boxes)."""

    lines: list[Line]
    width: float


def ocr_page(page: Any, number: int, options: OcrOptions, seconds: float) -> OcrPage:
    """Render a page and read it with Tesseract: its lines in PDF points, in reading order.

    Tesseract gets `seconds` of wall time; a page it does not finish in time, or that it
    fails on, is refused as too complex (`PageTooComplex`), like any other over-budget page.
    """
    import pytesseract

    check_available(options.lang)
    dpi = render_dpi(page)
    width, height = page.get_size()
    scale = min(dpi / 72, (MAX_PIXELS / max(1.0, width * height)) ** 0.5)
    image = page.render(scale=scale, grayscale=True).to_pil()
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    try:
        data = pytesseract.image_to_data(
            image,
            lang=options.lang,
            config=f"--psm 3 --dpi {round(scale * 72)}",
            output_type=pytesseract.Output.DICT,
            timeout=seconds,
        )
    except pytesseract.TesseractNotFoundError:
        global _found_languages
        _found_languages = None
        raise OcrUnavailable("Tesseract is not installed; OCR cannot run.") from None
    except (RuntimeError, pytesseract.TesseractError) as error:  # a timeout is a RuntimeError
        raise PageTooComplex(number, f"OCR of page {number} failed: {error}") from None
    finally:
        image.close()
    lines = tsv_lines(data, scale, page.get_height())
    if "fra" in options.lang.split("+"):
        lines = mend_french(lines)
    return OcrPage(lines, width)


_SENTENCE_END = (".", "!", "?", "…", "»", ":")


def mend_french(lines: list[Line]) -> list[Line]:
    """Tesseract's one frequent word error on low-resolution French scans: `Il` read `11`.

    On the corpus's 150 dpi scan, 6 of its 15 word errors. Mended only where the reading
    cannot be a number: at a sentence's start (French writes a number that opens a sentence
    in words) and before a lower-case word (`11 heures` after `à` is left alone).
    """
    words = [line.text.split(" ") for line in lines]
    flat = [(row, col) for row, line in enumerate(words) for col in range(len(line))]
    for index, (row, col) in enumerate(flat):
        if words[row][col] != "11" or index + 1 == len(flat):
            continue
        after = words[flat[index + 1][0]][flat[index + 1][1]]
        before = words[flat[index - 1][0]][flat[index - 1][1]] if index else "."
        if after[:1].islower() and before.endswith(_SENTENCE_END):
            words[row][col] = "Il"
    return [
        Line(" ".join(text), line.x0, line.x1, line.bottom, line.top)
        for text, line in zip(words, lines, strict=True)
    ]


def render_dpi(page: Any) -> int:
    """The resolution of the image the page is (one covering most of it), else `DEFAULT_DPI`."""
    found = _largest_image(page)
    if found is None or found[0] < _FULL_PAGE:
        return DEFAULT_DPI
    return round(min(MAX_DPI, max(MIN_DPI, found[1])))


def _largest_image(page: Any) -> tuple[float, float] | None:
    """(share of the page, resolution in dpi) of the page's largest image; None without one."""
    import ctypes

    raw = page.raw
    page_w, page_h = page.get_size()
    best: tuple[float, float] | None = None
    for index in range(pdfium_c.FPDFPage_CountObjects(raw)):
        obj = pdfium_c.FPDFPage_GetObject(raw, index)
        if pdfium_c.FPDFPageObj_GetType(obj) != pdfium_c.FPDF_PAGEOBJ_IMAGE:
            continue
        left, bottom, right, top = (ctypes.c_float() for _ in range(4))
        pixels_w, pixels_h = ctypes.c_uint(), ctypes.c_uint()
        if not pdfium_c.FPDFPageObj_GetBounds(obj, left, bottom, right, top):
            continue
        if not pdfium_c.FPDFImageObj_GetImagePixelSize(obj, pixels_w, pixels_h):
            continue
        box_w, box_h = right.value - left.value, top.value - bottom.value
        if box_w <= 0 or box_h <= 0:
            continue
        share = box_w * box_h / max(1.0, page_w * page_h)
        dpi = max(pixels_w.value / box_w, pixels_h.value / box_h) * 72
        if best is None or share > best[0]:
            best = (share, dpi)
    return best


@dataclass(frozen=True, slots=True)
class _Word:
    """A word of Tesseract's TSV: its text and box in pixels (y downwards)."""

    text: str
    left: int
    top: int
    width: int
    height: int

    @property
    def cx(self) -> float:
        return self.left + self.width / 2

    @property
    def cy(self) -> float:
        return self.top + self.height / 2


def tsv_lines(data: dict[str, list[Any]], scale: float, page_height: float) -> list[Line]:
    """Tesseract's TSV words (pytesseract's dict) as lines in PDF points, origin bottom-left.

    Words (rows of level 5) are grouped by their block, paragraph and line numbers, in
    Tesseract's reading order, and joined with one space. Tesseract reports boxes in the
    image as scanned: on a page scanned a degree askew, the left margin drifts by 10 points
    from top to bottom, more than an indent, and line boxes grow by the drift along a line.
    So each box is straightened by the page's skew (`_skew`, measured along the lines)
    before paragraphs are told by indents: a point (x, y) becomes (x + s·y, y - s·x).
    """
    words: dict[tuple[int, int, int, int], list[_Word]] = {}
    for index, level in enumerate(data["level"]):
        text = str(data["text"][index]).strip()
        if int(level) != 5 or not text:
            continue
        key = (
            int(data["page_num"][index]),
            int(data["block_num"][index]),
            int(data["par_num"][index]),
            int(data["line_num"][index]),
        )
        box = (data["left"][index], data["top"][index], data["width"][index], data["height"][index])
        words.setdefault(key, []).append(_Word(text, *map(int, box)))
    slope = _skew(list(words.values()))
    lines: list[Line] = []
    for line in words.values():
        left = min(w.left + slope * w.cy for w in line)
        right = max(w.left + w.width + slope * w.cy for w in line)
        # The median word's top and bottom: one box swollen by a speck does not swell the line.
        top = statistics.median(w.top - slope * w.cx for w in line)
        bottom = statistics.median(w.top + w.height - slope * w.cx for w in line)
        lines.append(
            Line(
                text=" ".join(w.text for w in line),
                x0=left / scale,
                x1=right / scale,
                bottom=page_height - bottom / scale,
                top=page_height - top / scale,
            )
        )
    return lines


def _skew(lines: list[list[_Word]]) -> float:
    """The page's skew as a slope (pixels down per pixel right, the sine of its angle).

    The least-squares slope of the words' centres along each line of four words or more;
    the median over the lines, so that ascenders, descenders and a stray line do not count.
    """
    slopes: list[float] = []
    for words in lines:
        if len(words) < 4:
            continue
        mean_x = sum(w.cx for w in words) / len(words)
        mean_y = sum(w.cy for w in words) / len(words)
        spread = sum((w.cx - mean_x) ** 2 for w in words)
        if spread > 0:
            slopes.append(sum((w.cx - mean_x) * (w.cy - mean_y) for w in words) / spread)
    return statistics.median(slopes) if slopes else 0.0
