"""How an LLM processor reaches its model: a plain dataclass that `folio.config` fills in."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from folio.pipeline.errors import InvalidSettings

PROVIDERS = ("gemini", "openai")
FALLBACK_LOCAL, FALLBACK_FAIL = "local", "fail"
FALLBACKS = (FALLBACK_LOCAL, FALLBACK_FAIL)
REDACTED = "[redacted]"
MAX_CONCURRENCY = 64
# A current Flash model for Gemini; for a self-hosted server, a small multilingual model that
# Ollama and vLLM serve under these names (set FOLIO_OPENAI_MODEL to what yours serves).
DEFAULT_MODELS = {"gemini": "gemini-2.5-flash", "openai": "qwen2.5:7b-instruct"}
DEFAULT_ALLOWED_MODELS: dict[str, tuple[str, ...]] = {
    "gemini": ("gemini-2.5-flash", "gemini-2.5-flash-lite"),
    "openai": (),
}


@dataclass(frozen=True, slots=True)
class LLMConfig:
    """One provider's endpoint, model and reliability settings (see docs/llm.md).

    The API key and the URL are kept out of the repr; `redact` removes it from any text that might
    carry it (an error message quoting a request).
    """

    provider: str
    model: str
    api_key: str = field(default="", repr=False)
    # A URL may carry credentials (user:password@host): out of the repr as well.
    base_url: str = field(default="", repr=False)
    api_version: str = ""
    models: tuple[str, ...] = ()
    timeout_seconds: float = 60.0
    batch_items: int = 20
    # Batches of one chunk in flight at once, each through the shared rate limit.
    concurrency: int = 8
    context_sentences: int = 2
    max_attempts: int = 4
    backoff_seconds: float = 1.0
    backoff_max_seconds: float = 60.0
    fallback: str = FALLBACK_LOCAL
    drift_threshold: float = 0.7
    # Gemini 2.5 Flash thinks by default, and thoughts are billed as output tokens; a
    # rewrite needs none. None leaves the model's default (models that cannot turn it off).
    thinking_budget: int | None = 0

    def __post_init__(self) -> None:
        if self.provider not in PROVIDERS:
            raise ValueError(f"unknown LLM provider {self.provider!r}")
        if self.fallback not in FALLBACKS:
            raise ValueError(f"the LLM fallback must be one of {FALLBACKS}, got {self.fallback!r}")
        if not self.model:
            raise ValueError(f"the {self.provider} processor needs a model name")
        if self.batch_items < 1 or self.max_attempts < 1 or self.context_sentences < 0:
            raise ValueError("batch size and attempts must be at least 1, context at least 0")
        if not 1 <= self.concurrency <= MAX_CONCURRENCY:
            raise ValueError(f"the LLM concurrency must be in 1..{MAX_CONCURRENCY}")
        if self.timeout_seconds <= 0 or not 0 <= self.drift_threshold <= 1:
            raise ValueError("the timeout must be positive and the drift threshold in 0..1")

    @property
    def enabled(self) -> bool:
        """Whether the processor can run: Gemini needs a key, a self-hosted model a URL."""
        return bool(self.api_key) if self.provider == "gemini" else bool(self.base_url)

    @property
    def allowed_models(self) -> tuple[str, ...]:
        """The models a job may choose; the default model is always one of them."""
        return tuple(dict.fromkeys((self.model, *self.models)))

    def for_model(self, model: str) -> LLMConfig:
        """This configuration with `model` ("" keeps the default); refuses a model not allowed."""
        if not model or model == self.model:
            return self
        if model not in self.allowed_models:
            allowed = ", ".join(self.allowed_models)
            raise InvalidSettings(
                f"The model {model!r} is not available for {self.provider}; choose one of: "
                f"{allowed}."
            )
        return dataclasses.replace(self, model=model)

    def redact(self, text: str) -> str:
        """`text` with the API key replaced, wherever it appears."""
        return text.replace(self.api_key, REDACTED) if self.api_key else text
