"""The `folio` command line: the whole pipeline on one machine."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import NoReturn

import click

from folio.config import budgets_from_env
from folio.pipeline.errors import PipelineError
from folio.pipeline.export import FORMATS, export_to_path
from folio.pipeline.model import (
    DEFAULT_LANG,
    MAX_LIMIT,
    MIN_LIMIT,
    OCR_MODES,
    ChunkResult,
    ProcessSettings,
)
from folio.pipeline.plan import DEFAULT_CHUNK_PAGES, DEFAULT_OVERLAP, MAX_OVERLAP
from folio.pipeline.runner import DocumentResult, run_document

EXIT_BAD_INPUT = 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Folio: long PDFs into short sentences for language learners."""


@main.command()
@click.argument("input_path", metavar="INPUT.pdf", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(path_type=Path),
    help="Where to write the sentences.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="Output format (default: from the --out extension, else jsonl).",
)
@click.option(
    "--limit",
    type=click.IntRange(MIN_LIMIT, MAX_LIMIT),
    default=8,
    show_default=True,
    help="Most words in an output sentence.",
)
@click.option(
    "--min-words",
    type=click.IntRange(1),
    default=2,
    show_default=True,
    help="Fewest words in a piece of a split sentence.",
)
@click.option(
    "--chunk-pages",
    type=click.IntRange(1),
    default=DEFAULT_CHUNK_PAGES,
    show_default=True,
    help="Pages owned by each parallel chunk.",
)
@click.option(
    "--overlap",
    type=click.IntRange(1, MAX_OVERLAP),
    default=DEFAULT_OVERLAP,
    show_default=True,
    help="Context pages read on each side of a chunk.",
)
@click.option("--password", default=None, help="Password of an encrypted PDF.")
@click.option(
    "--workers",
    type=click.IntRange(1),
    default=os.cpu_count() or 1,
    show_default="CPU count",
    help="Worker processes.",
)
@click.option(
    "--headings/--no-headings",
    default=False,
    show_default=True,
    help="Keep chapter and part headings as rows of their own.",
)
@click.option(
    "--lang",
    default=DEFAULT_LANG,
    show_default=True,
    help="The document's language as Tesseract names it (fra, eng, fra+eng), for OCR.",
)
@click.option(
    "--ocr",
    type=click.Choice(OCR_MODES),
    default="auto",
    show_default=True,
    help="OCR the pages without a usable text layer (auto), every page, or none.",
)
def process(
    input_path: Path,
    out_path: Path,
    fmt: str | None,
    limit: int,
    min_words: int,
    chunk_pages: int,
    overlap: int,
    password: str | None,
    workers: int,
    headings: bool,
    lang: str,
    ocr: str,
) -> None:
    """Turn INPUT.pdf into sentences of at most --limit words."""
    if not input_path.is_file():
        _fail("file_not_found", f"No such file: {input_path}")
    fmt = fmt or _format_from_suffix(out_path)
    started = time.perf_counter()
    try:
        settings = ProcessSettings(
            limit=limit, min_words=min_words, include_headings=headings, lang=lang, ocr=ocr
        )
        result = _run(input_path, settings, chunk_pages, overlap, workers, password)
        export_to_path(result.sentences, fmt, out_path, _meta(input_path, result, settings))
    except PipelineError as exc:
        _fail(exc.code, exc.message)
    _summary(result, out_path, time.perf_counter() - started)


def _run(
    path: Path,
    settings: ProcessSettings,
    chunk_pages: int,
    overlap: int,
    workers: int,
    password: str | None,
) -> DocumentResult:
    if not sys.stderr.isatty():
        return run_document(
            path,
            settings,
            chunk_pages=chunk_pages,
            overlap=overlap,
            workers=workers,
            password=password,
            budgets=budgets_from_env(os.environ),
        )
    with click.progressbar(length=1, label="Processing chunks", file=sys.stderr) as bar:

        def advance(_result: ChunkResult, total: int) -> None:
            bar.length = total
            bar.update(1)

        return run_document(
            path,
            settings,
            chunk_pages=chunk_pages,
            overlap=overlap,
            workers=workers,
            password=password,
            on_chunk=advance,
            budgets=budgets_from_env(os.environ),
        )


def _format_from_suffix(path: Path) -> str:
    suffix = path.suffix.lstrip(".").lower()
    aliases = {"ndjson": "jsonl", "tsv": "anki", "text": "txt"}
    suffix = aliases.get(suffix, suffix)
    return suffix if suffix in FORMATS else "jsonl"


def _meta(path: Path, result: DocumentResult, settings: ProcessSettings) -> dict[str, object]:
    return {
        "source": path.name,
        "title": result.info.title,
        "author": result.info.author,
        "pages": result.info.page_count,
        "limit": settings.limit,
        "min_words": settings.min_words,
        "processor": settings.processor,
        "ocr": settings.ocr,
        "lang": settings.lang,
        "sentences": len(result.sentences),
        "over_limit": result.over_limit,
    }


def _summary(result: DocumentResult, out_path: Path, seconds: float) -> None:
    pages = result.info.page_count
    click.echo(
        f"{len(result.sentences)} sentences from {result.source_sentences} source sentences, "
        f"{pages} pages in {seconds:.2f} s ({pages / seconds:.0f} pages/s); "
        f"{result.over_limit} over the limit; written to {out_path}",
        err=True,
    )
    if result.ocr_pages:
        click.echo(
            f"{result.ocr_pages} pages read by OCR in {result.ocr_seconds:.1f} s of OCR "
            f"({len(result.chunks)} chunks)",
            err=True,
        )
    for warning in result.info.warnings:
        click.echo(f"warning: {warning}", err=True)
    for page, reason in sorted(result.unreadable_pages.items()):
        click.echo(f"warning: page {page} was not read ({reason})", err=True)


def _fail(code: str, message: str) -> NoReturn:
    click.echo(f"error: {code}: {message}", err=True)
    sys.exit(EXIT_BAD_INPUT)
