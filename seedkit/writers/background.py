"""One thread that runs a connection's work in order while the caller builds what comes next.

The database server works on its own core: loading a chunk, rebuilding a table's indexes,
hashing it for the fingerprint. If seedkit waited for each of those, the server would idle while
Python generates and Python would idle while the server works. Jobs submitted here run strictly
in submission order on one thread (so the connection is never used by two threads at once), and
the submitter only waits when it needs a result or the queue of jobs is full.

The first job that fails stops the line: every later job fails with the same error, which the
submitter sees at its next call.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

T = TypeVar("T")

# Jobs in flight: enough to keep the server busy, few enough to keep memory flat (a queued chunk
# of COPY text is a few hundred kilobytes).
QUEUE_LENGTH = 32

_STOP = object()
# How long an abandoning caller tries for the queue's lock. It is only ever held for a moment,
# unless an interrupt (Ctrl-C, or SIGTERM raised as one) arrived just as ``put`` took it: then
# it is never released, and the thread, blocked on it too, can neither run nor be told to stop.
LEAKED_LOCK_SECONDS = 2.0


class Background:
    def __init__(self, name: str) -> None:
        self.name = name
        self._jobs: queue.Queue = queue.Queue(maxsize=QUEUE_LENGTH)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def submit(self, fn: Callable[[], T]) -> Future[T]:
        """Queue ``fn``; raise at once if an earlier job failed."""
        self.raise_error()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()
        future: Future[T] = Future()
        self._jobs.put((fn, future))
        return future

    def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` after every queued job and return its result."""
        return self.submit(fn).result()

    def wait(self) -> None:
        """Return when every queued job has run; raise the first failure."""
        if self._thread is not None:
            self.call(lambda: None)
        self.raise_error()

    def stop(self, *, discard: bool = False) -> None:
        """End the thread after the job it is running; ``discard`` drops the jobs still queued."""
        if self._thread is None:
            return
        if discard:
            if not self._jobs.mutex.acquire(timeout=LEAKED_LOCK_SECONDS):
                # The lock leaked (see LEAKED_LOCK_SECONDS): the daemon thread waits on it and
                # holds nothing else, so leave it; the transaction is rolled back without it.
                self._thread = None
                return
            try:  # nobody waits for the dropped jobs' futures any more: just forget them
                self._jobs.queue.clear()
                self._jobs.not_full.notify_all()
            finally:
                self._jobs.mutex.release()
        self._jobs.put(_STOP)
        self._thread.join()
        self._thread = None

    def raise_error(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        while (job := self._jobs.get()) is not _STOP:
            fn, future = job
            if self._error is not None:
                future.set_exception(self._error)
                continue
            try:
                future.set_result(fn())
            except BaseException as exc:  # handed to the submitter, who decides what it means
                self._error = exc
                future.set_exception(exc)
