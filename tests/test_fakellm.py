"""The fake LLM server against the real google-genai client and plain urllib (OpenAI wire)."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from google import genai
from google.genai import errors, types

from fakellm import EXTRA_ID, FakeLLM, Fault, State, count_words, framed, split_text
from fakellm_main import FakeProcess, start_process
from folio.pipeline.french import parser
from folio.pipeline.french.check import is_complete

MODEL = "gemini-2.5-flash"
SYSTEM = "Tu réécris des phrases trop longues pour des lecteurs débutants."
LIMIT = 6
TEXTS = {
    "00012:000345": "Il marchait lentement dans la rue déserte, et il pensait à sa mère qui "
    "l'attendait depuis des heures dans la petite maison au bord de la rivière ; mais rien "
    "ne venait.",
    "00012:000346": "« Viens ici », dit-elle, « et assieds-toi près du feu que je te voie mieux, "
    "mon pauvre enfant, car tu as froid. »",
}
SCHEMA: dict[str, Any] = {
    "type": "OBJECT",
    "properties": {
        "items": {
            "type": "ARRAY",
            "items": {
                "type": "OBJECT",
                "properties": {
                    "id": {"type": "STRING"},
                    "sentences": {"type": "ARRAY", "items": {"type": "STRING"}},
                },
                "required": ["id", "sentences"],
            },
        }
    },
    "required": ["items"],
}


def prompt(texts: dict[str, str] = TEXTS, limit: int = LIMIT) -> str:
    """A prompt in Folio's contract: instructions, then one JSON document after `INPUT:`."""
    items = [{"id": k, "text": v} for k, v in texts.items()]
    doc = {"limit": limit, "min_words": 2, "items": items, "context": ["Il faisait nuit."]}
    return "Coupe les phrases trop longues.\nINPUT:\n" + json.dumps(doc, ensure_ascii=False)


def words(text: str) -> list[str]:
    """Normalised words, to compare content regardless of case and punctuation."""
    return [re.sub(r"^\W+|\W+$", "", w).lower() for w in text.split() if re.search(r"\w", w)]


def client(url: str, version: str = "v1beta", **options: Any) -> genai.Client:
    """A real google-genai client pointed at the fake."""
    http = types.HttpOptions(base_url=url, api_version=version, **options)
    return genai.Client(api_key="test-key", http_options=http)


def ask(c: genai.Client, model: str = MODEL, text: str | None = None) -> Any:
    """One JSON-mode generate_content call."""
    config = types.GenerateContentConfig(
        response_mime_type="application/json", response_schema=SCHEMA
    )
    return c.models.generate_content(model=model, contents=text or prompt(), config=config)


def openai(url: str, body: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    """POST /v1/chat/completions with urllib: status, headers, decoded JSON body."""
    request = urllib.request.Request(
        url + "/v1/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": "Bearer local"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def chat_body(text: str | None = None) -> dict[str, Any]:
    """An OpenAI-compatible chat request in JSON-schema mode."""
    return {
        "model": "qwen2.5-7b-instruct",
        "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": text or prompt()},
        ],
        "response_format": {"type": "json_schema", "json_schema": {"name": "r", "schema": {}}},
    }


@pytest.fixture
def fake() -> Iterator[FakeLLM]:
    """A fresh in-process fake."""
    with FakeLLM() as server:
        yield server


def check_rewrite(answer: dict[str, Any], texts: dict[str, str] = TEXTS) -> None:
    """Every input id answered once, every piece a framed sentence within the limit, the
    item's words kept in order."""
    assert [item["id"] for item in answer["items"]] == list(texts)
    for item in answer["items"]:
        assert all(1 <= count_words(s) <= LIMIT for s in item["sentences"]), item
        assert all(s.startswith("On lit : ") for s in item["sentences"]), item
        assert all(s.rstrip(" »").endswith((".", "!", "?")) for s in item["sentences"]), item
        kept = [s.removeprefix("On lit : ") for s in item["sentences"]]
        assert words(" ".join(kept)) == words(texts[item["id"]])


def test_framed_answers_are_sentences_folio_accepts() -> None:
    for text in TEXTS.values():
        pieces = framed(text, 8)
        assert all(count_words(piece) <= 8 for piece in pieces)
        assert all(is_complete(doc) for doc in parser.parse(pieces)), pieces


def test_split_text_cuts_at_punctuation_and_conjunctions() -> None:
    pieces = split_text(TEXTS["00012:000345"], 8)
    assert pieces == [
        "Il marchait lentement dans la rue déserte.",
        "Et il pensait à sa mère.",
        "Qui l'attendait depuis des heures dans la petite.",
        "Maison au bord de la rivière.",
        "Mais rien ne venait.",
    ]
    assert split_text("Une phrase courte.", 8) == ["Une phrase courte."]
    assert split_text("un deux trois quatre cinq six sept", 3) == [
        "Un deux trois.",
        "Quatre cinq.",
        "Six sept.",
    ]
    quoted = "« Viens ici », dit-elle, « et assieds-toi près du feu que je te voie. »"
    assert split_text(quoted, 6) == [
        "« Viens ici », dit-elle.",
        "« Et assieds-toi près du feu.",
        "Que je te voie. »",
    ]


@pytest.mark.parametrize(
    ("version", "field"),
    [("v1beta", "response_schema"), ("v1", "response_schema"), ("v1beta", "response_json_schema")],
)
def test_gemini_sdk_round_trip(fake: FakeLLM, version: str, field: str) -> None:
    config = types.GenerateContentConfig(
        response_mime_type="application/json", system_instruction=SYSTEM
    )
    setattr(config, field, SCHEMA)
    c = client(fake.url, version)
    response = c.models.generate_content(model=MODEL, contents=prompt(), config=config)
    assert response.text is not None
    check_rewrite(json.loads(response.text))
    assert response.parsed == json.loads(response.text)
    assert response.candidates and response.candidates[0].finish_reason == types.FinishReason.STOP
    (entry,) = fake.log
    assert entry.path == f"/{version}/models/{MODEL}:generateContent"
    assert (entry.api, entry.model, entry.items, entry.status) == ("gemini", MODEL, 2, 200)
    assert (entry.api_key, entry.json_mode, entry.schema) == ("test-key", True, True)
    usage = response.usage_metadata
    assert usage is not None
    chars = len(SYSTEM) + len(prompt())  # the system instruction counts as prompt
    assert usage.prompt_token_count == entry.prompt_tokens == math.ceil(chars / 4)
    assert usage.candidates_token_count == entry.completion_tokens
    assert entry.completion_tokens == math.ceil(len(response.text) / 4)
    assert usage.total_token_count == entry.prompt_tokens + entry.completion_tokens


def test_openai_round_trip(fake: FakeLLM) -> None:
    status, _, body = openai(fake.url, chat_body())
    assert status == 200 and body["object"] == "chat.completion"
    choice = body["choices"][0]
    assert (choice["message"]["role"], choice["finish_reason"]) == ("assistant", "stop")
    check_rewrite(json.loads(choice["message"]["content"]))
    (entry,) = fake.log
    assert (entry.api, entry.model, entry.api_key, entry.schema) == (
        "openai",
        "qwen2.5-7b-instruct",
        "Bearer local",
        True,
    )
    chars = len(SYSTEM) + len(prompt())
    assert body["usage"] == {
        "prompt_tokens": entry.prompt_tokens,
        "completion_tokens": entry.completion_tokens,
        "total_tokens": entry.prompt_tokens + entry.completion_tokens,
    }
    assert entry.prompt_tokens == math.ceil(chars / 4)


def test_prompt_without_input_is_a_400(fake: FakeLLM) -> None:
    with pytest.raises(errors.ClientError) as caught:
        ask(client(fake.url), text="Bonjour.")
    assert (caught.value.code, caught.value.status) == (400, "INVALID_ARGUMENT")
    status, _, body = openai(fake.url, chat_body("Bonjour."))
    assert (status, body["error"]["type"]) == (400, "invalid_request_error")


def _answer(response: Any) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(response.text)
    return result


@pytest.mark.parametrize(
    "kind", ["missing_ids", "extra_ids", "overlong", "empty", "drift", "malformed_json"]
)
def test_content_faults_through_the_sdk(fake: FakeLLM, kind: str) -> None:
    fake.set_faults([Fault(kind)])
    c = client(fake.url)
    response = ask(c)
    if kind == "malformed_json":
        with pytest.raises(json.JSONDecodeError):
            json.loads(response.text or "")
        assert response.parsed is None
    else:
        items = {item["id"]: item["sentences"] for item in _answer(response)["items"]}
        first = items.get("00012:000345", [])
        if kind == "missing_ids":
            assert list(items) == ["00012:000345"]
        elif kind == "extra_ids":
            assert set(items) == {*TEXTS, EXTRA_ID}
        elif kind == "overlong":
            assert max(count_words(s) for s in first) > LIMIT
        elif kind == "empty":
            assert first == []
        else:
            assert not set(words(" ".join(first))) & set(words(TEXTS["00012:000345"]))
    assert fake.log[-1].faults == [kind]
    check_rewrite(_answer(ask(c)))  # the rule applied to one request only


def test_status_500_is_a_server_error_once(fake: FakeLLM) -> None:
    fake.set_faults([Fault("status_500")])
    c = client(fake.url)
    with pytest.raises(errors.ServerError) as caught:
        ask(c)
    assert (caught.value.code, caught.value.status) == (500, "INTERNAL")
    check_rewrite(_answer(ask(c)))
    assert [e.status for e in fake.log] == [500, 200]


def test_429_carries_its_retry_delay_and_the_sdk_does_not_retry(fake: FakeLLM) -> None:
    fake.set_faults([Fault("status_429", retry_delay=2.5)])
    with pytest.raises(errors.ClientError) as caught:
        ask(client(fake.url))
    error = caught.value
    assert (error.code, error.status) == (429, "RESOURCE_EXHAUSTED")
    detail = error.details["error"]["details"][0]
    assert detail == {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "2.5s"}
    assert error.response.headers["retry-after"] == "3"
    assert [(e.status, e.prompt_tokens) for e in fake.log] == [(429, 0)]


def test_sdk_retry_options_retry_429_and_500_without_the_retry_delay(fake: FakeLLM) -> None:
    fake.set_faults([Fault("status_429", retry_delay=30), Fault("status_500")])
    retry = types.HttpRetryOptions(attempts=3, initial_delay=0.05, max_delay=0.1, jitter=0)
    started = time.monotonic()
    check_rewrite(_answer(ask(client(fake.url, retry_options=retry))))
    assert time.monotonic() - started < 5
    assert [e.status for e in fake.log] == [429, 500, 200]


def test_openai_429_body_and_headers(fake: FakeLLM) -> None:
    fake.set_faults([Fault("status_429", retry_delay=2, api="openai")])
    check_rewrite(_answer(ask(client(fake.url))))  # the rule is for the OpenAI path only
    status, headers, body = openai(fake.url, chat_body())
    assert (status, headers["Retry-After"], headers["retry-after-ms"]) == (429, "2", "2000")
    assert body["error"]["type"] == "rate_limit_exceeded"


def test_latency_and_rules_from_http(fake: FakeLLM) -> None:
    rules = [{"kind": "latency", "seconds": 0.3, "times": None}, {"kind": "empty", "times": 2}]
    request = urllib.request.Request(
        fake.url + "/_fake/faults", data=json.dumps(rules).encode(), method="POST"
    )
    with urllib.request.urlopen(request) as response:
        assert json.loads(response.read()) == {"faults": 2}
    c = client(fake.url)
    for _ in range(3):
        started = time.monotonic()
        ask(c)
        assert time.monotonic() - started >= 0.3
    assert [e.faults for e in fake.log] == [["latency", "empty"]] * 2 + [["latency"]]
    urllib.request.urlopen(urllib.request.Request(fake.url + "/_fake/faults", method="DELETE"))
    started = time.monotonic()
    ask(c)
    assert time.monotonic() - started < 0.3
    bad = urllib.request.Request(fake.url + "/_fake/faults", data=b'[{"kind": "x"}]')
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(bad)
    assert caught.value.code == 400
    with pytest.raises(ValueError, match="unknown fault kind"):
        Fault("timeout")


def test_hang_is_cut_by_the_client_timeout_and_blocks_nothing(fake: FakeLLM) -> None:
    fake.set_faults([Fault("hang", seconds=30, model="gemini-hang")])
    outcome: list[BaseException] = []

    def hang() -> None:
        try:
            ask(client(fake.url, timeout=1000), model="gemini-hang")  # milliseconds
        except BaseException as error:
            outcome.append(error)

    thread = threading.Thread(target=hang)
    started = time.monotonic()
    thread.start()
    while fake.stats()["in_flight"] < 1 and time.monotonic() - started < 5:
        time.sleep(0.01)
    check_rewrite(_answer(ask(client(fake.url))))
    assert thread.is_alive() and not outcome  # answered while the other request hangs
    thread.join(5)
    assert len(outcome) == 1 and isinstance(outcome[0], httpx2.TimeoutException)
    assert 1.0 <= time.monotonic() - started < 4
    deadline = time.monotonic() + 2
    while len(fake.log) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    hung = [e for e in fake.log if e.model == "gemini-hang"]
    assert [(e.status, e.faults) for e in hung] == [(0, ["hang"])]  # gave up, no answer sent
    assert hung[0].duration < 2  # the fake noticed the closed connection and stopped waiting
    assert (fake.stats()["max_in_flight"], fake.stats()["in_flight"]) == (2, 0)


def test_stats_count_the_peak_rate(fake: FakeLLM) -> None:
    c = client(fake.url)
    for _ in range(4):
        ask(c)
    openai(fake.url, chat_body())
    stats = fake.stats()
    assert (stats["requests"], stats["max_requests_in_any_60s_window"]) == (5, 5)
    assert sum(stats["by_second"].values()) == 5 and stats["in_flight"] == 0
    with urllib.request.urlopen(fake.url + "/_fake/stats") as response:
        assert json.loads(response.read())["requests"] == 5


def test_the_60_second_window_is_exact() -> None:
    state = State()
    state.times = [0.0, 10.0, 59.9, 60.0, 61.0, 200.0]
    stats = state.stats()
    assert (stats["requests"], stats["max_requests_in_any_60s_window"]) == (6, 4)
    assert stats["by_second"] == {"0": 1, "10": 1, "59": 1, "60": 1, "61": 1, "200": 1}


def test_separate_process() -> None:
    with start_process() as proc:
        assert isinstance(proc, FakeProcess)
        c = client(proc.url)
        check_rewrite(_answer(ask(c)))
        proc.set_faults([Fault("status_500", times=None)])
        for _ in range(2):
            with pytest.raises(errors.ServerError):
                ask(c)
        proc.clear_faults()
        ask(c)
        log = proc.log
        assert [e.status for e in log] == [200, 500, 500, 200]
        assert log[0].prompt_tokens == math.ceil(len(prompt()) / 4)
        assert proc.stats()["requests"] == 4
        process = proc.process
    assert process is not None and process.returncode == 0  # SIGTERM is a clean stop


def test_python_m_fakellm_writes_its_port(tmp_path: Path) -> None:
    port_file = tmp_path / "port"
    command = [sys.executable, "-m", "fakellm", "--port", "0", "--port-file", str(port_file)]
    process = subprocess.Popen(command, cwd=Path(__file__).parent)
    with FakeProcess("", process) as proc:
        deadline = time.monotonic() + 10
        while not port_file.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.url = f"http://127.0.0.1:{int(port_file.read_text())}"
        status, _, body = openai(proc.url, chat_body())
        assert status == 200
        check_rewrite(json.loads(body["choices"][0]["message"]["content"]))
        assert [e.api for e in proc.log] == ["openai"]
        proc.reset()
        assert proc.log == [] and proc.stats()["requests"] == 0
    assert process.returncode == 0
