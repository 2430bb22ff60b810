"""What every LLM processor does, whatever the provider: batch, ask, check, retry, repair.

Hybrid: the local processor does what it can first, and only the sentences it had to leave
over the limit go to the model (a sentence it cut into complete pieces costs nothing). A
sentence's rewrite is looked up in the shared rewrite cache first (`ProcessContext.rewrites`,
keyed by `cache.rewrite_key`); the rest go in batches of `batch_items`, each with its source
id and the sentences around the batch as read-only context. Every answer is checked
(`answers.py`: the limit, drift, the parser's completeness check, content by lemma); the
items that fail are asked once more, with the reason, and what still fails keeps the local
rows, flagged `repaired`. Accepted rewrites and twice-failed items are kept in the cache.
A request that fails (429, 5xx, timeout, connection) is retried with backoff up to
`max_attempts`; a model that never answers makes the rest of the chunk go local (flagged),
or raises `LLMUnavailable` when the fallback is "fail". The cancel flag is checked before
every request.

A chunk's batches run concurrently, `concurrency` at a time (`batches.py`), each request
through the shared rate limit; every batch keeps its own results and usage, and they are
put together in batch order, so the output is the same as one batch after the other.
"""

from __future__ import annotations

import functools
import logging
import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import httpx2

from folio.pipeline.errors import PipelineError
from folio.pipeline.model import OutputSentence, ProcessSettings, Sentence, Usage
from folio.pipeline.processors.base import Limiter, ProcessContext, ProcessOutput
from folio.pipeline.processors.llm.answers import check_answer
from folio.pipeline.processors.llm.batches import Gate, run_concurrently
from folio.pipeline.processors.llm.cache import rewrite_key
from folio.pipeline.processors.llm.config import FALLBACK_FAIL, LLMConfig
from folio.pipeline.processors.llm.prompt import PROMPT_VERSION, Prompt, build_prompt
from folio.pipeline.processors.llm.retry import backoff_delay
from folio.pipeline.processors.llm.rows import (
    assemble,
    by_source,
    model_rows,
    needs_model,
    neighbours,
    repaired,
)
from folio.pipeline.processors.local import LocalNormalizer

logger = logging.getLogger("folio.llm")
# How often a backoff pause looks at the cancel flag.
_PAUSE_STEP = 0.5


class LLMUnavailable(PipelineError):
    """The model did not answer (all attempts spent, or refused) and the fallback is "fail"."""

    code = "llm_unavailable"
    http_status = 503

    def __init__(self, message: str, usage: Usage | None = None) -> None:
        super().__init__(message)
        self.usage = usage or Usage()  # what the calls that did happen cost


class LLMCallError(Exception):
    """One failed request; its reason never carries the API key (providers redact it)."""

    def __init__(
        self,
        reason: str,
        *,
        retryable: bool,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after


def transport_error(error: httpx2.TransportError) -> LLMCallError:
    """A request that got no HTTP answer (timeout, refused, reset): worth another try."""
    if isinstance(error, httpx2.TimeoutException):
        return LLMCallError("timed out", retryable=True)
    return LLMCallError(f"connection failed ({type(error).__name__})", retryable=True)


@dataclass(frozen=True, slots=True)
class Reply:
    """A model's answer to one request and the tokens it counted."""

    text: str
    tokens_in: int = 0
    tokens_out: int = 0


class _Stopped(Exception):
    """The cancel flag was raised (or the run halted): no new request starts."""


class _Degraded(Exception):
    """Another batch found the model unavailable: the rest of the chunk goes local."""


class _Unavailable(Exception):
    def __init__(self, error: LLMCallError, attempts: int) -> None:
        super().__init__(error.reason)
        self.error = error
        self.attempts = attempts


@dataclass(slots=True)
class _Run:
    """What the batches of one `process` call share; safe to use from their threads."""

    settings: ProcessSettings
    gate: Gate
    limiter: Limiter | None
    local: dict[str, list[OutputSentence]]  # the local processor's rows, by source id
    degraded: threading.Event = field(default_factory=threading.Event)
    failure: _Unavailable | None = None  # the model failed for good and the fallback is "fail"
    lock: threading.Lock = field(default_factory=threading.Lock)

    def check(self) -> None:
        """Before a request: stop on the cancel flag, go local if the model is unavailable."""
        if self.gate.should_stop():
            raise _Stopped
        if self.degraded.is_set():
            raise _Degraded


@dataclass(slots=True)
class _Batch:
    """One batch's items (indices into the kept sentences) and what it produced; written
    only by the thread that runs it, read by `process` once every batch is done."""

    indices: list[int]
    usage: Usage = field(default_factory=Usage)
    results: dict[str, list[OutputSentence]] = field(default_factory=dict)
    # What the cache may keep: accepted sentences, or None for answers that failed twice.
    rewrites: dict[str, list[str] | None] = field(default_factory=dict)
    retried: int = 0
    repaired: int = 0


class LLMProcessor:
    """Base of the `gemini` and `openai` processors; subclasses implement `_send`."""

    name = "llm"
    prompt_version = PROMPT_VERSION
    calls_model: ClassVar[bool] = True
    # The worst page at the default price (`pricing.worst_case_page_credits`: a page half
    # again as dense as the corpus's densest, every item asked twice, answers 1.5 times the
    # text): 12 credits, where a typical page costs 2 to 3. The charge at settle time is the
    # tokens' price (`credits_for`), never more than the reservation. See docs/llm.md.
    page_cost_factor: ClassVar[int] = 12

    def __init__(self, config: LLMConfig, rng: random.Random | None = None) -> None:
        self.config = config
        self.model = config.model
        self._rng = rng or random.Random()
        self._local = LocalNormalizer()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model!r})"

    def _open(self) -> None:
        """Set up the HTTP client for one `process` call."""

    def _close(self) -> None:
        """Release what `_open` set up."""

    def _send(self, prompt: Prompt) -> Reply:
        """Send one request; raise LLMCallError when it fails."""
        raise NotImplementedError

    def process(
        self,
        sentences: list[Sentence],
        settings: ProcessSettings,
        context: ProcessContext | None = None,
    ) -> ProcessOutput:
        """Rewrite what the local processor left over the limit; keep the rest of its rows."""
        context = context or ProcessContext()
        kept = [s for s in sentences if settings.include_headings or not s.heading]
        local = by_source(self._local.process(kept, settings).sentences)
        run = _Run(settings, Gate(context.should_stop), context.limiter, local)
        wanted = [i for i, s in enumerate(kept) if needs_model(s, local)]
        keys = {kept[i].source_id: self._key(kept[i], settings) for i in wanted}
        cached = context.rewrites.get(list(keys.values())) if context.rewrites and keys else {}
        results = self._from_cache(kept, wanted, keys, cached, run)
        long = [i for i in wanted if kept[i].source_id not in results]
        size = self.config.batch_items
        batches = [_Batch(long[start : start + size]) for start in range(0, len(long), size)]
        if batches:
            self._open()
            try:
                tasks = [functools.partial(self._batch, kept, batch, run) for batch in batches]
                run_concurrently(tasks, self.config.concurrency, run.gate)
            finally:
                self._close()
        usage = sum((batch.usage for batch in batches), Usage())
        if run.gate.error is not None:
            raise run.gate.error
        if run.failure is not None:
            # from None: the chain would print the provider's error, which may quote a request.
            raise LLMUnavailable(self._unavailable_message(run.failure), usage) from None
        if context.rewrites is not None:
            fresh = {k: v for batch in batches for k, v in batch.rewrites.items()}
            context.rewrites.put(
                {keys[source_id]: value for source_id, value in fresh.items()},
                model=self.model,
                prompt_version=self.prompt_version,
            )
        results.update({k: v for batch in batches for k, v in batch.results.items()})
        output = assemble(kept, results, local, self.name, run.gate.cancelled)
        retried = sum(batch.retried for batch in batches)
        repaired = sum(batch.repaired for batch in batches)
        return ProcessOutput(output, usage, run.gate.cancelled, retried, repaired)

    def _key(self, sentence: Sentence, settings: ProcessSettings) -> str:
        return rewrite_key(sentence.text, settings, self.model, self.prompt_version)

    def _from_cache(
        self,
        kept: list[Sentence],
        wanted: list[int],
        keys: dict[str, str],
        cached: dict[str, list[str] | None],
        run: _Run,
    ) -> dict[str, list[OutputSentence]]:
        """The rows of the wanted sentences the cache answers for, by source id."""
        results: dict[str, list[OutputSentence]] = {}
        for sentence in (kept[i] for i in wanted):
            key = keys[sentence.source_id]
            if key not in cached:
                continue
            texts = cached[key]
            results[sentence.source_id] = (
                model_rows(sentence, texts, self.name)
                if texts is not None
                else repaired(sentence, run.local)
            )
        return results

    def _batch(self, kept: list[Sentence], batch: _Batch, run: _Run) -> None:
        """Ask for one batch, repair what failed; runs on a worker thread."""
        items = [kept[i] for i in batch.indices]
        if run.degraded.is_set():
            self._repair(items, batch, run)
            return
        first, last = batch.indices[0], batch.indices[-1]
        context = neighbours(kept, first, last, self.config.context_sentences)
        try:
            failing = self._ask(items, context, run, batch)
        except _Stopped:
            return  # the batch stays incomplete: the output ends before it
        except (_Unavailable, _Degraded) as error:
            if isinstance(error, _Unavailable) and not self._unavailable(error, run):
                return  # the fallback is "fail": process raises LLMUnavailable
            failing = [item for item in items if item.source_id not in batch.results]
            self._repair(failing, batch, run)
            return
        batch.rewrites.update({item.source_id: None for item in failing})
        self._repair(failing, batch, run)

    def _ask(
        self, items: list[Sentence], context: list[str], run: _Run, batch: _Batch
    ) -> list[Sentence]:
        """Ask for `items`, then once more for those that failed; return those still failing."""
        problems = self._ask_once(items, context, run, batch, None)
        if not problems:
            return []
        batch.retried += len(problems)
        again = [item for item in items if item.source_id in problems]
        problems = self._ask_once(again, context, run, batch, problems)
        return [item for item in again if item.source_id in problems]

    def _ask_once(
        self,
        items: list[Sentence],
        context: list[str],
        run: _Run,
        batch: _Batch,
        problems: dict[str, str] | None,
    ) -> dict[str, str]:
        prompt = build_prompt(items, context, run.settings, problems, self.prompt_version)
        reply = self._call(prompt, run, batch)
        checked = check_answer(reply.text, items, run.settings, self.config.drift_threshold)
        by_id = {item.source_id: item for item in items}
        for source_id, pieces in checked.accepted.items():
            batch.results[source_id] = model_rows(by_id[source_id], pieces, self.name)
            batch.rewrites[source_id] = pieces
        if checked.problems or checked.extra_ids:
            logger.warning(
                "%s answer rejected for %d of %d items %s (%d unknown ids ignored)",
                self.name,
                len(checked.problems),
                len(items),
                sorted(checked.problems.items()),
                checked.extra_ids,
            )
        return checked.problems

    def _call(self, prompt: Prompt, run: _Run, batch: _Batch) -> Reply:
        """One request, retried on transient failures; raises _Unavailable, _Stopped or
        _Degraded (another batch found the model unavailable)."""
        attempts = self.config.max_attempts
        for attempt in range(1, attempts + 1):
            run.check()
            if run.limiter is not None:
                asked = time.monotonic()
                run.limiter.acquire(self.model, prompt.estimated_tokens)
                # A long wait is worth a second look at the flag; a short one is not: the
                # look is a database round trip between the grant and the send, and the
                # provider counts the request when it arrives, not when it was granted.
                if time.monotonic() - asked > _PAUSE_STEP:
                    run.check()
            batch.usage += Usage(calls=1)
            try:
                reply = self._send(prompt)
            except LLMCallError as error:
                delay = self._retry_delay(error, attempt)
                if delay is None:
                    raise _Unavailable(error, attempt) from None
                self._pause(delay, run)
                continue
            batch.usage += Usage(0, reply.tokens_in, reply.tokens_out)
            return reply
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _retry_delay(self, error: LLMCallError, attempt: int) -> float | None:
        if not error.retryable or attempt >= self.config.max_attempts:
            return None
        base, cap = self.config.backoff_seconds, self.config.backoff_max_seconds
        delay = backoff_delay(attempt, base, cap, error.retry_after, self._rng)
        if delay is not None:
            logger.warning(
                "%s request failed (%s), attempt %d of %d; retrying in %.2f s",
                self.name,
                error.reason,
                attempt,
                self.config.max_attempts,
                delay,
            )
        return delay

    @staticmethod
    def _pause(seconds: float, run: _Run) -> None:
        """Sleep `seconds`, looking at the cancel flag (and the other batches) on the way."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            run.check()
            time.sleep(min(left, _PAUSE_STEP))

    def _unavailable_message(self, error: _Unavailable) -> str:
        return self.config.redact(
            f"The {self.name} model {self.model} did not answer "
            f"(after {error.attempts} attempt(s)): {error.error.reason}"
        )

    def _unavailable(self, error: _Unavailable, run: _Run) -> bool:
        """A batch's model failed for good: True if the chunk goes local (fallback "local"),
        False if the run halts (fallback "fail": `process` raises `LLMUnavailable`)."""
        with run.lock:
            if self.config.fallback == FALLBACK_FAIL:
                run.failure = run.failure or error
                run.gate.halt()
                return False
            first = not run.degraded.is_set()
            run.degraded.set()
        if first:
            message = self._unavailable_message(error)
            logger.warning("%s; the rest of the chunk goes through the local normalizer", message)
        return True

    def _repair(self, items: Sequence[Sentence], batch: _Batch, run: _Run) -> None:
        """Keep the local rows of `items`, flagged as repaired."""
        for item in items:
            batch.results[item.source_id] = repaired(item, run.local)
            batch.repaired += 1
