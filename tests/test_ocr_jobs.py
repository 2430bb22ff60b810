"""Scanned books through the HTTP API with real workers (docs/ocr.md, issue 4/7).

A 120-page image-only book, made from pages of a corpus novel rendered at 150 dpi, goes
through upload, preflight, job, progress and download on PostgreSQL and Redis with a real
Celery worker: progress moves page by page, the charge is the documented OCR price, a
cancel stops OCR within one page, and a pool process SIGKILLed mid-OCR loses nothing (the
result is byte-identical to an undisturbed run). A scan that gives no text fails with
`no_text` at no cost; a book with blank scanned pages is charged for its pages with text
only. Without Tesseract, a scan is refused at upload and a job that asks for OCR at
creation, before any credit is taken, and /ready says so.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytesseract
import pytest
import redis

from databases import check_postgres, check_redis, fresh_postgres_database
from folio.models import ChunkStatus, JobChunk
from folio.pipeline.model import ProcessSettings
from folio.pipeline.runner import run_document
from folio.pipeline.sources.pdf import ocr
from quality import ngram_overlap
from scans import assemble, blank_scan, image_pdf
from test_fanout import chunks, ledger, redis_url
from test_recovery import pool_children
from workers import Stack, running_stack, stack_environ, wait_for
from workers import StackUser as User

pytestmark = pytest.mark.corpus
# Broker and results share one Redis database that no other test module uses.
REDIS_DB = 7
NOVEL = "book_verne_capitaine15ans.pdf"
FIRST, PAGES, DPI = 21, 120, 150
OCR_PRICE = 2  # FOLIO_OCR_CREDITS_PER_PAGE's default, on top of the page's 1 credit


@pytest.fixture(scope="module")
def scanned_book(corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Pages 21-140 of the Verne novel as a 120-page image-only PDF (150 dpi, greyscale)."""
    folder = tmp_path_factory.mktemp("scans")
    numbers = list(range(FIRST, FIRST + PAGES))
    return image_pdf(corpus_dir / "pdfs" / NOVEL, numbers, folder / "verne-scan.pdf", dpi=DPI)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, tesseract: None) -> Iterator[Stack]:
    """PostgreSQL, Redis, one worker with two slots and beat, shared by the module's tests."""
    check_postgres()
    check_redis()
    redis.Redis.from_url(redis_url(REDIS_DB)).flushdb()
    folder = tmp_path_factory.mktemp("stack")
    with fresh_postgres_database() as url:
        environ = stack_environ(folder, url, redis_url(REDIS_DB), redis_url(REDIS_DB))
        with running_stack(environ, folder) as running:
            running.start_worker("w1", concurrency=2)
            running.start_beat()
            yield running


def balance(user: User) -> int:
    return int(user.client.get("/api/v1/auth/me", headers=user.headers).get_json()["balance"])


def price(rows: list[JobChunk]) -> int:
    """The documented price of a job's done chunks: 1 per page with text, 2 more if OCRed."""
    done = [row for row in rows if row.status == ChunkStatus.DONE]
    pages = sum(
        row.owned_last_page
        - row.owned_first_page
        + 1
        - len(row.empty_pages or [])
        - len(row.unreadable_pages or [])
        for row in done
    )
    return pages + OCR_PRICE * sum(len(row.ocr_pages or []) for row in done)


def test_a_scanned_book_through_the_api(
    corpus_dir: Path, tmp_path: Path, scanned_book: Path, stack: Stack
) -> None:
    app = stack.app()
    user = User(app, "scans@example.com", credits=2000)
    preflight = user.upload(scanned_book)
    assert preflight["ocr"]["pages"] == PAGES
    assert preflight["ocr"]["credits"] == PAGES * OCR_PRICE
    assert preflight["ocr"]["available"] is True
    assert preflight["estimated_credits"] == PAGES * (1 + OCR_PRICE)
    # At most FOLIO_OCR_CHUNK_PAGES (10) pages OCR reads in one chunk.
    assert preflight["chunk_plan"]["count"] == PAGES // 10
    assert any("read by OCR" in warning for warning in preflight["warnings"])

    started = time.monotonic()
    job_id = user.start(preflight["id"])
    seen = user.wait(job_id, 600)
    seconds = time.monotonic() - started
    final = seen[-1]
    assert final["status"] == "completed", stack.log_tail()
    rows = chunks(app, job_id)
    pages_seen = [state["current_page"] or 0 for state in seen]
    print(
        f"{PAGES} scanned pages in {seconds:.1f} s, OCR {final['ocr_seconds']:.1f} s in "
        f"{len(rows)} chunks; {len(set(pages_seen))} distinct page counts seen while polling"
    )
    # Progress per page: far more steps than chunks, and never backwards.
    assert len(set(pages_seen)) > 3 * len(rows)
    assert pages_seen == sorted(pages_seen)
    assert final["ocr_pages"] == PAGES and final["ocr_seconds"] > 0
    assert all(row.ocr_seconds and row.ocr_seconds > 0 for row in rows)
    assert sum(len(row.ocr_pages or []) for row in rows) == PAGES
    assert final["charged_credits"] == price(rows) == PAGES * (1 + OCR_PRICE)
    assert ledger(app, job_id) == [("reserve", 0, -360), ("settle", 0, 0)]

    # The sentences of the same pages read from their text layer, within the OCR error.
    reference = user.download(job_id)
    found = [json.loads(line)["text"] for line in reference.decode().splitlines() if line]
    numbers = list(range(FIRST, FIRST + PAGES))
    text_book = assemble([(corpus_dir / "pdfs" / NOVEL, numbers)], tmp_path / "text.pdf")
    expected = [row.text for row in run_document(text_book, ProcessSettings()).sentences]
    recall = ngram_overlap(" ".join(expected), found).recall
    print(f"8-gram recall against the text layer's sentences: {recall:.4f}")
    assert recall >= 0.97, recall

    # A pool process SIGKILLed mid-OCR: the chunk is run again and nothing is lost.
    second = user.upload(scanned_book)
    job_id = user.start(second["id"])
    wait_for(
        lambda: any(
            row.status == ChunkStatus.RUNNING and row.pages_done >= 2 for row in chunks(app, job_id)
        ),
        120,
        "a chunk two pages into its OCR",
    )
    worker = next(p for p in stack.processes if "w1" in str(p.args))
    os.kill(pool_children(worker)[0], signal.SIGKILL)
    final = user.wait(job_id, 600)[-1]
    assert final["status"] == "completed", stack.log_tail()
    assert max(row.attempts for row in chunks(app, job_id)) >= 2
    assert final["charged_credits"] == PAGES * (1 + OCR_PRICE)
    assert user.download(job_id) == reference


def test_a_cancel_stops_ocr_within_one_page(scanned_book: Path, stack: Stack) -> None:
    app = stack.app()
    user = User(app, "cancel@example.com", credits=2000)
    job_id = user.start(user.upload(scanned_book)["id"])
    wait_for(lambda: (user.job(job_id)["current_page"] or 0) >= 4, 120, "four pages read")
    cancel = user.client.post(f"/api/v1/jobs/{job_id}/cancel", headers=user.headers)
    assert cancel.status_code == 202
    asked = time.monotonic()
    at_cancel = {row.index: row.pages_done for row in chunks(app, job_id)}
    final = user.wait(job_id, 60)[-1]
    took = time.monotonic() - asked
    rows = chunks(app, job_id)
    after = {row.index: row.pages_done - at_cancel[row.index] for row in rows}
    print(f"cancelled {took:.1f} s after the cancel; pages read after it: {after}")
    assert final["status"] == "cancelled"
    assert all(extra <= 1 for extra in after.values()), after
    assert final["charged_credits"] == price(rows) < PAGES * (1 + OCR_PRICE)
    assert balance(user) == 2000 - final["charged_credits"]


def test_pages_without_text_are_not_charged(corpus_dir: Path, tmp_path: Path, stack: Stack) -> None:
    app = stack.app()
    user = User(app, "blank@example.com", credits=100)
    # A scan of three white sheets: OCR reads nothing.
    blank = blank_scan(tmp_path / "blank.pdf", pages=3)
    preflight = user.upload(blank)
    assert preflight["ocr"]["pages"] == 3
    job_id = user.start(preflight["id"])
    final = user.wait(job_id, 120)[-1]
    assert final["status"] == "failed", stack.log_tail()
    assert final["error_code"] == "no_text"
    assert final["charged_credits"] == 0 and final["sentence_count"] == 0
    assert balance(user) == 100
    assert ledger(app, job_id) == [("reserve", 0, -9), ("settle", 0, 9)]

    # Four text pages, two white sheets and one scanned page with text.
    novel = corpus_dir / "pdfs" / NOVEL
    scan = image_pdf(novel, [34], tmp_path / "scan.pdf", dpi=DPI)
    mixed = assemble(
        [(novel, [30, 31]), (blank, [1, 2]), (novel, [32, 33]), (scan, [1])],
        tmp_path / "mixed.pdf",
    )
    preflight = user.upload(mixed)
    assert preflight["pages_scanned"] == [3, 4, 7]
    assert preflight["estimated_credits"] == 7 + 3 * OCR_PRICE
    job_id = user.start(preflight["id"])
    final = user.wait(job_id, 120)[-1]
    assert final["status"] == "completed", stack.log_tail()
    [row] = chunks(app, job_id)
    assert row.empty_pages == [3, 4] and row.ocr_pages == [7]
    assert final["charged_credits"] == 5 + OCR_PRICE == price([row])
    assert balance(user) == 100 - final["charged_credits"]


@pytest.fixture
def without_tesseract(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process's Tesseract gone (the workers keep theirs)."""
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")
    monkeypatch.setattr(ocr, "_found_languages", None)
    yield
    ocr._found_languages = None


def test_without_tesseract_scans_are_refused_before_any_charge(
    corpus_dir: Path, tmp_path: Path, stack: Stack, without_tesseract: None
) -> None:
    app = stack.app()
    user = User(app, "no-ocr@example.com", credits=100)
    novel = corpus_dir / "pdfs" / NOVEL
    scan = image_pdf(novel, [40, 41], tmp_path / "scan.pdf", dpi=DPI)
    folder = stack.data_dir / "uploads"
    stored = set(folder.iterdir()) if folder.is_dir() else set()
    with scan.open("rb") as handle:
        refused = user.client.post(
            "/api/v1/uploads",
            data={"file": (handle, "scan.pdf", "application/pdf")},
            headers=user.headers,
            content_type="multipart/form-data",
        )
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["code"] == "ocr_unavailable"
    assert "Tesseract is not installed" in error["message"]
    assert (set(folder.iterdir()) if folder.is_dir() else set()) == stored  # nothing kept

    # A mixed book is kept (its text pages can be read without OCR) ...
    mixed = assemble([(novel, [40]), (scan, [2])], tmp_path / "mixed.pdf")
    preflight = user.upload(mixed)
    assert preflight["ocr"]["available"] is False and preflight["pages_scanned"] == [2]
    # ... but a job that asks for OCR on it is refused before anything is reserved.
    refused = user.client.post(
        "/api/v1/jobs",
        json={"upload_id": preflight["id"], "settings": {"ocr": "auto"}},
        headers=user.headers,
    )
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "ocr_unavailable"
    assert balance(user) == 100
    job_id = user.start(preflight["id"], ocr="never")
    final = user.wait(job_id, 120)[-1]
    assert final["status"] == "completed" and final["charged_credits"] == 1

    ready = user.client.get("/ready")
    ocr_state = ready.get_json()["components"]["ocr"]
    assert ocr_state["status"] == "error" and "Tesseract" in ocr_state["reason"]
    assert ready.status_code == 200, ready.get_json()  # OCR is reported, not required
