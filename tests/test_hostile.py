"""Hostile files (tests/hostile.py) through the CLI, the pipeline and the upload API.

Each must give a clear error code or a correct result, within 20 s, with every Folio process
under 600 MB at its peak (measured by wait4 over the CLI's whole process tree), and a bad
page must cost that page only.
"""

from __future__ import annotations

import io
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

import hostile
from factories import auth_headers, make_user
from folio.pipeline.errors import DocumentTooComplex
from folio.pipeline.model import ChunkPlan, Furniture, ProcessSettings
from folio.pipeline.runner import run_chunk
from folio.pipeline.sandbox import Bounds, run_bounded

FOLIO = str(Path(sys.executable).with_name("folio"))
PEAK_MB = 600
SECONDS = 20

FILES: dict[str, Callable[[Path], Path]] = {
    "flate_bomb": lambda p: hostile.write_pdf(
        p, [hostile.book_page(1), hostile.flate_bomb(256, double=False)]
    ),
    "double_flate_bomb": lambda p: hostile.write_pdf(
        p, [hostile.book_page(1), hostile.flate_bomb(4096, double=True)]
    ),
    "two_million_text_objects": lambda p: hostile.write_pdf(
        p, [hostile.many_text_objects(2_000_000)]
    ),
    "twenty_thousand_lines": lambda p: hostile.write_pdf(
        p, [hostile.many_lines(20_000)], size=hostile.TALL
    ),
    "heavy_page_among_100": lambda p: hostile.write_pdf(
        p,
        [
            hostile.many_text_objects(2_000_000) if n == 50 else hostile.book_page(n)
            for n in range(1, 101)
        ],
    ),
    "sentence_of_300k_words": lambda p: hostile.write_pdf(p, hostile.long_sentence_pages(300_000)),
    "word_of_2m_characters": lambda p: hostile.write_pdf(
        p, [hostile.book_page(1), hostile.long_word(2_000_000)]
    ),
}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile")
    return {name: make(folder / f"{name}.pdf") for name, make in FILES.items()}


# Runs argv[1:] and prints the peak RSS of its process tree. A small wrapper, because a child
# forked from this test process starts with this process's resident pages counted in its
# ru_maxrss (until exec): after earlier tests loaded the parser here, that alone is ~950 MB.
PEAK_OF = (
    "import os, subprocess, sys\n"
    "child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
    "_, status, usage = os.wait4(child.pid, 0)\n"
    "print(usage.ru_maxrss, os.waitstatus_to_exitcode(status))\n"
)


def run_measured(args: list[str]) -> tuple[int, str, float, float]:
    """Run a command; (exit code, stderr, seconds, peak MB of its whole process tree)."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", PEAK_OF, *args], capture_output=True, text=True, timeout=120
    )
    peak_kib, code = (int(value) for value in done.stdout.split()[-2:])
    return code, done.stderr, time.monotonic() - started, peak_kib / 1024


@pytest.mark.parametrize("name", list(FILES))
def test_cli_gives_a_code_or_a_result_fast_and_small(
    files: dict[str, Path], tmp_path: Path, name: str
) -> None:
    out = tmp_path / "out.jsonl"
    code, stderr, seconds, peak = run_measured(
        [FOLIO, "process", str(files[name]), "--out", str(out), "--workers", "2"]
    )
    print(f"{name}: exit {code}, {seconds:.1f} s, peak {peak:.0f} MB; {stderr.strip()[-300:]}")
    assert seconds < SECONDS
    assert peak < PEAK_MB
    if code == 2:
        assert stderr.strip().splitlines()[-1].startswith("error: ")
    else:
        assert code == 0, stderr
        assert out.exists()


def test_a_bad_page_costs_that_page_only(files: dict[str, Path]) -> None:
    # Page 2 is a bomb; the chunk reads pages 1-2 and page 1 keeps its sentences.
    chunk = ChunkPlan(0, 1, 2, 1, 2)
    result = run_chunk(files["flate_bomb"], chunk, Furniture(), ProcessSettings())
    assert list(result.unreadable_pages) == [2]
    assert "page_too_complex" in result.unreadable_pages[2]
    assert result.sentences and all(s.page == 1 for s in result.sentences)


def test_a_page_that_kills_its_sandbox_is_retried_alone(files: dict[str, Path]) -> None:
    # Budgets too loose to refuse the bomb unopened: the memory limit kills the chunk's
    # sandbox, then each page is read alone and only the bomb is lost. In a fresh process:
    # a sandbox forked from this one would count the memory of what earlier tests loaded
    # here (the French parser) as its own.
    script = f"""
import resource
from pathlib import Path
from folio.pipeline.budgets import Budgets
from folio.pipeline.model import ChunkPlan, Furniture, ProcessSettings
from folio.pipeline.runner import run_chunk
loose = Budgets(memory_mb=256, page_content_mb=100_000, page_text_objects=10**9, page_chars=10**9)
result = run_chunk(Path({str(files["two_million_text_objects"])!r}), ChunkPlan(0, 1, 1, 1, 1),
                   Furniture(), ProcessSettings(), budgets=loose)
assert list(result.unreadable_pages) == [1], result.unreadable_pages
assert "document_too_complex" in result.unreadable_pages[1]
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.split()[-1]) / 1024 < PEAK_MB


def _eat_memory() -> int:
    hog = [bytearray(1024 * 1024) for _ in range(2048)]
    return len(hog)


def test_the_sandbox_turns_memory_and_time_into_a_typed_error() -> None:
    with pytest.raises(DocumentTooComplex):
        run_bounded(Bounds(memory_mb=128, seconds=10), _eat_memory)
    with pytest.raises(DocumentTooComplex, match="longer than"):
        run_bounded(Bounds(memory_mb=128, seconds=0.5), time.sleep, 5)
    assert run_bounded(Bounds(memory_mb=128, seconds=5), sum, [1, 2, 3]) == 6


@pytest.mark.parametrize("name", ["double_flate_bomb", "heavy_page_among_100"])
def test_the_upload_answers_at_once(sqlite_app: Flask, files: dict[str, Path], name: str) -> None:
    client = sqlite_app.test_client()
    with sqlite_app.app_context():
        headers = auth_headers(make_user(granted=500))
    # What this (test) process peaked at before: earlier tests may have loaded the parser here.
    before_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.monotonic()
    data = {"file": (io.BytesIO(files[name].read_bytes()), "roman.pdf", "application/pdf")}
    response = client.post("/api/v1/uploads", data=data, headers=headers)
    assert time.monotonic() - started < SECONDS
    assert response.status_code in (201, 413, 422), response.get_data(as_text=True)
    assert response.is_json
    if response.status_code == 201:
        upload_id = response.get_json()["id"]
        started = time.monotonic()
        job = client.post("/api/v1/jobs", json={"upload_id": upload_id}, headers=headers)
        assert time.monotonic() - started < SECONDS
        assert job.status_code == 202, job.get_data(as_text=True)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    assert usage.ru_maxrss / 1024 - before_mb < PEAK_MB
