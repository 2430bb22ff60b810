"""The `gemini` processor: Google's Gemini API through the google-genai SDK (see ADR 0002).

Structured output: the answer is constrained to the JSON schema of `prompt.RESPONSE_SCHEMA`
(`response_mime_type="application/json"` with `response_schema`). The SDK's own retries
are switched off (`HttpRetryOptions(attempts=1)`) so that `LLMProcessor` is the only one
to retry, with its backoff, its attempt cap and its cancel checks.
"""

from __future__ import annotations

import random

import httpx2
from google import genai
from google.genai import errors, types

from folio.pipeline.processors.llm.config import LLMConfig
from folio.pipeline.processors.llm.processor import (
    LLMCallError,
    LLMProcessor,
    Reply,
    transport_error,
)
from folio.pipeline.processors.llm.prompt import Prompt
from folio.pipeline.processors.llm.retry import gemini_retry_delay, retry_after_header

_STRING = types.Schema(type=types.Type.STRING)
SCHEMA = types.Schema(
    type=types.Type.OBJECT,
    properties={
        "items": types.Schema(
            type=types.Type.ARRAY,
            items=types.Schema(
                type=types.Type.OBJECT,
                properties={
                    "id": _STRING,
                    "sentences": types.Schema(type=types.Type.ARRAY, items=_STRING),
                },
                required=["id", "sentences"],
                property_ordering=["id", "sentences"],
            ),
        )
    },
    required=["items"],
)


class GeminiProcessor(LLMProcessor):
    """Rewrites long sentences with a Gemini model."""

    name = "gemini"

    def __init__(self, config: LLMConfig, rng: random.Random | None = None) -> None:
        super().__init__(config, rng)
        self._client: genai.Client | None = None

    def _open(self) -> None:
        options = types.HttpOptions(
            base_url=self.config.base_url or None,
            api_version=self.config.api_version or None,
            timeout=round(self.config.timeout_seconds * 1000),
            retry_options=types.HttpRetryOptions(attempts=1),
        )
        # vertexai=False: the Gemini API with a key, whatever GOOGLE_GENAI_USE_VERTEXAI says.
        self._client = genai.Client(
            api_key=self.config.api_key, vertexai=False, http_options=options
        )

    def _close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _send(self, prompt: Prompt) -> Reply:
        assert self._client is not None, "_send outside process()"
        generation = self._generation(prompt)  # outside the try: our own errors stay loud
        try:
            response = self._client.models.generate_content(
                model=self.model, contents=prompt.user, config=generation
            )
        except errors.APIError as error:
            raise self._api_error(error) from None
        except httpx2.TransportError as error:
            raise transport_error(error) from None
        except ValueError as error:
            # A 200 whose body is not a Gemini response (a proxy's page, a truncated body).
            reason = f"HTTP 200 without a readable response ({type(error).__name__})"
            raise LLMCallError(reason, retryable=True) from None
        return Reply(_text(response), *_tokens(response.usage_metadata))

    def _generation(self, prompt: Prompt) -> types.GenerateContentConfig:
        budget = self.config.thinking_budget
        thinking = None if budget is None else types.ThinkingConfig(thinking_budget=budget)
        return types.GenerateContentConfig(
            system_instruction=prompt.system,
            response_mime_type="application/json",
            response_schema=SCHEMA,
            temperature=0.0,
            max_output_tokens=prompt.max_output_tokens,
            thinking_config=thinking,
            # No tools are ever passed: without this the SDK logs "AFC is enabled" per call.
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        )

    def _api_error(self, error: errors.APIError) -> LLMCallError:
        status = error.code
        delay = gemini_retry_delay(error.details)
        response = getattr(error, "response", None)
        if delay is None and response is not None:
            delay = retry_after_header(response.headers)
        reason = self.config.redact(f"HTTP {status} {error.status or ''}: {error.message or ''}")
        retryable = status in (408, 429) or status >= 500
        return LLMCallError(reason[:300], retryable=retryable, status=status, retry_after=delay)


def _tokens(usage: types.GenerateContentResponseUsageMetadata | None) -> tuple[int, int]:
    """Input and output tokens; thinking tokens are billed as output."""
    if usage is None:
        return 0, 0
    output = (usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0)
    return usage.prompt_token_count or 0, output


def _text(response: types.GenerateContentResponse) -> str:
    """The answer's text parts joined; empty when the model gave none (blocked, cut off)."""
    parts = []
    for candidate in (response.candidates or [])[:1]:
        for part in (candidate.content.parts or []) if candidate.content else []:
            if part.text and not part.thought:
                parts.append(part.text)
    return "".join(parts)
