"""Reading units: the sense groups of a sentence too long for the limit, for reading in steps.

A row the local processor could not bring under the limit keeps its text whole; its units
cut it into phrases of at most `limit` words where French phrasing allows, chosen by dynamic
programming over the gaps between tokens, each gap priced by how natural a pause it makes:
after ';' cheapest, then ':' and dashes, then a comma before a conjunction or a relative,
then any comma, then a bare conjunction or relative, then the start of a prepositional
phrase. A cut between two content words comes only when nothing else fits, and a unit never
ends on a word that needs what follows (an article, a preposition, a pronoun). Units are
slices of the row: no capital or full stop is added; they are not sentences, and never rows.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass

from folio.pipeline.text import is_word

_CONJUNCTIONS = frozenset(
    [
        "et",
        "mais",
        "ou",
        "donc",
        "or",
        "ni",
        "car",
        "puis",
        "alors",
        "ensuite",
        "cependant",
        "pourtant",
    ]
)
_RELATIVES = frozenset(
    """qui que qu dont où lequel laquelle lesquels lesquelles auquel auxquels duquel quand
    lorsque lorsqu puisque parce tandis comme si pendant avant après afin pour sans
    quoique bien tant depuis dès jusqu""".split()
)
# Words that open a phrase: cutting before them splits between phrases, not inside one.
_PREPOSITIONS = frozenset(
    """de d du des à au aux dans par pour sur sous avec vers chez entre contre sans près
    depuis pendant devant derrière malgré selon parmi envers hors en""".split()
)
# Words that open a noun phrase.
_DETERMINERS = frozenset(
    """le la les l un une des du ce cet cette ces son sa ses mon ma mes ton ta tes leur
    leurs notre nos votre vos quelque quelques chaque plusieurs aucun aucune tout toute tous
    toutes""".split()
)
# Second halves of a negation ('ne … pas'): a piece never starts with them.
_NEGATION = frozenset("pas point guère".split())
# Words that cannot end a sentence: determiners, prepositions, pronouns and conjunctions
# that need what follows ('… s’absorbait dans.' is never an acceptable piece).
_DANGLING = (
    _PREPOSITIONS
    | _CONJUNCTIONS
    | _RELATIVES
    | frozenset(
        """le la les l un une ce cette ces cet son sa ses mon ma mes ton ta tes leur leurs
        notre nos votre vos il ils elle elles je j tu nous vous on se s ne n me m te t y
        lui très plus moins aussi fort tout toute tous toutes quelque quelques chaque
        aucun aucune nul nulle lors est sont était étaient a ont avait avaient fut
        furent""".split()
    )
)
_DASHES = frozenset({"—", "--", "–", "-"})
_OPENERS = frozenset({"«", "(", "[", "“"})
PHRASE_CUT = 8.0
HARD_CUT = 50.0
_TOKEN = re.compile(r"\S+")
_LEADING_WORD = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True, slots=True)
class _Token:
    start: int
    end: int
    text: str
    words: int


def _tokens(text: str) -> list[_Token]:
    return [
        _Token(m.start(), m.end(), m.group(), 1 if is_word(m.group()) else 0)
        for m in _TOKEN.finditer(text)
    ]


def best_cuts(words: list[int], costs: list[float], limit: int, min_words: int) -> list[int]:
    """Token indices to cut before, so that every piece has min_words..limit words.

    `words[i]` is 1 if token i is a word, `costs[i]` the price of a cut before token i.
    Minimises the summed cost of the cuts, with a small pull towards pieces of even size.
    """
    n = len(words)
    prefix = [0, *itertools.accumulate(words)]
    target = prefix[-1] / math.ceil(prefix[-1] / limit)
    best: list[float] = [0.0] + [math.inf] * n
    back = [0] * (n + 1)
    for end in range(1, n + 1):
        cost_end = 0.0 if end == n else costs[end]
        if cost_end == math.inf:
            continue
        for start in range(end - 1, -1, -1):
            count = prefix[end] - prefix[start]
            if count > limit:
                break
            if count < min_words or best[start] == math.inf:
                continue
            cost = best[start] + cost_end + 0.05 * abs(count - target)
            if cost < best[end]:
                best[end], back[end] = cost, start
    if math.isinf(best[n]):
        return _even_cuts(prefix, limit)
    cuts: list[int] = []
    position = back[n]
    while position > 0:
        cuts.append(position)
        position = back[position]
    return sorted(cuts)


def _even_cuts(prefix: list[int], limit: int) -> list[int]:
    """Last resort when punctuation forbids every partition: cut by word count alone."""
    total = prefix[-1]
    pieces = math.ceil(total / limit)
    cuts: list[int] = []
    for k in range(1, pieces):
        goal = round(k * total / pieces)
        cuts.append(next(i for i, words in enumerate(prefix) if words >= goal))
    return sorted(set(cuts))


def _cut_cost(tokens: list[_Token], index: int) -> float:
    """Price of ending a piece before token `index`; infinite where punctuation forbids it."""
    before, after = tokens[index - 1].text, tokens[index].text
    if not tokens[index].words and after not in _DASHES and after not in _OPENERS:
        return math.inf  # a piece never starts with '»', ';' or '!'
    if before in _OPENERS:
        return math.inf
    following = _first_word(after)
    if (before[-1].isalnum() and _last_word(before) in _DANGLING) or following in _NEGATION:
        return 2 * HARD_CUT  # worse than any cut between two content words
    return _boundary_cost(before, after, following)


def _boundary_cost(before: str, after: str, following: str) -> float:
    if before.endswith(";"):
        return 1.0
    if before.endswith(":") or after in _DASHES or before in _DASHES:
        return 1.5
    if before.endswith(","):
        if following in _CONJUNCTIONS:
            return 2.0
        return 2.5 if following in _RELATIVES else 3.5
    if following in _CONJUNCTIONS:
        return 5.0
    if following in _RELATIVES:
        return 6.0
    if following in _PREPOSITIONS:
        return PHRASE_CUT
    if following in _DETERMINERS:
        return PHRASE_CUT + 1
    return HARD_CUT


def _last_word(token: str) -> str:
    words = _LEADING_WORD.findall(token)
    return words[-1].casefold() if words else ""


def _first_word(token: str) -> str:
    match = _LEADING_WORD.search(token)
    return match.group(0).casefold() if match else ""


def sense_groups(text: str, limit: int, min_words: int) -> tuple[str, ...]:
    """The reading units of `text`: slices of at most `limit` words, in order."""
    tokens = _tokens(text)
    if sum(token.words for token in tokens) <= limit:
        return (text,)
    costs = [0.0, *(_cut_cost(tokens, index) for index in range(1, len(tokens)))]
    cuts = best_cuts([t.words for t in tokens], costs, limit, min_words)
    bounds = [0, *cuts, len(tokens)]
    return tuple(
        text[tokens[first].start : tokens[last - 1].end]
        for first, last in itertools.pairwise(bounds)
    )
