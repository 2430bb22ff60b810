"""The rules around the LLM processors, without a server: answer checks, drift, backoff,
the prompt, pricing and credits, settings, and how a processor is chosen."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from fakellm import parse_input
from folio.config import Settings
from folio.pipeline.errors import InvalidSettings
from folio.pipeline.model import ProcessSettings, Sentence, Usage
from folio.pipeline.processors import catalog, get_processor, processor_for, traits
from folio.pipeline.processors.llm.answers import (
    CONTENT,
    DRIFT,
    DUPLICATE,
    EMPTY,
    FRAGMENT,
    MALFORMED,
    MISSING,
    OVERLONG,
    SHORT,
    check_answer,
    overlap,
)
from folio.pipeline.processors.llm.pricing import (
    ModelPrice,
    credits_for,
    default_pricing,
    parse_pricing,
    price_of,
    worst_case_page_credits,
)
from folio.pipeline.processors.llm.prompt import PROMPT_VERSION, build_prompt
from folio.pipeline.processors.llm.retry import (
    backoff_delay,
    gemini_retry_delay,
    retry_after_header,
)
from folio.pipeline.processors.local import LocalNormalizer
from llmkit import LONG, config

SETTINGS = ProcessSettings(limit=8, min_words=2)
SOURCE = Sentence(1, 0, LONG[0])
GOOD = [
    "C'était le 15 septembre 1840.",
    "Il était environ six heures du matin.",
    "La Ville-de-Montereau était près de partir.",
    "Elle fumait à gros tourbillons.",
    "Elle était devant le quai Saint-Bernard.",
]
# Every word kept, each piece within the limit, but only the first a sentence of its own.
FRAGMENTS = [
    "Le 15 septembre 1840.",
    "Vers six heures du matin, la Ville-de-Montereau.",
    "Près de partir.",
    "Fumait à gros tourbillons devant le quai Saint-Bernard.",
]
# Close to the source word for word (no drift), but «gros tourbillons» left out.
DROPPED = [*GOOD[:3], "Elle fumait.", GOOD[4]]


def answer(*entries: tuple[str, list[str]]) -> str:
    return json.dumps({"items": [{"id": i, "sentences": s} for i, s in entries]})


# --- checks --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pieces", "problem"),
    [
        (GOOD, ""),
        ([], EMPTY),
        (["", "  "], EMPTY),
        ([LONG[0]], OVERLONG),
        ([*GOOD[:2], "Près.", "De partir.", GOOD[3]], SHORT),
        (["Le ciel est bleu.", "Les oiseaux chantent."], DRIFT),
        (GOOD[:2], DRIFT),  # half the sentence left out
        (FRAGMENTS, FRAGMENT),
        (DROPPED, CONTENT),
    ],
)
def test_each_item_is_checked(pieces: list[str], problem: str) -> None:
    checked = check_answer(answer((SOURCE.source_id, pieces)), [SOURCE], SETTINGS, 0.7)
    assert checked.problems.get(SOURCE.source_id, "") == problem
    assert (SOURCE.source_id in checked.accepted) == (not problem)


def test_ids_are_checked() -> None:
    other = Sentence(1, 500, LONG[1])
    text = answer((SOURCE.source_id, GOOD), (SOURCE.source_id, GOOD), ("x:1", ["Une phrase."]))
    checked = check_answer(text, [SOURCE, other], SETTINGS, 0.7)
    assert checked.problems == {SOURCE.source_id: DUPLICATE, other.source_id: MISSING}
    assert checked.extra_ids == 1


@pytest.mark.parametrize(
    "text", ["", "{", "[]", '{"items": 3}', '{"items": [{"id": "00001:000000", "sentences": 5}]}']
)
def test_malformed_answers(text: str) -> None:
    checked = check_answer(text, [SOURCE], SETTINGS, 0.7)
    assert checked.problems == {SOURCE.source_id: MALFORMED} and not checked.accepted


def test_a_fenced_answer_is_read() -> None:
    text = "```json\n" + answer((SOURCE.source_id, GOOD)) + "\n```"
    assert check_answer(text, [SOURCE], SETTINGS, 0.7).accepted == {SOURCE.source_id: GOOD}


def test_pieces_are_normalised_like_extracted_text() -> None:
    pieces = [p.replace(" ", "\u00a0") for p in GOOD] + [" — "]
    checked = check_answer(answer((SOURCE.source_id, pieces)), [SOURCE], SETTINGS, 0.7)
    assert checked.accepted[SOURCE.source_id] == GOOD


def test_overlap_measure() -> None:
    assert overlap(LONG[0], " ".join(FRAGMENTS)) == 1.0
    assert 0.8 < overlap(LONG[0], " ".join(GOOD)) < 1  # a few words added for the subjects
    assert overlap("Il dort.", "IL, dort !") == 1.0  # case and punctuation folded
    # A faithful split that repeats a subject stays well above the threshold…
    source = "Frédéric regardait la mer, tandis que les matelots chantaient sur le pont du navire."
    split = "Frédéric regardait la mer. Les matelots chantaient sur le pont du navire."
    assert overlap(source, split) > 0.8
    # …a summary or another sentence does not.
    assert overlap(source, "Frédéric regardait.") < 0.7
    assert overlap(LONG[0], LONG[1]) < 0.2


# --- backoff -------------------------------------------------------------------------------


def test_backoff_is_full_jitter_under_a_growing_cap() -> None:
    rng = random.Random(7)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (6, 10.0)]:
        delays = [backoff_delay(attempt, 1.0, 10.0, None, rng) for _ in range(200)]
        assert all(d is not None and 0 <= d <= ceiling for d in delays)
        assert max(d for d in delays if d is not None) > ceiling * 0.8  # spread, not fixed


def test_backoff_honours_the_server() -> None:
    rng = random.Random(1)
    assert all((backoff_delay(1, 1.0, 10.0, 3.0, rng) or 0) >= 3.0 for _ in range(50))
    assert backoff_delay(1, 1.0, 10.0, 11.0, rng) is None  # longer than the cap: give up


def test_server_delays_are_read() -> None:
    assert retry_after_header({"Retry-After": "2", "retry-after-ms": "1500"}) == 1.5
    assert retry_after_header({"retry-after": "3"}) == 3.0
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 < (retry_after_header({"Retry-After": later}) or 0) <= 30
    assert retry_after_header({"Retry-After": "soon"}) is None
    assert retry_after_header({}) is None
    info = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1.5s"}
    assert gemini_retry_delay({"error": {"code": 429, "details": [info]}}) == 1.5
    assert gemini_retry_delay({"error": {"code": 500}}) is None


# --- the prompt ----------------------------------------------------------------------------


def test_the_prompt_follows_the_wire_contract() -> None:
    items = [SOURCE, Sentence(2, 7, LONG[1])]
    prompt = build_prompt(items, ["Il partit."], ProcessSettings(limit=6, min_words=3))
    document = parse_input(prompt.user)
    assert document == {
        "limit": 6,
        "min_words": 3,
        "items": [{"id": s.source_id, "text": s.text} for s in items],
        "context": ["Il partit."],
    }
    assert "at most 6 words" in prompt.system and "at least 3 words" in prompt.system
    assert "{limit}" not in prompt.system and PROMPT_VERSION == "normalize-v1"
    assert prompt.max_output_tokens > prompt.estimated_tokens - len(prompt.system) // 4


def test_a_second_ask_says_what_was_wrong() -> None:
    prompt = build_prompt([SOURCE], [], SETTINGS, {SOURCE.source_id: OVERLONG})
    assert "more than 8 words" in prompt.user.split("INPUT:")[0]
    assert SOURCE.source_id in prompt.user.split("INPUT:")[0]


# --- pricing and credits -------------------------------------------------------------------


def test_credits_round_up_exactly() -> None:
    pricing = {"m": ModelPrice(0.3, 2.5)}
    assert credits_for(Usage(1, 1000, 1000), "m", pricing) == 3  # 2.8
    assert credits_for(Usage(1, 10_000, 0), "m", pricing) == 3  # exactly 3.0, no float residue
    assert credits_for(Usage(1, 0, 0), "m", pricing) == 0
    assert credits_for(Usage(1, 1, 0), "m", pricing) == 1


def test_unknown_models_take_the_star_price() -> None:
    pricing = default_pricing()
    assert price_of("llama-3", pricing) == pricing["*"]
    with pytest.raises(ValueError, match="no price"):
        price_of("llama-3", {"m": ModelPrice(1, 1)})


@pytest.mark.parametrize("text", ["[]", "{", '{"m": {"in": 1}}', '{"m": {"in": -1, "out": 1}}'])
def test_bad_pricing_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="FOLIO_LLM_PRICING"):
        parse_pricing(text)


def test_the_estimate_covers_the_worst_page() -> None:
    settings = Settings.from_env({})
    for name in ("gemini", "openai"):
        price = price_of(settings.llm[name].model, settings.llm_pricing)
        assert traits(name).page_cost_factor >= worst_case_page_credits(price)


# --- settings and choosing a processor -----------------------------------------------------


def test_llm_settings_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "FOLIO_GEMINI_API_KEY": "k",
            "FOLIO_GEMINI_MODELS": "gemini-2.5-flash, gemini-2.5-pro",
            "FOLIO_LLM_FALLBACK": "FAIL",
            "FOLIO_LLM_TIMEOUT_SECONDS": "2.5",
            "FOLIO_LLM_BATCH_ITEMS": "5",
            "FOLIO_GEMINI_THINKING_BUDGET": "-1",
            "FOLIO_OPENAI_BASE_URL": "http://127.0.0.1:11434/v1",
            "FOLIO_LLM_PRICING": '{"*": {"in": 1, "out": 2}}',
        }
    )
    gemini = settings.gemini
    assert (gemini.model, gemini.api_version, gemini.fallback) == (
        "gemini-2.5-flash",
        "v1beta",
        "fail",
    )
    assert gemini.allowed_models == ("gemini-2.5-flash", "gemini-2.5-pro")
    assert (gemini.timeout_seconds, gemini.batch_items, gemini.thinking_budget) == (2.5, 5, None)
    assert settings.openai.enabled and settings.llm_pricing == {"*": ModelPrice(1, 2)}


@pytest.mark.parametrize(
    ("name", "value"),
    [("FOLIO_LLM_FALLBACK", "retry"), ("FOLIO_LLM_TIMEOUT_SECONDS", "0"), ("FOLIO_LLM_RPM", "0")],
)
def test_bad_llm_settings_are_refused(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        Settings.from_env({name: value})


def test_choosing_a_processor() -> None:
    # Gemini has a key; the OpenAI-compatible processor has no URL: not configured here.
    llm = {
        "gemini": config("gemini", "http://127.0.0.1:1"),
        "openai": config("openai", "", base_url=""),
    }
    assert isinstance(processor_for(ProcessSettings(), llm), LocalNormalizer)
    chosen = processor_for(ProcessSettings(processor="gemini", model="gemini-2.5-flash"), llm)
    assert (chosen.name, chosen.model, chosen.prompt_version) == (
        "gemini",
        "gemini-2.5-flash",
        PROMPT_VERSION,
    )
    with pytest.raises(InvalidSettings, match="not available"):
        processor_for(ProcessSettings(processor="gemini", model="gemini-1.0-pro"), llm)
    with pytest.raises(InvalidSettings, match="not configured"):
        processor_for(ProcessSettings(processor="openai"), llm)
    with pytest.raises(InvalidSettings, match="no model"):
        processor_for(ProcessSettings(model="x"), llm)
    with pytest.raises(InvalidSettings, match="not configured"):
        get_processor("gemini")
    names = [(i.name, i.available, i.default_model) for i in catalog(llm)]
    assert names == [
        ("local", True, ""),
        ("gemini", True, "gemini-2.5-flash"),
        ("openai", False, "qwen2.5:7b-instruct"),
    ]


def test_the_local_processor_fits_the_interface() -> None:
    sentences = [Sentence(1, 0, LONG[0]), Sentence(1, 200, "Il partit.")]
    output = LocalNormalizer().process(sentences, SETTINGS)
    assert output.usage == Usage() and not output.stopped and output.flagged == 0
    # The long sentence has no clean cut: it stays whole, flagged, beside the short one.
    assert len(output) == len(output.sentences) == len(list(output)) == 2
    assert [row.over_limit for row in output] == [True, False]
    assert all(piece.processor == "local" and not piece.repaired for piece in output)
