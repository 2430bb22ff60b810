"""Every bad input of the corpus gets its own clear error, through the CLI and the Python API."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from books import processed
from folio.pipeline import errors
from folio.pipeline.model import ProcessSettings
from folio.pipeline.runner import run_document
from folio.pipeline.sources.pdf.inspect import Limits, inspect_pdf

pytestmark = pytest.mark.corpus
FOLIO = str(Path(sys.executable).with_name("folio"))

BAD = [
    ("empty_0_bytes.pdf", errors.EmptyFile),
    ("not_a_pdf_text.pdf", errors.NotAPdf),
    ("not_a_pdf_png.pdf", errors.NotAPdf),
    ("truncated_half.pdf", errors.DamagedPdf),
    # pdfium cannot rebuild a missing cross-reference table: refused cleanly, never a crash.
    ("truncated_tail.pdf", errors.DamagedPdf),
    ("zero_pages.pdf", errors.NoPages),
    ("encrypted_userpw_secret.pdf", errors.PasswordRequired),
    ("encrypted_rc4_40_userpw_secret.pdf", errors.PasswordRequired),
]


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [FOLIO, "process", *map(str, args)], capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize(("name", "error"), BAD)
def test_python_api_raises_the_typed_error(
    bad_dir: Path, name: str, error: type[errors.InputError]
) -> None:
    with pytest.raises(error) as caught:
        inspect_pdf(bad_dir / name)
    assert caught.value.code == error.code
    assert caught.value.message


@pytest.mark.parametrize(("name", "error"), BAD)
def test_cli_exits_2_with_one_error_line(
    bad_dir: Path, tmp_path: Path, name: str, error: type[errors.InputError]
) -> None:
    out = tmp_path / "out.jsonl"
    done = run_cli(bad_dir / name, "--out", out)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"error: {error.code}: ")
    assert not out.exists()


@pytest.mark.parametrize(
    "name", ["encrypted_userpw_secret.pdf", "encrypted_rc4_40_userpw_secret.pdf"]
)
def test_wrong_password(bad_dir: Path, name: str) -> None:
    with pytest.raises(errors.WrongPassword):
        inspect_pdf(bad_dir / name, password="not-the-password")
    done = run_cli(bad_dir / name, "--out", "/dev/null", "--password", "nope")
    assert done.returncode == 2
    assert done.stderr.startswith("error: wrong_password: ")


@pytest.mark.parametrize(
    ("name", "password"),
    [
        ("encrypted_userpw_secret.pdf", "secret"),
        ("encrypted_rc4_40_userpw_secret.pdf", "secret"),
        ("encrypted_ownerpw_only.pdf", None),
    ],
)
def test_encrypted_books_process_like_the_plain_one(
    corpus_dir: Path, bad_dir: Path, name: str, password: str | None
) -> None:
    result = run_document(
        bad_dir / name, ProcessSettings(), password=password, workers=2, chunk_pages=10_000
    )
    assert result.info.encrypted
    assert result.sentences == processed(corpus_dir, "flaubert").sentences


def test_owner_restriction_is_recorded_not_refused(bad_dir: Path) -> None:
    info = inspect_pdf(bad_dir / "encrypted_ownerpw_only.pdf")
    assert info.extraction_restricted
    assert any("restricted" in warning for warning in info.warnings)


def test_cli_processes_with_password(bad_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    done = run_cli(bad_dir / "encrypted_userpw_secret.pdf", "--out", out, "--password", "secret")
    assert done.returncode == 0, done.stderr
    # The whole Flaubert novel: its 10,000 source sentences, some of them cut into more rows.
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len({row["source_id"] for row in rows}) > 9_000
    assert len(rows) > 12_000


def test_too_many_pages_and_too_large(corpus_dir: Path) -> None:
    book = corpus_dir / "pdfs" / "book_feval_vampire.pdf"
    with pytest.raises(errors.TooManyPages) as pages:
        inspect_pdf(book, limits=Limits(max_pages=300))
    assert "308 pages" in pages.value.message
    with pytest.raises(errors.FileTooLarge) as size:
        inspect_pdf(book, limits=Limits(max_bytes=500_000))
    assert size.value.code == "file_too_large"
