"""French sentence segmentation: the hard cases, taken from the corpus novels."""

from __future__ import annotations

import pytest

from folio.pipeline.segment import segment, split_paragraph
from folio.pipeline.sources.base import Extracted


def sentences(paragraph: str) -> list[str]:
    return [paragraph[start:end] for start, end in split_paragraph(paragraph)]


CASES = [
    pytest.param(
        "Arnoux l’avait appelée « Marie ! » Il cria très haut « Marie ! » Sa voix se perdit.",
        [
            "Arnoux l’avait appelée « Marie ! »",
            "Il cria très haut « Marie ! »",
            "Sa voix se perdit.",
        ],
        id="closing guillemet stays with its sentence",
    ),
    pytest.param(
        "« Si Monsieur voulait descendre ? Mademoiselle pleure. » Il disparut.",
        ["« Si Monsieur voulait descendre ?", "Mademoiselle pleure. »", "Il disparut."],
        id="sentences inside a quotation",
    ),
    pytest.param(
        "-- Ah ! j’oubliais ! » répliqua Frédéric, négligemment.",
        ["-- Ah ! j’oubliais ! » répliqua Frédéric, négligemment."],
        id="double-hyphen dialogue, lower-case after ! and »",
    ),
    pytest.param(
        "—Patron, ne venez-vous point voir si nous avons avancé la besogne aujourd'hui?",
        ["—Patron, ne venez-vous point voir si nous avons avancé la besogne aujourd'hui?"],
        id="em-dash dialogue with no spaces",
    ),
    pytest.param(
        "Quel tas de bourgeois vous êtes ! dit-il. Qu’est-ce que cela vous fait ?",
        ["Quel tas de bourgeois vous êtes ! dit-il.", "Qu’est-ce que cela vous fait ?"],
        id="! followed by an incise",
    ),
    pytest.param(
        "Vous voyez quelque chose, Jack ? demanda Dick Sand, qui s'approcha.",
        ["Vous voyez quelque chose, Jack ? demanda Dick Sand, qui s'approcha."],
        id="? followed by demanda",
    ),
    pytest.param(
        "Le petit Jack fit un signe ? demanda-t-il. Non.",
        ["Le petit Jack fit un signe ? demanda-t-il.", "Non."],
        id="? followed by demanda-t-il",
    ),
    pytest.param(
        "M. Frédéric Moreau, nouvellement reçu bachelier, s’en retournait à Nogent.",
        ["M. Frédéric Moreau, nouvellement reçu bachelier, s’en retournait à Nogent."],
        id="M. before a name",
    ),
    pytest.param(
        "Il avait deux amis, MM. Oswell et Murray. Le 1er août de la même année, il partit.",
        ["Il avait deux amis, MM. Oswell et Murray.", "Le 1er août de la même année, il partit."],
        id="MM. before names, then a real stop",
    ),
    pytest.param(
        "Un garçon circulait ; M. et Mme Arnoux étaient dans le fond.",
        ["Un garçon circulait ; M. et Mme Arnoux étaient dans le fond."],
        id="M. et Mme",
    ),
    pytest.param(
        "Cette monnaie fut frappée en l'an 52 avant J.-C. sous le consulat de Marius.",
        ["Cette monnaie fut frappée en l'an 52 avant J.-C. sous le consulat de Marius."],
        id="J.-C. inside a sentence",
    ),
    pytest.param(
        "Il nomma Ceracchi, Taïeh, Osman, etc. En regard de chaque nom, une croix.",
        ["Il nomma Ceracchi, Taïeh, Osman, etc.", "En regard de chaque nom, une croix."],
        id="etc. before a capital ends the sentence",
    ),
    pytest.param(
        "Il répétait : « Dussardier !… rue de Cléry. Mon carton ! »",
        ["Il répétait : « Dussardier !… rue de Cléry.", "Mon carton ! »"],
        id="ellipsis followed by lower case does not end",
    ),
    pytest.param(
        "Elle m’eût aimé… Pourquoi ris-tu ? L’amour est une chose sérieuse.",
        ["Elle m’eût aimé…", "Pourquoi ris-tu ?", "L’amour est une chose sérieuse."],
        id="ellipsis then capital",
    ),
    pytest.param(
        "Il nous aimera bien... Maman, je vais aller le voir.",
        ["Il nous aimera bien...", "Maman, je vais aller le voir."],
        id="three dots",
    ),
    pytest.param(
        "Elle est tr.. Elle est très belle.",
        ["Elle est tr..", "Elle est très belle."],
        id="two dots, Féval's ellipsis",
    ),
    pytest.param(
        "Il appartenait à James W. Weldon, riche armateur.",
        ["Il appartenait à James W. Weldon, riche armateur."],
        id="a middle initial",
    ),
    pytest.param(
        "devait, etc. » -- Et, la somme trouvée, il admira le paysage.",
        ["devait, etc. »", "-- Et, la somme trouvée, il admira le paysage."],
        id="a dash after a closing guillemet starts a sentence",
    ),
]


@pytest.mark.parametrize(("paragraph", "expected"), CASES)
def test_hard_french_cases(paragraph: str, expected: list[str]) -> None:
    assert sentences(paragraph) == expected


def test_a_guillemet_never_stands_alone() -> None:
    text = "« Jacques Arnoux, propriétaire de l’Art industriel, boulevard Montmartre. » Il partit."
    found = sentences(text)
    assert found[0].endswith("Montmartre. »")
    assert all(s.strip("« »") for s in found)


def test_segment_locates_sentences_by_page_and_offset() -> None:
    extracted = Extracted(
        text="I\nLe navire partit. Il pleuvait.\nSur la Seine, fin.",
        page_starts=[0, 28],
        page_numbers=[3, 4],
        headings={0},
    )
    found = segment(extracted)
    assert [(s.page, s.offset, s.text, s.heading) for s in found] == [
        (3, 0, "I", True),
        (3, 2, "Le navire partit.", False),
        (3, 20, "Il pleuvait.", False),
        (4, 5, "Sur la Seine, fin.", False),
    ]


def test_a_sentence_carried_over_a_paragraph_break_is_located_where_it_starts() -> None:
    extracted = Extracted(
        text="I\nLe navire partit. Il pleuvait\nsur la Seine. Fin.",
        page_starts=[0, 27],
        page_numbers=[3, 4],
        headings={0},
    )
    found = segment(extracted)
    assert [(s.page, s.offset, s.text, s.heading) for s in found] == [
        (3, 0, "I", True),
        (3, 2, "Le navire partit.", False),
        (3, 20, "Il pleuvait sur la Seine.", False),
        (4, 19, "Fin.", False),
    ]


def paragraphs(*texts: str) -> list[str]:
    """The sentences of consecutive paragraphs (one page)."""
    extracted = Extracted(text="\n".join(texts), page_starts=[0], page_numbers=[1])
    return [s.text for s in segment(extracted)]


# From the Féval novel, whose source text sets every italic title and small-capital word
# apart as a paragraph of its own, so the typeset book does too.
BREAKS = [
    pytest.param(
        ["Il faisait sa leçon sur l'", "Organon", "de Samuel Hahnemann. Voilà huit jours."],
        ["Il faisait sa leçon sur l'Organon de Samuel Hahnemann.", "Voilà huit jours."],
        id="after an elision, then lower case",
    ),
    pytest.param(
        ["Pour tous les curieux de terreur, c'était la", "VAMPIRE", ".", "Notre éducation."],
        ["Pour tous les curieux de terreur, c'était la VAMPIRE.", "Notre éducation."],
        id="after an article; a full stop alone",
    ),
    pytest.param(
        ["Une légende qui disait en lettres mal formées:", "A la pêche miraculeuse", "."],
        ["Une légende qui disait en lettres mal formées:", "A la pêche miraculeuse."],
        id="a colon then a capital stays a break",
    ),
    pytest.param(
        ["que les", "Mystères de la caverne des Apennins", "; il sonnait le glas."],
        ["que les Mystères de la caverne des Apennins ; il sonnait le glas."],
        id="a semicolon opens the next paragraph",
    ),
    pytest.param(
        ["que la frayeur publique avait baptisé:", "la Vampire", ", et qui tuait."],
        ["que la frayeur publique avait baptisé: la Vampire, et qui tuait."],
        id="lower case after a colon",
    ),
    pytest.param(
        ["Audaces fortuna juvat...", "mais on les cite incorrectement."],
        ["Audaces fortuna juvat... mais on les cite incorrectement."],
        id="lower case after an ellipsis",
    ),
    pytest.param(
        ["« Voilà les riches ! » pensa Deslauriers.", "il alla dîner rue Saint-Jacques."],
        ["« Voilà les riches ! » pensa Deslauriers.", "il alla dîner rue Saint-Jacques."],
        id="lower case after a full stop: the source's own sentence",
    ),
    pytest.param(
        ["XVI -- En route", "Ce ne fut pas sans peine."],
        ["XVI -- En route", "Ce ne fut pas sans peine."],
        id="a title without a stop, then a capital",
    ),
    pytest.param(
        ["Il cria ces mots:", "—Patron, venez!", "» Et il partit.", "« Bien. »"],
        ["Il cria ces mots:", "—Patron, venez!", "» Et il partit.", "« Bien. »"],
        id="dialogue and quotation marks open paragraphs",
    ),
    pytest.param(
        ["Ah ! j’ai t’y ri, j’ai t’y ri,", "Dans ce gueusard de Paris"],
        ["Ah ! j’ai t’y ri, j’ai t’y ri, Dans ce gueusard de Paris"],
        id="a comma goes on",
    ),
]


@pytest.mark.parametrize(("texts", "expected"), BREAKS)
def test_a_paragraph_break_ends_a_sentence_only_where_it_can(
    texts: list[str], expected: list[str]
) -> None:
    assert paragraphs(*texts) == expected


def test_a_heading_is_never_joined() -> None:
    text = "Il était une fois la\nPREMIÈRE PARTIE\nla suite."
    extracted = Extracted(text=text, page_starts=[0], page_numbers=[1], headings={21})
    assert [(s.text, s.heading) for s in segment(extracted)] == [
        ("Il était une fois la", False),
        ("PREMIÈRE PARTIE", True),
        ("la suite.", False),
    ]
