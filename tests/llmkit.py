"""Helpers of the LLM processor tests: configurations pointing at the fake, sample sentences."""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from fakellm import FakeLLM, LogEntry
from folio.pipeline.model import OutputSentence, Sentence
from folio.pipeline.processors import LLMConfig

PROVIDERS = ("gemini", "openai")
KEY = "sk-test-7f3a9c1e5b2d4f60"  # a fake key, never a real one
MODELS = {"gemini": "gemini-2.5-flash", "openai": "qwen2.5:7b-instruct"}
LONG = [
    "Le 15 septembre 1840, vers six heures du matin, la Ville-de-Montereau, près de partir, "
    "fumait à gros tourbillons devant le quai Saint-Bernard.",
    "Des gens arrivaient hors d’haleine ; des barriques, des câbles, des corbeilles de linge "
    "gênaient la circulation ; les matelots ne répondaient à personne.",
    "Enfin le navire partit, et les deux berges, peuplées de magasins, de chantiers et "
    "d’usines, filèrent comme deux larges rubans que l’on déroule.",
    "Un jeune homme de dix-huit ans, à longs cheveux et qui tenait un album sous son bras, "
    "restait auprès du gouvernail, immobile.",
    "À travers le brouillard, il contemplait des clochers, des édifices dont il ne savait pas "
    "les noms, puis il embrassa, dans un dernier coup d’œil, l’île Saint-Louis, la Cité, "
    "Notre-Dame.",
]
SHORT = ["Il partit.", "Le ciel était gris.", "Personne ne parlait."]


def config(provider: str, url: str, **changes: Any) -> LLMConfig:
    """A configuration aimed at the fake (or any test server) at `url`, with fast retries."""
    values: dict[str, Any] = {
        "provider": provider,
        "model": MODELS[provider],
        "api_key": KEY,
        "base_url": url if provider == "gemini" else url + "/v1",
        "api_version": "v1beta" if provider == "gemini" else "",
        "timeout_seconds": 2.0,
        "backoff_seconds": 0.01,
        "backoff_max_seconds": 2.0,
    }
    values.update(changes)
    return LLMConfig(**values)


def sample(long_count: int = len(LONG)) -> list[Sentence]:
    """Short and long sentences interleaved, long ones cycling through LONG."""
    texts: list[str] = []
    for index in range(long_count):
        texts += [SHORT[index % len(SHORT)], LONG[index % len(LONG)]]
    texts.append(SHORT[0])
    return [Sentence(3, 100 * index, text) for index, text in enumerate(texts)]


def source_ids_in_order(sentences: list[Sentence], output: list[OutputSentence]) -> bool:
    """Whether every source appears once, in order, its pieces numbered 0, 1, 2…"""
    groups = [
        (source_id, [piece.part for piece in pieces])
        for source_id, pieces in itertools.groupby(output, key=lambda piece: piece.source_id)
    ]
    ids_ok = [source_id for source_id, _ in groups] == [s.source_id for s in sentences]
    return ids_ok and all(parts == list(range(len(parts))) for _, parts in groups)


def settled_log(fake: FakeLLM, count: int, timeout: float = 3.0) -> list[LogEntry]:
    """The fake's log once it holds `count` entries (a request cut off by a client timeout is
    logged when the fake notices the client left)."""
    deadline = time.monotonic() + timeout
    while len(fake.log) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return fake.log


Responder = Callable[[str, dict[str, Any], Mapping[str, str]], tuple[int, dict[str, Any]]]


class StubServer:
    """A one-function HTTP server on 127.0.0.1 for answers the fake does not give."""

    def __init__(self, respond: Responder) -> None:
        handler = type("Handler", (_StubHandler,), {"respond": staticmethod(respond)})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.requests: list[dict[str, Any]] = []
        self.server.requests = self.requests  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> StubServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


class _StubHandler(BaseHTTPRequestHandler):
    respond: Responder

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        self.server.requests.append(body)  # type: ignore[attr-defined]
        status, answer = self.respond(self.path, body, dict(self.headers.items()))
        data = json.dumps(answer, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def closed_port_url() -> str:
    """The URL of a local port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
