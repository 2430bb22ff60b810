"""What every LLM processor does, whatever the provider: batch, ask, check, retry, repair.

Only sentences longer than the limit go to the model, in batches of `batch_items`, each with
its source id and the sentences around the batch as read-only context. Every answer is
checked (`answers.py`); the items that fail are asked once more, with the reason, and what
still fails is split by the local normalizer and flagged `repaired`. A request that fails
(429, 5xx, timeout, connection) is retried with backoff up to `max_attempts`; a model that
never answers makes the rest of the chunk go local (flagged), or raises `LLMUnavailable`
when the fallback is "fail". The cancel flag is checked before every request.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import httpx2

from folio.pipeline.errors import PipelineError
from folio.pipeline.model import CUT_LLM, OutputSentence, ProcessSettings, Sentence, Usage
from folio.pipeline.processors.base import ProcessContext, ProcessOutput
from folio.pipeline.processors.llm.answers import check_answer
from folio.pipeline.processors.llm.config import FALLBACK_FAIL, LLMConfig
from folio.pipeline.processors.llm.prompt import PROMPT_VERSION, Prompt, build_prompt
from folio.pipeline.processors.llm.retry import backoff_delay
from folio.pipeline.processors.local import LocalNormalizer
from folio.pipeline.text import count_words

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
    """The cancel flag was raised."""


class _Unavailable(Exception):
    def __init__(self, error: LLMCallError, attempts: int) -> None:
        super().__init__(error.reason)
        self.error = error
        self.attempts = attempts


@dataclass(slots=True)
class _Run:
    """The state of one `process` call."""

    settings: ProcessSettings
    context: ProcessContext
    usage: Usage = field(default_factory=Usage)
    results: dict[str, list[OutputSentence]] = field(default_factory=dict)
    stopped: bool = False
    degraded: bool = False  # the model failed a batch: the rest of the chunk goes local
    retried: int = 0
    repaired: int = 0

    def check_stop(self) -> None:
        if self.context.should_stop():
            raise _Stopped


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
        """Rewrite the sentences longer than the limit; pass the others through."""
        run = _Run(settings, context or ProcessContext())
        kept = [s for s in sentences if settings.include_headings or not s.heading]
        long = [i for i, s in enumerate(kept) if self._needs_model(s, settings)]
        if long:
            self._open()
            try:
                self._batches(kept, long, run)
            finally:
                self._close()
        output = self._assemble(kept, run)
        return ProcessOutput(output, run.usage, run.stopped, run.retried, run.repaired)

    @staticmethod
    def _needs_model(sentence: Sentence, settings: ProcessSettings) -> bool:
        return not sentence.heading and count_words(sentence.text) > settings.limit

    def _batches(self, kept: list[Sentence], long: list[int], run: _Run) -> None:
        size = self.config.batch_items
        for start in range(0, len(long), size):
            try:
                self._batch(kept, long[start : start + size], run)
            except _Stopped:
                run.stopped = True
                return

    def _batch(self, kept: list[Sentence], indices: list[int], run: _Run) -> None:
        items = [kept[i] for i in indices]
        if run.degraded:
            self._repair(items, run)
            return
        context = _neighbours(kept, indices[0], indices[-1], self.config.context_sentences)
        try:
            failing = self._ask(items, context, run)
        except _Unavailable as error:
            failing = [item for item in items if item.source_id not in run.results]
            self._unavailable(error, run)
        self._repair(failing, run)

    def _ask(self, items: list[Sentence], context: list[str], run: _Run) -> list[Sentence]:
        """Ask for `items`, then once more for those that failed; return those still failing."""
        problems = self._ask_once(items, context, run, None)
        if not problems:
            return []
        run.retried += len(problems)
        again = [item for item in items if item.source_id in problems]
        problems = self._ask_once(again, context, run, problems)
        return [item for item in again if item.source_id in problems]

    def _ask_once(
        self,
        items: list[Sentence],
        context: list[str],
        run: _Run,
        problems: dict[str, str] | None,
    ) -> dict[str, str]:
        prompt = build_prompt(items, context, run.settings, problems, self.prompt_version)
        reply = self._call(prompt, run)
        checked = check_answer(reply.text, items, run.settings, self.config.drift_threshold)
        by_id = {item.source_id: item for item in items}
        for source_id, pieces in checked.accepted.items():
            run.results[source_id] = self._pieces(by_id[source_id], pieces)
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

    def _call(self, prompt: Prompt, run: _Run) -> Reply:
        """One request, retried on transient failures; raises _Unavailable or _Stopped."""
        attempts = self.config.max_attempts
        for attempt in range(1, attempts + 1):
            run.check_stop()
            if run.context.limiter is not None:
                run.context.limiter.acquire(self.model, prompt.estimated_tokens)
                run.check_stop()  # the wait may have been long
            run.usage += Usage(calls=1)
            try:
                reply = self._send(prompt)
            except LLMCallError as error:
                delay = self._retry_delay(error, attempt)
                if delay is None:
                    raise _Unavailable(error, attempt) from None
                self._pause(delay, run)
                continue
            run.usage += Usage(0, reply.tokens_in, reply.tokens_out)
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
        """Sleep `seconds`, looking at the cancel flag on the way."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            run.check_stop()
            time.sleep(min(left, _PAUSE_STEP))

    def _unavailable(self, error: _Unavailable, run: _Run) -> None:
        message = self.config.redact(
            f"The {self.name} model {self.model} did not answer "
            f"(after {error.attempts} attempt(s)): {error.error.reason}"
        )
        if self.config.fallback == FALLBACK_FAIL:
            # from None: the chain would print the provider's error, which may quote a request.
            raise LLMUnavailable(message, run.usage) from None
        logger.warning("%s; the rest of the chunk goes through the local normalizer", message)
        run.degraded = True

    def _repair(self, items: Sequence[Sentence], run: _Run) -> None:
        """Split `items` with the local normalizer, flagged as repaired."""
        for item in items:
            pieces = self._local.split(item, run.settings)
            run.results[item.source_id] = [dataclasses.replace(p, repaired=True) for p in pieces]
            run.repaired += 1

    def _pieces(self, source: Sentence, texts: list[str]) -> list[OutputSentence]:
        return [
            OutputSentence(
                text=text,
                source_id=source.source_id,
                page=source.page,
                part=part,
                words=count_words(text),
                processor=self.name,
                split=len(texts) > 1,
                cut=CUT_LLM if part else "",
            )
            for part, text in enumerate(texts)
        ]

    def _assemble(self, kept: list[Sentence], run: _Run) -> list[OutputSentence]:
        """Every kept sentence's pieces in reading order; after a cancel, those done."""
        out: list[OutputSentence] = []
        for sentence in kept:
            pieces = run.results.get(sentence.source_id)
            if pieces is None and self._needs_model(sentence, run.settings):
                # Only a cancel leaves a long sentence unanswered: every batch that ran
                # recorded each of its items, from the model or from the local repair.
                assert run.stopped, f"{sentence.source_id} was lost"
                break
            if pieces is None:
                pieces = [
                    dataclasses.replace(piece, processor=self.name)
                    for piece in self._local.split(sentence, run.settings)
                ]
            out.extend(pieces)
        return out


def _neighbours(kept: list[Sentence], first: int, last: int, count: int) -> list[str]:
    """The texts of up to `count` sentences before index `first` and after index `last`."""
    if count == 0:
        return []
    around = kept[max(0, first - count) : first] + kept[last + 1 : last + 1 + count]
    return [sentence.text for sentence in around]
