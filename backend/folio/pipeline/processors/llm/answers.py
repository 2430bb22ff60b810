"""Checking a model's answer: every asked id, once, with sentences that respect the settings.

An item's rewrite is accepted when it has at least one sentence, no sentence over the limit,
none under `min_words` (unless the source itself was that short), and it has not drifted
from the source. Drift is measured on word forms, case and punctuation folded: the share of
the source's distinct words found in the rewrite, and the share of the rewrite's distinct
words found in the source; the smaller of the two under the threshold (0.7 by default) is
drift. A faithful split keeps nearly every word (a repeated subject adds a few), so both
shares stay high; an answer that summarises, invents, or belongs to another item does not.

Then the French parser reads the rewrite, as it reads the local processor's pieces: every
sentence must stand on its own (`french.check.is_complete`: no fragment), and the rewrite
must keep at least `CONTENT_SHARE` of the source's nouns, verbs and adjectives, by lemma
(`french.content`).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from folio.pipeline.french import parser
from folio.pipeline.french.check import is_complete
from folio.pipeline.french.content import kept_share
from folio.pipeline.model import ProcessSettings, Sentence
from folio.pipeline.text import count_words, normalize

MALFORMED, MISSING, DUPLICATE = "malformed_json", "missing", "duplicate"
EMPTY, OVERLONG, SHORT, DRIFT = "empty", "overlong", "short", "drift"
FRAGMENT, CONTENT = "fragment", "content"
# The share of the source's content lemmas a rewrite must keep.
CONTENT_SHARE = 0.9
_WORD_FORM = re.compile(r"[^\W_]+")
# Some servers in JSON mode still wrap the object in a Markdown fence.
_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


@dataclass(slots=True)
class Checked:
    """An answer sorted out: accepted sentences by source id, and the problem of each other id."""

    accepted: dict[str, list[str]] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    extra_ids: int = 0


def check_answer(
    text: str, items: Sequence[Sentence], settings: ProcessSettings, threshold: float
) -> Checked:
    """Sort the model's answer `text` to a request for `items`."""
    entries = _entries(text)
    if entries is None:
        return Checked(problems={item.source_id: MALFORMED for item in items})
    wanted = {item.source_id for item in items}
    answered: dict[str, Any] = {}
    checked = Checked()
    for entry in entries:
        source_id = entry.get("id") if isinstance(entry, dict) else None
        if source_id not in wanted:
            checked.extra_ids += 1
        elif source_id in answered:
            checked.problems[source_id] = DUPLICATE
        else:
            answered[source_id] = entry.get("sentences")
    to_parse: list[tuple[Sentence, list[str]]] = []
    for item in items:
        if item.source_id in checked.problems:
            continue
        if item.source_id not in answered:
            checked.problems[item.source_id] = MISSING
            continue
        pieces = clean_pieces(answered[item.source_id])
        problem = item_problem(item, pieces, settings, threshold)
        if problem or pieces is None:
            checked.problems[item.source_id] = problem or MALFORMED
        else:
            to_parse.append((item, pieces))
    # The parser's checks last, for the whole answer at once: one batch is several times
    # faster than a parse per item, and the parse is most of an answer check's time.
    for (item, pieces), problem in zip(to_parse, parsed_problems(to_parse), strict=True):
        if problem:
            checked.problems[item.source_id] = problem
        else:
            checked.accepted[item.source_id] = pieces
    return checked


def clean_pieces(value: Any) -> list[str] | None:
    """The answer's sentences, normalised like extracted text; None when not a list of strings."""
    if not isinstance(value, list) or not all(isinstance(piece, str) for piece in value):
        return None
    pieces = (" ".join(normalize(piece).split()) for piece in value)
    return [piece for piece in pieces if count_words(piece) > 0]


def item_problem(
    source: Sentence, pieces: list[str] | None, settings: ProcessSettings, threshold: float
) -> str:
    """What is wrong with `pieces` as `source`'s rewrite, before the parser looks ("": nothing)."""
    if pieces is None:
        return MALFORMED
    if not pieces:
        return EMPTY
    counts = [count_words(piece) for piece in pieces]
    if max(counts) > settings.limit:
        return OVERLONG
    if min(counts) < settings.min_words <= count_words(source.text):
        return SHORT
    if overlap(source.text, " ".join(pieces)) < threshold:
        return DRIFT
    return ""


def parsed_problems(rewrites: Sequence[tuple[Sentence, list[str]]]) -> list[str]:
    """What the parser finds wrong with each rewrite (source, pieces): "" where nothing."""
    texts = [text for source, pieces in rewrites for text in (source.text, *pieces)]
    docs = iter(parser.parse(texts))
    grouped = [[next(docs) for _ in range(1 + len(pieces))] for _, pieces in rewrites]
    # Completeness is read before the lemmas are added: the local processor's check.
    problems = ["" if all(is_complete(d) for d in g[1:]) else FRAGMENT for g in grouped]
    whole = [group for group, problem in zip(grouped, problems, strict=True) if not problem]
    parser.lemmatize([doc for group in whole for doc in group])
    shares = iter(kept_share(group[0], group[1:]) for group in whole)
    return [problem or (CONTENT if next(shares) < CONTENT_SHARE else "") for problem in problems]


def overlap(source: str, rewrite: str) -> float:
    """The smaller of: share of the source's word forms in the rewrite, and the reverse."""
    before, after = word_forms(source), word_forms(rewrite)
    if not before or not after:
        return 0.0
    common = len(before & after)
    return min(common / len(before), common / len(after))


def word_forms(text: str) -> set[str]:
    """Distinct word forms of `text`, case folded; apostrophes and hyphens separate forms."""
    return set(_WORD_FORM.findall(unicodedata.normalize("NFC", text).casefold()))


def _entries(text: str) -> list[Any] | None:
    """The answer's `items` list, or None when the answer is not the JSON object asked for."""
    fenced = _FENCE.match(text)
    try:
        document = json.loads(fenced.group(1) if fenced else text)
    except (ValueError, RecursionError):
        return None
    items = document.get("items") if isinstance(document, dict) else None
    return items if isinstance(items, list) else None
