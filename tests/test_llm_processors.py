"""The gemini and openai processors against the fake LLM server: a real chapter, every fault,
an unreachable server, cancel, and keys that never leak. Never Google."""

from __future__ import annotations

import json
import logging
import time
import traceback
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from books import BOOKS
from fakellm import FakeLLM, Fault, parse_input, rewrite
from folio.config import Settings
from folio.pipeline.errors import PipelineError
from folio.pipeline.model import ChunkPlan, ProcessSettings
from folio.pipeline.processors import ProcessContext, get_processor
from folio.pipeline.processors.llm.openai_compat import JSON_OBJECT, OpenAICompatibleProcessor
from folio.pipeline.processors.llm.processor import LLMUnavailable
from folio.pipeline.runner import run_chunk
from folio.pipeline.sources.pdf.inspect import inspect_pdf
from folio.pipeline.text import count_words
from llmkit import (
    KEY,
    LONG,
    PROVIDERS,
    StubServer,
    closed_port_url,
    config,
    sample,
    settled_log,
    source_ids_in_order,
)

SETTINGS = ProcessSettings(limit=8, min_words=2)
FIRST, LAST, ALL = "first", "last", "all"


@pytest.fixture
def fake() -> Iterator[FakeLLM]:
    with FakeLLM() as server:
        yield server


def check_output(provider: str, output: Any, sentences: list[Any], repaired: set[str]) -> None:
    """Nothing lost, order kept, every row within the limit or flagged (a repair is the local
    processor's: what no clean cut shortens stays whole), and `repaired` exactly the flagged
    sources."""
    assert source_ids_in_order(sentences, output.sentences)
    for piece in output:
        assert piece.words == count_words(piece.text)
        assert piece.words <= SETTINGS.limit or (piece.over_limit and piece.repaired), piece
    flagged = {piece.source_id for piece in output if piece.repaired}
    assert flagged == repaired
    for piece in output:
        assert piece.processor == ("local" if piece.repaired else provider)
    assert output.repaired == len(repaired)


# --- a real chapter --------------------------------------------------------------------


@pytest.mark.corpus
@pytest.mark.parametrize("provider", PROVIDERS)
def test_rewrites_a_real_chapter(corpus_dir: Path, fake: FakeLLM, provider: str) -> None:
    pdf = corpus_dir / "pdfs" / BOOKS["verne"].pdf
    furniture = inspect_pdf(pdf).furniture
    plan = ChunkPlan(0, 10, 29, 9, 30)
    settings = ProcessSettings(limit=8, min_words=2, processor=provider)
    context = ProcessContext(llm={provider: config(provider, fake.url)})
    result = run_chunk(pdf, plan, furniture, settings, context=context)
    local = run_chunk(pdf, plan, furniture, ProcessSettings(limit=8, min_words=2))

    assert result.source_sentences == local.source_sentences > 300
    ids = [s.source_id for s in result.sentences]
    assert list(dict.fromkeys(ids)) == list(dict.fromkeys(s.source_id for s in local.sentences))
    # Every row within the limit, or the local processor's row left whole and flagged.
    assert all(
        0 < s.words <= 8 or (s.over_limit and s.repaired and s.processor == "local")
        for s in result.sentences
    )
    # Hybrid: only the sentences the local processor left over the limit went to the model,
    # each once (and again only if its answer failed); the rest are the local rows.
    over = {s.source_id for s in local.sentences if s.over_limit}
    log = fake.log
    asked = [source_id for entry in log for source_id in entry.ids]
    assert set(asked) == over and len(asked) == len(over) + result.retried
    assert [s.text for s in result.sentences if s.source_id not in over] == [
        s.text for s in local.sentences if s.source_id not in over
    ]
    from_model = [s for s in result.sentences if s.processor == provider and s.cut == "llm"]
    assert from_model and all(s.words >= 2 and s.source_text for s in from_model)
    assert not result.stopped and result.model == config(provider, "").model
    assert result.prompt_version == "normalize-v1"
    # The fake's answers are complete sentences, but the parser reads a few as fragments:
    # asked again, and if they fail twice, the local rows stay, flagged.
    assert result.repaired <= result.retried and result.repaired < 0.1 * len(over)
    assert result.usage.calls == len(log) and all(entry.status == 200 for entry in log)
    assert result.usage.tokens_in == sum(entry.prompt_tokens for entry in log) > 0
    assert result.usage.tokens_out == sum(entry.completion_tokens for entry in log) > 0
    assert all(entry.json_mode and entry.schema and entry.items <= 20 for entry in log)


# --- the fault matrix ------------------------------------------------------------------

# fault, its options, calls made, items asked twice, sources repaired locally.
TRANSIENT = [
    ("latency", {"seconds": 0.3}, 1, 0, None),
    ("status_429", {"retry_delay": 0.3}, 2, 0, None),
    ("status_500", {}, 2, 0, None),
    ("hang", {"seconds": 5}, 2, 0, None),
    ("malformed_json", {}, 2, 5, None),
    ("missing_ids", {}, 2, 1, None),
    ("extra_ids", {}, 1, 0, None),
    ("overlong", {}, 2, 1, None),
    ("empty", {}, 2, 1, None),
    ("drift", {}, 2, 1, None),
    ("fragment", {}, 2, 1, None),
    ("dropped", {}, 2, 1, None),
]
PERSISTENT = [
    ("status_500", {}, 4, 0, ALL),
    ("status_429", {"retry_delay": 0.05}, 4, 0, ALL),
    ("status_429", {"retry_delay": 30}, 1, 0, ALL),  # asks longer than the backoff cap
    ("hang", {"seconds": 5}, 4, 0, ALL),
    ("malformed_json", {}, 2, 5, ALL),
    ("missing_ids", {}, 2, 1, LAST),
    ("extra_ids", {}, 1, 0, None),
    ("overlong", {}, 2, 1, FIRST),
    ("empty", {}, 2, 1, FIRST),
    ("drift", {}, 2, 1, FIRST),
    ("fragment", {}, 2, 1, FIRST),  # every word kept, but pieces that are no sentences
    ("dropped", {}, 2, 1, FIRST),  # sentences, but a quarter of the words left out
]


def run_fault(
    fake: FakeLLM, provider: str, fault: Fault, **changes: Any
) -> tuple[Any, list[Any], float]:
    sentences = sample()
    fake.set_faults([fault])
    changes = {"timeout_seconds": 0.5, **changes}
    processor = get_processor(provider, config(provider, fake.url, **changes))
    started = time.monotonic()
    output = processor.process(sentences, SETTINGS)
    return output, sentences, time.monotonic() - started


def expected_repaired(sentences: list[Any], which: str | None) -> set[str]:
    long = [s.source_id for s in sentences if count_words(s.text) > SETTINGS.limit]
    return {None: set(), FIRST: {long[0]}, LAST: {long[-1]}, ALL: set(long)}[which]


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(("kind", "options", "calls", "retried", "repaired"), TRANSIENT)
def test_a_passing_fault_is_retried_and_recovered(
    fake: FakeLLM,
    provider: str,
    kind: str,
    options: dict[str, Any],
    calls: int,
    retried: int,
    repaired: str | None,
) -> None:
    output, sentences, _ = run_fault(fake, provider, Fault(kind, times=1, **options))
    check_output(provider, output, sentences, expected_repaired(sentences, repaired))
    log = settled_log(fake, calls)
    assert output.usage.calls == len(log) == calls and output.retried == retried
    assert output.usage.tokens_in == sum(entry.prompt_tokens for entry in log)
    assert output.usage.tokens_out == sum(entry.completion_tokens for entry in log)
    if retried:  # the second ask carries only the items that failed
        assert log[1].items == retried
    if kind == "status_429":  # the server's delay was honoured
        assert log[1].time - log[0].time >= 0.3


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(("kind", "options", "calls", "retried", "repaired"), PERSISTENT)
def test_a_lasting_fault_ends_repaired_and_flagged(
    fake: FakeLLM,
    provider: str,
    kind: str,
    options: dict[str, Any],
    calls: int,
    retried: int,
    repaired: str | None,
) -> None:
    output, sentences, _ = run_fault(fake, provider, Fault(kind, times=None, **options))
    check_output(provider, output, sentences, expected_repaired(sentences, repaired))
    log = settled_log(fake, calls)
    assert output.usage.calls == len(log) == calls and output.retried == retried
    assert output.flagged == sum(1 for piece in output if piece.repaired)
    assert (output.flagged > 0) == (repaired is not None)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_hang_is_cut_by_the_timeout(fake: FakeLLM, provider: str) -> None:
    output, sentences, seconds = run_fault(
        fake, provider, Fault("hang", times=None, seconds=30), timeout_seconds=0.3, max_attempts=2
    )
    check_output(provider, output, sentences, expected_repaired(sentences, ALL))
    assert seconds < 3 and output.usage.calls == 2
    assert [entry.status for entry in settled_log(fake, 2)] == [0, 0]  # the client gave up


# --- an unreachable model ----------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("concurrency", [1, 8])
def test_unreachable_server_falls_back_to_local(provider: str, concurrency: int) -> None:
    sentences = sample()
    changes = {"batch_items": 2, "concurrency": concurrency}
    processor = get_processor(provider, config(provider, closed_port_url(), **changes))
    output = processor.process(sentences, SETTINGS)
    check_output(provider, output, sentences, expected_repaired(sentences, ALL))
    if concurrency == 1:
        # The first batch spends its attempts; the others go local without a call.
        assert output.usage.calls == 4
    else:
        # The three batches ask at once: one spends its 4 attempts, the others stop at their
        # next attempt and go local. A dead endpoint costs at most `concurrency` batches.
        assert 4 <= output.usage.calls <= 3 * 4


@pytest.mark.parametrize("provider", PROVIDERS)
def test_unreachable_server_fails_when_asked_to(provider: str) -> None:
    processor = get_processor(provider, config(provider, closed_port_url(), fallback="fail"))
    with pytest.raises(LLMUnavailable) as raised:
        processor.process(sample(), SETTINGS)
    assert isinstance(raised.value, PipelineError) and raised.value.code == "llm_unavailable"
    assert "4 attempt" in raised.value.message and raised.value.usage.calls == 4


@pytest.mark.corpus
def test_run_chunk_raises_llm_unavailable(corpus_dir: Path) -> None:
    pdf = corpus_dir / "pdfs" / BOOKS["verne"].pdf
    llm = {"openai": config("openai", closed_port_url(), fallback="fail", max_attempts=2)}
    settings = ProcessSettings(processor="openai")
    with pytest.raises(LLMUnavailable):
        run_chunk(
            pdf,
            ChunkPlan(0, 10, 10, 9, 11),
            inspect_pdf(pdf).furniture,
            settings,
            context=ProcessContext(llm=llm),
        )


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_body_that_is_no_answer_ends_repaired(provider: str) -> None:
    sentences = sample()
    with StubServer(lambda path, body, headers: (200, {"unexpected": True})) as stub:
        output = get_processor(provider, config(provider, stub.url)).process(sentences, SETTINGS)
    check_output(provider, output, sentences, expected_repaired(sentences, ALL))


# --- cancel ------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
def test_cancel_stops_before_the_next_batch(fake: FakeLLM, provider: str) -> None:
    sentences = sample()
    # One batch after the other (concurrency 1): test_llm_concurrency.py cancels concurrent ones.
    processor = get_processor(provider, config(provider, fake.url, batch_items=1, concurrency=1))
    context = ProcessContext(should_stop=lambda: len(fake.log) >= 2)
    output = processor.process(sentences, SETTINGS, context)
    time.sleep(0.3)
    assert output.stopped and output.usage.calls == len(fake.log) == 2
    # What was done is a prefix of the chunk: two long sentences and the short ones around.
    assert source_ids_in_order(sentences[:5], output.sentences)


def test_cancel_interrupts_a_backoff(fake: FakeLLM) -> None:
    fake.set_faults([Fault("status_500", times=None)])
    processor = get_processor("openai", config("openai", fake.url, backoff_seconds=5))
    started = time.monotonic()
    output = processor.process(sample(), SETTINGS, ProcessContext(lambda: len(fake.log) >= 1))
    assert output.stopped and output.usage.calls == 1 and time.monotonic() - started < 2


@pytest.mark.corpus
def test_run_chunk_reports_a_cancel(corpus_dir: Path, fake: FakeLLM) -> None:
    pdf = corpus_dir / "pdfs" / BOOKS["verne"].pdf
    context = ProcessContext(should_stop=lambda: True, llm={"gemini": config("gemini", fake.url)})
    result = run_chunk(
        pdf,
        ChunkPlan(0, 10, 12, 9, 13),
        inspect_pdf(pdf).furniture,
        ProcessSettings(processor="gemini"),
        context=context,
    )
    assert result.stopped and result.usage.calls == 0 and not fake.log


# --- keys never leak ---------------------------------------------------------------------


def echo_key(path: str, body: dict[str, Any], headers: Mapping[str, str]) -> tuple[int, Any]:
    """A careless server: 401 quoting the credential it received."""
    sent = headers.get("x-goog-api-key") or headers.get("Authorization")
    return 401, {"error": {"code": 401, "message": f"API key {sent} not valid", "status": "X"}}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_errors_and_logs_never_carry_the_key(
    provider: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with StubServer(echo_key) as stub:
        processor = get_processor(provider, config(provider, stub.url))
        output = processor.process(sample(), SETTINGS)  # 401 is not retried: local at once
        assert output.usage.calls == 1 and output.repaired == len(LONG)
        failing_config = config(provider, stub.url, fallback="fail")
        failing = get_processor(provider, failing_config)
        with pytest.raises(LLMUnavailable) as raised:
            failing.process(sample(), SETTINGS)
    error = raised.value
    shown = "".join(traceback.format_exception(error)) + repr(error) + caplog.text
    assert "401" in error.message and "[redacted]" in error.message
    assert KEY not in shown and KEY not in repr(processor) and KEY not in repr(failing_config)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_server_error_message_has_no_key(fake: FakeLLM, provider: str) -> None:
    fake.set_faults([Fault("status_500", times=None)])
    processor = get_processor(provider, config(provider, fake.url, fallback="fail"))
    with pytest.raises(LLMUnavailable) as raised:
        processor.process(sample(), SETTINGS)
    assert "500" in raised.value.message and KEY not in str(raised.value)
    assert all(entry.api_key and KEY in entry.api_key for entry in fake.log)  # it was sent


def test_settings_repr_hides_the_keys() -> None:
    environ = {"FOLIO_GEMINI_API_KEY": KEY, "FOLIO_OPENAI_API_KEY": KEY + "x"}
    settings = Settings.from_env(environ)
    assert settings.gemini.api_key == KEY and KEY not in repr(settings)
    assert KEY not in str(settings.llm)


# --- OpenAI-compatible servers without json_schema ----------------------------------------


def json_object_only(path: str, body: dict[str, Any], headers: Mapping[str, str]) -> Any:
    """An older server: refuses json_schema, answers in json_object mode."""
    if body["response_format"]["type"] != "json_object":
        return 400, {"error": {"message": "response_format json_schema is not supported"}}
    doc = parse_input(body["messages"][-1]["content"])
    content = json.dumps(rewrite(doc), ensure_ascii=False)
    usage = {"prompt_tokens": 10, "completion_tokens": 5}
    return 200, {"choices": [{"message": {"content": content}}], "usage": usage}


def test_openai_falls_back_to_json_object() -> None:
    sentences = sample()
    with StubServer(json_object_only) as stub:
        # One batch after the other, so that the switch shows in the order of the requests.
        changes = {"batch_items": 2, "concurrency": 1}
        processor = get_processor("openai", config("openai", stub.url, **changes))
        output = processor.process(sentences, SETTINGS)
        formats = [body["response_format"]["type"] for body in stub.requests]
    assert isinstance(processor, OpenAICompatibleProcessor)
    assert processor.response_format == JSON_OBJECT
    assert formats == ["json_schema", "json_object", "json_object", "json_object"]
    check_output("openai", output, sentences, set())
    assert output.usage.calls == len(formats) and output.usage.tokens_in == 30
