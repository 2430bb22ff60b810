"""The `openai` processor: any OpenAI-compatible chat completions endpoint (vLLM, llama.cpp
server, Ollama, OpenAI itself), over httpx2 — no vendor SDK.

The answer is constrained with `response_format` of type `json_schema`; a server that refuses
it (400 or 422) is asked again with `json_object`, for the rest of the processor's
life; the schema is then only described by the prompt, and enforced by the checks.
"""

from __future__ import annotations

import random
from typing import Any

import httpx2

from folio.pipeline.processors.llm.config import LLMConfig
from folio.pipeline.processors.llm.processor import (
    LLMCallError,
    LLMProcessor,
    Reply,
    transport_error,
)
from folio.pipeline.processors.llm.prompt import RESPONSE_SCHEMA, Prompt
from folio.pipeline.processors.llm.retry import retry_after_header

JSON_SCHEMA, JSON_OBJECT = "json_schema", "json_object"


class OpenAICompatibleProcessor(LLMProcessor):
    """Rewrites long sentences with a model behind an OpenAI-compatible API."""

    name = "openai"

    def __init__(self, config: LLMConfig, rng: random.Random | None = None) -> None:
        super().__init__(config, rng)
        self._http: httpx2.Client | None = None
        self.response_format = JSON_SCHEMA

    def _open(self) -> None:
        headers = {"Authorization": f"Bearer {self.config.api_key}"} if self.config.api_key else {}
        self._http = httpx2.Client(
            base_url=self.config.base_url.rstrip("/") + "/",
            headers=headers,
            timeout=httpx2.Timeout(self.config.timeout_seconds),
        )

    def _close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def _send(self, prompt: Prompt) -> Reply:
        response = self._post(prompt)
        if response.status_code in (400, 422) and self.response_format == JSON_SCHEMA:
            # An older server that knows json_object but not json_schema: ask again
            # in that mode (an attempt like any other, so the calls count every request).
            self.response_format = JSON_OBJECT
            raise LLMCallError(
                f"HTTP {response.status_code}: json_schema refused, switching to json_object",
                retryable=True,
                status=response.status_code,
                retry_after=0.0,
            )
        if response.status_code != 200:
            raise self._status_error(response)
        return _reply(response)

    def _post(self, prompt: Prompt) -> httpx2.Response:
        assert self._http is not None, "_send outside process()"
        try:
            return self._http.post("chat/completions", json=self._body(prompt))
        except httpx2.TransportError as error:
            raise transport_error(error) from None

    def _body(self, prompt: Prompt) -> dict[str, Any]:
        response_format: dict[str, Any] = {"type": self.response_format}
        if self.response_format == JSON_SCHEMA:
            response_format["json_schema"] = {
                "name": "folio_sentences",
                "strict": True,
                "schema": RESPONSE_SCHEMA,
            }
        return {
            "model": self.model,
            "messages": [
                {"role": "system", "content": prompt.system},
                {"role": "user", "content": prompt.user},
            ],
            "temperature": 0,
            "max_tokens": prompt.max_output_tokens,
            "response_format": response_format,
        }

    def _status_error(self, response: httpx2.Response) -> LLMCallError:
        status = response.status_code
        reason = self.config.redact(f"HTTP {status}: {_error_message(response)}")
        return LLMCallError(
            reason[:300],
            retryable=status in (408, 409, 429) or status >= 500,
            status=status,
            retry_after=retry_after_header(response.headers),
        )


def _reply(response: httpx2.Response) -> Reply:
    """The answer text and token counts; a body that is not a chat completion is a failure."""
    try:
        body = response.json()
        content = body["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        # A proxy's error page, a truncated body: the protocol failed, not the model.
        raise LLMCallError("HTTP 200 without a chat completion", retryable=True) from None
    usage = body.get("usage") if isinstance(body.get("usage"), dict) else {}
    tokens = (int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0))
    return Reply(content if isinstance(content, str) else "", *tokens)


def _error_message(response: httpx2.Response) -> str:
    try:
        body = response.json()
        message = body["error"]["message"] if isinstance(body.get("error"), dict) else body["error"]
    except (ValueError, KeyError, TypeError, AttributeError):
        message = response.text
    return str(message)[:200] if message else response.reason_phrase
