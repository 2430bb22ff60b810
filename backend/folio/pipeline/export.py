"""Stage 8, export: write the merged sentences as a file a learner, a spreadsheet or Anki opens."""

from __future__ import annotations

import codecs
import csv
import json
import re
from collections.abc import Callable, Mapping, Sequence
from os import PathLike
from typing import Any, BinaryIO

from folio.pipeline.errors import InvalidSettings
from folio.pipeline.model import OutputSentence

FORMATS: tuple[str, ...] = ("jsonl", "json", "csv", "xlsx", "txt", "anki")

MEDIA_TYPES: dict[str, str] = {
    "jsonl": "application/x-ndjson",
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "txt": "text/plain; charset=utf-8",
    "anki": "text/tab-separated-values; charset=utf-8",
}

# Anki's text importer accepts .csv, .tsv and .txt; .tsv says what the file is and keeps it
# apart from the plain "txt" export.
EXTENSIONS: dict[str, str] = {
    "jsonl": "jsonl",
    "json": "json",
    "csv": "csv",
    "xlsx": "xlsx",
    "txt": "txt",
    "anki": "tsv",
}

TABLE_COLUMNS = ("index", "text", "page", "source_id", "words", "over_limit", "source_text")
_COLUMN_WIDTHS = {"A": 8, "B": 80, "C": 8, "D": 14, "E": 8, "F": 10, "G": 100}

# Everything str.splitlines() breaks on, plus the tab: one of these inside a field would break
# a line-based or tab-separated format.
_BREAKS = re.compile(r"[\t\n\r\v\f\x1c-\x1e\x85\u2028\u2029]+")

# What makes a spreadsheet read a cell as a formula (OWASP, "CSV Injection"): such a cell of
# CSV or XLSX gets a leading single quote, which Excel and LibreOffice show as text. Dialogue
# opened by a dash (U+2014 "—", U+2013 "–") is not among them; an ASCII "-" or "--" is.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

ANKI_HEADER = (
    "#separator:tab",
    "#html:false",
    "#notetype:Basic",
    "#columns:Front\tBack\tTags",
    "#tags column:3",
)

_Writer = Callable[[Sequence[OutputSentence], BinaryIO, Mapping[str, Any]], None]


class _Utf8Out:
    """Lets csv, which writes text, stream into a binary file without a TextIOWrapper
    (which would close or detach the caller's stream)."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out

    def write(self, text: str) -> int:
        return self._out.write(text.encode("utf-8"))


def _record(index: int, sentence: OutputSentence) -> dict[str, Any]:
    return {
        "index": index,
        "text": sentence.text,
        "page": sentence.page,
        "source_id": sentence.source_id,
        "part": sentence.part,
        "words": sentence.words,
        "heading": sentence.heading,
        "processor": sentence.processor,
        "split": sentence.split,
        "cut": sentence.cut,
        "repaired": sentence.repaired,
        "over_limit": sentence.over_limit,
        "units": list(sentence.units),
        "source_text": sentence.source_text,
    }


def _one_line(text: str) -> str:
    return _BREAKS.sub(" ", text)


def _write_jsonl(
    sentences: Sequence[OutputSentence], out: BinaryIO, meta: Mapping[str, Any]
) -> None:
    for index, sentence in enumerate(sentences, 1):
        line = json.dumps(_record(index, sentence), ensure_ascii=False)
        out.write(f"{line}\n".encode())


def _write_json(
    sentences: Sequence[OutputSentence], out: BinaryIO, meta: Mapping[str, Any]
) -> None:
    document = {
        "meta": dict(meta),
        "count": len(sentences),
        "sentences": [_record(index, s) for index, s in enumerate(sentences, 1)],
    }
    # default=str: a date or a path in meta should not make the whole export fail. One dumps
    # and one write is several times faster than json.dump's many small writes.
    out.write(json.dumps(document, ensure_ascii=False, default=str).encode())


def spreadsheet_text(text: str) -> str:
    """`text` as a CSV or XLSX cell shows it: quoted with `'` when it would start a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _write_csv(sentences: Sequence[OutputSentence], out: BinaryIO, meta: Mapping[str, Any]) -> None:
    # Without the BOM, Excel reads the file as Windows-1252 and mangles every accent.
    out.write(codecs.BOM_UTF8)
    writer = csv.writer(_Utf8Out(out))
    writer.writerow(TABLE_COLUMNS)
    for index, s in enumerate(sentences, 1):
        writer.writerow(
            (
                index,
                spreadsheet_text(s.text),
                s.page,
                s.source_id,
                s.words,
                "true" if s.over_limit else "false",
                spreadsheet_text(s.source_text),
            )
        )


def _text_cell(sheet: Any, value: str) -> Any:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    # openpyxl turns a string starting with "=" into a formula and rejects control characters;
    # a sentence must stay inert text, and stay so when the sheet is edited or saved as CSV.
    cell = WriteOnlyCell(sheet, spreadsheet_text(ILLEGAL_CHARACTERS_RE.sub("", value)))
    cell.data_type = "s"
    return cell


def _write_xlsx(
    sentences: Sequence[OutputSentence], out: BinaryIO, meta: Mapping[str, Any]
) -> None:
    # Imported here: openpyxl takes ~0.2 s to import and only this format needs it.
    from openpyxl import Workbook

    # write_only streams rows to disk: a 30 000-sentence novel stays in constant memory.
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Sentences")
    for letter, width in _COLUMN_WIDTHS.items():
        sheet.column_dimensions[letter].width = width
    sheet.append(TABLE_COLUMNS)
    for index, s in enumerate(sentences, 1):
        sheet.append(
            [
                index,
                _text_cell(sheet, s.text),
                s.page,
                s.source_id,
                s.words,
                s.over_limit,
                _text_cell(sheet, s.source_text),
            ]
        )
    if meta:
        about = book.create_sheet("About")
        about.column_dimensions["A"].width = 20
        about.column_dimensions["B"].width = 60
        for key, value in meta.items():
            shown = value if isinstance(value, int | float) else _text_cell(about, str(value))
            about.append([_text_cell(about, str(key)), shown])
    book.save(out)


def _write_txt(sentences: Sequence[OutputSentence], out: BinaryIO, meta: Mapping[str, Any]) -> None:
    for s in sentences:
        out.write(f"{_one_line(s.text)}\n".encode())


def _anki_field(text: str) -> str:
    # Anki parses the notes with a CSV reader: a field starting with '"' would be read as
    # quoted and a line starting with '#' as a comment, so such fields are quoted CSV-style.
    field = _one_line(text)
    if '"' in field or field.startswith("#"):
        return '"' + field.replace('"', '""') + '"'
    return field


def _write_anki(
    sentences: Sequence[OutputSentence], out: BinaryIO, meta: Mapping[str, Any]
) -> None:
    # No BOM: Anki only recognises the header lines when '#' is the file's first byte.
    out.write("".join(f"{line}\n" for line in ANKI_HEADER).encode())
    title = str(meta.get("title") or "").strip()
    for s in sentences:
        where = f"{title}, p. {s.page}" if title else f"p. {s.page}"
        # The back shows the author's sentence when the card's is a piece or a rewrite of it.
        back = f"{s.source_text} ({where})" if s.source_text not in ("", s.text) else where
        note = (_anki_field(s.text), _anki_field(back), "folio")
        out.write(("\t".join(note) + "\n").encode())


_WRITERS: dict[str, _Writer] = {
    "jsonl": _write_jsonl,
    "json": _write_json,
    "csv": _write_csv,
    "xlsx": _write_xlsx,
    "txt": _write_txt,
    "anki": _write_anki,
}


def _writer(fmt: str) -> _Writer:
    try:
        return _WRITERS[fmt]
    except KeyError:
        raise InvalidSettings(
            f"Unknown export format {fmt!r}; choose one of: {', '.join(FORMATS)}."
        ) from None


def export(
    sentences: Sequence[OutputSentence],
    fmt: str,
    out: BinaryIO,
    meta: Mapping[str, Any] | None = None,
) -> None:
    """Write `sentences`, numbered from 1 in the given order, to `out` in format `fmt`."""
    _writer(fmt)(sentences, out, meta or {})


def export_to_path(
    sentences: Sequence[OutputSentence],
    fmt: str,
    path: str | PathLike[str],
    meta: Mapping[str, Any] | None = None,
) -> None:
    """Write `sentences` to the file at `path` in format `fmt` (see `export`)."""
    writer = _writer(fmt)  # check first so a bad format leaves no empty file behind
    with open(path, "wb") as out:
        writer(sentences, out, meta or {})
