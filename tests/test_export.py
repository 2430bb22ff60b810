"""Stage 8, export: every format reads back to exactly what went in."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from folio.pipeline.errors import InvalidSettings
from folio.pipeline.export import (
    EXTENSIONS,
    FORMATS,
    MEDIA_TYPES,
    TABLE_COLUMNS,
    export,
    export_to_path,
)
from folio.pipeline.model import OutputSentence

ANKI_HEADER = [
    "#separator:tab",
    "#html:false",
    "#notetype:Basic",
    "#columns:Front\tBack\tTags",
    "#tags column:3",
]

SENTENCES = [
    OutputSentence("« Aujourd’hui, maman est morte. »", "00001:000000", 1, words=5),
    OutputSentence(
        'Il a dit "non" — sans un mot de plus.',
        "00001:000042",
        1,
        part=1,
        words=9,
        split=True,
    ),
    OutputSentence("Le cœur\tet l’œil,\nà la ligne.", "00012:000007", 12, words=7, cut="hard"),
    OutputSentence('"Entrez", dit-elle.', "00013:000000", 13, words=3, processor="gemini"),
    OutputSentence("=SUM(A1) n’est pas une formule.", "00014:000100", 14, words=5, repaired=True),
    OutputSentence("# Chapitre premier", "00015:000000", 15, words=3, heading=True),
]
# What a line-based format must show for each text: tab and newline become single spaces.
ONE_LINE = [s.text.replace("\t", " ").replace("\n", " ") for s in SENTENCES]
META = {"title": "L’Étranger", "author": "Albert Camus", "limit": 8}


def run(fmt: str, sentences: list[OutputSentence] = SENTENCES, meta: Any = None) -> bytes:
    out = io.BytesIO()
    export(sentences, fmt, out, meta)
    return out.getvalue()


def expected_record(index: int, s: OutputSentence) -> dict[str, Any]:
    return {"index": index, **s.to_dict(), "units": list(s.units)}


def unquote(field: str) -> str:
    return field[1:-1].replace('""', '"') if field.startswith('"') else field


def test_tables_describe_every_format() -> None:
    assert set(MEDIA_TYPES) == set(EXTENSIONS) == set(FORMATS)
    assert MEDIA_TYPES["xlsx"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert EXTENSIONS["anki"] == "tsv"


def test_jsonl_round_trips() -> None:
    data = run("jsonl")
    assert b"\\u" not in data  # accents are written as UTF-8, not escaped
    lines = data.decode("utf-8").split("\n")
    assert lines[-1] == ""
    records = [json.loads(line) for line in lines[:-1]]
    assert records == [expected_record(i, s) for i, s in enumerate(SENTENCES, 1)]
    assert list(records[0]) == [
        "index",
        "text",
        "page",
        "source_id",
        "part",
        "words",
        "heading",
        "processor",
        "split",
        "cut",
        "repaired",
        "over_limit",
        "units",
        "source_text",
    ]


def test_json_round_trips_with_meta() -> None:
    document = json.loads(run("json", meta=META).decode("utf-8"))
    assert document["meta"] == META
    assert document["count"] == len(SENTENCES)
    assert document["sentences"] == [expected_record(i, s) for i, s in enumerate(SENTENCES, 1)]


def in_a_spreadsheet(text: str) -> str:
    """What CSV and XLSX show for `text`: a quote before what a spreadsheet would run (OWASP)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def test_csv_has_bom_and_round_trips_exactly_but_for_formulas() -> None:
    data = run("csv")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == list(TABLE_COLUMNS)
    assert rows[1:] == [
        [
            str(i),
            in_a_spreadsheet(s.text),
            str(s.page),
            s.source_id,
            str(s.words),
            str(s.over_limit).lower(),
            in_a_spreadsheet(s.source_text),
        ]
        for i, s in enumerate(SENTENCES, 1)
    ]
    assert rows[5][1] == "'=SUM(A1) n’est pas une formule."


# What a spreadsheet would run as a formula (OWASP's list), then what it must leave alone.
FORMULAS = ["=1+1", "+33 1 23", "-- Entrez, dit-il.", "@SUM(A1)", "\tTab", "\rCR"]
INERT = ["— Entrez, dit-il.", "– Oui.", "'déjà cité", " =espace d’abord", "Fin = début."]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_spreadsheet_cells_never_start_a_formula(fmt: str) -> None:
    sentences = [
        OutputSentence(text, f"00001:{n:06d}", 1) for n, text in enumerate(FORMULAS + INERT)
    ]
    meta = {"title": '=HYPERLINK("http://evil.example")', "author": "-Anonyme", "limit": 8}
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(run("csv", sentences).decode("utf-8-sig"), newline="")))
        texts = [row[1] for row in rows[1:]]
    else:
        book = openpyxl.load_workbook(io.BytesIO(run("xlsx", sentences, meta)))
        texts = [row[1] for row in book["Sentences"].iter_rows(min_row=2, values_only=True)]
        about = dict(book["About"].iter_rows(values_only=True))
        assert about == {
            "title": '\'=HYPERLINK("http://evil.example")',
            "author": "'-Anonyme",
            "limit": 8,
        }
    expected = ["'" + text for text in FORMULAS] + INERT
    if fmt == "xlsx":  # XML reads a raw carriage return back as a line feed
        expected = [text.replace("\r", "\n") for text in expected]
    assert texts == expected


@pytest.mark.parametrize("fmt", ["jsonl", "json", "txt"])
def test_other_formats_keep_formulas_exact(fmt: str) -> None:
    sentences = [OutputSentence(text, f"00001:{n:06d}", 1) for n, text in enumerate(FORMULAS)]
    data = run(fmt, sentences).decode("utf-8")
    if fmt == "jsonl":
        texts = [json.loads(line)["text"] for line in data.splitlines()]
    elif fmt == "json":
        texts = [record["text"] for record in json.loads(data)["sentences"]]
    else:
        texts = data.split("\n")[:-1]
    # Text is one line per sentence: its tab and carriage return are spaces, nothing more.
    one_line = [text.replace("\t", " ").replace("\r", " ") for text in FORMULAS]
    assert texts == (one_line if fmt == "txt" else FORMULAS)


def test_xlsx_round_trips_with_about_sheet() -> None:
    book = openpyxl.load_workbook(io.BytesIO(run("xlsx", meta=META)))
    assert book.sheetnames == ["Sentences", "About"]
    sheet = book["Sentences"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == TABLE_COLUMNS
    assert rows[1:] == [
        (
            i,
            in_a_spreadsheet(s.text),
            s.page,
            s.source_id,
            s.words,
            s.over_limit,
            in_a_spreadsheet(s.source_text) or None,
        )
        for i, s in enumerate(SENTENCES, 1)
    ]
    assert sheet.cell(row=6, column=2).data_type == "s"  # "=SUM(A1)..." stays text
    assert sheet.cell(row=6, column=2).value == "'=SUM(A1) n’est pas une formule."
    assert sheet.column_dimensions["B"].width > sheet.column_dimensions["A"].width
    about = dict(book["About"].iter_rows(values_only=True))
    assert about == META


def test_xlsx_without_meta_has_no_about_sheet() -> None:
    book = openpyxl.load_workbook(io.BytesIO(run("xlsx")))
    assert book.sheetnames == ["Sentences"]


def test_txt_is_one_sentence_per_line() -> None:
    data = run("txt")
    assert data.endswith(b"\n")
    assert data.decode("utf-8").split("\n") == [*ONE_LINE, ""]


def test_anki_header_and_notes() -> None:
    lines = run("anki", meta=META).decode("utf-8").split("\n")
    assert lines[: len(ANKI_HEADER)] == ANKI_HEADER
    assert lines[-1] == ""
    notes = [line.split("\t") for line in lines[len(ANKI_HEADER) : -1]]
    assert all(len(note) == 3 for note in notes)
    assert [unquote(front) for front, _, _ in notes] == ONE_LINE
    assert [back for _, back, _ in notes] == [f"L’Étranger, p. {s.page}" for s in SENTENCES]
    assert {tags for _, _, tags in notes} == {"folio"}


def test_anki_quotes_fields_its_csv_reader_would_misread() -> None:
    notes = run("anki").decode("utf-8").split("\n")[len(ANKI_HEADER) : -1]
    fronts = [note.split("\t")[0] for note in notes]
    assert fronts[1] == '"Il a dit ""non"" — sans un mot de plus."'
    assert fronts[3] == '"""Entrez"", dit-elle."'
    assert fronts[4] == "=SUM(A1) n’est pas une formule."
    assert fronts[5] == '"# Chapitre premier"'
    assert notes[0] == "« Aujourd’hui, maman est morte. »\tp. 1\tfolio"


def test_unknown_format_lists_the_valid_ones() -> None:
    with pytest.raises(InvalidSettings) as caught:
        run("docx")
    assert all(fmt in caught.value.message for fmt in FORMATS)


def test_unknown_format_creates_no_file(tmp_path: Path) -> None:
    target = tmp_path / "out.docx"
    with pytest.raises(InvalidSettings):
        export_to_path(SENTENCES, "docx", target)
    assert not target.exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_sentences_gives_a_valid_empty_file(fmt: str) -> None:
    data = run(fmt, [])
    if fmt == "jsonl" or fmt == "txt":
        assert data == b""
    elif fmt == "json":
        assert json.loads(data) == {"meta": {}, "count": 0, "sentences": []}
    elif fmt == "csv":
        assert data == b"\xef\xbb\xbf" + ",".join(TABLE_COLUMNS).encode() + b"\r\n"
    elif fmt == "xlsx":
        rows = list(openpyxl.load_workbook(io.BytesIO(data))["Sentences"].values)
        assert rows == [TABLE_COLUMNS]
    else:
        assert data.decode("utf-8").split("\n") == [*ANKI_HEADER, ""]


@pytest.mark.parametrize("fmt", [fmt for fmt in FORMATS if fmt != "xlsx"])
def test_export_to_path_writes_the_same_bytes(fmt: str, tmp_path: Path) -> None:
    target = tmp_path / f"out.{EXTENSIONS[fmt]}"
    export_to_path(SENTENCES, fmt, target, META)
    assert target.read_bytes() == run(fmt, meta=META)


def test_export_to_path_writes_the_same_workbook(tmp_path: Path) -> None:
    # A zip stamps each member with the time it was written, so compare the content.
    target = tmp_path / "out.xlsx"
    export_to_path(SENTENCES, "xlsx", target, META)
    from_path = openpyxl.load_workbook(target)
    in_memory = openpyxl.load_workbook(io.BytesIO(run("xlsx", meta=META)))
    for name in ("Sentences", "About"):
        assert list(from_path[name].values) == list(in_memory[name].values)
