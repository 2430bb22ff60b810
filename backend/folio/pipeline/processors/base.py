"""Stage 6, process: the contract every processor (local, LLM) fulfils."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Protocol

from folio.pipeline.model import OutputSentence, ProcessSettings, Sentence, Usage

if TYPE_CHECKING:
    from folio.pipeline.processors.llm.config import LLMConfig


class Limiter(Protocol):
    """A rate limit shared by every process that calls a model (see `processors.llm.limits`)."""

    def acquire(self, model: str, tokens: int) -> None:
        """Block until one more request of about `tokens` tokens to `model` is allowed."""
        ...


class RewriteCache(Protocol):
    """Model rewrites kept for everyone, by key (`processors.llm.cache.rewrite_key`).

    A value is the rewrite's sentences, or None when the model's answers failed the checks
    twice (the local rows stand, flagged): either way the model is not asked again. Called
    only from the thread that runs `process`.
    """

    def get(self, keys: Sequence[str]) -> dict[str, list[str] | None]:
        """The entries found among `keys`."""
        ...

    def put(
        self, entries: Mapping[str, list[str] | None], *, model: str, prompt_version: str
    ) -> None:
        """Keep `entries`, asked of `model` with `prompt_version` (a kept key keeps its value)."""
        ...


def never() -> bool:
    """The default cancel flag: never raised."""
    return False


@dataclass(frozen=True, slots=True)
class ProcessContext:
    """What the caller supplies around a run: the cancel flag, the rate limit, LLM settings.

    `should_stop` is checked before every LLM call; once it returns True no new call starts.
    `llm` maps a processor name ("gemini", "openai") to its configuration; `rewrites` keeps
    the model's rewrites for every later job (none: every rewrite is asked for).
    """

    should_stop: Callable[[], bool] = never
    limiter: Limiter | None = None
    llm: Mapping[str, LLMConfig] = field(default_factory=dict)
    rewrites: RewriteCache | None = None


@dataclass(slots=True)
class ProcessOutput:
    """A processor's answer: the sentences in reading order, what the LLM calls cost, and how
    many source sentences needed a second ask (`retried`) or the local normalizer
    (`repaired`).

    `stopped` means the cancel flag stopped the run: `sentences` is then incomplete.
    Iterating the output iterates its sentences.
    """

    sentences: list[OutputSentence] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    stopped: bool = False
    retried: int = 0
    repaired: int = 0

    @property
    def flagged(self) -> int:
        """Output sentences that carry the `repaired` flag."""
        return sum(1 for sentence in self.sentences if sentence.repaired)

    def __iter__(self) -> Iterator[OutputSentence]:
        return iter(self.sentences)

    def __len__(self) -> int:
        return len(self.sentences)


class Processor(Protocol):
    """Turns a chunk's owned source sentences into output sentences.

    Every output sentence carries the `source_id` of the sentence it came from, and the
    pieces of one source sentence are numbered by `part` in reading order. Headings pass
    through unchanged (or are dropped when the settings exclude them). `model` and
    `prompt_version` are what a job records (empty for the local processor).

    What the services need to know about a processor, it declares here:
    `calls_model` (it needs the shared rate limit and is charged by tokens, not pages) and
    `page_cost_factor` (the worst page, in multiples of the per-page price: what a job
    reserves).
    """

    name: str
    model: str
    prompt_version: str
    calls_model: ClassVar[bool]
    page_cost_factor: ClassVar[int]

    def process(
        self,
        sentences: list[Sentence],
        settings: ProcessSettings,
        context: ProcessContext | None = None,
    ) -> ProcessOutput:
        """Process `sentences` in order."""
        ...
