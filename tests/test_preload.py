"""A chunk worker loads the French parser before its pool forks (taskqueue/preload.py).

Real worker processes on the embedded defaults: the pool processes of a worker that reads
the chunk queues hold spaCy's compiled modules before they run anything (they inherited
them), a control worker's do not, and a job runs on the preloaded pool as on any other.
"""

from __future__ import annotations

from pathlib import Path

from folio.services.lanes import CONTROL_QUEUE
from pdfmaker import book_pages, make_pdf
from test_recovery import embedded_stack, pool_children
from workers import StackUser as User

LOADED = "French parser loaded before the pool forks"
# One sentence over the limit of 8: the local processor parses it to cut it.
PARAGRAPH = [
    "Le jeune homme regardait la rivière qui coulait sous le pont,",
    "et il pensait à sa mère qui l'attendait à Nogent depuis le matin.",
]


def holds_spacy(pid: int) -> bool:
    """Whether the process has spaCy's compiled modules mapped."""
    return "/spacy/" in Path(f"/proc/{pid}/maps").read_text(errors="replace")


def test_a_chunk_worker_loads_the_parser_before_its_pool_forks(tmp_path: Path) -> None:
    with embedded_stack(tmp_path, FOLIO_PRELOAD_PARSER="true") as stack:
        control = stack.start_worker("control", concurrency=1, queues=CONTROL_QUEUE)
        chunks = stack.start_worker("w1", concurrency=2)
        logs = {path.stem: path.read_text(errors="replace") for path in stack.logs}
        assert LOADED in logs["w1"] and LOADED not in logs["control"]
        assert all(holds_spacy(pid) for pid in pool_children(chunks))
        assert not any(holds_spacy(pid) for pid in pool_children(control))
        user = User(stack.app(), "reader@example.com", credits=100)
        pdf = make_pdf(tmp_path / "book.pdf", book_pages([[PARAGRAPH], [PARAGRAPH]]))
        final = user.wait(user.submit(pdf), 120)[-1]
        assert final["status"] == "completed", stack.log_tail()
        assert final["sentence_count"] > 0
