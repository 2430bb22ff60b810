"""The whole pipeline on one machine: one chunk (`run_chunk`) or a document (`run_document`).

Celery tasks call `run_chunk`; the CLI calls `run_document`, which fans chunks out to worker
processes exactly as the task queue does, so both paths share every stage.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field

from folio.pipeline.budgets import Budgets
from folio.pipeline.errors import ExtractionStopped, NoText
from folio.pipeline.merge import merge
from folio.pipeline.model import (
    ChunkPlan,
    ChunkResult,
    DocumentInfo,
    Furniture,
    OutputSentence,
    ProcessSettings,
)
from folio.pipeline.plan import (
    DEFAULT_CHUNK_PAGES,
    DEFAULT_OCR_CHUNK_PAGES,
    DEFAULT_OVERLAP,
    own,
    plan_chunks,
)
from folio.pipeline.processors import ProcessContext, processor_for
from folio.pipeline.segment import segment
from folio.pipeline.sources.pdf.document import Source
from folio.pipeline.sources.pdf.guarded import PageCallback, extract_pages, inspect_document
from folio.pipeline.sources.pdf.inspect import Limits
from folio.pipeline.sources.pdf.ocr import OcrOptions

# Called after each chunk with its result and the number of chunks in the plan.
ProgressCallback = Callable[[ChunkResult, int], None]


@dataclass(slots=True)
class DocumentResult:
    """A processed document: its description, every chunk's result and the merged sentences."""

    info: DocumentInfo
    chunks: list[ChunkResult]
    sentences: list[OutputSentence] = field(default_factory=list)

    @property
    def over_limit(self) -> int:
        """Rows left longer than the limit (no cut made complete sentences)."""
        return sum(1 for sentence in self.sentences if sentence.over_limit)

    @property
    def unreadable_pages(self) -> dict[int, str]:
        """Pages that could not be read, with why (none of their sentences are given)."""
        return {p: why for result in self.chunks for p, why in result.unreadable_pages.items()}

    @property
    def ocr_pages(self) -> int:
        """Pages read by OCR that gave text."""
        return sum(len(result.ocr_pages) for result in self.chunks)

    @property
    def ocr_seconds(self) -> float:
        """Seconds OCR took, the pages chunks read around their own included."""
        return sum(result.ocr_seconds for result in self.chunks)

    @property
    def source_sentences(self) -> int:
        """Sentences read from the document (headings included)."""
        return sum(result.source_sentences for result in self.chunks)


def run_chunk(
    path: Source,
    chunk: ChunkPlan,
    furniture: Furniture,
    settings: ProcessSettings,
    password: str | None = None,
    context: ProcessContext | None = None,
    budgets: Budgets | None = None,
    *,
    scanned: frozenset[int] = frozenset(),
    on_page: PageCallback | None = None,
) -> ChunkResult:
    """Extract, segment, own and process one chunk of a document.

    `context` carries the cancel flag, the shared rate limiter and the LLM configurations;
    the default suits the local processor. Raises `LLMUnavailable` when an LLM processor's
    model does not answer and its fallback is "fail". Extraction runs in sandboxes within
    `budgets`; the owned pages that could not be read are in `unreadable_pages`. The pages
    OCR reads (`scanned`) are read one by one, `on_page` told after each: when it answers
    True the chunk stops there, `stopped`.
    """
    started = time.perf_counter()
    context = context or ProcessContext()
    processor = processor_for(settings, context.llm)
    try:
        extracted = extract_pages(
            path,
            chunk.read_first,
            chunk.read_last,
            furniture,
            password,
            budgets,
            OcrOptions.of(settings),
            scanned=scanned,
            on_page=on_page,
        )
    except ExtractionStopped:
        return ChunkResult(chunk=chunk, stopped=True, seconds=time.perf_counter() - started)
    sentences = own(chunk, segment(extracted))
    output = processor.process(sentences, settings, context)
    return ChunkResult(
        chunk=chunk,
        sentences=output.sentences,
        source_sentences=len(sentences),
        pages_without_text=[p for p in extracted.pages_without_text if chunk.owns(p)],
        unreadable_pages={p: why for p, why in extracted.unreadable.items() if chunk.owns(p)},
        seconds=time.perf_counter() - started,
        usage=output.usage,
        stopped=output.stopped,
        retried=output.retried,
        repaired=output.repaired,
        model=processor.model,
        prompt_version=processor.prompt_version,
        ocr_pages=[
            p
            for p in sorted(extracted.ocr_seconds)
            if chunk.owns(p) and p not in extracted.pages_without_text
        ],
        ocr_seconds=sum(extracted.ocr_seconds.values()),
    )


def run_document(
    path: Source,
    settings: ProcessSettings,
    *,
    chunk_pages: int = DEFAULT_CHUNK_PAGES,
    overlap: int = DEFAULT_OVERLAP,
    ocr_chunk_pages: int = DEFAULT_OCR_CHUNK_PAGES,
    workers: int = 1,
    password: str | None = None,
    limits: Limits | None = None,
    on_chunk: ProgressCallback | None = None,
    budgets: Budgets | None = None,
) -> DocumentResult:
    """Inspect, plan, run every chunk (in `workers` processes) and merge.

    Raises `NoText` when no page gave any text (and none was refused as unreadable): a scan
    read with OCR off, or pages that are blank or pictures only.
    """
    budgets = budgets or Budgets()
    info = inspect_document(path, password, limits, budgets, ocr=OcrOptions.of(settings))
    scanned = frozenset(info.ocr_pages(settings.ocr))
    chunks = plan_chunks(info.page_count, chunk_pages, overlap, scanned, ocr_chunk_pages)
    workers = max(1, min(workers, len(chunks)))
    work = _Work(path, info.furniture, settings, password, budgets, scanned)
    if workers == 1:
        results = []
        for chunk in chunks:
            results.append(work.run(chunk))
            if on_chunk:
                on_chunk(results[-1], len(chunks))
    else:
        with _pool(workers) as pool:
            results = _fan_out(pool, work, chunks, on_chunk)
    results.sort(key=lambda result: result.chunk.index)
    result = DocumentResult(info, results, merge(result.sentences for result in results))
    if result.source_sentences == 0 and not result.unreadable_pages:
        raise NoText(_no_text_message(settings))
    return result


def _no_text_message(settings: ProcessSettings) -> str:
    if settings.ocr == "never":
        return (
            "No page of the document has a text layer, and OCR is off (--ocr never): "
            "nothing to read."
        )
    return "No page of the document gave any text, from its text layer or by OCR."


def _pool(workers: int) -> Executor:
    # forkserver: workers start from a clean process, never from a parent holding pdfium state.
    context = multiprocessing.get_context("forkserver")
    # The parser too: every worker would otherwise load its own (french/warm.py).
    context.set_forkserver_preload(["folio.pipeline.runner", "folio.pipeline.french.warm"])
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)


@dataclass(frozen=True, slots=True)
class _Work:
    """What every chunk of a document shares."""

    path: Source
    furniture: Furniture
    settings: ProcessSettings
    password: str | None
    budgets: Budgets
    scanned: frozenset[int]

    def run(self, chunk: ChunkPlan) -> ChunkResult:
        """One chunk of the document (in a pool process, `_Work` pickles)."""
        return run_chunk(
            self.path,
            chunk,
            self.furniture,
            self.settings,
            self.password,
            budgets=self.budgets,
            scanned=self.scanned,
        )


def _fan_out(
    pool: Executor,
    work: _Work,
    chunks: list[ChunkPlan],
    on_chunk: ProgressCallback | None,
) -> list[ChunkResult]:
    futures = [pool.submit(work.run, chunk) for chunk in chunks]
    results: list[ChunkResult] = []
    for future in as_completed(futures):
        results.append(future.result())
        if on_chunk:
            on_chunk(results[-1], len(chunks))
    return results
