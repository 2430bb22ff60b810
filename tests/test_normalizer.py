"""The local normalizer: long sentences cut at clause boundaries into complete sentences."""

from __future__ import annotations

import pytest

from folio.pipeline.errors import InvalidSettings
from folio.pipeline.model import ProcessSettings, Sentence
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


def split(text: str, limit: int = 8, min_words: int = 2) -> list[str]:
    sentence = Sentence(page=3, offset=147, text=text)
    pieces = LocalNormalizer().split(sentence, ProcessSettings(limit=limit, min_words=min_words))
    assert all(piece.source_id == sentence.source_id for piece in pieces)
    assert [piece.part for piece in pieces] == list(range(len(pieces)))
    return [piece.text for piece in pieces]


def test_short_sentences_pass_unchanged() -> None:
    assert split("Il disparut.") == ["Il disparut."]
    assert split("Frédéric pensait à la chambre qu’il occuperait.") == [
        "Frédéric pensait à la chambre qu’il occuperait."
    ]


def test_semicolons_are_the_first_cut() -> None:
    pieces = split(FLAUBERT)
    assert pieces[0] == "Des gens arrivaient hors d’haleine."
    assert "Les matelots ne répondaient à personne." in pieces
    assert "On se heurtait." in pieces


@pytest.mark.parametrize("limit", [4, 5, 8, 12, 20])
def test_pieces_respect_limit_and_minimum_and_keep_every_word(limit: int) -> None:
    pieces = split(FLAUBERT, limit=limit)
    assert all(2 <= count_words(piece) <= limit for piece in pieces), pieces
    words = [w for piece in pieces for w in piece.split() if any(c.isalnum() for c in w)]
    source = [w for w in FLAUBERT.split() if any(c.isalnum() for c in w)]
    assert [w.strip(".,;:").casefold() for w in words] == [
        w.strip(".,;:").casefold() for w in source
    ]


def test_pieces_are_complete_sentences() -> None:
    for piece in split(FLAUBERT, limit=6):
        assert piece[0].isupper(), piece
        assert piece.endswith((".", "!", "?", "…", "»")), piece
        assert not piece.rstrip(".").endswith((" de", " la", " le", " dans", " et", " que"))


def test_guillemets_are_balanced_in_each_piece() -> None:
    text = (
        "Il marmotta vite un long calcul, afin de savoir « combien chaque coup de piston, à "
        "tant de fois par minute, devait rapporter au bout de la journée entière »."
    )
    for piece in split(text, limit=8):
        assert piece.count("«") == piece.count("»"), piece
        assert not piece.startswith("»")


def test_a_hard_cut_is_the_last_resort_and_is_marked() -> None:
    text = "Pierre Paul Jacques Martin Bernard Thomas Robert Richard Durand Dubois Moreau Laurent."
    sentence = Sentence(page=1, offset=0, text=text)
    pieces = LocalNormalizer().split(sentence, ProcessSettings(limit=5))
    assert [p.cut for p in pieces] == ["", "hard", "hard"]
    assert sum(p.hard_cut for p in pieces) == 2
    clause = LocalNormalizer().split(Sentence(1, 0, FLAUBERT), ProcessSettings(limit=8))
    assert {p.cut for p in clause} <= {"", "clause", "phrase"}


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
