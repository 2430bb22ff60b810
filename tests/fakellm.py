"""A fake LLM server on 127.0.0.1 speaking Gemini `generateContent` and OpenAI chat completions.

Answers are a deterministic rewrite of the `INPUT:` JSON in the prompt: each item cut into
runs of at most `limit - 2` words (`token_groups`), each made a sentence that stands on its
own as «On lit : <run>» (every word of the item kept, so most pass Folio's checks, as a
good model's would). Faults are injected on request (`POST /_fake/faults`); `GET /_fake/log`
and `GET /_fake/stats` report what was seen. `FakeLLM` runs it in a thread; fakellm_main.py
runs it as its own process.
"""

from __future__ import annotations

import json
import math
import re
import select
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from folio.pipeline.french import check

KINDS = frozenset(
    {"latency", "status_429", "status_500", "malformed_json", "missing_ids", "extra_ids"}
    | {"overlong", "empty", "drift", "hang", "fragment", "dropped"}
)
HANG_LIMIT = 60.0
GEMINI_PATH = re.compile(r"^/(v1|v1beta|v1alpha)/models/([^/:]+):generateContent$")
CUT_BEFORE = frozenset({"et", "mais", "qui", "que"})
OPENERS = frozenset({"«", "—", "–", "-", "(", '"'})
DRIFT = ["Le ciel est bleu.", "Les oiseaux chantent."]
# What makes each piece a sentence: a subject, a finite verb, and the piece as its object.
FRAME = ["On", "lit", ":"]
# A piece must not end on a word that needs what follows (Folio's check reads it as cut short).
DANGLING = check.DANGLING
EXTRA_ID = "fake:unknown"
Reply = tuple[int, dict[str, Any], dict[str, str]]  # status, JSON body, extra headers
RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
GOOGLE_ERRORS = {400: "INVALID_ARGUMENT", 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED"}
GOOGLE_ERRORS[504] = "DEADLINE_EXCEEDED"
OPENAI_ERRORS = {400: "invalid_request_error", 429: "rate_limit_exceeded"}


@dataclass
class Fault:
    """One rule: `kind` applies to the next `times` matching requests (None: always)."""

    kind: str
    times: int | None = 1
    seconds: float = 0.0  # latency; hang bound (capped at HANG_LIMIT; 0 means the cap)
    retry_delay: float = 2.0  # status_429: RetryInfo.retryDelay and Retry-After
    api: str | None = None  # "gemini", "openai" or None for both
    model: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}")


@dataclass
class LogEntry:
    """One request to an LLM endpoint and what the fake answered."""

    time: float
    api: str
    path: str
    model: str
    items: int
    prompt_tokens: int
    completion_tokens: int
    status: int  # 0: no answer was sent (the client gave up during a hang)
    faults: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    api_key: str | None = None
    json_mode: bool = False
    schema: bool = False
    duration: float = 0.0


def is_word(token: str) -> bool:
    """Whether a whitespace token counts as a word (holds a letter or digit)."""
    return any(c.isalnum() for c in token)


def count_words(text: str) -> int:
    """Number of words in `text`."""
    return sum(1 for t in text.split() if is_word(t))


def _finish(tokens: list[str]) -> str:
    text = " ".join(tokens).rstrip(",;: ")
    for i, c in enumerate(text):
        if c.isalpha():
            text = text[:i] + c.upper() + text[i + 1 :]
            break
    return text if text.rstrip(" »\"')").endswith((".", "!", "?", "…")) else text + "."


def split_text(text: str, limit: int, min_words: int = 2) -> list[str]:
    """Cut `text` into pieces of at most `limit` words, keeping every token in order."""
    return [_finish(tokens) for tokens in token_groups(text, limit, min_words)]


def token_groups(
    text: str, limit: int, min_words: int = 2, never_after: frozenset[str] = frozenset()
) -> list[list[str]]:
    """`text`'s tokens in runs of at most `limit` words, cut after , ; : or before et, mais…;
    never after a word of `never_after`."""
    tokens, groups = text.split(), []
    limit, floor = max(1, limit), max(1, min(min_words, limit))
    while sum(map(is_word, tokens)) > limit:
        words, best, balanced, fallback = 0, 0, 0, 0
        for k in range(1, len(tokens)):
            words += is_word(tokens[k - 1])
            if words > limit:
                break
            if tokens[k - 1] in OPENERS or _bare(tokens[k - 1]) in never_after:
                continue
            rest = sum(map(is_word, tokens[k:]))
            fallback, balanced = k, k if rest >= floor else balanced
            after = tokens[k - 1].endswith((",", ";", ":"))
            following = [t for t in tokens[k : k + 2] if is_word(t)][:1] or [""]
            before = following[0].lower().strip("«\"'—–-(") in CUT_BEFORE
            if (after or before) and words >= floor and rest >= floor:
                best = k
        cut = best or balanced or fallback or 1
        groups.append(tokens[:cut])
        tokens = tokens[cut:]
    if tokens:
        groups.append(tokens)
    return groups


def parse_input(prompt: str) -> dict[str, Any]:
    """The JSON document after the last `INPUT:` marker of a prompt."""
    at = prompt.rfind("INPUT:")
    start = prompt.find("{", at) if at >= 0 else -1
    if start < 0:
        raise ValueError("the prompt has no INPUT: JSON document")
    doc, _ = json.JSONDecoder().raw_decode(prompt, start)
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
        raise ValueError("the INPUT document has no items list")
    return doc


def framed(text: str, limit: int, min_words: int = 2) -> list[str]:
    """`text` as sentences of at most `limit` words that each stand on its own: «On lit : …»."""
    room = max(1, limit - count_words(" ".join(FRAME)))
    groups = token_groups(text, room, min_words, DANGLING)
    return [" ".join([*FRAME, *tokens]).rstrip(",;: ") + _stop(tokens) for tokens in groups]


def _bare(token: str) -> str:
    return token.lower().strip(',;:.!?«»"()—–-').rstrip("'’")


def _stop(tokens: list[str]) -> str:
    last = tokens[-1].rstrip(" »\"')") if tokens else ""
    return "" if last.endswith((".", "!", "?", "…")) else "."


def rewrite(doc: dict[str, Any], faults: Iterable[str] = ()) -> dict[str, Any]:
    """The answer `{"items": [{"id", "sentences"}]}` for an INPUT document, with content faults."""
    limit, floor = int(doc.get("limit", 8)), int(doc.get("min_words", 2))
    items = [
        {"id": it["id"], "sentences": framed(str(it["text"]), limit, floor)} for it in doc["items"]
    ]
    kinds = set(faults)
    if items and "overlong" in kinds:
        words = " ".join(doc["items"][0]["text"].split())
        pad = max(0, limit + 1 - count_words(words))
        items[0]["sentences"] = [_finish([*words.split(), *(["encore"] * pad)])]
    if items and "empty" in kinds:
        items[0]["sentences"] = []
    if items and "drift" in kinds:
        items[0]["sentences"] = list(DRIFT)
    if items and "fragment" in kinds:  # every word kept, but cut anywhere: fragments
        items[0]["sentences"] = split_text(str(doc["items"][0]["text"]), limit, floor)
    if items and "dropped" in kinds:  # close to the source, but its longest words left out
        items[0]["sentences"] = _dropped(str(doc["items"][0]["text"]), limit, floor)
    if items and "missing_ids" in kinds:
        items.pop()
    if "extra_ids" in kinds:
        items.append({"id": EXTRA_ID, "sentences": ["Une phrase de trop."]})
    return {"items": items}


def _dropped(text: str, limit: int, floor: int) -> list[str]:
    """`framed` pieces of `text` without a quarter of its words, the longest but the last."""
    tokens = text.split()
    longest = set(sorted(range(len(tokens) - 1), key=lambda k: -len(tokens[k]))[: len(tokens) // 4])
    kept = " ".join(t for k, t in enumerate(tokens) if k not in longest)
    return framed(kept, limit, floor)


class State:
    """Faults, log and request times shared by the handler threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.faults: list[Fault] = []
        self.log: list[LogEntry] = []
        self.times: list[float] = []
        self.in_flight = 0
        self.max_in_flight = 0

    def take(self, api: str, model: str) -> list[Fault]:
        """Consume the rules matching a request; an error status stops content faults."""
        taken: list[Fault] = []
        with self.lock:
            self.times.append(time.time())
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            for rule in self.faults:
                if rule.times is not None and rule.times <= 0:
                    continue
                if rule.api not in (None, api) or rule.model not in (None, model):
                    continue
                status = any(f.kind.startswith("status_") for f in taken)
                if status and rule.kind not in ("latency", "hang"):
                    continue
                taken.append(rule)
                if rule.times is not None:
                    rule.times -= 1
            self.faults = [r for r in self.faults if r.times is None or r.times > 0]
        return taken

    def reset(self) -> None:
        """Forget the log and the request times (the faults stay)."""
        with self.lock:
            self.log, self.times, self.max_in_flight = [], [], self.in_flight

    def stats(self) -> dict[str, Any]:
        """Request counts: total, the peak over any 60 s window, per second and in flight."""
        with self.lock:
            times = list(self.times)
            in_flight, peak = self.in_flight, self.max_in_flight
        best, lo, by_second = 0, 0, dict[str, int]()
        for hi, t in enumerate(times):
            while t - times[lo] >= 60.0:
                lo += 1
            best = max(best, hi - lo + 1)
            by_second[str(int(t))] = by_second.get(str(int(t)), 0) + 1
        return {
            "requests": len(times),
            "max_requests_in_any_60s_window": best,
            "by_second": by_second,
            "in_flight": in_flight,
            "max_in_flight": peak,
        }


def _faults_from_json(body: Any) -> list[Fault]:
    rules = body.get("faults", []) if isinstance(body, dict) else body
    return [Fault(**rule) for rule in rules]


def _texts(value: Any) -> list[str]:
    """Every text in Gemini contents/parts or OpenAI message content, in order."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    if isinstance(value, dict):
        if isinstance(value.get("text"), str):
            return [value["text"]]
        return _texts(value.get("parts") or value.get("content") or [])
    return []


class Handler(BaseHTTPRequestHandler):
    """Routes the LLM endpoints and the `/_fake/*` control endpoints."""

    protocol_version = "HTTP/1.1"
    server: Server

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            self.close_connection = True

    def do_GET(self) -> None:
        """Control: the log and the request statistics."""
        state = self.server.state
        if self.path == "/_fake/log":
            with state.lock:
                entries = [asdict(e) for e in state.log]
            self._send(200, {"entries": entries})
        elif self.path == "/_fake/stats":
            self._send(200, state.stats())
        else:
            self._send(404, _error("gemini", 404, f"no route {self.path}"))

    def do_DELETE(self) -> None:
        """Control: clear the faults, or the log and statistics."""
        if self.path == "/_fake/faults":
            with self.server.state.lock:
                self.server.state.faults = []
        elif self.path == "/_fake/log":
            self.server.state.reset()
        else:
            self._send(404, _error("gemini", 404, f"no route {self.path}"))
            return
        self._send(200, {"ok": True})

    def do_POST(self) -> None:
        """The two LLM endpoints, and control: set the faults."""
        data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(data or b"null")
        except ValueError:
            body = None
        if self.path == "/_fake/faults":
            try:
                rules = _faults_from_json(body)
            except (TypeError, ValueError) as error:
                self._send(400, {"error": str(error)})
                return
            with self.server.state.lock:
                self.server.state.faults = rules
            self._send(200, {"faults": len(rules)})
            return
        match = GEMINI_PATH.match(self.path.split("?")[0])
        if match:
            self._llm("gemini", match.group(2), body)
        elif self.path.split("?")[0] == "/v1/chat/completions":
            self._llm("openai", str((body or {}).get("model", "")), body)
        else:
            self._send(404, _error("gemini", 404, f"no route {self.path}"))

    def _wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`; False if the client went away (or the server stops) first."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            if self.server.state.stopping.wait(min(left, 0.05)):
                return False
            if select.select([self.connection], [], [], 0)[0]:
                try:
                    if not self.connection.recv(1, socket.MSG_PEEK):
                        return False
                except OSError:
                    return False
        return True

    def _llm(self, api: str, model: str, body: Any) -> None:
        state, started = self.server.state, time.monotonic()
        key = self.headers.get("x-goog-api-key") or self.headers.get("Authorization", "")
        entry = LogEntry(time.time(), api, self.path, model, 0, 0, 0, 0, api_key=key or None)
        rules = state.take(api, model)
        entry.faults = [r.kind for r in rules]
        reply: Reply | None = None
        try:
            reply = self._answer(api, model, body, rules, entry)
        finally:  # logged before the answer is sent, so a client that got it sees the entry
            entry.status, entry.duration = reply[0] if reply else 0, time.monotonic() - started
            with state.lock:
                state.in_flight -= 1
                state.log.append(entry)
        if reply:
            self._send(*reply)

    def _answer(
        self, api: str, model: str, body: Any, rules: list[Fault], entry: LogEntry
    ) -> Reply | None:
        """The reply to an LLM request, after any latency; None if the client gave up."""
        if not isinstance(body, dict):
            return _failure(api, 400, "the request body is not a JSON object")
        if api == "gemini":
            config = body.get("generationConfig") or {}
            entry.json_mode = config.get("responseMimeType") == "application/json"
            entry.schema = bool(config.get("responseSchema") or config.get("responseJsonSchema"))
            system, user = _texts(body.get("systemInstruction")), _texts(body.get("contents"))
        else:
            fmt = body.get("response_format") or {}
            entry.json_mode = fmt.get("type") in ("json_object", "json_schema")
            entry.schema = fmt.get("type") == "json_schema"
            messages = body.get("messages") or []
            system = _texts([m for m in messages if m.get("role") != "user"])
            user = _texts([m for m in messages if m.get("role") == "user"])
        try:
            doc = parse_input("\n".join(user))
        except ValueError as error:
            return _failure(api, 400, str(error))
        entry.items = len(doc["items"])
        entry.ids = [str(item.get("id")) for item in doc["items"]]
        for rule in rules:
            if rule.kind == "latency" and not self._wait(rule.seconds):
                return None
            if rule.kind == "hang":
                bound = min(rule.seconds or HANG_LIMIT, HANG_LIMIT)
                if not self._wait(bound):
                    return None
                return _failure(api, 504, "the fake hung for its whole bound")
        kinds = [r.kind for r in rules]
        for rule in rules:
            if rule.kind == "status_500":
                return _failure(api, 500, "Internal error encountered.")
            if rule.kind == "status_429":
                return _failure(api, 429, "Resource has been exhausted.", rule.retry_delay)
        text = json.dumps(rewrite(doc, kinds), ensure_ascii=False)
        if "malformed_json" in kinds:
            text = text[: len(text) // 2]
        entry.prompt_tokens = math.ceil(sum(map(len, system + user)) / 4)  # 4 chars a token
        entry.completion_tokens = math.ceil(len(text) / 4)
        return 200, _success(api, model, text, entry), {}


def _failure(api: str, status: int, message: str, delay: float = 0.0) -> Reply:
    """An error reply; a 429 also carries Retry-After (whole seconds) and retry-after-ms."""
    after = {"Retry-After": str(math.ceil(delay)), "retry-after-ms": str(round(delay * 1000))}
    return status, _error(api, status, message, delay), after if status == 429 else {}


def _error(api: str, status: int, message: str, delay: float = 0.0) -> dict[str, Any]:
    """An error body: OpenAI's `{"error": {message, type, code}}` or Google's RPC status."""
    if api == "openai":
        kind = OPENAI_ERRORS.get(status, "server_error")
        return {"error": {"message": message, "type": kind, "param": None, "code": kind}}
    error = {"code": status, "message": message, "status": GOOGLE_ERRORS.get(status, "INTERNAL")}
    if status == 429:
        error["details"] = [{"@type": RETRY_INFO, "retryDelay": f"{delay:g}s"}]
    return {"error": error}


def _success(api: str, model: str, text: str, entry: LogEntry) -> dict[str, Any]:
    """A 200 body carrying `text` as the model's answer, with the usage of `entry`."""
    p, c = entry.prompt_tokens, entry.completion_tokens
    rid = f"fake-{int(entry.time * 1e6)}"
    if api == "openai":
        message = {"role": "assistant", "content": text}
        return {
            "id": rid,
            "object": "chat.completion",
            "created": int(entry.time),
            "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c},
        }
    content = {"role": "model", "parts": [{"text": text}]}
    return {
        "candidates": [{"content": content, "finishReason": "STOP", "index": 0}],
        "usageMetadata": dict(promptTokenCount=p, candidatesTokenCount=c, totalTokenCount=p + c),
        "modelVersion": model,
        "responseId": rid,
    }


class Server(ThreadingHTTPServer):
    """A threading HTTP server carrying the shared state."""

    daemon_threads = True
    # The listen backlog (socketserver's default is 5): a benchmark opens 64 connections at
    # once (8 slots x 8 batches), and a full backlog delays a connection by a SYN retry
    # (1 s), which shifts the request times the log records.
    request_queue_size = 256

    def __init__(self, host: str, port: int) -> None:
        self.state = State()
        super().__init__((host, port), Handler)


class FakeLLM:
    """The fake server in a background thread: `with FakeLLM() as fake: fake.url`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.server = Server(host, port)
        self.url = f"http://{host}:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> FakeLLM:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.server.state.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)

    def set_faults(self, rules: Iterable[Fault]) -> None:
        """Replace the fault rules."""
        with self.server.state.lock:
            self.server.state.faults = list(rules)

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self.set_faults([])

    @property
    def log(self) -> list[LogEntry]:
        """A copy of the request log."""
        with self.server.state.lock:
            return list(self.server.state.log)

    def stats(self) -> dict[str, Any]:
        """Request counts, as `GET /_fake/stats`."""
        return self.server.state.stats()

    def reset(self) -> None:
        """Forget the log and the request counts, as `DELETE /_fake/log`."""
        self.server.state.reset()


if __name__ == "__main__":
    from fakellm_main import main

    main()
