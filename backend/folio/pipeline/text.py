"""Character-level clean-up: Unicode normalisation, words, and line-end hyphen joins."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# pdfium marks a hyphen it believes was inserted at a line break with U+0002 (in bounded text)
# or U+FFFE (in range text); some producers embed a real soft hyphen U+00AD instead.
SOFT_HYPHENS = "\x02\ufffe\u00ad"


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


_ALNUM = re.compile(r"[^\W_]")


def is_word(token: str) -> bool:
    """A word is a whitespace-separated token that contains a letter or a digit."""
    return _ALNUM.search(token) is not None


def count_words(text: str) -> int:
    """Number of words in `text` (see `is_word`): '—' and '»' are not words, 'peut-être' is one."""
    return sum(1 for token in text.split() if _ALNUM.search(token))


# Second elements that keep their hyphen when a line break falls on it: inverted pronouns
# (-t-il, dit-elle), demonstratives (-ci, -là) and the common compounds of French prose.
# Some pronouns are also word endings ('cou-leur', 'bur-nous'), so they need a longer first
# part: an inverted verb ('donnez-leur') is longer than a first syllable.
_KEEP_AFTER = {
    **dict.fromkeys(
        """t il ils elle elles on je j tu moi m toi le la les y en ce ci là même mêmes être
        dessus dessous dedans dehors delà deçà devant huit neuf sept six dix vingt
        trente quarante cinquante soixante cent unes uns tête bas haut""".split(),
        1,
    ),
    "lui": 3,
    "nous": 4,
    "vous": 4,
    "leur": 4,
}
# First elements of compounds that are never a mere first syllable of a longer word.
_KEEP_BEFORE = frozenset(
    """peut arrière avant après demi semi vice non quasi garde chef chefs petit petite
    petits petites grand grande grands grandes rendez tout dix vingt trente quarante
    cinquante soixante néo faux basse haute casse nord sud""".split()
)
_LETTERS = re.compile(r"[^\W\d_]+")
_LINKS = frozenset({"à", "et", "de", "en"})
_LEFT_LINKS = frozenset({"à", "et"})  # 'au-de-|vant' is a break, 'tête-à-|tête' is not
_VOWELS = frozenset("aeiouyéèêàâîôûh")
_ELISION = re.compile(r"^[dlmnstcj][’']", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class HyphenJoin:
    """A word broken at a line end, and whether the join kept the hyphen."""

    left: str
    right: str
    kept: bool


def keeps_hyphen(left: str, right: str) -> bool:
    """Whether a hyphen at a line end belongs to the word ('peut-|être', 'dit-|il').

    Kept: a capitalised second part (Saint-|Louis), a linking word inside a longer compound
    (c'est-à-|dire, gorge-|de-pigeon), an elided second part (hors-|d'œuvre), and the known
    compound elements above. Anything else was a break inserted by the typesetter, even
    inside a compound ('Saint-Ber-|nard', 'ren-|dez-vous').
    """
    first_right = _LETTERS.match(right)
    if first_right is None:
        return True
    head = first_right.group(0)
    tail = re.split(r"[’'\-]", left.casefold())[-1]
    if head[0].isupper() or (_ELISION.match(right) and tail != "aujour"):
        return True
    if (tail in _LEFT_LINKS and "-" in left) or (head.casefold() in _LINKS and "-" in right):
        return True
    if tail == "ex" and head[0] in _VOWELS:
        return True  # ex-employé; 'ex-|pliquer' is a break
    minimum = _KEEP_AFTER.get(head.casefold())
    return (minimum is not None and len(tail) >= minimum) or tail in _KEEP_BEFORE


def join_lines(previous: str, line: str, joins: list[HyphenJoin] | None = None) -> str:
    """`previous` ready for `line` to be appended: a space, or a line-end hyphen resolved.

    A hyphen at a line end is either a break inserted by the typesetter (removed) or part
    of the word (kept, 'peut-|être'). pdfium flags both kinds with the same marker, so the
    marker says only *that* a hyphen ends the line; `keeps_hyphen` decides which kind.
    """
    stripped = previous.rstrip(SOFT_HYPHENS)
    marked = len(stripped) < len(previous)
    if not marked and not (previous.endswith("-") and not previous.endswith("--")):
        return previous + " "
    if not marked:
        stripped = previous[:-1]
    stripped = stripped.rstrip()
    if not _ends_with_letter(stripped):
        return stripped + ("-" if not marked else "") + " "
    left, right = _last_word(stripped), _first_word(line)
    kept = keeps_hyphen(left, right)
    if joins is not None:
        joins.append(HyphenJoin(left, right, kept=kept))
    return stripped + "-" if kept else stripped


def _ends_with_letter(text: str) -> bool:
    return bool(text) and text[-1].isalpha()


def _last_word(text: str) -> str:
    parts = text.split()
    return parts[-1] if parts else ""


def _first_word(text: str) -> str:
    parts = text.split()
    return parts[0] if parts else ""
