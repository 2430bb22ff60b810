"""The request an LLM processor sends: a versioned instruction file and the INPUT document.

The instruction is `prompts/<version>.txt` with `{limit}` and `{min_words}` filled in. The
user message ends with a line `INPUT:` and one JSON document
`{"limit", "min_words", "items": [{"id", "text"}], "context": [...]}`; the model answers
`{"items": [{"id", "sentences": [...]}]}` (`RESPONSE_SCHEMA`). Changing the wording means a
new file and a new version, so that every job records which instructions it ran with.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from folio.pipeline.model import ProcessSettings, Sentence

PROMPT_VERSION = "normalize-v1"
PROMPTS_DIR = Path(__file__).with_name("prompts")
# French prose runs at about four characters a token.
CHARS_PER_TOKEN = 4
RESPONSE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "sentences": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["id", "sentences"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["items"],
    "additionalProperties": False,
}
_PROBLEMS = {
    "malformed_json": "your answer was not the JSON object asked for",
    "missing": "your answer had no entry for this id",
    "duplicate": "your answer had two entries for this id",
    "empty": "your answer for this id had no sentence",
    "overlong": "a sentence had more than {limit} words",
    "short": "a sentence had fewer than {min_words} words",
    "drift": "the sentences did not keep the words and meaning of the item",
    "fragment": (
        "a sentence did not stand on its own: each needs a subject and a conjugated verb, and"
        " must not start with a relative (qui, que, dont, où) or a subordinating conjunction"
    ),
    "content": "the sentences left out nouns, verbs or adjectives of the item",
}


@dataclass(frozen=True, slots=True)
class Prompt:
    """One request: instructions, the user message, and its token budget."""

    system: str
    user: str
    max_output_tokens: int
    estimated_tokens: int  # input and expected output, for the rate limiter


@functools.cache
def template(version: str = PROMPT_VERSION) -> str:
    """The instruction text of a prompt version."""
    return (PROMPTS_DIR / f"{version}.txt").read_text(encoding="utf-8")


def build_prompt(
    items: Sequence[Sentence],
    context: Sequence[str],
    settings: ProcessSettings,
    problems: Mapping[str, str] | None = None,
    version: str = PROMPT_VERSION,
) -> Prompt:
    """The request that asks for `items`; `problems` (id → code) explains a second ask."""
    system = (
        template(version)
        .replace("{limit}", str(settings.limit))
        .replace("{min_words}", str(settings.min_words))
    )
    document = {
        "limit": settings.limit,
        "min_words": settings.min_words,
        "items": [{"id": item.source_id, "text": item.text} for item in items],
        "context": list(context),
    }
    user = _feedback(problems, settings) + "INPUT:\n" + json.dumps(document, ensure_ascii=False)
    item_tokens = _tokens(sum(len(item.text) for item in items))
    # The rewrite is about as long as the text plus the JSON around it; three times that is
    # a ceiling for an answer that runs away, not a target.
    max_output = 256 + 3 * item_tokens + 16 * len(items)
    expected_output = item_tokens + 12 * len(items)
    return Prompt(system, user, max_output, _tokens(len(system) + len(user)) + expected_output)


def _feedback(problems: Mapping[str, str] | None, settings: ProcessSettings) -> str:
    if not problems:
        return ""
    lines = [
        "Your previous answer was rejected for these items; answer them again, following "
        "every rule:"
    ]
    for source_id, code in problems.items():
        reason = _PROBLEMS.get(code, code).format(
            limit=settings.limit, min_words=settings.min_words
        )
        lines.append(f"- {source_id}: {reason}.")
    return "\n".join(lines) + "\n\n"


def _tokens(chars: int) -> int:
    return math.ceil(chars / CHARS_PER_TOKEN)
