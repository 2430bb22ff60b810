"""The parser check: does a row, parsed alone, stand on its own as a sentence?

A row is *complete* when its root is a finite verb (or has a finite auxiliary or copula)
with an expressed subject, or is an imperative, and it does not open with a subordinating
conjunction or a relative pronoun that makes the whole row a subordinate clause. Questions
(«Que voulez-vous ?», «Qui est là ?») open with an interrogative, not a relative. The same
check validates the local processor's pieces and every LLM rewrite.
"""

from __future__ import annotations

from typing import Any

# Where a verb's auxiliary, copula or subject hangs in the parse.
_VERB_HELPERS = frozenset({"aux", "aux:pass", "aux:tense", "cop"})
_SUBJECTS = ("nsubj", "expl", "csubj")
# Words that make what follows a subordinate clause when they open a row.
SUBORDINATORS = frozenset(
    """que qu qui dont où lequel laquelle lesquels lesquelles auquel auxquels auxquelles
    duquel desquels desquelles lorsque lorsqu puisque puisqu quoique quoiqu parce tandis
    afin quand comme si""".split()
)
# Words that need what follows: a row ending on one is cut short («… une excuse, car»).
DANGLING = frozenset(
    """et ou mais donc or ni car que qu qui dont où si de d du des à au aux dans par pour sur
    sous avec vers chez entre sans le la les l un une ce cet cette ces son sa ses mon ma mes
    ton ta tes leur leurs notre nos votre vos""".split()
)
# Clitic subject pronouns: a finite verb after one of them has its subject.
_SUBJECT_CLITICS = frozenset("je j tu il elle on nous vous ils elles ce c".split())


def is_complete(doc: Any) -> bool:
    """Whether the parsed row is a sentence that stands on its own (see the module doc)."""
    words = [token for token in doc if not token.is_punct and not token.is_space]
    root = next((token for token in doc if token.dep_ == "ROOT"), None)
    if root is None or not words:
        return False
    if _first_word(words[-1]) in DANGLING:
        return False
    question = doc.text.rstrip(" »”\"'").endswith("?")
    if not question and _opens_subordinate(words[0], root):
        return False
    verb = _main_verb(root)
    if verb is None:
        return False
    return _imperative(verb) or _has_subject(verb, words)


def _first_word(token: Any) -> str:
    return str(token.lower_).rstrip("'’")


def _opens_subordinate(first: Any, root: Any) -> bool:
    """Whether the row's first word subordinates the row's main clause."""
    word = _first_word(first)
    if word in ("dont", "où", "lequel", "laquelle", "lesquels", "lesquelles"):
        return True
    if "Rel" in first.morph.get("PronType"):
        return True
    if word in SUBORDINATORS or first.pos_ == "SCONJ":
        # «Quand il vint, elle partit»: the conjunction opens a clause that hangs on the
        # main verb; «Quand elle partit.»: it hangs on the root itself.
        return bool(first.head == root or first.head.dep_ == "ROOT")
    return False


def _finite(token: Any) -> bool:
    return "Fin" in token.morph.get("VerbForm") or "Imp" in token.morph.get("Mood")


def _main_verb(root: Any) -> Any | None:
    """The finite verb of the main clause: the root, its auxiliary, or a verb the parser
    hung on a nominal root (the small models often read «Frédéric partit» that way)."""
    if _finite(root) or any(c.dep_ in _VERB_HELPERS and _finite(c) for c in root.children):
        return root
    for child in root.children:
        main = child.dep_ != "acl:relcl" and not any(g.dep_ == "mark" for g in child.children)
        if child.pos_ in ("VERB", "AUX") and _finite(child) and main:
            return child
    return None


def _imperative(verb: Any) -> bool:
    return "Imp" in verb.morph.get("Mood") and not _subjects(verb)


def _subjects(verb: Any) -> list[Any]:
    heads = [verb, *(c for c in verb.children if c.dep_ in _VERB_HELPERS)]
    return [c for h in heads for c in h.children if c.dep_.startswith(_SUBJECTS)]


def _has_subject(verb: Any, words: list[Any]) -> bool:
    """An expressed subject: one in the parse, a clitic before the verb, an inverted one
    (`dit-il`), or the noun the parser made the root of «Frédéric partit»."""
    if _subjects(verb):
        return True
    if verb.head != verb and verb.head.pos_ in ("PROPN", "NOUN", "PRON") and verb.head.i < verb.i:
        return True
    before = [w for w in words if w.i < verb.i]
    if before and _first_word(before[-1]) in _SUBJECT_CLITICS:
        return True
    after = verb.nbor(1) if verb.i + 1 < len(verb.doc) else None
    return bool(after is not None and after.text.startswith("-") and after.pos_ == "PRON")
