"""What LLM tokens cost in credits: the FOLIO_LLM_PRICING table and the worst case of a page.

Prices are credits per 1000 tokens, input and output apart, per model, with "*" as the price
of any model not listed. The default makes one credit worth about $0.001 of Gemini 2.5
Flash (published at $0.30 and $2.50 per million input and output tokens): a typical novel
page costs 2 to 3 credits with an LLM, against 1 with the local processor (docs/llm.md).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from folio.pipeline.model import Usage

DEFAULT_PRICING = {
    "gemini-2.5-flash": {"in": 0.3, "out": 2.5},
    "gemini-2.5-flash-lite": {"in": 0.1, "out": 0.4},
    # Any other model, self-hosted ones included, at the Flash price: set your own.
    "*": {"in": 0.3, "out": 2.5},
}
ANY_MODEL = "*"

# The worst page the estimate covers: 4000 characters (the corpus's densest page has 2,501)
# at 4 characters a token, rewritten at most 1.5 times as long, plus the JSON of up to 40
# items (12 tokens each), the instructions and context of up to 2 batches (900 tokens each),
# and every item asked twice (a rejected first answer).
PAGE_TEXT_TOKENS = 1000
PAGE_OVERHEAD_IN = 2 * 900
PAGE_OVERHEAD_OUT = 40 * 12
ASKS = 2


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """Credits per 1000 input tokens and per 1000 output tokens."""

    input: float
    output: float


def parse_pricing(text: str) -> dict[str, ModelPrice]:
    """Read a pricing table `{"model": {"in": 0.3, "out": 2.5}}`; ValueError when malformed."""
    try:
        table = json.loads(text)
        prices = {
            str(model): ModelPrice(float(price["in"]), float(price["out"]))
            for model, price in table.items()
        }
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise ValueError(
            'FOLIO_LLM_PRICING must be JSON like {"model": {"in": 0.3, "out": 2.5}}'
        ) from error
    if any(p.input < 0 or p.output < 0 for p in prices.values()):
        raise ValueError("FOLIO_LLM_PRICING prices cannot be negative")
    return prices


def default_pricing() -> dict[str, ModelPrice]:
    """The built-in table (see DEFAULT_PRICING)."""
    return parse_pricing(json.dumps(DEFAULT_PRICING))


def price_of(model: str, pricing: Mapping[str, ModelPrice]) -> ModelPrice:
    """The model's price, or the "*" price; ValueError when neither is in the table."""
    price = pricing.get(model) or pricing.get(ANY_MODEL)
    if price is None:
        raise ValueError(f"FOLIO_LLM_PRICING has no price for the model {model!r} and no '*'")
    return price


def credits_for(usage: Usage, model: str, pricing: Mapping[str, ModelPrice]) -> int:
    """Credits for `usage` on `model`, rounded up (decimal arithmetic: no float residue)."""
    price = price_of(model, pricing)
    cost = (
        Decimal(usage.tokens_in) * Decimal(str(price.input))
        + Decimal(usage.tokens_out) * Decimal(str(price.output))
    ) / 1000
    return math.ceil(cost)


def worst_case_page_credits(price: ModelPrice) -> int:
    """Credits of the worst page the estimate covers (see the constants above)."""
    tokens_in = ASKS * (PAGE_TEXT_TOKENS + PAGE_OVERHEAD_IN)
    tokens_out = ASKS * (PAGE_TEXT_TOKENS * 3 // 2 + PAGE_OVERHEAD_OUT)
    return credits_for(Usage(0, tokens_in, tokens_out), "page", {"page": price})
