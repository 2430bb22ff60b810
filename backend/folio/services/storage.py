"""The file store: PDFs under server-made names in FOLIO_DATA_DIR/uploads.

A client's file name never becomes a path. An upload is written to a temporary file in the
store (same file system, so the final rename is atomic) and renamed to `<uuid4>.pdf` once it
is valid; the temporary file is removed on every way out.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import unicodedata
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO

from folio.config import current_settings

TEMP_PREFIX = ".incoming-"
TEMP_SUFFIX = ".part"
DEFAULT_FILENAME = "document.pdf"
MAX_FILENAME_LENGTH = 255
_COPY_BUFFER = 1024 * 1024
_SEPARATORS = re.compile(r"[/\\]")
_SPACES = re.compile(r"\s+")
# Unicode categories dropped from display names: controls (tab, newline, escape), format
# characters (bidi overrides that make "fdp.exe" look like "exe.pdf"), surrogates, and the
# line and paragraph separators.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})

logger = logging.getLogger(__name__)


def uploads_dir() -> Path:
    """The folder of stored PDFs (created on first use)."""
    folder = current_settings().uploads_dir
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def path_of(key: str) -> Path:
    """The path of the stored file `key`; raises ValueError for a key outside the store."""
    root = uploads_dir().resolve()
    path = (root / key).resolve()
    # Keys are made by the server, but a path from the database is still checked: a bad row
    # must never make a delete reach outside the store.
    if not path.is_relative_to(root) or path == root:
        raise ValueError(f"file key {key!r} is not inside the file store")
    return path


def new_key() -> str:
    """A fresh, unguessable name for a stored PDF."""
    return f"{uuid.uuid4()}.pdf"


@contextmanager
def incoming_file() -> Iterator[Path]:
    """A temporary file in the store, deleted on exit unless it was renamed away."""
    handle, name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=uploads_dir())
    os.close(handle)
    path = Path(name)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def save_stream(stream: IO[bytes], path: Path) -> int:
    """Copy `stream` into the file at `path`; return the number of bytes written."""
    with open(path, "wb") as out:
        shutil.copyfileobj(stream, out, _COPY_BUFFER)
        return out.tell()


def keep(temporary: Path) -> str:
    """Move a temporary file to its final name in the store; return that name (the key)."""
    key = new_key()
    os.replace(temporary, path_of(key))
    return key


def delete(key: str) -> None:
    """Remove a stored file; a missing file is fine, any other failure is logged."""
    try:
        path_of(key).unlink(missing_ok=True)
    except (OSError, ValueError):
        # The row is already gone or going: an orphan file is a disk-space matter, not an
        # error the user should see.
        logger.exception("Could not delete stored file %r", key)


def delete_stale_temporary_files(older_than: datetime) -> int:
    """Remove temporary files left by a process that died mid-upload; return how many."""
    removed = 0
    for path in uploads_dir().glob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}"):
        try:
            if path.stat().st_mtime < older_than.timestamp():
                path.unlink(missing_ok=True)
                removed += 1
        except OSError:
            continue  # another process removed or kept it meanwhile
    return removed


def display_filename(name: str | None) -> str:
    """A file name that is safe to show and to put in a header; never used on disk.

    The last path component (for `/` and `\\` alike), without control or format characters,
    white space collapsed and trimmed, at most 255 characters, "document.pdf" when nothing
    is left.
    """
    text = _SEPARATORS.split(unicodedata.normalize("NFC", name or ""))[-1]
    text = "".join(_visible(char) for char in text)
    text = _SPACES.sub(" ", text).strip()
    if not text.strip("."):
        return DEFAULT_FILENAME
    return _shorten(text)


def _visible(char: str) -> str:
    """`char` itself, a space for a line break or tab, nothing for another invisible one."""
    if unicodedata.category(char) not in _DROPPED_CATEGORIES:
        return char
    return " " if char.isspace() else ""


def _shorten(name: str) -> str:
    """Cut a long name to MAX_FILENAME_LENGTH, keeping a short extension."""
    if len(name) <= MAX_FILENAME_LENGTH:
        return name
    stem, dot, extension = name.rpartition(".")
    if dot and stem and 0 < len(extension) <= 10:
        room = MAX_FILENAME_LENGTH - len(extension) - 1
        return f"{stem[:room].rstrip()}.{extension}"
    return name[:MAX_FILENAME_LENGTH].rstrip()
