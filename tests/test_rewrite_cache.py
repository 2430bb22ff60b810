"""The shared rewrite cache: a rewrite the model made is never paid for twice."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import pytest
from flask import Flask

from fakellm import FakeLLM, Fault
from folio.extensions import db
from folio.models import LLMRewrite
from folio.pipeline.model import ProcessSettings
from folio.pipeline.processors import ProcessContext, get_processor
from folio.pipeline.processors.llm.cache import rewrite_key
from folio.services.rewrites import DatabaseRewriteCache
from llmkit import config, sample

SETTINGS = ProcessSettings(limit=8, min_words=2, processor="gemini")


class MemoryCache:
    """A `RewriteCache` in a dict, counting what it is asked."""

    def __init__(self) -> None:
        self.entries: dict[str, list[str] | None] = {}
        self.models: set[tuple[str, str]] = set()

    def get(self, keys: Sequence[str]) -> dict[str, list[str] | None]:
        return {key: self.entries[key] for key in keys if key in self.entries}

    def put(
        self, entries: Mapping[str, list[str] | None], *, model: str, prompt_version: str
    ) -> None:
        for key, value in entries.items():
            self.entries.setdefault(key, value)
        self.models.add((model, prompt_version))


@pytest.fixture
def fake() -> Iterator[FakeLLM]:
    with FakeLLM() as server:
        yield server


def test_a_second_run_asks_the_model_nothing(fake: FakeLLM) -> None:
    cache = MemoryCache()
    processor = get_processor("gemini", config("gemini", fake.url))
    sentences = sample()
    first = processor.process(sentences, SETTINGS, ProcessContext(rewrites=cache))
    asked = len(fake.log)
    assert asked > 0 and first.usage.calls == asked
    assert len(cache.entries) == len({i for entry in fake.log for i in entry.ids})
    assert cache.models == {(processor.model, processor.prompt_version)}
    second = processor.process(sentences, SETTINGS, ProcessContext(rewrites=cache))
    assert len(fake.log) == asked and second.usage.calls == 0
    assert second.sentences == first.sentences


def test_a_sentence_the_model_failed_twice_is_not_asked_again(fake: FakeLLM) -> None:
    cache = MemoryCache()
    processor = get_processor("gemini", config("gemini", fake.url))
    sentences = sample(1)  # one long sentence between short ones
    fake.set_faults([Fault("fragment", times=2)])
    first = processor.process(sentences, SETTINGS, ProcessContext(rewrites=cache))
    assert first.repaired == 1 and len(fake.log) == 2
    assert list(cache.entries.values()) == [None]
    second = processor.process(sentences, SETTINGS, ProcessContext(rewrites=cache))
    assert len(fake.log) == 2 and second.sentences == first.sentences
    assert any(row.repaired for row in second.sentences)


def test_an_unavailable_model_leaves_nothing_in_the_cache() -> None:
    cache = MemoryCache()
    processor = get_processor("gemini", config("gemini", "http://127.0.0.1:9", max_attempts=1))
    output = processor.process(sample(2), SETTINGS, ProcessContext(rewrites=cache))
    assert output.repaired == 2 and cache.entries == {}  # the next job may find it answering


def test_the_key_is_the_terms_of_the_rewrite() -> None:
    text = "Le voyageur marchait sous la pluie froide du soir, et il pensait à sa mère."
    key = rewrite_key(text, SETTINGS, "gemini-2.5-flash", "normalize-v1")
    assert len(key) == 64
    assert key == rewrite_key(text, ProcessSettings(limit=8), "gemini-2.5-flash", "normalize-v1")
    others = [
        rewrite_key(text + " ", SETTINGS, "gemini-2.5-flash", "normalize-v1"),
        rewrite_key(text, ProcessSettings(limit=12), "gemini-2.5-flash", "normalize-v1"),
        rewrite_key(
            text, ProcessSettings(limit=8, min_words=3), "gemini-2.5-flash", "normalize-v1"
        ),
        rewrite_key(text, SETTINGS, "gemini-2.5-pro", "normalize-v1"),
        rewrite_key(text, SETTINGS, "gemini-2.5-flash", "normalize-v2"),
    ]
    assert len({key, *others}) == 6


def test_the_database_cache_keeps_the_first_value(db_app: Flask) -> None:
    with db_app.app_context():
        cache = DatabaseRewriteCache()
        assert cache.get(["a" * 64]) == {}
        cache.put(
            {"a" * 64: ["Il partit.", "Elle resta."], "b" * 64: None}, model="m", prompt_version="v"
        )
        # Another chunk kept the same key meanwhile: no error, the first value stays.
        cache.put(
            {"a" * 64: ["Autre chose."], "c" * 64: ["Il dort."]}, model="m", prompt_version="v"
        )
        assert cache.get(["a" * 64, "b" * 64, "c" * 64, "d" * 64]) == {
            "a" * 64: ["Il partit.", "Elle resta."],
            "b" * 64: None,
            "c" * 64: ["Il dort."],
        }
        row = db.session.get(LLMRewrite, "a" * 64)
        assert row is not None and (row.model, row.prompt_version) == ("m", "v")
        cache.put({}, model="m", prompt_version="v")  # nothing to keep: no statement
        many = [f"{n:064d}" for n in range(1200)]  # more keys than one SELECT takes
        cache.put({key: ["Il dort."] for key in many}, model="m", prompt_version="v")
        assert len(cache.get(many)) == 1200
