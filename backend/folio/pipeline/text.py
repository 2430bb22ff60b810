"""Character-level clean-up: Unicode normalisation, words, and line-end hyphen joins."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from folio.pipeline.layout import SOFT_HYPHENS

_TRANSLATE = str.maketrans(
    {
        "\u00a0": " ",  # no-break space, before ; : ! ? » and after « in French typesetting
        "\u202f": " ",  # narrow no-break space
        "\u2007": " ",
        "\u2009": " ",
        "\u200a": " ",
        "\u2002": " ",
        "\u2003": " ",
        "\u200b": None,  # zero-width space
        "\u2060": None,  # word joiner
        "\ufeff": None,
        "\ufb00": "ff",
        "\ufb01": "fi",
        "\ufb02": "fl",
        "\ufb03": "ffi",
        "\ufb04": "ffl",
        "\ufb05": "st",
        "\ufb06": "st",
        **{ch: None for ch in SOFT_HYPHENS},
    }
)
_SPACES = re.compile(r"[ \t]+")


def normalize(text: str) -> str:
    """NFC, French no-break spaces as plain spaces, ligatures expanded, markers dropped."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text).translate(_TRANSLATE))


def is_word(token: str) -> bool:
    """A word is a whitespace-separated token that contains a letter or a digit."""
    return any(ch.isalnum() for ch in token)


def count_words(text: str) -> int:
    """Number of words in `text` (see `is_word`): '—' and '»' are not words, 'peut-être' is one."""
    return sum(1 for token in text.split() if is_word(token))


# Second elements that keep their hyphen when a line break falls on it: inverted pronouns
# (-t-il, dit-elle), demonstratives (-ci, -là) and the common compounds of French prose.
_KEEP_AFTER = frozenset(
    """t il ils elle elles on je j tu nous vous moi m toi lui leur leurs eux le la les y en ce ci
    là même mêmes être dessus dessous dedans dehors delà deçà bas haut huit neuf sept six dix
    vingt trente quarante cinquante soixante cent unes uns""".split()
)
_KEEP_BEFORE = frozenset(
    """peut est sont avait était au aux arrière avant après contre demi mi semi sous sur vice ex
    non quasi porte garde chef belle beau petit petite petits petites grand grande grands grandes
    c qu rendez tête tout dix vingt trente quarante cinquante soixante""".split()
)
_LETTERS = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True, slots=True)
class HyphenJoin:
    """A word broken at a line end, and whether the join kept the hyphen."""

    left: str
    right: str
    kept: bool


def keeps_hyphen(left: str, right: str) -> bool:
    """Whether a plain '-' at a line end belongs to the word ('peut-|être', 'dit-|il').

    Used when the producer did not mark its own break hyphens: a capitalised second part
    (Saint-|Louis) or a known compound element keeps the hyphen; anything else was a break.
    """
    first_right = _LETTERS.match(right)
    if first_right is None:
        return True
    if first_right.group(0)[0].isupper():
        return True
    tail = re.split(r"[’'\-]", left.casefold())[-1]
    return first_right.group(0).casefold() in _KEEP_AFTER or tail in _KEEP_BEFORE


def join_lines(previous: str, line: str, joins: list[HyphenJoin] | None = None) -> str:
    """The separator to put between two lines of one paragraph, trimming `previous` if needed.

    Returns `previous` (possibly without its break hyphen) followed by the separator; the
    caller appends `line`. Break hyphens marked by the producer are always removed.
    """
    if previous.endswith(tuple(SOFT_HYPHENS)):
        stripped = previous.rstrip(SOFT_HYPHENS)
        if joins is not None:
            joins.append(HyphenJoin(_last_word(stripped), _first_word(line), kept=False))
        return stripped
    if previous.endswith("-") and not previous.endswith("--") and _ends_with_letter(previous[:-1]):
        left, right = _last_word(previous[:-1]), _first_word(line)
        kept = keeps_hyphen(left, right)
        if joins is not None:
            joins.append(HyphenJoin(left, right, kept=kept))
        return previous if kept else previous[:-1]
    return previous + " "


def _ends_with_letter(text: str) -> bool:
    return bool(text) and text[-1].isalpha()


def _last_word(text: str) -> str:
    parts = text.split()
    return parts[-1] if parts else ""


def _first_word(text: str) -> str:
    parts = text.split()
    return parts[0] if parts else ""
