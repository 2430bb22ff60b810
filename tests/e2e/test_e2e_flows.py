"""What a reader does, in a real Chromium against the real stack on embedded defaults: sign
up, upload the Féval novel, confirm the preflight, watch the progress dialog reach 100 %,
read the results and download the CSV; cancel a second job from the dialog; see a bad file
refused. Each step leaves a screenshot in tests/artifacts/e2e/<test>/."""

from __future__ import annotations

import csv
import io
import re
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from e2e.kit import DESKTOP, PASSWORD, PHONE, SIGNUP_CREDITS, Api, Shots, Stack, unique_email

pytestmark = pytest.mark.e2e

FEVAL_PAGES = 308
FEVAL_CHUNKS = 13  # 25 pages each
COMPLETE_MS = 120_000
FINAL = {"completed", "partial", "failed", "cancelled"}


@pytest.fixture(scope="module")
def feval(corpus_dir: Path) -> Path:
    return corpus_dir / "pdfs" / "book_feval_vampire.pdf"


def sign_up(page: Page, shots: Shots) -> str:
    """Create an account through the sign-up form; its e-mail address."""
    email = unique_email("reader")
    page.goto("/signup")
    form = page.get_by_test_id("signup-form")
    form.get_by_label("E-mail address").fill(email)
    form.get_by_label("Password").fill(PASSWORD)
    shots.take(page, "signup")
    form.get_by_role("button", name="Create account").click()
    expect(page.get_by_test_id("balance")).to_have_text(str(SIGNUP_CREDITS))
    expect(page.get_by_test_id("upload-dropzone")).to_be_visible()
    shots.take(page, "signed-in")
    return email


def upload_and_confirm(page: Page, shots: Shots, pdf: Path) -> None:
    """Choose the PDF, check the preflight's figures, and start the job."""
    page.get_by_test_id("upload-input").set_input_files(pdf)
    dialog = page.get_by_test_id("preflight-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_test_id("preflight-pages")).to_have_text(str(FEVAL_PAGES))
    expect(dialog.get_by_test_id("preflight-chunks")).to_have_text(str(FEVAL_CHUNKS))
    expect(dialog.get_by_test_id("preflight-credits")).to_have_text(str(FEVAL_PAGES))
    shots.take(page, "preflight")
    dialog.get_by_test_id("preflight-confirm").click()
    expect(page.get_by_test_id("progress-dialog")).to_be_visible()


def only_job(api: Api) -> dict[str, Any]:
    """The single job of a fresh account."""
    jobs = api.jobs()
    assert len(jobs) == 1, jobs
    return jobs[0]


def watch_progress(page: Page, timeout_s: float) -> list[tuple[str, int]]:
    """(status, percent) as the dialog shows them, sampled until the status is final."""
    status = page.get_by_test_id("progress-status")
    percent = page.get_by_test_id("progress-percent")
    seen: list[tuple[str, int]] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        shown = (status.inner_text().strip(), int(percent.inner_text().strip().rstrip("%")))
        if not seen or seen[-1] != shown:
            seen.append(shown)
        if shown[0] in FINAL:
            return seen
        page.wait_for_timeout(100)
    raise AssertionError(f"the job did not end within {timeout_s} s; seen {seen}")


def in_a_spreadsheet(text: str) -> str:
    """A sentence as the CSV holds it: a leading quote where a spreadsheet would see a formula
    (docs/api.md, Downloads); every other sentence exactly as the API shows it."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def read_csv(path: Path) -> list[dict[str, str]]:
    """The rows of an exported CSV (UTF-8 with a BOM, as Excel wants it)."""
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "the CSV starts with a UTF-8 BOM"
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


@pytest.mark.corpus
def test_a_novel_from_sign_up_to_the_csv(
    stack: Stack, page: Page, shots: Shots, feval: Path, artifacts: Path
) -> None:
    email = sign_up(page, shots)
    upload_and_confirm(page, shots, feval)

    seen = watch_progress(page, COMPLETE_MS / 1000)
    (shots.folder / "progress.txt").write_text(
        "".join(f"{status} {percent}%\n" for status, percent in seen), encoding="utf-8"
    )
    expect(page.get_by_test_id("progress-percent")).to_have_text("100%")
    expect(page.get_by_test_id("progress-chunks")).to_have_text(f"{FEVAL_CHUNKS} / {FEVAL_CHUNKS}")
    shots.take(page, "progress-completed")
    assert seen[-1] == ("completed", 100), seen
    percents = [percent for _, percent in seen]
    assert percents == sorted(percents), f"the progress went back: {seen}"
    # The whole novel was charged, and the header shows what is left.
    expect(page.get_by_test_id("balance")).to_have_text(str(SIGNUP_CREDITS - FEVAL_PAGES))

    api = stack.api.login(email)
    job = only_job(api)
    assert job["status"] == "completed"
    assert job["charged_credits"] == FEVAL_PAGES

    page.get_by_test_id("progress-view-results").click()
    expect(page).to_have_url(re.compile(rf"/jobs/view\?id={job['id']}"))
    table = page.get_by_test_id("results-table")
    expect(table).to_be_visible()
    sentences = api.sentences(job["id"])
    # The whole novel: about 7,200 rows at the default limit of 8 words, since a sentence that
    # no cut makes into complete sentences stays whole (over_limit) instead of giving fragments.
    assert len(sentences) == job["sentence_count"] > 5_000
    # Sentence rows, not the author's sentences heading the rows of a cut one.
    rows_shown = table.get_by_test_id("results-row")
    first = rows_shown.first
    expect(first).to_contain_text(sentences[0]["text"])
    # The page's rows are grouped by their author's sentence: a cut or rewritten one is shown
    # once above its rows, a sentence kept as is only as its row.
    page_rows = sentences[:50]
    expect(rows_shown).to_have_count(len(page_rows))
    headed = {
        s["source_id"]
        for s in page_rows
        if s["split"] or s["text"].strip() != (s["source_text"] or s["text"]).strip()
    }
    expect(table.get_by_test_id("results-source")).to_have_count(len(headed))
    shots.take(page, "results", doc_image="results.png")
    if len(headed) > 0:
        table.get_by_test_id("results-source").first.scroll_into_view_if_needed()
        shots.take(page, "results-cut-sentence")

    with page.expect_download() as download_info:
        page.get_by_test_id("download-csv").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    saved = shots.folder / download.suggested_filename
    download.save_as(saved)
    rows = read_csv(saved)
    assert [row["text"] for row in rows] == [in_a_spreadsheet(s["text"]) for s in sentences]
    assert [int(row["page"]) for row in rows] == [s["page"] for s in sentences]
    assert [int(row["index"]) for row in rows] == [s["index"] for s in sentences]
    assert [row["source_id"] for row in rows] == [s["source_id"] for s in sentences]
    assert [row["source_text"] for row in rows] == [
        in_a_spreadsheet(s["source_text"]) for s in sentences
    ]
    assert [row["over_limit"] == "true" for row in rows] == [s["over_limit"] for s in sentences]

    # Paging and searching read the same sentences.
    page.get_by_test_id("results-next-page").click()
    expect(first.locator("td").first).to_have_text("51")
    expect(first).to_contain_text(sentences[50]["text"])
    page.get_by_test_id("results-search").fill("vampire")
    total = api.matches(job["id"], "vampire")
    assert total > 0
    expect(page.get_by_text(re.compile(rf"^1–\d+ of {total}$"))).to_be_visible()
    for text in rows_shown.locator("td:nth-child(2)").all_inner_texts():
        assert "vampire" in text.lower()
    shots.take(page, "results-search")
    page.get_by_test_id("results-search").fill("")
    expect(first.locator("td").first).to_have_text("1")

    # The same page on a phone: the table still reads.
    page.set_viewport_size(PHONE)
    expect(table).to_be_visible()
    shots.take(page, "results-phone")
    if len(headed) > 0:
        table.get_by_test_id("results-source").first.scroll_into_view_if_needed()
        shots.take(page, "results-phone-cut-sentence")

    page.set_viewport_size(DESKTOP)
    page.goto("/history")
    row = page.locator(f'[data-testid="history-row"][data-job-id="{job["id"]}"]')
    expect(row).to_be_visible()
    expect(row).to_have_attribute("data-status", "completed")
    shots.take(page, "history")


@pytest.mark.corpus
def test_a_job_cancelled_from_the_dialog_is_charged_only_for_finished_chunks(
    stack: Stack, page: Page, shots: Shots, feval: Path
) -> None:
    email = sign_up(page, shots)
    # Each chunk waits 3 s before it starts, so the job lasts long enough to be cancelled.
    stack.inject_faults(delay_seconds=3)
    try:
        upload_and_confirm(page, shots, feval)
        chunks = page.get_by_test_id("progress-chunks")
        expect(chunks).to_have_text(re.compile(rf"^[1-9]\d* / {FEVAL_CHUNKS}$"), timeout=60_000)
        expect(page.get_by_test_id("progress-status")).to_have_text("running")
        shots.take(page, "progress-running", doc_image="progress-dialog.png")
        page.get_by_test_id("progress-cancel").click()
        expect(page.get_by_test_id("cancel-confirm")).to_be_visible()
        shots.take(page, "cancel-confirm")
        page.get_by_test_id("cancel-confirm").click()
        expect(page.get_by_test_id("progress-status")).to_have_text("cancelled", timeout=30_000)
        shots.take(page, "progress-cancelled")
    finally:
        stack.clear_faults()

    api = stack.api.login(email)
    job = only_job(api)
    assert job["status"] == "cancelled"
    chunks_rows = api.chunks(job["id"])
    assert {row["status"] for row in chunks_rows} <= {"done", "cancelled"}
    done = [row for row in chunks_rows if row["status"] == "done"]
    pages_done = sum(row["owned_last_page"] - row["owned_first_page"] + 1 for row in done)
    assert 0 < pages_done < FEVAL_PAGES
    assert job["charged_credits"] == pages_done
    ledger = [row for row in api.ledger() if row["job_id"] == job["id"]]
    assert sorted((row["kind"], row["delta"]) for row in ledger) == [
        ("reserve", -FEVAL_PAGES),
        ("settle", FEVAL_PAGES - pages_done),
    ]
    assert api.me()["balance"] == SIGNUP_CREDITS - pages_done
    expect(page.get_by_test_id("balance")).to_have_text(str(SIGNUP_CREDITS - pages_done))


@pytest.mark.corpus
def test_a_failed_chunk_shows_its_pages_and_a_retry_completes_the_job(
    stack: Stack, page: Page, shots: Shots, feval: Path
) -> None:
    email = sign_up(page, shots)
    stack.inject_faults(fail_chunks=[3])  # pages 76–100
    try:
        upload_and_confirm(page, shots, feval)
        expect(page.get_by_test_id("progress-status")).to_have_text("partial", timeout=COMPLETE_MS)
        shots.take(page, "progress-partial")
    finally:
        stack.clear_faults()
    expect(page.get_by_test_id("balance")).to_have_text(str(SIGNUP_CREDITS - FEVAL_PAGES + 25))
    page.get_by_test_id("progress-view-results").click()
    expect(page.get_by_test_id("missing-pages")).to_have_text("76–100")
    shots.take(page, "missing-pages")
    page.get_by_test_id("retry-failed").click()
    expect(page.get_by_test_id("progress-dialog")).to_be_visible()
    expect(page.get_by_test_id("progress-status")).to_have_text("completed", timeout=COMPLETE_MS)
    expect(page.get_by_test_id("progress-percent")).to_have_text("100%")
    shots.take(page, "retry-completed")
    page.get_by_test_id("progress-close").click()
    expect(page.get_by_test_id("missing-pages")).to_have_count(0)
    expect(page.get_by_test_id("results-table")).to_be_visible()
    expect(page.get_by_test_id("balance")).to_have_text(str(SIGNUP_CREDITS - FEVAL_PAGES))

    api = stack.api.login(email)
    job = only_job(api)
    assert (job["status"], job["run"], job["charged_credits"]) == ("completed", 1, FEVAL_PAGES)
    assert [row["status"] for row in api.chunks(job["id"])] == ["done"] * FEVAL_CHUNKS


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("name", "message", "where"),
    [
        # Refused by the API (the file starts like a PDF): its error code, in words.
        ("truncated_half.pdf", "This PDF is damaged and cannot be read.", "error-message"),
        # Refused before sending (no %PDF- header): the browser's own check.
        ("not_a_pdf_text.pdf", "does not look like a PDF file", "upload-error"),
    ],
    ids=["damaged", "not-a-pdf"],
)
def test_a_bad_file_shows_its_error_and_costs_nothing(
    stack: Stack, page: Page, shots: Shots, bad_dir: Path, name: str, message: str, where: str
) -> None:
    email = sign_up(page, shots)
    page.get_by_test_id("upload-input").set_input_files(bad_dir / name)
    error = page.get_by_test_id("upload-error")
    expect(error).to_be_visible()
    expect(page.get_by_test_id(where)).to_contain_text(message)
    expect(page.get_by_test_id("preflight-dialog")).to_have_count(0)
    shots.take(page, "upload-error")
    expect(page.get_by_test_id("balance")).to_have_text(str(SIGNUP_CREDITS))
    api = stack.api.login(email)
    assert api.me()["balance"] == SIGNUP_CREDITS
    assert api.jobs() == []


def test_sign_out_and_sign_in_again(page: Page, shots: Shots) -> None:
    email = sign_up(page, shots)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_test_id("balance")).to_have_count(0)
    page.goto("/login")
    form = page.get_by_test_id("login-form")
    form.get_by_label("E-mail address").fill(email)
    form.get_by_label("Password").fill("not the password")
    form.get_by_role("button", name="Sign in").click()
    expect(form.get_by_test_id("error-message")).to_have_text("Wrong e-mail address or password.")
    shots.take(page, "login-refused")
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("balance")).to_have_text(str(SIGNUP_CREDITS))
    shots.take(page, "signed-in-again")
