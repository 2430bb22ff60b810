"""The local processor: long sentences cut only where both sides stand alone, never a fragment."""

from __future__ import annotations

import pytest

from folio.pipeline.errors import InvalidSettings
from folio.pipeline.french.check import is_complete
from folio.pipeline.french.parser import parse
from folio.pipeline.model import OutputSentence, ProcessSettings, Sentence
from folio.pipeline.processors import get_processor
from folio.pipeline.processors.local import LocalNormalizer
from folio.pipeline.text import count_words

FLAUBERT = (
    "Des gens arrivaient hors d’haleine ; des barriques, des câbles, des corbeilles de linge "
    "gênaient la circulation ; les matelots ne répondaient à personne ; on se heurtait ; les "
    "colis montaient entre les deux tambours, et le tapage s’absorbait dans le bruissement de "
    "la vapeur, qui, s’échappant par des plaques de tôle, enveloppait tout d’une nuée "
    "blanchâtre, tandis que la cloche, à l’avant, tintait sans discontinuer."
)
# Sentences of the Féval novel that today's splitter turned into fragments.
FRAGMENTED = [
    "Le commencement du siècle où nous sommes fut beaucoup plus légendaire qu'on ne le croit "
    "généralement.",
    "Elle était belle, de cette beauté étrange et coiffée d'éblouissants cheveux blonds.",
]


def rows(text: str, limit: int = 8, min_words: int = 2) -> list[OutputSentence]:
    sentence = Sentence(page=3, offset=147, text=text)
    out = LocalNormalizer().split(sentence, ProcessSettings(limit=limit, min_words=min_words))
    assert all(row.source_id == sentence.source_id for row in out)
    assert all(row.source_text == text for row in out)
    assert [row.part for row in out] == list(range(len(out)))
    return out


def texts(text: str, limit: int = 8) -> list[str]:
    return [row.text for row in rows(text, limit)]


def test_short_sentences_pass_unchanged() -> None:
    assert texts("Il disparut.") == ["Il disparut."]
    (row,) = rows("Frédéric pensait à la chambre qu’il occuperait.")
    assert (row.text, row.split, row.over_limit, row.units) == (
        "Frédéric pensait à la chambre qu’il occuperait.",
        False,
        False,
        (),
    )


def test_semicolons_cut_into_complete_sentences() -> None:
    pieces = texts(FLAUBERT)
    assert pieces[0] == "Des gens arrivaient hors d’haleine."
    assert "Les matelots ne répondaient à personne." in pieces
    assert "On se heurtait." in pieces
    assert all(is_complete(doc) for doc in parse(pieces)), pieces


def test_a_shared_subject_is_repeated() -> None:
    assert texts(
        "L'homme les salua de la main et poursuivit sa route en remontant le cours de la rivière.",
        limit=12,
    ) == [
        "L'homme les salua de la main.",
        "Et il poursuivit sa route en remontant le cours de la rivière.",
    ]


def test_a_final_qui_clause_becomes_a_sentence() -> None:
    assert texts("Marguerite était couchée sur un lit qui ressemblait à un cercueil.", 6) == [
        "Marguerite était couchée sur un lit.",
        "Il ressemblait à un cercueil.",
    ]


def test_a_subjunctive_relative_is_not_cut() -> None:
    (row,) = rows("Je ne connais aucune femme qui puisse lui être comparée.", limit=5)
    assert row.over_limit and not row.split


@pytest.mark.parametrize("text", FRAGMENTED)
def test_what_no_clean_cut_shortens_stays_whole_with_reading_units(text: str) -> None:
    (row,) = rows(text)
    assert row.text == text
    assert row.over_limit and row.words > 8
    assert len(row.units) > 1
    assert all(1 <= count_words(unit) <= 8 for unit in row.units), row.units
    assert " ".join(row.units).split() == text.split()


def test_every_row_is_within_the_limit_or_flagged() -> None:
    for limit in (5, 8, 12, 20):
        for row in rows(FLAUBERT, limit):
            assert row.words == count_words(row.text)
            assert row.over_limit == (row.words > limit), row
            assert row.words >= 2


def test_guillemets_are_balanced_in_each_row() -> None:
    text = (
        "« Je reviendrai demain ; tu garderas la maison et tu nourriras les bêtes », dit-il "
        "en partant."
    )
    for row in rows(text, limit=6):
        assert row.text.count("«") == row.text.count("»"), row.text


def test_headings_pass_through_only_when_asked() -> None:
    sentences = [Sentence(3, 0, "PREMIÈRE PARTIE", heading=True), Sentence(3, 16, "Il partit.")]
    processor = get_processor("local")
    assert [s.text for s in processor.process(sentences, ProcessSettings())] == ["Il partit."]
    kept = processor.process(sentences, ProcessSettings(include_headings=True))
    assert [(s.text, s.heading) for s in kept] == [("PREMIÈRE PARTIE", True), ("Il partit.", False)]


@pytest.mark.parametrize(("limit", "min_words"), [(2, 1), (61, 2), (8, 5), (8, 0)])
def test_impossible_settings_are_refused(limit: int, min_words: int) -> None:
    with pytest.raises(InvalidSettings):
        ProcessSettings(limit=limit, min_words=min_words)


def test_unknown_processor_is_refused() -> None:
    with pytest.raises(InvalidSettings, match="local"):
        get_processor("gpt-17")


def test_a_huge_sentence_is_not_parsed_but_kept_whole_in_units() -> None:
    text = " ".join(["mot"] * 5_000) + "."
    (row,) = rows(text)
    assert row.over_limit and row.text == text
    assert len(row.units) >= 5_000 // 8
