"""Running a chunk's LLM batches concurrently, with the cancel flag asked on one thread only.

`run_concurrently` runs a chunk's batch tasks on a bounded thread pool (`concurrency`
threads; 1 runs them one after the other on the calling thread, as before). Each task
writes only its own batch's state, so the caller reads the results by batch index once the
tasks are done: the output does not depend on which batch answered first.

The cancel flag (`ProcessContext.should_stop`) may touch the caller's world — the chunk
service renews the chunk's lease and reads the job in its database session, which belongs
to the calling thread. So a worker thread never calls it: it asks the `Gate`, and the
coordinating thread (the one that called `process`) answers every question with a call
of its own, made after the question was put. Questions that wait together share one
call. Once the flag has been seen (or the run halted: a model that failed for good with
the fallback "fail", an unexpected error), every later question is answered "stop"
without asking again, so no request starts after it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor


class _Question:
    """A worker thread's "may a request start?", waiting for the coordinator's answer."""

    __slots__ = ("answer", "answered")

    def __init__(self) -> None:
        self.answered = threading.Event()
        self.answer = True


class Gate:
    """Whether a new request may start; `should_stop` is only called on the owner's thread."""

    def __init__(self, should_stop: Callable[[], bool]) -> None:
        self._should_stop = should_stop
        self._owner = threading.get_ident()
        # Questions from worker threads, and None when a task ends (wakes the coordinator).
        self._events: queue.SimpleQueue[_Question | None] = queue.SimpleQueue()
        self._halted = threading.Event()
        self.cancelled = False  # the cancel flag was seen
        self.error: BaseException | None = None  # the first unexpected error, re-raised

    @property
    def halted(self) -> bool:
        """True once nothing new may start: cancelled, failed, or halted by `halt`."""
        return self._halted.is_set()

    def halt(self, error: BaseException | None = None) -> None:
        """Let no new request start; remember `error` (the first one) to raise it later."""
        if error is not None and self.error is None:
            self.error = error
        self._halted.set()

    def should_stop(self) -> bool:
        """Whether the run must stop before its next request (asks the owner's thread)."""
        if self._halted.is_set():
            return True
        if threading.get_ident() == self._owner:
            return self._ask()
        question = _Question()
        self._events.put(question)
        question.answered.wait()
        return question.answer

    def _ask(self) -> bool:
        """Call the flag (on the owner's thread); an error in it halts the run."""
        if self._halted.is_set():
            return True
        try:
            stop = self._should_stop()
        except BaseException as error:  # re-raised by the caller of process
            self.halt(error)
            return True
        if stop:
            self.cancelled = True
            self._halted.set()
        return stop

    def _serve(self, tasks: int) -> None:
        """Answer the workers' questions until `tasks` tasks have ended."""
        while tasks:
            events = [self._events.get()]
            while True:  # every question already waiting shares the next call
                try:
                    events.append(self._events.get_nowait())
                except queue.Empty:
                    break
            questions = [event for event in events if event is not None]
            tasks -= len(events) - len(questions)
            if questions:
                answer = self._ask()
                for question in questions:
                    question.answer = answer
                    question.answered.set()


def run_concurrently(tasks: Sequence[Callable[[], None]], concurrency: int, gate: Gate) -> None:
    """Run `tasks` on at most `concurrency` threads, answering `gate` on this thread.

    A task that raises halts the run: the error is kept on the gate (the caller raises it),
    tasks not yet started are dropped, and those running stop before their next request.
    """
    if concurrency <= 1 or len(tasks) <= 1:
        for task in tasks:
            _guarded(task, gate)()
        return
    workers = min(concurrency, len(tasks))
    with ThreadPoolExecutor(workers, thread_name_prefix="folio-llm") as pool:
        futures: list[Future[None]] = []
        for task in tasks:
            future = pool.submit(_guarded(task, gate))
            future.add_done_callback(lambda _: gate._events.put(None))
            futures.append(future)
        gate._serve(len(futures))


def _guarded(task: Callable[[], None], gate: Gate) -> Callable[[], None]:
    """`task`, skipped once the run is halted, its unexpected error halting the run."""

    def run() -> None:
        if gate.halted:
            return
        try:
            task()
        except BaseException as error:  # kept on the gate, raised by the caller
            gate.halt(error)

    return run
