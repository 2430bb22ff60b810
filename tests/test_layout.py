"""Page layout on small generated PDFs: furniture, paragraphs, headings, page offsets."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
import pytest

from folio.pipeline.model import ProcessSettings
from folio.pipeline.runner import run_document
from folio.pipeline.sources.base import Extracted
from folio.pipeline.sources.pdf.extract import extract
from folio.pipeline.sources.pdf.inspect import inspect_pdf
from folio.pipeline.sources.pdf.layout import read_lines
from pdfmaker import PageSpec, TextLine, book_pages, make_pdf, plain

LINE = "Le navire partit enfin, et les deux berges filèrent comme deux rubans."


def five_pages(tmp_path: Path) -> Path:
    pages = [
        [[LINE, f"Page {n} : la fin du paragraphe."], [f"Un autre paragraphe {n}."]]
        for n in range(1, 6)
    ]
    return make_pdf(tmp_path / "book.pdf", book_pages(pages))


def test_running_header_and_page_numbers_are_removed(tmp_path: Path) -> None:
    pdf = five_pages(tmp_path)
    info = inspect_pdf(pdf)
    assert "le titre" in info.furniture.texts
    text = extract(pdf, 1, 5, info.furniture).text
    assert "Le Titre" not in text
    assert not any(line.strip().isdigit() for line in text.splitlines())
    assert text.count("Le navire partit") == 5


def test_a_repeated_first_line_of_body_text_is_not_furniture(tmp_path: Path) -> None:
    pages = [[["« Oui. »", LINE]] for _ in range(6)]
    pdf = make_pdf(tmp_path / "b.pdf", book_pages(pages, header=None, numbers=False))
    info = inspect_pdf(pdf)
    assert extract(pdf, 1, 6, info.furniture).text.count("« Oui. »") == 6


def test_paragraphs_follow_indentation_and_run_across_pages(tmp_path: Path) -> None:
    pages = [
        [["Premier paragraphe qui commence ici et qui se poursuit sur la", "page suivante sans"]],
        [["+retrait, puisque la ligne n’est pas indentée."], ["Deuxième paragraphe."]],
    ]
    pdf = make_pdf(tmp_path / "p.pdf", book_pages(pages))
    info = inspect_pdf(pdf)
    extracted = extract(pdf, 1, 2, info.furniture)
    assert extracted.text.split("\n") == [
        "Premier paragraphe qui commence ici et qui se poursuit sur la page suivante sans "
        "retrait, puisque la ligne n’est pas indentée.",
        "Deuxième paragraphe.",
    ]
    assert extracted.locate(extracted.text.index("retrait")) == (2, 0)


def test_break_hyphen_across_a_page_is_joined(tmp_path: Path) -> None:
    pages = [[["Il regardait les cor-"]], [["+beilles de linge. Puis il partit."]]]
    pdf = make_pdf(tmp_path / "h.pdf", book_pages(pages))
    result = run_document(pdf, ProcessSettings())
    assert [s.text for s in result.sentences] == [
        "Il regardait les corbeilles de linge.",
        "Puis il partit.",
    ]
    assert [s.page for s in result.sentences] == [1, 2]


def test_headings_are_found_and_left_out_unless_asked(tmp_path: Path) -> None:
    page = PageSpec(
        [
            TextLine("PREMIÈRE PARTIE", 150, 450, 14),
            TextLine("I", 207, 400, 12),
            TextLine("Le 15 septembre 1840, vers six heures du matin, la", 59, 360),
            TextLine("Ville-de-Montereau fumait devant le quai.", 45, 346),
        ]
    )
    pdf = make_pdf(tmp_path / "t.pdf", [page])
    plain = run_document(pdf, ProcessSettings(limit=20))
    assert [s.text for s in plain.sentences] == [
        "Le 15 septembre 1840, vers six heures du matin, la Ville-de-Montereau fumait devant "
        "le quai."
    ]
    with_headings = run_document(pdf, ProcessSettings(limit=20, include_headings=True))
    assert [(s.text, s.heading) for s in with_headings.sentences[:2]] == [
        ("PREMIÈRE PARTIE", True),
        ("I", True),
    ]


def test_pages_without_text_layer_are_reported(tmp_path: Path) -> None:
    pages = book_pages([[[LINE]], [], [[LINE]]])
    pages[1] = PageSpec([])  # a blank page: no text, nothing drawn
    pdf = make_pdf(tmp_path / "s.pdf", pages)
    info = inspect_pdf(pdf)
    assert info.pages_without_text == (2,)
    # Not a scan: OCR would find nothing there, so none is planned and no OCR warning given.
    assert info.pages_scanned == () and not info.warnings
    result = run_document(pdf, ProcessSettings(limit=20))
    assert [c.pages_without_text for c in result.chunks] == [[2]]


@pytest.mark.parametrize(("first", "last"), [(1, 5), (2, 4), (3, 3), (2, 5)])
def test_a_page_reads_the_same_whoever_reads_it(tmp_path: Path, first: int, last: int) -> None:
    pdf = five_pages(tmp_path)
    info = inspect_pdf(pdf)
    whole = extract(pdf, 1, 5, info.furniture)
    part = extract(pdf, first, last, info.furniture)

    for page in range(first, last + 1):
        assert page_text(part, page).rstrip("\n ") == page_text(whole, page).rstrip("\n ")


def page_text(extracted: Extracted, page: int) -> str:
    index = extracted.page_numbers.index(page)
    starts = [*extracted.page_starts, len(extracted.text)]
    return extracted.text[starts[index] : starts[index + 1]]


# A change of font inside a sentence: italic titles and small capitals, mid-line, at a line's
# start and end, before punctuation, over a page break (markup: see tests/pdfmaker.py).
FONT_CHANGES = [
    [
        [
            "Le professeur faisait sa leçon sur l’*Organon* de Samuel Hahnemann, et",
            "tout le monde l’écoutait. C’était la ^Vampire^. Il le savait bien.",
        ],
        [
            "Il lisait *le Confessionnal des pénitents noirs*, puis les *Mystères*",
            "*d’Udolphe* ; il sonnait le glas. La ^Pêche miraculeuse^ était",
            "*ouverte*. « *Arnica montana* ! » dit-il à ^M. Berthellemot^.",
        ],
        [
            "^Vampire^ et *Moniteur* : voilà ce que le vieux cabaret de la",
            "^Pêche^ avait vu. Puis il cita les *Horaces*, puis le *Veau qui*",
        ],
    ],
    [["+*tette*, sans s’arrêter. Ce fut tout."]],
]
FONT_CHANGE_SENTENCES = [
    "Le professeur faisait sa leçon sur l’Organon de Samuel Hahnemann, et tout le monde "
    "l’écoutait.",
    "C’était la VAMPIRE.",
    "Il le savait bien.",
    "Il lisait le Confessionnal des pénitents noirs, puis les Mystères d’Udolphe ; il sonnait "
    "le glas.",
    "La PÊCHE MIRACULEUSE était ouverte.",
    "« Arnica montana ! » dit-il à M. BERTHELLEMOT.",
    "VAMPIRE et Moniteur : voilà ce que le vieux cabaret de la PÊCHE avait vu.",
    "Puis il cita les Horaces, puis le Veau qui tette, sans s’arrêter.",
    "Ce fut tout.",
]


def test_a_change_of_font_never_breaks_a_line_or_a_sentence(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "fonts.pdf", book_pages(FONT_CHANGES))
    result = run_document(pdf, ProcessSettings(limit=40))
    assert [s.text for s in result.sentences] == FONT_CHANGE_SENTENCES


def test_each_line_with_a_change_of_font_reads_as_one_line(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "fonts.pdf", book_pages(FONT_CHANGES))
    document = pdfium.PdfDocument(str(pdf))
    try:
        lines = read_lines(document[0].get_textpage())
    finally:
        document.close()
    expected = [plain(text) for paragraph in FONT_CHANGES[0] for text in paragraph]
    assert [line.text for line in lines][1:-1] == expected  # between the header and number


@pytest.mark.parametrize(
    "opening", ["«|", "—|", "^Ah^", "*Oh*"], ids=["guillemet", "dash", "small-caps", "italic"]
)
def test_a_line_that_opens_with_a_small_glyph_or_font_is_one_line(
    tmp_path: Path, opening: str
) -> None:
    # The Verne novel's « À recommencer »: the guillemet's box is lower than the line's middle.
    text = f"{opening} À recommencer, dit froidement le novice"
    page = PageSpec([TextLine(text, 45, 400)])
    pdf = make_pdf(tmp_path / "o.pdf", [page])
    document = pdfium.PdfDocument(str(pdf))
    try:
        lines = read_lines(document[0].get_textpage())
    finally:
        document.close()
    assert [line.text for line in lines] == [plain(text)]
