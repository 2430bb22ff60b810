"""The `folio process` command on small generated PDFs."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from pdfmaker import book_pages, make_pdf

FOLIO = str(Path(sys.executable).with_name("folio"))
TEXT = [
    [
        [
            "Le 15 septembre 1840, vers six heures du matin, la Ville-de-Montereau, près de",
            "partir, fumait à gros tourbillons devant le quai Saint-Bernard.",
        ],
        ["Il disparut."],
    ],
    [
        [
            "Des gens arrivaient hors d’haleine ; des barriques, des câbles, des corbeilles de",
            "linge gênaient la circulation ; les matelots ne répondaient à personne.",
        ]
    ],
    [["« Si Monsieur voulait descendre ? Mademoiselle pleure. »"]],
]


@pytest.fixture
def book(tmp_path: Path) -> Path:
    return make_pdf(tmp_path / "livre.pdf", book_pages(TEXT))


def folio(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([FOLIO, *map(str, args)], capture_output=True, text=True, timeout=120)


def test_jsonl_has_text_page_and_source_id(book: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    done = folio("process", book, "--out", out, "--chunk-pages", "1", "--workers", "2")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    # No clean cut shortens the first sentence: it stays whole, flagged, with reading units.
    assert rows[0]["text"].startswith("Le 15 septembre 1840, vers six heures du matin,")
    assert rows[0]["over_limit"] and len(rows[0]["units"]) > 1
    assert {row["page"] for row in rows} == {1, 2, 3}
    assert all(row["words"] <= 8 or row["over_limit"] for row in rows)
    assert all(row["source_text"] for row in rows)
    assert [row["index"] for row in rows] == list(range(1, len(rows) + 1))
    assert rows[-1]["text"] == "Mademoiselle pleure. »"
    assert all({"text", "page", "source_id"} <= row.keys() for row in rows)
    assert "sentences from" in done.stderr  # the summary line


def test_format_follows_the_extension_unless_given(book: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    assert folio("process", book, "--out", out, "--limit", "30").returncode == 0
    rows = list(csv.DictReader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert [row["text"] for row in rows[:2]] == [
        "Le 15 septembre 1840, vers six heures du matin, la Ville-de-Montereau, près de partir, "
        "fumait à gros tourbillons devant le quai Saint-Bernard.",
        "Il disparut.",
    ]
    assert rows[1]["page"] == "1"
    forced = tmp_path / "out.data"
    assert folio("process", book, "--out", forced, "--format", "txt").returncode == 0
    assert forced.read_text(encoding="utf-8").splitlines()[1] == "Il disparut."


def test_chunking_does_not_change_the_output(book: Path, tmp_path: Path) -> None:
    one, many = tmp_path / "one.jsonl", tmp_path / "many.jsonl"
    assert folio("process", book, "--out", one, "--chunk-pages", "10").returncode == 0
    assert (
        folio("process", book, "--out", many, "--chunk-pages", "1", "--overlap", "2").returncode
        == 0
    )
    assert one.read_bytes() == many.read_bytes()


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--limit", "8", "--min-words", "5"], "invalid_settings"),
        (["--password", "secret"], None),  # a password on a plain PDF is harmless
    ],
)
def test_settings_errors(book: Path, tmp_path: Path, args: list[str], code: str | None) -> None:
    done = folio("process", book, "--out", tmp_path / "o.jsonl", *args)
    if code is None:
        assert done.returncode == 0, done.stderr
    else:
        assert done.returncode == 2
        assert done.stderr.startswith(f"error: {code}: ")


def test_missing_file(tmp_path: Path) -> None:
    done = folio("process", tmp_path / "absent.pdf", "--out", tmp_path / "o.jsonl")
    assert done.returncode == 2
    assert done.stderr == f"error: file_not_found: No such file: {tmp_path / 'absent.pdf'}\n"
