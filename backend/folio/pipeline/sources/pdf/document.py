"""Opening a PDF with pdfium, every failure turned into a typed, user-facing error."""

from __future__ import annotations

import functools
import logging
import os
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from folio.pipeline import errors

Source = str | os.PathLike[str]
_T = TypeVar("_T")
_P = ParamSpec("_P")

# PDFium is not thread-safe: two threads in it at once can crash the process (a threaded
# server handling two uploads). Every entry point that touches a document holds this lock;
# worker processes run one chunk at a time, so it costs them nothing.
_PDFIUM = threading.RLock()


def _fresh_lock() -> None:
    """A forked child (a sandbox) gets a free lock, whoever held it in the parent."""
    global _PDFIUM
    _PDFIUM = threading.RLock()


os.register_at_fork(after_in_child=_fresh_lock)


def serialized(function: Callable[_P, _T]) -> Callable[_P, _T]:
    """Run `function` while no other thread of this process is inside PDFium."""

    @functools.wraps(function)
    def locked(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        with _PDFIUM:
            return function(*args, **kwargs)

    return locked


# pdfium's FPDF_GetLastError codes (fpdfview.h); anything else is a format or file error.
_ERR_PASSWORD = 4
_ERR_SECURITY = 5

# Bit 5 (1-based) of the permission flags: copy or otherwise extract text and graphics.
_PERMISSION_EXTRACT = 1 << 4

_HEADER_WINDOW = 1024  # the PDF spec lets %PDF- appear anywhere in the first 1024 bytes


def check_signature(path: Source) -> int:
    """Validate size and magic bytes before any parser sees the file; returns the size."""
    size = os.path.getsize(path)
    if size == 0:
        raise errors.EmptyFile("The file is empty (0 bytes).")
    with open(path, "rb") as handle:
        head = handle.read(_HEADER_WINDOW)
    if b"%PDF-" not in head:
        raise errors.NotAPdf("The file is not a PDF: it does not start with a PDF header.")
    return size


_TRAILER_WINDOW = 4096  # startxref and %%EOF sit at the very end; some producers add junk
_STARTXREF = re.compile(rb"startxref\s+(\d+)")


def check_structure(path: Source) -> int:
    """Size, magic bytes and a trailer that points inside the file; reads 5 KB, decodes nothing.

    pdfium repairs a wrong cross-reference offset by scanning the file, so an offset past
    the end is refused here, while a missing trailer is left to pdfium (in the sandbox).
    """
    size = check_signature(path)
    with open(path, "rb") as handle:
        handle.seek(max(0, size - _TRAILER_WINDOW))
        tail = handle.read()
    found = _STARTXREF.findall(tail)
    if found and int(found[-1]) >= size:
        raise errors.DamagedPdf("The PDF is damaged or truncated and cannot be read.")
    return size


def open_pdf(path: Source, password: str | None = None) -> Any:
    """Open a PDF for reading; raises a `PipelineError` subclass for every bad input."""
    check_signature(path)
    try:
        document = pdfium.PdfDocument(str(path), password=password or None)
    except pdfium.PdfiumError as exc:
        raise _classify(path, password, getattr(exc, "err_code", None)) from None
    if len(document) == 0:
        document.close()
        raise errors.NoPages("The PDF has no pages.")
    return document


def _classify(path: Source, password: str | None, code: int | None) -> errors.InputError:
    # First: pdfium sets no error code for an empty page tree, so the code left over from an
    # earlier failure in this process (or the parent a sandbox was forked from) would show.
    if _has_zero_pages(path):
        return errors.NoPages("The PDF has no pages.")
    if code == _ERR_PASSWORD:
        if password:
            return errors.WrongPassword("The password does not open this PDF.")
        return errors.PasswordRequired(
            "This PDF is protected by a password; give the password to open it."
        )
    if code == _ERR_SECURITY:
        return errors.DamagedPdf("This PDF uses an encryption scheme that cannot be read.")
    return errors.DamagedPdf("The PDF is damaged or truncated and cannot be read.")


def _has_zero_pages(path: Source) -> bool:
    """pdfium refuses an empty page tree like a damaged file; pypdf tells the two apart."""
    import pypdf  # only on this rare path: pdfium already refused the file

    logging.getLogger("pypdf").setLevel(logging.CRITICAL)
    try:
        return len(pypdf.PdfReader(Path(path), strict=False).pages) == 0
    except Exception:  # any parser failure here means "damaged", which is the default answer
        return False


def security(document: Any) -> tuple[bool, bool]:
    """(encrypted, text extraction restricted by the owner)."""
    revision = pdfium_c.FPDF_GetSecurityHandlerRevision(document.raw)
    if revision == -1:
        return False, False
    permissions = pdfium_c.FPDF_GetDocPermissions(document.raw) & 0xFFFFFFFF
    return True, not permissions & _PERMISSION_EXTRACT


def metadata(document: Any) -> tuple[str | None, str | None]:
    """(title, author) from the document information dictionary, blank values as None."""
    info = document.get_metadata_dict(skip_empty=True)
    title = (info.get("Title") or "").strip() or None
    author = (info.get("Author") or "").strip() or None
    return title, author


@serialized
def save_unlocked(path: Source, password: str | None, destination: Source) -> None:
    """Write a copy of the PDF without its encryption, so later readers need no password."""
    document = open_pdf(path, password)
    try:
        document.save(str(destination), flags=pdfium_c.FPDF_REMOVE_SECURITY)
    finally:
        document.close()
