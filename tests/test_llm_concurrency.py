"""A chunk's LLM batches in flight at once (FOLIO_LLM_CONCURRENCY): the same output as one
after the other, no request after a cancel, the cancel flag asked on the calling thread only,
usage summed exactly — against the fake LLM server. The shared limit with concurrency across
processes is in test_llm_limits.py."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from books import BOOKS
from fakellm import FakeLLM, Fault
from folio.pipeline.model import ChunkPlan, ProcessSettings
from folio.pipeline.processors import LLMConfig, ProcessContext, get_processor
from folio.pipeline.processors.llm.batches import Gate, run_concurrently
from folio.pipeline.processors.llm.limits import InProcessLimiter
from folio.pipeline.processors.llm.processor import LLMUnavailable
from folio.pipeline.runner import run_chunk
from folio.pipeline.sources.pdf.inspect import inspect_pdf
from llmkit import LONG, PROVIDERS, config, sample, settled_log, source_ids_in_order

SETTINGS = ProcessSettings(limit=8, min_words=2)


@pytest.fixture
def fake() -> Iterator[FakeLLM]:
    with FakeLLM() as server:
        yield server


def test_the_setting_is_bounded() -> None:
    assert config("gemini", "http://x").concurrency == 8  # the default
    for wrong in (0, 65):
        with pytest.raises(ValueError, match="concurrency"):
            LLMConfig("gemini", "m", concurrency=wrong)


# --- the same output -------------------------------------------------------------------


@pytest.mark.corpus
@pytest.mark.parametrize("provider", PROVIDERS)
def test_concurrent_batches_give_the_sequential_output(
    corpus_dir: Path, fake: FakeLLM, provider: str
) -> None:
    pdf = corpus_dir / "pdfs" / BOOKS["verne"].pdf
    furniture = inspect_pdf(pdf).furniture
    plan = ChunkPlan(0, 10, 29, 9, 30)
    settings = ProcessSettings(limit=8, min_words=2, processor=provider)
    fake.set_faults([Fault("latency", times=None, seconds=0.1)])
    runs = {}
    for concurrency in (1, 8):
        fake.reset()
        llm = {provider: config(provider, fake.url, concurrency=concurrency)}
        started = time.monotonic()
        result = run_chunk(pdf, plan, furniture, settings, context=ProcessContext(llm=llm))
        elapsed = time.monotonic() - started
        log, stats = settled_log(fake, result.usage.calls), fake.stats()
        # Usage summed exactly over the batches: what the fake server counted.
        assert result.usage.calls == len(log) and all(entry.status == 200 for entry in log)
        assert result.usage.tokens_in == sum(entry.prompt_tokens for entry in log) > 0
        assert result.usage.tokens_out == sum(entry.completion_tokens for entry in log) > 0
        runs[concurrency] = (result, elapsed, stats["max_in_flight"])
    (one, one_seconds, one_peak), (eight, eight_seconds, eight_peak) = runs[1], runs[8]
    assert one_peak == 1 and eight_peak > 1  # they really ran at once
    assert [s.to_dict() for s in eight.sentences] == [s.to_dict() for s in one.sentences]
    assert (eight.usage, eight.retried, eight.repaired) == (one.usage, one.retried, one.repaired)
    assert one.usage.calls >= 10 and eight_seconds < one_seconds


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_fault_in_one_batch_stays_in_that_batch(fake: FakeLLM, provider: str) -> None:
    # The second ask and the local repair are per batch: other batches answer normally.
    sentences = sample(12)
    fake.set_faults([Fault("latency", times=None, seconds=0.05), Fault("overlong", times=3)])
    processor = get_processor(provider, config(provider, fake.url, batch_items=2))
    output = processor.process(sentences, SETTINGS)
    assert source_ids_in_order(sentences, output.sentences)
    assert output.usage.calls == len(settled_log(fake, output.usage.calls)) == 6 + 3
    assert output.retried == 3 and output.repaired == 0


# --- cancel ----------------------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
def test_no_request_starts_after_a_cancel(fake: FakeLLM, provider: str) -> None:
    # Twelve one-sentence batches, four at a time, 0.5 s each: rounds start at about 0, 0.5,
    # 1.0 s. The flag goes up at 0.75 s; the third round must never start.
    sentences = sample(12)
    fake.set_faults([Fault("latency", times=None, seconds=0.5)])
    changes = {"batch_items": 1, "concurrency": 4}
    processor = get_processor(provider, config(provider, fake.url, **changes))
    raised: list[float] = []
    askers: set[int] = set()

    def should_stop() -> bool:
        askers.add(threading.get_ident())
        return bool(raised)

    timer = threading.Timer(0.75, lambda: raised.append(time.time()))
    timer.start()
    output = processor.process(sentences, SETTINGS, ProcessContext(should_stop=should_stop))
    timer.join()
    log = settled_log(fake, output.usage.calls)
    assert output.stopped and output.usage.calls == len(log)
    assert all(entry.time < raised[0] for entry in log), "a request started after the cancel"
    assert 4 <= len(log) < 12
    # The flag is only ever called on the thread that called process (it may renew a lease
    # in that thread's database session).
    assert askers == {threading.get_ident()}
    # What is kept is a prefix of the chunk.
    done = len({piece.source_id for piece in output.sentences})
    assert source_ids_in_order(sentences[:done], output.sentences)


def test_a_cancel_during_a_backoff_stops_every_batch(fake: FakeLLM) -> None:
    fake.set_faults([Fault("status_500", times=None)])
    changes = {"batch_items": 1, "concurrency": 4, "backoff_seconds": 5}
    processor = get_processor("openai", config("openai", fake.url, **changes))
    started = time.monotonic()
    output = processor.process(sample(), SETTINGS, ProcessContext(lambda: len(fake.log) >= 4))
    assert output.stopped and output.usage.calls == len(fake.log)
    assert time.monotonic() - started < 2.5


def test_an_error_in_the_flag_stops_the_run_and_is_raised(fake: FakeLLM) -> None:
    fake.set_faults([Fault("latency", times=None, seconds=0.2)])
    changes = {"batch_items": 1, "concurrency": 2}
    processor = get_processor("gemini", config("gemini", fake.url, **changes))
    calls = 0

    def should_stop() -> bool:
        nonlocal calls
        calls += 1
        if calls > 1:
            raise ConnectionError("the database went away")
        return False

    with pytest.raises(ConnectionError, match="went away"):
        processor.process(sample(12), SETTINGS, ProcessContext(should_stop=should_stop))
    time.sleep(0.3)
    assert len(fake.log) <= 2  # the first answer let one round of two start, no more


# --- failures with concurrency ---------------------------------------------------------


def test_unavailable_counts_every_batch_s_calls(fake: FakeLLM) -> None:
    fake.set_faults([Fault("status_500", times=None)])
    changes = {"batch_items": 1, "concurrency": 4, "fallback": "fail"}
    processor = get_processor("gemini", config("gemini", fake.url, **changes))
    with pytest.raises(LLMUnavailable) as raised:
        processor.process(sample(), SETTINGS)
    # Raised once every running batch has stopped: its usage is every call made.
    assert raised.value.usage.calls == len(settled_log(fake, raised.value.usage.calls))
    assert 4 <= raised.value.usage.calls <= 4 * 4


def test_a_limiter_error_is_raised(fake: FakeLLM) -> None:
    class Broken:
        def acquire(self, model: str, tokens: int) -> None:
            raise OSError("limiter unreachable")

    processor = get_processor("gemini", config("gemini", fake.url, batch_items=1))
    with pytest.raises(OSError, match="unreachable"):
        processor.process(sample(), SETTINGS, ProcessContext(limiter=Broken()))
    assert not fake.log  # fails closed: no request without the limit


def test_the_limit_holds_for_concurrent_batches(fake: FakeLLM) -> None:
    limiter = InProcessLimiter(rpm=3, tpm=10**9, window=0.5)
    processor = get_processor("gemini", config("gemini", fake.url, batch_items=1))
    output = processor.process(sample(len(LONG)), SETTINGS, ProcessContext(limiter=limiter))
    times = sorted(entry.time for entry in settled_log(fake, output.usage.calls))
    assert len(times) == len(LONG) == output.usage.calls
    assert all(later - earlier >= 0.5 for earlier, later in zip(times, times[3:], strict=False))


# --- the runner ------------------------------------------------------------------------


def test_the_gate_asks_on_the_owner_thread_and_shares_one_call() -> None:
    asked: list[int] = []

    def should_stop() -> bool:
        asked.append(threading.get_ident())
        return len(asked) > 1

    gate = Gate(should_stop)
    answers: list[bool] = []
    lock = threading.Lock()

    def task() -> None:
        for _ in range(3):
            stop = gate.should_stop()
            with lock:
                answers.append(stop)
            if stop:
                return

    run_concurrently([task] * 5, 5, gate)
    assert set(asked) == {threading.get_ident()} and len(asked) <= 15
    assert gate.cancelled and gate.halted and True in answers
    before = len(asked)
    assert gate.should_stop() and len(asked) == before  # halted: answered without a call
