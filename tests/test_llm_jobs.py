"""LLM jobs end to end: a novel through the HTTP API, real workers, the fake LLM server.

The workers run on PostgreSQL + Redis (as production does) and talk to the fake server on
localhost, never to Google.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from books import BOOKS, processed
from fakellm import FakeLLM, Fault
from folio.extensions import db
from folio.models import Job, JobSentence
from folio.pipeline.model import ProcessSettings, Usage
from folio.pipeline.processors.llm.pricing import credits_for
from folio.pipeline.runner import run_document
from pdfmaker import book_pages, make_pdf
from test_fanout import chunks, ledger, production  # noqa: F401  (fixture)
from workers import Stack, wait_for
from workers import StackUser as User

pytestmark = pytest.mark.corpus


@pytest.fixture
def fake() -> Iterator[FakeLLM]:
    """The fake Gemini / OpenAI-compatible server, in this process."""
    with FakeLLM() as server:
        yield server


def llm_stack(production: Stack, fake: FakeLLM) -> Stack:  # noqa: F811
    """The production stack pointed at the fake server for both LLM processors."""
    production.environ.update(
        {
            "FOLIO_GEMINI_API_KEY": "test-key-not-a-secret",
            "FOLIO_GEMINI_BASE_URL": fake.url,
            "FOLIO_OPENAI_BASE_URL": f"{fake.url}/v1",
            "FOLIO_OPENAI_MODEL": "local-model",
            "FOLIO_LLM_TIMEOUT_SECONDS": "20",
            # The default 60 a minute would hold a novel's ~200 calls for minutes; the limit
            # itself is tested in test_llm_limits.py.
            "FOLIO_LLM_RPM": "100000",
        }
    )
    return production


@pytest.mark.parametrize("processor", ["gemini", "openai"])
def test_a_novel_through_an_llm(
    corpus_dir: Path,
    production: Stack,  # noqa: F811
    fake: FakeLLM,
    processor: str,
) -> None:
    stack = llm_stack(production, fake)
    stack.start_worker("w1")
    app = stack.app()
    user = User(app, "reader@example.com", credits=20_000)
    pdf = corpus_dir / "pdfs" / BOOKS["verne"].pdf
    job_id = user.submit(pdf, processor=processor)
    final = user.wait(job_id, 300)[-1]
    assert final["status"] == "completed", stack.log_tail()
    sentences = _sentences(app, job_id)
    # Within the limit, or the local row of a sentence the model failed twice, flagged.
    assert all(s["words"] <= 8 or (s["over_limit"] and s["repaired"]) for s in sentences)
    produced = [s["processor"] for s in sentences]
    assert produced.count(processor) > 0.5 * len(produced)
    # Nothing lost: every source sentence of the local run is there, in the same order.
    local_ids = list(dict.fromkeys(s.source_id for s in processed(corpus_dir, "verne").sentences))
    assert list(dict.fromkeys(s["source_id"] for s in sentences)) == local_ids
    answered = [entry for entry in fake.log if entry.status == 200]
    assert final["llm_calls"] == len(fake.log)
    assert final["tokens_in"] == sum(entry.prompt_tokens for entry in answered)
    assert final["tokens_out"] == sum(entry.completion_tokens for entry in answered)
    with app.app_context():
        job = db.session.get(Job, uuid.UUID(job_id))
        assert job is not None and job.prompt_version and job.model
        pricing = app.config["FOLIO_SETTINGS"].llm_pricing
        usage = Usage(0, job.tokens_in, job.tokens_out)
        tokens = credits_for(usage, job.model, pricing)
        expected = min(job.reserved_credits, max(job.page_count, tokens))
    assert final["charged_credits"] == expected > 0
    reserve, settle = ledger(app, job_id)
    assert reserve == ("reserve", 0, -final["reserved_credits"])
    assert settle == ("settle", 0, final["reserved_credits"] - expected)

    # A second reader of the same book: every rewrite comes from the shared cache.
    fake.reset()
    other = User(app, "second@example.com", credits=20_000)
    again = other.submit(pdf, processor=processor)
    second = other.wait(again, 300)[-1]
    assert second["status"] == "completed", stack.log_tail()
    assert fake.log == [] and second["llm_calls"] == second["tokens_in"] == 0
    assert _texts(app, again) == _texts(app, job_id)
    assert second["charged_credits"] == second["page_count"]  # the local price: docs/llm.md


def test_cancel_stops_new_llm_calls(
    corpus_dir: Path,
    production: Stack,  # noqa: F811
    fake: FakeLLM,
) -> None:
    stack = llm_stack(production, fake)
    fake.set_faults([Fault("latency", times=None, seconds=0.4)])
    stack.start_worker("w1", concurrency=2)
    app = stack.app()
    user = User(app, "reader@example.com", credits=20_000)
    job_id = user.submit(corpus_dir / "pdfs" / BOOKS["verne"].pdf, processor="gemini")
    wait_for(lambda: len(fake.log) >= 4, 60, "a few LLM calls")
    assert (
        user.client.post(f"/api/v1/jobs/{job_id}/cancel", headers=user.headers).status_code == 202
    )
    final = user.wait(job_id, 30)[-1]
    assert final["status"] == "cancelled"
    with app.app_context():
        job = db.session.get(Job, uuid.UUID(job_id))
        assert job is not None and job.cancel_requested_at is not None
        asked = job.cancel_requested_at.timestamp()
    late = [entry for entry in fake.log if entry.time > asked]
    # Only the requests let through in the instant the flag is written can start after it:
    # at most one round of batches (FOLIO_LLM_CONCURRENCY, 8) per running chunk (2 slots).
    assert len(late) <= 2 * 8, [entry.time - asked for entry in late]
    assert final["charged_credits"] <= final["reserved_credits"]
    assert len(chunks(app, job_id)) == final["total_chunks"]


def test_an_llm_chunk_longer_than_its_lease_keeps_its_claim(
    tmp_path: Path,
    production: Stack,  # noqa: F811
    fake: FakeLLM,
) -> None:
    # One chunk of 6 batches at 1.5 s each, one after the other, runs 9 s on a 6 s lease,
    # with the reconciler looking for expired leases every 2 s: the lease is renewed before
    # each request (with concurrency too: the gate asks the flag on the chunk's thread).
    stack = llm_stack(production, fake)
    stack.environ["FOLIO_LLM_BATCH_ITEMS"] = "2"
    stack.environ["FOLIO_LLM_CONCURRENCY"] = "1"
    fake.set_faults([Fault("latency", times=None, seconds=1.5)])
    stack.start_worker("w1", concurrency=2)
    stack.start_beat()
    app = stack.app()
    user = User(app, "reader@example.com", credits=1_000)
    long_line = "Le voyageur marchait sous la pluie froide du soir, jour {n}."
    pdf = make_pdf(
        tmp_path / "long.pdf", book_pages([[[long_line.format(n=n)] for n in range(12)]])
    )
    job_id = user.submit(pdf, processor="gemini")
    final = user.wait(job_id, 90)[-1]
    assert final["status"] == "completed", stack.log_tail()
    (chunk,) = chunks(app, job_id)
    assert (chunk.attempts, chunk.seconds is not None and chunk.seconds > 6) == (1, True)
    assert len(fake.log) == 6  # no second worker repeated the calls
    assert all(s["words"] <= 8 for s in _sentences(app, job_id))


# Each fault, lasting for the whole job: what the job ends with, and how many of its long
# sentences the model answered (the rest repaired locally and flagged).
JOB_FAULTS = [
    (Fault("status_429", times=1, retry_delay=0.2), "all by the model"),
    (Fault("status_500", times=None), "all repaired"),
    (Fault("hang", times=None), "all repaired"),
    (Fault("malformed_json", times=None), "all repaired"),
    (Fault("missing_ids", times=None), "some repaired"),
    (Fault("overlong", times=None), "some repaired"),
]


def test_the_fault_matrix_through_whole_jobs(
    tmp_path: Path,
    production: Stack,  # noqa: F811
    fake: FakeLLM,
) -> None:
    stack = _fault_stack(production, fake, fallback="local")
    stack.start_worker("w1", concurrency=2)
    app = stack.app()
    user = User(app, "reader@example.com", credits=1_000)
    # Tags of one length: the sentences' ids (page and offset) are the same in every book.
    expected = _local_source_ids(_long_sentences_pdf(tmp_path, tag="t00"))
    for index, (fault, outcome) in enumerate(JOB_FAULTS, start=1):
        fake.reset()
        fake.set_faults([dataclasses.replace(fault)])  # a rule counts down its `times`
        # A new book each time: the same sentences would come from the rewrite cache.
        pdf = _long_sentences_pdf(tmp_path, tag=f"t{index:02d}")
        job_id = user.submit(pdf, processor="gemini")
        final = user.wait(job_id, 60)[-1]
        assert final["status"] == "completed", (fault, stack.log_tail())
        sentences = _sentences(app, job_id)
        assert list(dict.fromkeys(s["source_id"] for s in sentences)) == expected, fault
        # A repair is the local processor's: within the limit, or flagged over it.
        assert all(s["words"] <= 8 or (s["over_limit"] and s["repaired"]) for s in sentences), fault
        repaired = {s["source_id"] for s in sentences if s["repaired"]}
        assert all(s["processor"] == "local" for s in sentences if s["repaired"]), fault
        if outcome == "all by the model":
            assert not repaired and final["llm_calls"] == 3, (fault, final["llm_calls"])  # 2 + 1
        elif outcome == "all repaired":
            assert len(repaired) == 6, (fault, repaired)
        else:
            assert 0 < len(repaired) < 6, (fault, repaired)
        assert final["llm_calls"] == len(fake.log), fault


def test_an_unreachable_llm_fails_the_job_when_configured(
    tmp_path: Path,
    production: Stack,  # noqa: F811
    fake: FakeLLM,
) -> None:
    stack = _fault_stack(production, fake, fallback="fail")
    stack.environ["FOLIO_GEMINI_BASE_URL"] = "http://127.0.0.1:9"  # discard: refused
    stack.start_worker("w1")
    app = stack.app()
    user = User(app, "reader@example.com", credits=1_000)
    job_id = user.submit(_long_sentences_pdf(tmp_path), processor="gemini")
    final = user.wait(job_id, 60)[-1]
    assert final["status"] == "failed"
    assert final["error_code"] == "chunks_failed"
    assert "llm_unavailable" in final["error_message"]
    assert "test-key-not-a-secret" not in final["error_message"]
    assert final["charged_credits"] == 0
    reserve, settle = ledger(app, job_id)
    assert settle[2] == -reserve[2]  # everything reserved went back


def _fault_stack(production: Stack, fake: FakeLLM, fallback: str) -> Stack:  # noqa: F811
    stack = llm_stack(production, fake)
    stack.environ.update(
        {
            "FOLIO_LLM_FALLBACK": fallback,
            "FOLIO_LLM_TIMEOUT_SECONDS": "0.5",
            "FOLIO_LLM_BACKOFF_SECONDS": "0.05",
            "FOLIO_LLM_BACKOFF_MAX_SECONDS": "1",
            "FOLIO_LLM_BATCH_ITEMS": "3",
        }
    )
    return stack


def _long_sentences_pdf(tmp_path: Path, tag: str = "") -> Path:
    """One page: six sentences over the limit of 8 words between short ones; `tag` in each."""
    lines = []
    for n in range(6):
        lines.append([f"Le voyageur marchait sous la pluie froide du soir, jour {n} {tag}."])
        lines.append(["Il se tut."])
    return make_pdf(tmp_path / f"faults-{tag}.pdf", book_pages([lines]))


def _local_source_ids(pdf: Path) -> list[str]:
    result = run_document(pdf, ProcessSettings(limit=8))
    return list(dict.fromkeys(s.source_id for s in result.sentences))


def _texts(app: Flask, job_id: str) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(JobSentence.text)
                .where(JobSentence.job_id == uuid.UUID(job_id))
                .order_by(JobSentence.index)
            )
        )


def _sentences(app: Flask, job_id: str) -> list[dict[str, Any]]:
    with app.app_context():
        rows = db.session.scalars(
            select(JobSentence)
            .where(JobSentence.job_id == uuid.UUID(job_id))
            .order_by(JobSentence.index)
        ).all()
        return [
            {
                "words": r.words,
                "processor": r.processor,
                "source_id": r.source_id,
                "repaired": r.repaired,
                "over_limit": r.over_limit,
            }
            for r in rows
        ]
