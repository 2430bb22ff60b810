"""Where a long French sentence can be cut into sentences that stand on their own.

From the parse of one sentence, `candidates` proposes cuts, each splitting the text in two:
at a `;` or `:`; before a coordinated clause that has its own subject («…, et il partit»);
before a coordinated verb that shares the first one's subject, which the right-hand piece
repeats («Il entra et s'assit» → «Il entra.» «Il s'assit.»); before a final relative «qui»
clause, which becomes a sentence with the antecedent's pronoun («…une femme qui pleurait» →
«…une femme.» «Elle pleurait.»). Each cut says how to write both pieces; the caller checks
them with the parser (`check.is_complete`) before it accepts any.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from folio.pipeline.french.parser import source_offset
from folio.pipeline.model import CUT_CLAUSE, CUT_RELATIVE, CUT_SUBJECT

# Cuts in order of preference: the author's own separators first, rewrites last.
SEPARATOR, CLAUSE, SHARED_SUBJECT, RELATIVE = 0, 1, 2, 3
KIND_NAMES = {
    SEPARATOR: CUT_CLAUSE,
    CLAUSE: CUT_CLAUSE,
    SHARED_SUBJECT: CUT_SUBJECT,
    RELATIVE: CUT_RELATIVE,
}
_SUBJECT_CLITICS = frozenset("je tu il elle on nous vous ils elles".split())
_PRONOUNS = {
    ("Masc", "Sing"): "il",
    ("Fem", "Sing"): "elle",
    ("Masc", "Plur"): "ils",
    ("Fem", "Plur"): "elles",
}
_SUBJECTS = ("nsubj", "expl:subj")


@dataclass(frozen=True, slots=True)
class Cut:
    """Cut the source text at `left_end` / `right_start` (offsets in the source text).

    The right-hand piece is `lead` (a conjunction kept: «Mais», «Ou»), then `prefix` (a
    repeated subject, or a pronoun for «qui»), then the source text from `right_start`.
    """

    kind: int
    left_end: int
    right_start: int
    prefix: str = ""
    lead: str = ""


def candidates(doc: Any) -> list[Cut]:
    """Every cut the parse suggests, best kind first, left to right within a kind."""
    found = [*_separator_cuts(doc), *_clause_cuts(doc), *_relative_cuts(doc)]
    unique = {(cut.left_end, cut.right_start, cut.prefix): cut for cut in found}
    return sorted(unique.values(), key=lambda cut: (cut.kind, cut.left_end))


def _src(doc: Any, offset: int) -> int:
    return source_offset(doc, offset)


def _separator_cuts(doc: Any) -> list[Cut]:
    """After each `;` or `:` that is not the sentence's last token."""
    cuts = []
    for token in doc[:-1]:
        if token.text in (";", ":"):
            end = _src(doc, token.idx)
            cuts.append(Cut(SEPARATOR, end, _src(doc, token.idx + 1)))
    return cuts


def _finite(token: Any) -> bool:
    if "Fin" in token.morph.get("VerbForm"):
        return True
    return any(
        c.dep_ in ("aux", "aux:tense", "aux:pass", "cop") and "Fin" in c.morph.get("VerbForm")
        for c in token.children
    )


def _subject(verb: Any) -> Any | None:
    heads = [verb, *(c for c in verb.children if c.dep_ in ("aux", "aux:tense", "cop"))]
    return next((c for h in heads for c in h.children if c.dep_.startswith(_SUBJECTS)), None)


def _clause_cuts(doc: Any) -> list[Cut]:
    """Before each finite verb coordinated with another finite verb."""
    cuts = []
    for verb in doc:
        if verb.dep_ != "conj" or verb.pos_ not in ("VERB", "AUX") or not _finite(verb):
            continue
        first = verb.head
        if first.pos_ not in ("VERB", "AUX", "ADJ", "NOUN") or not _finite(first):
            continue
        start = _clause_start(verb)
        if start is None or start.i == 0:
            continue
        own = _subject(verb)
        left_end = _src(doc, start.idx)
        if own is not None and own.i > start.i:
            # The conjunction stays: «Et il partit.» is the author's French, word for word.
            cuts.append(Cut(CLAUSE, left_end, _src(doc, start.idx)))
            continue
        shared = _subject(first)
        prefix = _repeated_subject(shared) if shared is not None else None
        if own is not None or not prefix:
            continue
        lead = ""
        if start.pos_ == "CCONJ" and start.i + 1 < len(doc):
            # The subject goes after the conjunction: «Et il s'assit.», «Ou il passionne…».
            lead = start.text
            start = doc[start.i + 1]
        cuts.append(Cut(SHARED_SUBJECT, left_end, _src(doc, start.idx), prefix, lead))
    return cuts


def _clause_start(verb: Any) -> Any | None:
    """The first token of the coordinated clause: its conjunction, or its first word."""
    tokens = list(verb.subtree)
    if not tokens:
        return None
    first = tokens[0]
    # A comma that separates the clauses is not part of the new sentence.
    while first.is_punct and first.i < verb.i:
        first = first.doc[first.i + 1]
    return first


def _repeated_subject(subject: Any) -> str | None:
    """What a new sentence repeats of the shared subject: a clitic as is, a name whole, a
    noun phrase as its pronoun; None when it cannot tell (a long or odd subject)."""
    word = subject.lower_
    if word in _SUBJECT_CLITICS:
        return str(word)
    if subject.pos_ == "PROPN":
        name = list(subject.subtree)
        if len(name) <= 3 and all(t.pos_ == "PROPN" or t.text in ("M.", "Mme") for t in name):
            return " ".join(t.text for t in name)
        return None
    if subject.pos_ == "NOUN":
        return _pronoun(subject)
    return None


def _pronoun(noun: Any, agreeing: Any | None = None) -> str | None:
    """The subject pronoun for `noun`; None when its gender or number is unclear, or when
    the verb it will be the subject of (`agreeing`) says another number."""
    gender = noun.morph.get("Gender")
    number = noun.morph.get("Number")
    if len(gender) != 1 or len(number) != 1:
        return None
    if agreeing is not None:
        verb_number = _finite_number(agreeing)
        if verb_number is not None and verb_number != number[0]:
            return None
    return _PRONOUNS.get((gender[0], number[0]))


def _subjunctive(verb: Any) -> bool:
    """Whether the finite form of `verb` (itself or its auxiliary) is a subjunctive."""
    return any("Sub" in token.morph.get("Mood") for token in (verb, *verb.children))


def _finite_number(verb: Any) -> str | None:
    """The number of the finite form of `verb` (itself or its auxiliary)."""
    for token in (verb, *verb.children):
        if "Fin" in token.morph.get("VerbForm") and token.morph.get("Number"):
            return str(token.morph.get("Number")[0])
    return None


def _relative_cuts(doc: Any) -> list[Cut]:
    """Before a relative «qui» clause that ends the sentence, its subject the pronoun of
    the antecedent."""
    words = [t for t in doc if not t.is_punct]
    if not words:
        return []
    cuts = []
    for clause in doc:
        if clause.dep_ != "acl:relcl" or not _finite(clause) or _subjunctive(clause):
            continue  # «une femme qui puisse…» makes no sentence of its own
        tokens = list(clause.subtree)
        qui = tokens[0]
        if qui.lower_ != "qui" or tokens[-1].i < words[-1].i or qui.i == 0:
            continue
        antecedent = clause.head
        pronoun = _pronoun(antecedent, agreeing=clause) if antecedent.pos_ == "NOUN" else None
        if antecedent.pos_ == "PROPN":
            pronoun = _repeated_subject(antecedent)
        if pronoun is None:
            continue
        cuts.append(Cut(RELATIVE, _src(doc, qui.idx), _src(doc, qui.idx + len(qui.text)), pronoun))
    return cuts
