"""The run's one connection, shared in order by whoever needs it: the writer, the seeder, the fingerprints.

A run holds one connection and one transaction. A writer may load rows on it from a background
thread while the next rows are generated (see :mod:`seedkit.writers.background`); anything else
that needs the connection meanwhile — the seeder counting rows or reading taken values, a table's
early fingerprint, moving a sequence — must wait its turn behind the rows already sent, and the
writer must pause its stream (end an open COPY) before it runs. The lane is that turn-taking, owned
by the run rather than by any writer, so asking the database never depends on which writer is in use.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

from sqlalchemy import Connection

from seedkit.stopwatch import Stopwatch
from seedkit.writers.background import Background

T = TypeVar("T")


class Lane:
    """Jobs on one connection, strictly in the order they were given.

    Until a writer sends work to the background, every question runs at once on the caller's
    thread; once it has, questions queue behind the rows already sent.
    """

    def __init__(self, conn: Connection, stopwatch: Stopwatch | None = None) -> None:
        """``stopwatch``: the run's, which counts the time spent waiting for the database."""
        self.conn = conn
        self.stopwatch = stopwatch or Stopwatch()
        self._line = Background("seedkit-lane")
        self._busy = False  # whether a background job was ever sent (and the line not stopped since)
        self._pause: Callable[[], None] | None = None

    def pause_with(self, pause: Callable[[], None]) -> None:
        """What must happen before a question uses the connection (a writer ends its COPY)."""
        self._pause = pause

    def send(self, job: Callable[[], T]) -> Future[T]:
        """Queue a writer's job for the background thread; raises at once if an earlier job failed."""
        self._busy = True
        with self.stopwatch.stage("database"):  # a full queue waits for the server
            return self._line.submit(job)

    def ask(self, fn: Callable[[Connection], T]) -> Future[T]:
        """Run ``fn(connection)`` once everything sent so far is in; the future holds its result."""
        if not self._busy:
            future: Future[T] = Future()
            future.set_result(fn(self.conn))
            return future

        def job() -> T:
            if self._pause is not None:
                self._pause()
            return fn(self.conn)

        return self._line.submit(job)

    def query(self, fn: Callable[[Connection], T]) -> T:
        """:meth:`ask` and wait for the answer."""
        with self.stopwatch.stage("database"):
            return self.ask(fn).result()

    def drain(self) -> None:
        """Return when every job has run, raising the first failure; then questions run at once again."""
        try:
            self._line.wait()
        finally:
            self._line.stop()
            self._busy = False

    def abandon(self) -> None:
        """Drop the jobs still queued and end the thread after the one it is running."""
        self._line.stop(discard=True)
        self._busy = False
