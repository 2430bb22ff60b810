"""The data that flows between pipeline stages: plain, picklable, JSON-friendly dataclasses."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from folio.pipeline.errors import InvalidSettings

# How a row after the first of its sentence was cut from the one before: between clauses (at
# `;`, `:` or a conjunction), before a coordinated verb whose subject it repeats, or before a
# final «qui» clause written as a sentence of its own.
CUT_CLAUSE, CUT_SUBJECT, CUT_RELATIVE = "clause", "subject", "relative"
# A piece after the first of a sentence that an LLM rewrote: the model chose where to cut.
CUT_LLM = "llm"
MIN_LIMIT = 3
MAX_LIMIT = 60
# When a page is read by OCR (sources/pdf/ocr.py): without a usable text layer, every page, never.
OCR_MODES = ("auto", "always", "never")
DEFAULT_LANG = "fra"
# Tesseract language names: `fra`, `eng`, `fra+eng`, `chi_sim`; nothing else reaches argv.
_LANG = re.compile(r"^[a-z]{3}(?:_[a-z]+)?(?:\+[a-z]{3}(?:_[a-z]+)?)*$")


def check_ocr_settings(mode: str, lang: str) -> None:
    """Refuse an unknown OCR mode or a malformed language name (`InvalidSettings`)."""
    if mode not in OCR_MODES:
        raise InvalidSettings(f"The OCR mode must be one of {', '.join(OCR_MODES)}.")
    if not _LANG.match(lang):
        raise InvalidSettings(
            "The language must be Tesseract language names such as fra, eng or fra+eng."
        )


@dataclass(frozen=True, slots=True)
class Furniture:
    """Running headers, footers and page numbers found by `inspect`, removed by `extract`.

    `texts` are normalised line texts (see `layout.furniture_key`) that repeat in the top or
    bottom band of the pages; page numbers are recognised by pattern and need no entry.
    """

    texts: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    """What planning needs to know about a document, learned in one cheap pass."""

    page_count: int
    file_size: int
    title: str | None
    author: str | None
    encrypted: bool
    extraction_restricted: bool
    pages_without_text: tuple[int, ...]
    furniture: Furniture
    pages_checked: int
    warnings: tuple[str, ...] = ()
    # Pages checked that break a budget (`budgets.py`): they are not read.
    pages_too_complex: tuple[int, ...] = ()
    # Pages OCR reads in its default mode (auto): scans, with or without a stamped number.
    pages_scanned: tuple[int, ...] = ()

    def ocr_pages(self, mode: str) -> tuple[int, ...]:
        """The pages OCR reads in `mode` (auto, always or never)."""
        return pages_for_ocr(mode, self.page_count, self.pages_scanned, self.pages_too_complex)


def pages_for_ocr(
    mode: str, page_count: int, scanned: Sequence[int], too_complex: Sequence[int]
) -> tuple[int, ...]:
    """The pages OCR reads in `mode`: the scans (auto), every page (always) or none.

    Pages over a budget are never read, by OCR or otherwise.
    """
    if mode == "never":
        return ()
    if mode == "always":
        skipped = set(too_complex)
        return tuple(n for n in range(1, page_count + 1) if n not in skipped)
    return tuple(scanned)


@dataclass(frozen=True, slots=True)
class ChunkPlan:
    """One unit of parallel work: it owns `owned` pages and reads `read` pages (both inclusive)."""

    index: int
    owned_first: int
    owned_last: int
    read_first: int
    read_last: int

    def owns(self, page: int) -> bool:
        """Whether a sentence starting on `page` belongs to this chunk."""
        return self.owned_first <= page <= self.owned_last

    @property
    def owned_count(self) -> int:
        """How many pages the chunk owns."""
        return self.owned_last - self.owned_first + 1


@dataclass(frozen=True, slots=True)
class Sentence:
    """A source sentence, located by the page it starts on and its offset in that page's text."""

    page: int
    offset: int
    text: str
    heading: bool = False

    @property
    def source_id(self) -> str:
        """Stable id: the same sentence gets the same id whatever chunk reads it."""
        return f"{self.page:05d}:{self.offset:06d}"


@dataclass(frozen=True, slots=True)
class OutputSentence:
    """A row: a sentence that stands on its own; `part` orders the rows of one source sentence.

    `cut` says how a row after the first was cut from the one before (`CUT_*`, or "llm" for
    an LLM's rewrite); it is empty for the first row and for sentences left whole.
    `source_text` is the author's sentence the row comes from. `over_limit` marks a row left
    longer than the limit because no cut made complete sentences; `units` are then its sense
    groups, slices of at most `limit` words to read it in steps (not rows). `repaired` marks
    the rows of a sentence that an LLM processor failed (an invalid answer twice, or no
    answer) and the local processor made instead; their `processor` is "local".
    """

    text: str
    source_id: str
    page: int
    part: int = 0
    words: int = 0
    heading: bool = False
    processor: str = "local"
    split: bool = False
    cut: str = ""
    repaired: bool = False
    source_text: str = ""
    over_limit: bool = False
    units: tuple[str, ...] = ()

    @property
    def order_key(self) -> tuple[str, int]:
        """Reading order: source position, then piece."""
        return (self.source_id, self.part)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> OutputSentence:
        """The sentence `to_dict` gave (other keys, such as a row's id, are ignored)."""
        known = _known(cls, values)
        if "units" in known:
            known["units"] = tuple(known["units"] or ())  # a list once it went through JSON
        return cls(**known)


def _known(cls: type, values: Mapping[str, Any]) -> dict[str, Any]:
    """The items of `values` that name a field of the dataclass `cls`."""
    names = {f.name for f in fields(cls)}
    return {key: value for key, value in values.items() if key in names}


@dataclass(frozen=True, slots=True)
class ProcessSettings:
    """What the user chose: the word limit, the shortest piece, and what to keep.

    `lang` is the document's language as Tesseract names it, for the pages read by OCR;
    `ocr` says which pages are (`OCR_MODES`: auto reads those without a usable text layer).
    """

    limit: int = 8
    min_words: int = 2
    include_headings: bool = False
    processor: str = "local"
    # An LLM processor's model; empty means the processor's configured default.
    model: str = ""
    lang: str = DEFAULT_LANG
    ocr: str = "auto"

    def __post_init__(self) -> None:
        check_ocr_settings(self.ocr, self.lang)
        if not MIN_LIMIT <= self.limit <= MAX_LIMIT:
            raise InvalidSettings(f"The word limit must be between {MIN_LIMIT} and {MAX_LIMIT}.")
        if not 1 <= self.min_words <= self.limit // 2:
            raise InvalidSettings(
                f"Minimum words must be between 1 and half the limit ({self.limit // 2}), "
                "so that a long sentence can always be split into valid pieces."
            )

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (what a job stores among its settings)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> ProcessSettings:
        """The settings in `values` (other keys ignored, missing ones at their default)."""
        return cls(**_known(cls, values))


@dataclass(frozen=True, slots=True)
class Usage:
    """What LLM calls cost: requests sent (failed ones included) and the tokens they used."""

    calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.calls + other.calls,
            self.tokens_in + other.tokens_in,
            self.tokens_out + other.tokens_out,
        )

    @property
    def tokens(self) -> int:
        """Input and output tokens together."""
        return self.tokens_in + self.tokens_out


@dataclass(slots=True)
class ChunkResult:
    """What one chunk produced: its sentences and counters for progress and billing.

    `stopped` means the cancel flag was seen before the chunk's work was done: `sentences`
    is then incomplete and must not be recorded as the chunk's result. `usage` counts the
    LLM calls made all the same; `model` and `prompt_version` are empty for the local
    processor.
    """

    chunk: ChunkPlan
    sentences: list[OutputSentence] = field(default_factory=list)
    source_sentences: int = 0
    pages_without_text: list[int] = field(default_factory=list)
    # Owned pages that could not be read within the budgets (number → reason): not charged.
    unreadable_pages: dict[int, str] = field(default_factory=dict)
    seconds: float = 0.0
    usage: Usage = field(default_factory=Usage)
    stopped: bool = False
    retried: int = 0
    repaired: int = 0
    model: str = ""
    prompt_version: str = ""
    # Owned pages read by OCR that gave text (charged at the OCR price), and the seconds
    # OCR took in this chunk, the pages it read around its own included.
    ocr_pages: list[int] = field(default_factory=list)
    ocr_seconds: float = 0.0
