"""OCR speed and memory side by side: Folio's fan-out, Tesseract page by page, and ocrmypdf.

The input is made here: pages 21-140 of Verne's novel rendered in greyscale at --dpi and
saved as an image-only PDF (tests/scans.py). Every measured run is a fresh subprocess under a
wrapper that reports the largest ru_maxrss of the process tree. ocrmypdf is no dependency of
Folio: it is installed for the run into a throwaway virtualenv in a temporary folder.
Usage: python bench/bench_ocr.py [--pages 120] [--dpi 150] [--repeat 1] [--skip-ocrmypdf]
[--markdown] [--corpus DIR]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the scanned books

from folio.config import Settings
from scans import image_pdf

BOOK = "pdfs/book_verne_capitaine15ans.pdf"
FIRST_PAGE, MAX_PAGES = 21, 120
FOLIO_WORKERS = (1, 2, 4)
OCRMYPDF_JOBS = 2
PIP_TIMEOUT_S = 900

# Runs the command in argv[1:], then prints the largest ru_maxrss (KiB) of itself and its
# descendants: RUSAGE_CHILDREN holds the peak of the largest waited-for process, not a sum.
WRAPPER = (
    "import resource as r, subprocess, sys\n"
    "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
    "print(max(r.getrusage(r.RUSAGE_SELF).ru_maxrss, r.getrusage(r.RUSAGE_CHILDREN).ru_maxrss))\n"
    "sys.exit(p.returncode)\n"
)
# No fan-out: one process renders each page and has Tesseract read it, one after the other.
TESSERACT_ALONE = (
    "import sys, pypdfium2 as p, pytesseract as t\n"
    "d, dpi = p.PdfDocument(sys.argv[1]), int(sys.argv[2])\n"
    "for i in range(len(d)):\n"
    "    im = d[i].render(scale=dpi / 72, grayscale=True).to_pil()\n"
    "    t.image_to_data(im, lang='fra', config=f'--psm 3 --dpi {dpi}')\n"
    "    im.close()\n"
    "d.close()\n"
)


@dataclass
class Measure:
    """One benchmarked command and the results of its runs."""

    name: str
    slots: str
    cmd: list[str]
    env: dict[str, str] | None = None
    times: list[float] = field(default_factory=list)
    peaks_kib: list[int] = field(default_factory=list)
    chunks: int | None = None
    error: str | None = None


def first_line(cmd: list[str]) -> str:
    """The first line a command prints (stdout, else stderr), or why it could not run."""
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"unavailable ({error})"
    return ((proc.stdout or proc.stderr).strip().splitlines() or ["?"])[0]


def make_input(corpus: Path, pages: int, dpi: int, path: Path) -> Path:
    """The image-only PDF of `pages` pages of the novel from page 21, at `dpi`."""
    book = corpus / BOOK
    if not book.is_file():
        sys.exit(f"error: {book} not found (set FOLIO_CORPUS_DIR or pass --corpus)")
    return image_pdf(book, list(range(FIRST_PAGE, FIRST_PAGE + pages)), path, dpi=dpi)


def wrapped(cmd: list[str]) -> list[str]:
    """The command under the peak-RSS wrapper."""
    return [sys.executable, "-c", WRAPPER, *cmd]


def folio_measures(pdf: Path, tmp: Path) -> list[Measure]:
    """The Folio CLI on the input with 1, 2 and 4 worker processes."""
    folio = Path(sys.executable).with_name("folio")
    if not folio.exists():
        sys.exit(f"error: no `folio` script next to {sys.executable}; pip install -e backend")
    measures = []
    for k in FOLIO_WORKERS:
        out = tmp / f"folio_w{k}.jsonl"
        cli = [str(folio), "process", str(pdf), "--out", str(out), "--workers", str(k)]
        measures.append(Measure(f"Folio CLI, --workers {k}", str(k), wrapped(cli)))
    return measures


def tesseract_measure(pdf: Path, dpi: int) -> Measure:
    """Tesseract on one page after the other in one process, one OCR thread."""
    cmd = wrapped([sys.executable, "-c", TESSERACT_ALONE, str(pdf), str(dpi)])
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    return Measure("Tesseract page by page, 1 process", "1", cmd, env)


def install_ocrmypdf(tmp: Path) -> Path:
    """Install ocrmypdf into a fresh virtualenv under `tmp`; its `ocrmypdf` script."""
    venv = tmp / "ocrmypdf-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "ocrmypdf"]
    print("installing ocrmypdf into a throwaway virtualenv …", file=sys.stderr, flush=True)
    proc = subprocess.run(pip, capture_output=True, text=True, timeout=PIP_TIMEOUT_S)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        raise RuntimeError(f"pip install ocrmypdf failed: {tail}")
    return venv / "bin" / "ocrmypdf"


def ocrmypdf_measure(pdf: Path, tmp: Path) -> Measure:
    """ocrmypdf on the input with 2 jobs; with an error already set if it cannot be installed."""
    try:
        script = install_ocrmypdf(tmp)
    except (OSError, RuntimeError, subprocess.SubprocessError) as error:
        return Measure("ocrmypdf", str(OCRMYPDF_JOBS), [], error=str(error))
    version = first_line([str(script), "--version"])
    options = ["--jobs", str(OCRMYPDF_JOBS), "--skip-text", "-l", "fra", "--output-type", "pdf"]
    usage = subprocess.run([str(script), "--help"], capture_output=True, text=True).stdout
    options += ["--optimize", "0"] if "--optimize" in usage else []
    cmd = [str(script), *options, str(pdf), str(tmp / "ocrmypdf.pdf")]
    return Measure(f"ocrmypdf {version}", str(OCRMYPDF_JOBS), wrapped(cmd))


def run_once(m: Measure) -> None:
    """Run the measurement once and record its wall time and peak RSS, or why it failed."""
    start = time.perf_counter()
    proc = subprocess.run(m.cmd, capture_output=True, text=True, env=m.env)
    elapsed = time.perf_counter() - start
    lines = proc.stderr.strip().splitlines()
    if proc.returncode != 0:
        m.error = f"failed (exit {proc.returncode}): {lines[-1] if lines else 'no message'}"
        return
    m.times.append(elapsed)
    m.peaks_kib.append(int(proc.stdout.split()[-1]))
    found = re.search(r"\((\d+) chunks\)", proc.stderr)
    m.chunks = int(found.group(1)) if found else m.chunks


def table(measures: list[Measure], pages: int, markdown: bool) -> str:
    """The results as a Markdown table or as aligned plain text."""
    head = ["run", "slots/jobs", "wall s", "pages/s", "peak RSS MB (largest process)"]
    rows = [head]
    for m in measures:
        if not m.times:
            rows.append([m.name, m.slots, "not run (see below)", "", ""])
            continue
        wall = statistics.median(m.times)
        peak = max(m.peaks_kib) / 1024
        rows.append([m.name, m.slots, f"{wall:.1f}", f"{pages / wall:.2f}", f"{peak:.0f}"])
    if markdown:
        lines = ["| " + " | ".join(r) + " |" for r in rows]
        lines.insert(1, "|---|" + "---:|" * (len(head) - 1))
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    cells = [
        [
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        for r in rows
    ]
    return "\n".join("  ".join(r) for r in cells)


def notes(measures: list[Measure], pages: int) -> list[str]:
    """The lines under the table: chunks and overlap, what is measured, what did not run."""
    lines = []
    folio = [m for m in measures if m.chunks is not None]
    if folio:
        chunks = ", ".join(f"{m.chunks} (--workers {m.slots})" for m in folio)
        most = ", ".join(str(pages + 2 * (m.chunks or 1) - 2) for m in folio)
        lines.append(
            f"Folio chunks: {chunks}. A chunk also reads one page on either side of its own "
            f"(--overlap 1), so Folio OCRs at most {most} pages for the {pages} of the input; "
            "the exact count is not reported from outside."
        )
    lines.append(
        "Wall time is measured around each subprocess (interpreter start-up included); peak "
        "RSS is the largest single process of the tree (a worker or Tesseract), not a sum."
    )
    no_gs = "" if shutil.which("gs") else " (Ghostscript `gs` is not installed)"
    for m in measures:
        if m.error is not None:
            tool = "ocrmypdf" if m.name.startswith("ocrmypdf") else m.name
            lines.append(f"{tool}: not run — {m.error}{no_gs if tool == 'ocrmypdf' else ''}")
    return lines


def header(pages: int, dpi: int, repeat: int) -> str:
    """The machine, the Tesseract version and the input."""
    u = os.uname()
    tesseract = first_line(["tesseract", "--version"])
    return (
        f"{os.cpu_count()} CPUs, {u.sysname} {u.release} {u.version} {u.machine}; {tesseract}\n"
        f"input: {pages} image-only pages (Verne, pages {FIRST_PAGE}-{FIRST_PAGE + pages - 1}) "
        f"at {dpi} dpi, greyscale; median of {repeat} run(s)"
    )


def main() -> None:
    """Make the input, run every measurement --repeat times and print the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Settings.from_env().corpus_dir)
    parser.add_argument("--pages", type=int, default=MAX_PAGES, help="pages to OCR (120)")
    parser.add_argument("--dpi", type=int, default=150, help="scan resolution (default 150)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement (1)")
    parser.add_argument("--skip-ocrmypdf", action="store_true", help="leave ocrmypdf out")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()
    if not 1 <= args.pages <= MAX_PAGES or args.repeat < 1 or args.dpi < 50:
        sys.exit(f"error: need 1 <= --pages <= {MAX_PAGES}, --repeat >= 1 and --dpi >= 50")
    with tempfile.TemporaryDirectory(prefix="folio-bench-ocr-") as name:
        tmp = Path(name)
        pdf = make_input(args.corpus, args.pages, args.dpi, tmp / "scan.pdf")
        measures = [*folio_measures(pdf, tmp), tesseract_measure(pdf, args.dpi)]
        if not args.skip_ocrmypdf:
            measures.append(ocrmypdf_measure(pdf, tmp))
        for rep in range(args.repeat):  # round-robin, so noise on the machine is spread evenly
            for m in (m for m in measures if m.error is None):
                print(f"[{rep + 1}/{args.repeat}] {m.name} …", file=sys.stderr, flush=True)
                run_once(m)
    print(header(args.pages, args.dpi, args.repeat) + "\n")
    print(table(measures, args.pages, args.markdown) + "\n")
    for line in notes(measures, args.pages):
        print(f"- {line}" if args.markdown else line)


if __name__ == "__main__":
    main()
