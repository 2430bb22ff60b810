"""Hostile PDFs built in code: bombs and monsters of a few kilobytes each (tests, bench).

Each file is written object by object, so the content stream is exactly what the attack
needs: compressed once or twice, millions of tiny text objects, thousands of lines. The
fonts are the standard Times-Roman, so pdfium reads the text without any embedded font.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from pathlib import Path

PAGE = (419.5, 595.3)  # A5, in points
BOOK_LINE = "Le navire partit enfin, et les deux berges filèrent comme deux rubans."


def write_pdf(
    path: Path, pages: Iterable[tuple[bytes, str]], size: tuple[float, float] = PAGE
) -> Path:
    """A PDF of pages, each a content stream and its filter names ('' for none)."""
    objects: list[bytes] = [b"", b""]  # 1: catalog, 2: page tree, filled in at the end
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Times-Roman >>")  # 3
    kids: list[int] = []
    for content, filters in pages:
        objects.append(_stream(content, filters))
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.1f %.1f] /Contents %d 0 R "
            b"/Resources << /Font << /F1 3 0 R >> >> >>" % (*PAGE, len(objects))
        )
        kids.append(len(objects))
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    refs = b" ".join(b"%d 0 R" % kid for kid in kids)
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (refs, len(kids))
    path.write_bytes(_assemble(objects))
    return path


def _stream(content: bytes, filters: str) -> bytes:
    """A stream object; `filters` starting with '=' says `content` is already encoded."""
    encoded = filters.startswith("=")
    names = filters.lstrip("=").split()
    data = content
    for _ in [] if encoded else names:
        data = zlib.compress(data, 9)
    spec = b" /Filter [%s]" % b" ".join(b"/" + n.encode() for n in names) if names else b""
    return b"<< /Length %d%s >>\nstream\n%s\nendstream" % (len(data), spec, data)


def _assemble(objects: list[bytes]) -> bytes:
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets: list[int] = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def text_line(text: str, x: float, y: float, size: float = 11) -> bytes:
    """One line of text as a text object (Latin-1 only: the standard font's encoding)."""
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return b"BT /F1 %g Tf %g %g Td (%s) Tj ET\n" % (size, x, y, escaped.encode("latin-1"))


def book_page(number: int, lines: int = 30) -> tuple[bytes, str]:
    """An ordinary page of a novel: a paragraph of `lines` lines and a page number."""
    body = [text_line(f"{BOOK_LINE} {number}.", 45, 520 - 14 * i) for i in range(lines)]
    return b"".join(body) + text_line(str(number), 207, 30, 9), "FlateDecode"


def flate_bomb(megabytes: int, *, double: bool) -> tuple[bytes, str]:
    """A page whose content stream inflates to `megabytes` MB of spaces after 3 lines.

    Compressed without compressing gigabytes: after a full flush, deflate compresses a
    repeated block to the same bytes, so one block is made and copied.
    """
    head = book_page(1, 3)[0]
    block = b" " * (1024 * 1024)
    compressor = zlib.compressobj(9)
    start = compressor.compress(head) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeat = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    checksum = zlib.adler32(head)
    for _ in range(megabytes):
        checksum = zlib.adler32(block, checksum)
    inflated = start + repeat * megabytes + b"\x03\x00" + checksum.to_bytes(4, "big")
    if not double:
        return inflated, "=FlateDecode"
    return zlib.compress(inflated, 9), "=FlateDecode FlateDecode"


def many_text_objects(count: int) -> tuple[bytes, str]:
    """A page of `count` one-letter text objects, all at one spot."""
    return b"BT /F1 1 Tf 10 10 Td " + b"(a) Tj " * count + b"ET\n", "FlateDecode"


TALL = (419.5, 14400.0)  # the largest page the PDF format allows: room for 40,000 lines


def many_lines(count: int) -> tuple[bytes, str]:
    """A page (of size TALL) of `count` lines of tiny text, one text object each."""
    step = (TALL[1] - 20) / count
    body = b"".join(
        b"BT /F1 0.3 Tf 20 %.3f Td (ab) Tj ET\n" % (TALL[1] - 10 - i * step) for i in range(count)
    )
    return body, "FlateDecode"


def long_word(characters: int) -> tuple[bytes, str]:
    """One word of `characters` letters on one line (pdfium cuts a string at 32,767)."""
    piece = 30_000
    shows = [
        b"(" + b"a" * min(piece, characters - start) + b") Tj "
        for start in range(0, characters, piece)
    ]
    return b"BT /F1 1 Tf 10 300 Td " + b"".join(shows) + b"ET\n", "FlateDecode"


def long_sentence_pages(words: int, per_page: int = 3000) -> list[tuple[bytes, str]]:
    """A sentence of `words` words with no full stop, set in small type over several pages."""
    pages: list[tuple[bytes, str]] = []
    per_line = 30
    for start in range(0, words, per_page):
        count = min(per_page, words - start)
        lines = [
            text_line(
                " ".join(["mot"] * min(per_line, count - i)), 20, 580 - 5.5 * (i // per_line), 4
            )
            for i in range(0, count, per_line)
        ]
        pages.append((b"".join(lines), "FlateDecode"))
    return pages
