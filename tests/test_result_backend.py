"""The embedded result backend stores one task's state from several processes at once.

After a cancel, every worker marks the same revoked chunks in the result backend at the same
moment. Celery's database backend reads, then inserts the missing row, so two processes could
both insert and one hit the unique task_id (a logged IntegrityError with its traceback).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from celery import Celery, states

from folio.app import create_app
from folio.config import Settings
from folio.taskqueue import results
from runner import clean_environ

PROCESSES = 4
TASKS = 150
# Each process marks the same tasks revoked, all starting at the same moment; it prints how
# many times Celery had to retry a store (each retry logs the error and its traceback).
MARKER = """
import logging, sys, time
from celery import Celery
from folio.taskqueue import results

url, start, count = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
app = Celery("race", backend=url)
app.loader.override_backends = results.ALIASES
retries = []
class Count(logging.Handler):
    def emit(self, record): retries.append(record.getMessage())
logging.getLogger("celery.backends.base").addHandler(Count())
backend = app.backend
while time.time() < start:
    pass
for n in range(count):
    backend.mark_as_revoked(f"chunk-{n}", reason="revoked")
print(type(backend).__module__, len(retries))
"""


def test_every_process_marks_the_same_revoked_tasks_without_a_retry(tmp_path: Path) -> None:
    url = f"db+sqlite:///{tmp_path / 'results.db'}"
    Celery("setup", backend=url).backend.get_state("none")  # creates the tables once
    start = str(time.time() + 3)  # after every interpreter has started
    markers = [
        subprocess.Popen(
            [sys.executable, "-c", MARKER, url, start, str(TASKS)],
            env=clean_environ(),
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    outputs = [marker.communicate(timeout=120)[0].split() for marker in markers]
    assert outputs == [["folio.taskqueue.results", "0"]] * PROCESSES
    backend = Celery("check", backend=url).backend
    assert {backend.get_state(f"chunk-{n}") for n in range(TASKS)} == {states.REVOKED}


def test_a_stored_result_is_kept_as_celery_keeps_it(tmp_path: Path) -> None:
    app = Celery("one", backend=f"db+sqlite:///{tmp_path / 'results.db'}")
    app.loader.override_backends = results.ALIASES
    app.backend.store_result("task", {"pages": 25}, states.SUCCESS)
    app.backend.mark_as_revoked("task", reason="revoked")  # a SUCCESS is never overwritten
    assert app.backend.get_state("task") == states.SUCCESS
    assert app.backend.get_result("task") == {"pages": 25}


def test_folio_s_celery_app_uses_it_for_a_database_url(tmp_path: Path) -> None:
    environ = {"FOLIO_DATA_DIR": str(tmp_path), "FOLIO_ENV": "test"}
    app = create_app(Settings.from_env(environ))
    assert isinstance(app.extensions["celery"].backend, results.DatabaseBackend)
