"""Side-by-side speed and memory benchmark: the Folio CLI pipeline against bare text extraction.

Every run is a fresh subprocess that reports its own peak RSS, so a figure covers the measured
work only. Usage: python bench/bench_pipeline.py [--pdf PATH] [--repeat 3] [--markdown]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BOOK = "pdfs/book_flaubert_education.pdf"
SLOW_S = 60.0  # a measurement whose first run is slower than this is run only once

# Each extraction child reads every page, then prints its own peak RSS (Linux: KiB).
_PEAK = "import resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
EXTRACT: dict[str, str] = {
    "pypdfium2": (
        "import sys, pypdfium2 as p\n"
        "d = p.PdfDocument(sys.argv[1])\n"
        "for i in range(len(d)):\n"
        "    pg = d[i]; tp = pg.get_textpage(); tp.get_text_range(); tp.close(); pg.close()\n"
        f"d.close()\n{_PEAK}\n"
    ),
    "pypdf": (
        "import sys, pypdf\n"
        "for pg in pypdf.PdfReader(sys.argv[1]).pages:\n"
        f"    pg.extract_text()\n{_PEAK}\n"
    ),
    "pdfplumber": (
        "import sys, pdfplumber\n"
        "with pdfplumber.open(sys.argv[1]) as d:\n"
        "    for pg in d.pages:\n"
        f"        pg.extract_text(); pg.close()\n{_PEAK}\n"
    ),
}
# The pipeline in one process with the French parser switched off: long sentences are kept
# whole with their reading units, as if no cut were ever accepted (what the parser costs).
NO_PARSER = (
    "import sys\n"
    "from pathlib import Path\n"
    "from folio.pipeline.processors import local, shorten\n"
    "local.shorten = lambda texts, limit, min_words: [[shorten.Piece(t)] for t in texts]\n"
    "from folio.pipeline.model import ProcessSettings\n"
    "from folio.pipeline.runner import run_document\n"
    "run_document(Path(sys.argv[1]), ProcessSettings(), workers=1)\n"
    f"{_PEAK}\n"
)
# Runs the command in argv[1:] and prints the largest ru_maxrss of itself and its descendants.
# ru_maxrss of RUSAGE_CHILDREN is the peak of the largest single waited-for process, not a sum.
CLI_WRAPPER = (
    "import resource as r, subprocess, sys\n"
    "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
    "print(max(r.getrusage(r.RUSAGE_SELF).ru_maxrss, r.getrusage(r.RUSAGE_CHILDREN).ru_maxrss))\n"
)
NOTES = [
    "Wall time is measured around each subprocess, so it includes interpreter start-up and "
    "imports.",
    "Peak memory is ru_maxrss in MB (1 MB = 1024 KiB). For the CLI rows it is the largest "
    "single process (the CLI or one of its workers), not the sum over the worker processes.",
    "pdfplumber closes each page after extracting it; without page.close() its peak memory is "
    "much larger (about 1.8 GB on this book, per the corpus README).",
    f"A measurement whose first run takes more than {SLOW_S:.0f} s is run only once (see runs).",
]


@dataclass
class Measure:
    """One benchmarked command and the results of its runs."""

    name: str
    cmd: list[str]
    out: Path | None = None
    times: list[float] = field(default_factory=list)
    peaks_kib: list[int] = field(default_factory=list)
    sentences: int | None = None


def default_pdf() -> Path:
    """Return the Flaubert book inside FOLIO_CORPUS_DIR (default: <repo>/../shared/corpus)."""
    corpus = Path(os.environ.get("FOLIO_CORPUS_DIR", REPO.parent / "shared" / "corpus"))
    return corpus / BOOK


def count_pages(pdf: Path) -> int:
    """Return the page count of the PDF, read with pypdfium2."""
    import pypdfium2

    doc = pypdfium2.PdfDocument(str(pdf))
    try:
        return len(doc)
    finally:
        doc.close()


def build(pdf: Path, tmp: Path) -> list[Measure]:
    """Return the CLI measurements (2 and 1 workers) followed by the extraction-only ones."""
    folio = Path(sys.executable).with_name("folio")
    if not folio.exists():
        sys.exit(f"error: no `folio` script next to {sys.executable}; pip install -e backend")
    measures = []
    for workers in (2, 1):
        out = tmp / f"cli_w{workers}.jsonl"
        cli = [str(folio), "process", str(pdf), "--out", str(out), "--workers", str(workers)]
        cmd = [sys.executable, "-c", CLI_WRAPPER, *cli]
        measures.append(Measure(f"Folio CLI pipeline, --workers {workers}", cmd, out))
    no_parser = [sys.executable, "-c", NO_PARSER, str(pdf)]
    measures.append(Measure("Folio pipeline without the French parser, 1 process", no_parser))
    for lib, code in EXTRACT.items():
        measures.append(Measure(f"extraction only, {lib}", [sys.executable, "-c", code, str(pdf)]))
    return measures


def run_once(m: Measure) -> None:
    """Run the measurement once in a fresh subprocess and record its wall time and peak RSS."""
    start = time.perf_counter()
    proc = subprocess.run(m.cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"error: {m.name} failed ({proc.returncode}):\n{proc.stderr.strip()}")
    m.times.append(elapsed)
    m.peaks_kib.append(int(proc.stdout.split()[-1]))
    if m.out is not None:
        with m.out.open("rb") as f:
            m.sentences = sum(1 for _ in f)


def table(measures: list[Measure], pages: int, markdown: bool) -> str:
    """Format the results as a Markdown table or as aligned plain text."""
    head = ["measurement", "runs", "median s", "min–max s", "pages/s", "peak MB", "sentences"]
    rows = [head]
    for m in measures:
        med = statistics.median(m.times)
        rows.append(
            [
                m.name,
                str(len(m.times)),
                f"{med:.2f}",
                f"{min(m.times):.2f}–{max(m.times):.2f}",
                f"{pages / med:.0f}",
                f"{max(m.peaks_kib) / 1024:.0f}",
                "" if m.sentences is None else f"{m.sentences:,}",
            ]
        )
    if markdown:
        lines = ["| " + " | ".join(r) + " |" for r in rows]
        lines.insert(1, "|---|" + "---:|" * (len(head) - 1))
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = []
    for r in rows:
        cells = [c.rjust(w) for c, w in zip(r, widths, strict=True)]
        lines.append("  ".join([r[0].ljust(widths[0]), *cells[1:]]))
    return "\n".join(lines)


def main() -> None:
    """Parse the arguments, run every measurement --repeat times and print the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pdf", type=Path, default=None, help="PDF to process (default: Flaubert)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (default 3)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()
    pdf: Path = args.pdf or default_pdf()
    if not pdf.is_file():
        sys.exit(f"error: PDF not found: {pdf} (pass --pdf or set FOLIO_CORPUS_DIR)")
    if args.repeat < 1:
        sys.exit("error: --repeat must be at least 1")
    pages = count_pages(pdf)
    pdf.read_bytes()  # warm the page cache so the first measured run does not pay for the disk
    with tempfile.TemporaryDirectory(prefix="folio-bench-") as tmp:
        measures = build(pdf, Path(tmp))
        for rep in range(args.repeat):  # round-robin, so noise on the machine is spread evenly
            for m in measures:
                if m.times and m.times[0] > SLOW_S:
                    continue
                print(f"[{rep + 1}/{args.repeat}] {m.name} …", file=sys.stderr, flush=True)
                run_once(m)
    print(f"{pdf.name}: {pages} pages, median of up to {args.repeat} runs\n")
    print(table(measures, pages, args.markdown))
    print()
    for note in NOTES:
        print(f"- {note}" if args.markdown else note)


if __name__ == "__main__":
    main()
