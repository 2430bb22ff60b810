"""Line-end hyphens: joined when the typesetter put them there, kept when the word has one."""

from __future__ import annotations

from pathlib import Path

import pytest

from books import BOOKS, source_text
from folio.pipeline.sources.pdf.extract import extract
from folio.pipeline.sources.pdf.inspect import inspect_pdf
from folio.pipeline.text import HyphenJoin, join_lines, keeps_hyphen
from quality import check_hyphen_joins


@pytest.mark.parametrize(
    ("left", "right", "kept"),
    [
        ("cor", "beilles", False),
        ("vi", "bration", False),
        ("au", "tour", False),
        ("sur", "tout", False),
        ("cou", "leur", False),
        ("Saint-Ber", "nard", False),
        ("ren", "dez-vous", False),
        ("au-de", "vant", False),
        ("aujour", "d’hui", False),
        ("peut", "être", True),
        ("demanda", "t-il", True),
        ("dit", "elle", True),
        ("là", "bas", True),
        ("donnez", "leur", True),
        ("Saint", "Louis", True),
        ("c’est-à", "dire", True),
        ("tête-à", "tête", True),
        ("hors", "d’oeuvre", True),
        ("gorge", "de-pigeon", True),
        ("ex", "employé", True),
        ("ex", "pliquer", False),
        ("quelques", "uns", True),
        ("celui", "là", True),
    ],
)
def test_keeps_hyphen(left: str, right: str, kept: bool) -> None:
    assert keeps_hyphen(left, right) is kept


def test_join_lines_resolves_pdfium_markers_and_plain_hyphens() -> None:
    joins: list[HyphenJoin] = []
    assert join_lines("des cor\x02", "beilles", joins) == "des cor"
    assert join_lines("il viendra peut\ufffe", "être", joins) == "il viendra peut-"
    assert join_lines("le quai Saint-", "Bernard", joins) == "le quai Saint-"
    assert join_lines("un rire ; --", "et le capitaine", joins) == "un rire ; -- "
    assert join_lines("la fin", "du jour", joins) == "la fin "
    assert [(j.left, j.right, j.kept) for j in joins] == [
        ("cor", "beilles", False),
        ("peut", "être", True),
        ("Saint", "Bernard", True),
    ]


@pytest.mark.corpus
@pytest.mark.parametrize("key", ["flaubert", "verne"])
def test_hyphen_errors_against_the_source(corpus_dir: Path, key: str) -> None:
    pdf = corpus_dir / "pdfs" / BOOKS[key].pdf
    info = inspect_pdf(pdf)
    extracted = extract(pdf, 1, info.page_count, info.furniture)
    report = check_hyphen_joins(extracted.joins, source_text(corpus_dir, key))
    print(
        f"\n{key}: {report.joins} line-end hyphens, {report.removed_wrongly} removed wrongly, "
        f"{report.kept_wrongly} kept wrongly, {report.undecidable} undecidable"
    )
    assert report.joins > 2000  # the corpus README: about 2,500 in Flaubert
    assert report.undecidable < 0.01 * report.joins
    assert report.removed_wrongly + report.kept_wrongly < 0.005 * report.joins, report.examples
