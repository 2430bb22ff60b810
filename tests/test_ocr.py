"""OCR of scanned pages (docs/ocr.md): the corpus scans against the book's text layer.

The scans are pages 10-19 of the Flaubert book as images (clean 300 dpi, noisy, 150 dpi);
each is OCRed once per session, and compared with the text layer of the same pages: by
character error rate (typographic quotes and white space folded) and by the word 8-gram
recall of the sentences. A mixed book (text pages and image pages interleaved) gives the
sentences of the all-text book, in order. The CLI's --ocr and --lang and the two refusals
(`ocr_unavailable`, `no_text`) run the `folio` command.
"""

from __future__ import annotations

import difflib
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image

from folio.pipeline.budgets import Budgets
from folio.pipeline.errors import InvalidSettings
from folio.pipeline.model import ChunkPlan, Furniture, ProcessSettings
from folio.pipeline.plan import own
from folio.pipeline.processors import ProcessContext, processor_for
from folio.pipeline.runner import run_document
from folio.pipeline.segment import segment
from folio.pipeline.sources.pdf.guarded import extract_pages
from folio.pipeline.sources.pdf.inspect import learn_furniture
from folio.pipeline.sources.pdf.layout import Line
from folio.pipeline.sources.pdf.ocr import NO_OCR, OcrOptions, tsv_lines, wants_ocr
from quality import character_error_rate, fold, ngram_overlap
from scans import image_pdf

FOLIO = str(Path(sys.executable).with_name("folio"))
BOOK = "book_flaubert_education.pdf"
FIRST, LAST = 10, 19  # the book's pages that the scans hold
# Scan file → the most character errors per character of text allowed.
SCANS = {
    "scan_clean_flaubert_p10-19.pdf": 0.005,
    "scan_noisy_flaubert_p10-19.pdf": 0.005,
    "scan_hard150dpi_flaubert_p10-19.pdf": 0.015,
}
MIN_RECALL = 0.97


@dataclass(frozen=True)
class Run:
    """One read of pages: the extracted text, the output sentences, the seconds it took."""

    text: str
    sentences: list[str]
    seconds: float


def read(path: Path, first: int, last: int, furniture: Furniture, ocr: OcrOptions) -> Run:
    started = time.perf_counter()
    extracted = extract_pages(path, first, last, furniture, budgets=Budgets(), ocr=ocr)
    seconds = time.perf_counter() - started
    chunk = ChunkPlan(0, first, last, first, last)
    settings = ProcessSettings()
    sentences = own(chunk, segment(extracted))
    output = processor_for(settings, {}).process(sentences, settings, ProcessContext())
    return Run(extracted.text, [row.text for row in output.sentences], seconds)


@pytest.fixture(scope="session")
def furniture(corpus_dir: Path) -> Furniture:
    """The running heads of the book, learnt from its text layer."""
    return learn_furniture(corpus_dir / "pdfs" / BOOK)


@pytest.fixture(scope="session")
def text_run(corpus_dir: Path, furniture: Furniture) -> Run:
    """Pages 10-19 of the book read from their text layer: the reference."""
    return read(corpus_dir / "pdfs" / BOOK, FIRST, LAST, furniture, NO_OCR)


@pytest.fixture(scope="session")
def scan_runs(corpus_dir: Path, furniture: Furniture, tesseract: None) -> dict[str, Run]:
    """Each scan OCRed once, two at a time (each read runs in its own sandbox process)."""
    paths = {name: corpus_dir / "pdfs" / name for name in SCANS}
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            name: pool.submit(extract_pages, path, 1, 10, furniture, None, Budgets(), OcrOptions())
            for name, path in paths.items()
        }
        started = time.perf_counter()
        extracted = {name: future.result() for name, future in futures.items()}
        wall = time.perf_counter() - started
    settings = ProcessSettings()
    runs: dict[str, Run] = {}
    for name, pages in extracted.items():
        sentences = own(ChunkPlan(0, 1, 10, 1, 10), segment(pages))
        output = processor_for(settings, {}).process(sentences, settings, ProcessContext())
        runs[name] = Run(pages.text, [row.text for row in output.sentences], wall)
    return runs


@pytest.mark.corpus
@pytest.mark.parametrize("name", SCANS)
def test_a_scan_reads_as_its_text_layer(
    name: str, text_run: Run, scan_runs: dict[str, Run]
) -> None:
    run = scan_runs[name]
    cer = character_error_rate(text_run.text, run.text)
    recall = ngram_overlap(" ".join(text_run.sentences), run.sentences).recall
    print(
        f"{name}: CER {cer:.4%} over {len(text_run.text)} characters, "
        f"8-gram recall {recall:.4f}, {len(run.sentences)} rows "
        f"(text layer: {len(text_run.sentences)}); three scans OCRed in {run.seconds:.1f} s"
    )
    assert cer <= SCANS[name]
    assert recall >= MIN_RECALL


@pytest.mark.corpus
def test_a_mixed_book_gives_the_sentences_of_the_text_book(
    corpus_dir: Path, tmp_path: Path, tesseract: None
) -> None:
    book = pdfium.PdfDocument(str(corpus_dir / "pdfs" / BOOK))
    numbers = list(range(FIRST, LAST + 1))
    scanned = numbers[1::2]  # 11, 13, 15, 17, 19 become images
    scans = image_pdf(corpus_dir / "pdfs" / BOOK, scanned, tmp_path / "images.pdf")
    images = pdfium.PdfDocument(str(scans))
    text, mixed = pdfium.PdfDocument.new(), pdfium.PdfDocument.new()
    text.import_pages(book, [n - 1 for n in numbers])
    for number in numbers:
        if number in scanned:
            mixed.import_pages(images, [scanned.index(number)])
        else:
            mixed.import_pages(book, [number - 1])
    text.save(str(tmp_path / "text.pdf"))
    mixed.save(str(tmp_path / "mixed.pdf"))
    settings = ProcessSettings()
    started = time.perf_counter()
    from_text = run_document(tmp_path / "text.pdf", settings)
    from_mixed = run_document(tmp_path / "mixed.pdf", settings)
    seconds = time.perf_counter() - started
    assert from_mixed.info.pages_without_text == (2, 4, 6, 8, 10)
    assert all(not result.pages_without_text for result in from_mixed.chunks)
    expected = [row.text for row in from_text.sentences]
    found = [row.text for row in from_mixed.sentences]
    # In reading order: the words matched in order (difflib's blocks are monotonic).
    words_expected, words_found = fold(" ".join(expected)), fold(" ".join(found))
    matcher = difflib.SequenceMatcher(None, words_expected, words_found, autojunk=False)
    in_order = sum(block.size for block in matcher.get_matching_blocks()) / len(words_expected)
    recall = ngram_overlap(" ".join(expected), found).recall
    print(
        f"mixed book: {len(found)} rows (text book {len(expected)}), words in order "
        f"{in_order:.4f}, 8-gram recall {recall:.4f}; both runs {seconds:.1f} s"
    )
    assert in_order >= MIN_RECALL
    assert recall >= MIN_RECALL
    # Chunk invariance with OCR: chunks of 3 pages (each reading one more on either side,
    # scans among them) give exactly the rows of the one chunk above.
    chunked = run_document(tmp_path / "mixed.pdf", settings, chunk_pages=3, workers=2)
    assert len(chunked.chunks) == 4 and chunked.ocr_pages == len(scanned)
    assert [row.to_dict() for row in chunked.sentences] == [
        row.to_dict() for row in from_mixed.sentences
    ]


def folio(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [FOLIO, *map(str, args)], capture_output=True, text=True, timeout=120, env=env
    )


def _one_page(corpus_dir: Path, number: int, path: Path) -> Path:
    book = pdfium.PdfDocument(str(corpus_dir / "pdfs" / BOOK))
    single = pdfium.PdfDocument.new()
    single.import_pages(book, [number - 1])
    single.save(str(path))
    return path


@pytest.mark.corpus
def test_ocr_always_reads_a_text_page_by_ocr(
    corpus_dir: Path, tmp_path: Path, tesseract: None
) -> None:
    page = _one_page(corpus_dir, 12, tmp_path / "page.pdf")
    by_text, by_ocr = tmp_path / "text.jsonl", tmp_path / "ocr.jsonl"
    # --limit 60: no sentence is cut, so neither run loads the French parser (seconds).
    done = folio("process", page, "--out", by_text, "--ocr", "never", "--limit", "60")
    assert done.returncode == 0, done.stderr
    done = folio("process", page, "--out", by_ocr, "--ocr", "always", "--limit", "60")
    assert done.returncode == 0, done.stderr
    rows = [
        [json.loads(line)["text"] for line in out.read_text(encoding="utf-8").splitlines()]
        for out in (by_text, by_ocr)
    ]
    # Read by OCR: the same sentences but for a letter here and there (`sonnaïent`), and
    # straight apostrophes where the text layer has `’`.
    assert rows[0] != rows[1]
    assert character_error_rate(" ".join(rows[0]), " ".join(rows[1])) <= 0.005


@pytest.mark.corpus
def test_a_scan_without_ocr_has_no_text(corpus_dir: Path, tmp_path: Path) -> None:
    scan = corpus_dir / "pdfs" / "scan_clean_flaubert_p10-19.pdf"
    done = folio("process", scan, "--out", tmp_path / "out.jsonl", "--ocr", "never")
    assert done.returncode == 2
    assert done.stderr.startswith("error: no_text: "), done.stderr
    assert not (tmp_path / "out.jsonl").exists()


def test_blank_pages_have_no_text(tmp_path: Path) -> None:
    document = pdfium.PdfDocument.new()
    for _ in range(3):
        document.new_page(420, 595)
    document.save(str(tmp_path / "blank.pdf"))
    done = folio("process", tmp_path / "blank.pdf", "--out", tmp_path / "out.jsonl")
    assert done.returncode == 2
    assert done.stderr.startswith("error: no_text: "), done.stderr


@pytest.mark.corpus
def test_a_scan_is_refused_without_tesseract(corpus_dir: Path, tmp_path: Path) -> None:
    scan = corpus_dir / "pdfs" / "scan_hard150dpi_flaubert_p10-19.pdf"
    no_tesseract = {**os.environ, "PATH": str(tmp_path)}  # an empty folder
    done = folio("process", scan, "--out", tmp_path / "out.jsonl", env=no_tesseract)
    assert done.returncode == 2
    assert done.stderr.startswith("error: ocr_unavailable: "), done.stderr
    assert "Tesseract is not installed" in done.stderr


@pytest.mark.corpus
def test_a_scan_is_refused_without_its_language_data(
    corpus_dir: Path, tmp_path: Path, tesseract: None
) -> None:
    scan = corpus_dir / "pdfs" / "scan_hard150dpi_flaubert_p10-19.pdf"
    done = folio("process", scan, "--out", tmp_path / "out.jsonl", "--lang", "fra+xyz")
    assert done.returncode == 2
    assert done.stderr.startswith("error: ocr_unavailable: "), done.stderr
    assert "tesseract-ocr-xyz" in done.stderr


def test_ocr_settings_are_checked(tmp_path: Path) -> None:
    assert ProcessSettings().ocr == "auto" and ProcessSettings().lang == "fra"
    assert ProcessSettings.from_dict({"ocr": "never", "lang": "fra+eng"}).lang == "fra+eng"
    with pytest.raises(InvalidSettings):
        ProcessSettings(ocr="sometimes")
    for lang in ("", "fr", "fra;rm", "fra eng", "../fra", "-l"):
        with pytest.raises(InvalidSettings):
            ProcessSettings(lang=lang)
    done = folio("process", tmp_path / "x.pdf", "--out", tmp_path / "o.jsonl", "--ocr", "maybe")
    assert done.returncode == 2 and "--ocr" in done.stderr
    (tmp_path / "x.pdf").write_bytes(b"%PDF-1.4\n")
    done = folio("process", tmp_path / "x.pdf", "--out", tmp_path / "o.jsonl", "--lang", "f;r")
    assert done.returncode == 2
    assert done.stderr.startswith("error: invalid_settings: "), done.stderr


def test_tesseract_lines_become_layout_lines() -> None:
    """TSV rows (levels 4 and 5) → one Line per Tesseract line, boxes in PDF points."""
    rows = [
        # level, block, par, line, left, top, width, height, text
        (4, 1, 1, 1, 300, 100, 600, 40, ""),
        (5, 1, 1, 1, 300, 100, 250, 40, "Gustave"),
        (5, 1, 1, 1, 600, 100, 300, 40, "Flaubert"),
        (4, 2, 1, 1, 150, 400, 1500, 50, ""),
        (5, 2, 1, 1, 150, 400, 100, 50, "Des"),
        (5, 2, 1, 1, 260, 400, 200, 50, "pro-"),
        (4, 2, 1, 2, 150, 460, 1500, 50, ""),  # a line Tesseract found no word on
        (5, 2, 1, 2, 150, 460, 100, 50, " "),
    ]
    keys = ("level", "block_num", "par_num", "line_num", "left", "top", "width", "height", "text")
    data: dict[str, list[object]] = {key: [row[i] for row in rows] for i, key in enumerate(keys)}
    data["page_num"] = [1] * len(rows)
    lines = tsv_lines(data, scale=300 / 72, page_height=600.0)
    assert [line.text for line in lines] == ["Gustave Flaubert", "Des pro-"]
    head = lines[0]
    assert (head.x0, head.x1) == pytest.approx((72.0, 216.0))
    assert (head.top, head.bottom) == pytest.approx((600 - 24.0, 600 - 33.6))


def test_image_pdf_helper_is_image_only(tmp_path: Path) -> None:
    """The mixed book's image pages have no text layer (what a scanner gives)."""
    source = pdfium.PdfDocument.new()
    source.new_page(200, 300)
    source.save(str(tmp_path / "s.pdf"))
    path = image_pdf(tmp_path / "s.pdf", [1], tmp_path / "i.pdf")
    page = pdfium.PdfDocument(str(path))[0]
    assert page.get_textpage().count_chars() == 0
    assert round(page.get_width()) == 200


def test_a_skewed_scan_has_straight_margins() -> None:
    """Words of a page scanned askew (slope 0.02): lines come out with one left margin."""
    slope, rows = 0.02, []
    for number, (indent, y) in enumerate([(60, 300), (0, 360), (0, 1800)], start=1):
        for index in range(6):
            x = 200 + indent + 150 * index  # the word as printed, before the scanner's skew
            left, top = x - slope * y, y + slope * x  # where the skewed scan shows it
            rows.append((5, 1, 1, number, round(left), round(top), 120, 40, f"mot{index}"))
    keys = ("level", "block_num", "par_num", "line_num", "left", "top", "width", "height", "text")
    data: dict[str, list[object]] = {key: [row[i] for row in rows] for i, key in enumerate(keys)}
    data["page_num"] = [1] * len(rows)
    lines = tsv_lines(data, scale=300 / 72, page_height=600.0)
    indented, first, last = (line.x0 * 300 / 72 for line in lines)
    assert abs(first - last) < 3  # 1,440 pixels apart: 29 pixels of drift without the fix
    assert indented - first == pytest.approx(60, abs=3)
    assert all(line.top - line.bottom == pytest.approx(40 * 72 / 300, abs=1) for line in lines)


def _page_with_image(path: Path, box: tuple[float, float, float, float] | None) -> Path:
    """An A5 page holding one grey image over `box` (x, y, width, height), or nothing."""
    document = pdfium.PdfDocument.new()
    page = document.new_page(420, 595)
    if box is not None:
        image = pdfium.PdfImage.new(document)
        image.set_bitmap(pdfium.PdfBitmap.from_pil(Image.new("L", (100, 140), 200)))
        x, y, width, height = box
        image.set_matrix(pdfium.PdfMatrix().scale(width, height).translate(x, y))
        page.insert_obj(image)
        page.gen_content()
    document.save(str(path))
    return path


@pytest.mark.parametrize(
    ("box", "chars", "mode", "expected"),
    [
        ((0, 0, 420, 595), 0, "auto", True),  # a scan
        ((0, 0, 420, 595), 2, "auto", True),  # a scan with its page number stamped as text
        ((0, 0, 420, 595), 40, "auto", False),  # a text page over a background picture
        ((160, 250, 100, 100), 0, "auto", True),  # no text, a small picture: read it
        ((160, 250, 100, 100), 2, "auto", False),  # a heading (`IV`) over an ornament
        (None, 0, "auto", False),  # a blank page
        ((0, 0, 420, 595), 0, "never", False),
        (None, 40, "always", True),
    ],
)
def test_which_pages_are_ocred(
    tmp_path: Path,
    box: tuple[float, float, float, float] | None,
    chars: int,
    mode: str,
    expected: bool,
) -> None:
    page = pdfium.PdfDocument(str(_page_with_image(tmp_path / "p.pdf", box)))[0]
    lines = [Line("x" * chars, 50, 370, 500, 510)] if chars else None
    assert wants_ocr(page, lines, OcrOptions(mode=mode)) is expected


def test_il_read_as_eleven_is_mended_at_a_sentence_start_only() -> None:
    from folio.pipeline.sources.pdf.ocr import mend_french

    lines = [
        Line("Un chien aboya, au loin. 11 frissonna,", 0, 1, 0, 1),
        Line("11 était 11 heures. Il partit à 11 heures ; 11 Mars.", 0, 1, 0, 1),
        Line("« Oui ! » 11 rit. 11", 0, 1, 0, 1),
    ]
    assert [line.text for line in mend_french(lines)] == [
        "Un chien aboya, au loin. Il frissonna,",
        "11 était 11 heures. Il partit à 11 heures ; 11 Mars.",
        "« Oui ! » Il rit. 11",
    ]
