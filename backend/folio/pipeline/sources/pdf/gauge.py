"""Measure a page against its budgets before pdfium parses it: a bomb is refused unopened.

pdfium inflates a page's whole content stream, then builds an object for every text
operator (about 500 bytes each): an 18 KB file inflating to 5 GB, or a 141 KB page of two
million text objects, would exhaust any process. pypdf reads the raw streams; this module
inflates them itself, stopping one byte past the budget, and counts the text operators and
the bytes of string operands (an upper bound of the characters, since pdfium keeps at most
one character per byte of a simple font's string) in what it inflated.

A filter this module cannot bound (LZW, JBIG2… in a content stream, which books do not use)
is measured by its encoded size; the sandbox's memory limit still bounds what pdfium does.
"""

from __future__ import annotations

import logging
import re
import zlib
from pathlib import Path
from typing import Any

from folio.pipeline.budgets import Budgets
from folio.pipeline.errors import PageTooComplex

_TEXT_OPERATOR = re.compile(rb"T[jJ]\b|['\"](?=\s)")
_STRING = re.compile(rb"\((?:[^()\\]|\\.)*\)|<[0-9A-Fa-f\s]*>")
_FLATE = ("/FlateDecode", "/Fl")
_SHRINKING = ("/ASCIIHexDecode", "/AHx", "/ASCII85Decode", "/A85")


class Gauge:
    """Pages of one document measured against budgets; `check` raises PageTooComplex."""

    def __init__(self, path: str, password: str | None, budgets: Budgets) -> None:
        self.budgets = budgets
        self._reader = _open(path, password)

    def check(self, number: int) -> None:
        """Refuse page `number` if its content streams break a budget; else do nothing."""
        if self._reader is None:
            return
        try:
            streams = _content_streams(self._reader.pages[number - 1])
        except Exception:  # pypdf cannot read this page; pdfium decides, within the sandbox
            return
        _measure(number, streams, self.budgets)


def _open(path: str, password: str | None) -> Any:
    """A pypdf reader, or None when pypdf cannot read the file (pdfium is then the judge)."""
    import pypdf

    logging.getLogger("pypdf").setLevel(logging.CRITICAL)
    try:
        reader = pypdf.PdfReader(Path(path), strict=False)
        if reader.is_encrypted:
            reader.decrypt(password or "")
        return reader
    except Exception:  # damaged, or an encryption pypdf cannot undo here
        return None


def _content_streams(page: Any) -> list[Any]:
    contents = page.get("/Contents")
    if contents is None:
        return []
    contents = contents.get_object()
    items = contents if isinstance(contents, list) else [contents]
    return [item.get_object() for item in items]


def _measure(number: int, streams: list[Any], budgets: Budgets) -> None:
    size = operators = strings = 0
    for stream in streams:
        data = _inflate(stream, budgets.page_content_bytes - size)
        if data is None:
            raise PageTooComplex(
                number,
                f"Page {number}'s content inflates to more than {budgets.page_content_mb:g} MB.",
            )
        size += len(data)
        operators += len(_TEXT_OPERATOR.findall(data))
        strings += sum(len(match) for match in _STRING.findall(data))
    if operators > budgets.page_text_objects:
        raise PageTooComplex(
            number,
            f"Page {number} holds {operators} text objects; "
            f"the limit is {budgets.page_text_objects}.",
        )
    if strings > budgets.page_chars:
        raise PageTooComplex(
            number, f"Page {number} holds more than {budgets.page_chars} characters of text."
        )


def _inflate(stream: Any, limit: int) -> bytes | None:
    """The stream's decoded bytes, or None past `limit`; never more than limit + 1 held."""
    data: bytes = getattr(stream, "_data", b"")
    filters = stream.get("/Filter")
    if filters is None:
        filters = []
    names = [str(name) for name in (filters if isinstance(filters, list) else [filters])]
    for name in names:
        if name in _FLATE:
            inflated = _bounded_inflate(data, limit)
            if inflated is None:
                return None
            data = inflated
        elif name in _SHRINKING:
            data = _decode_ascii(name, data)
        else:
            break  # not bounded here: counted at its encoded size
    return None if len(data) > limit else data


def _decode_ascii(name: str, data: bytes) -> bytes:
    """ASCII-hex or ASCII-85: the output is smaller than the input."""
    from pypdf.filters import ASCII85Decode, ASCIIHexDecode

    decoder = ASCIIHexDecode if name in ("/ASCIIHexDecode", "/AHx") else ASCII85Decode
    try:
        decoded = decoder.decode(data)
    except Exception:  # malformed: pdfium reads what it can, no more than the input
        return b""
    return decoded.encode("latin-1") if isinstance(decoded, str) else bytes(decoded)


def _bounded_inflate(data: bytes, limit: int) -> bytes | None:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error:
        # A corrupt stream stops before the limit (else it would have been reached first):
        # what pdfium makes of it is bounded too.
        return b""
    return None if len(out) > limit else out
