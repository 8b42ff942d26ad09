"""Where a run's own thread spends its time, stage by stage: the breakdown the benchmark prints.

A run overlaps its work: the server loads one chunk while seedkit generates the next. What
decides its length is the thread that generates, so that is the thread timed, and its time is
split into stages that do not overlap: a stage entered inside another pauses the outer one
(time spent sending rows is "encode" until the queue to the server is full, then "wait for the
database"). The stages sum to the time measured, so nothing is counted twice or lost.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")


class Stopwatch:
    """Seconds per stage on the thread that made it; other threads' stages are not counted."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        """``clock`` is replaceable so that tests can move time themselves instead of racing it."""
        self.seconds: dict[str, float] = {}
        self._clock = clock
        self._thread = threading.get_ident()
        self._stack: list[str] = []
        self._since = clock()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        if threading.get_ident() != self._thread:
            yield
            return
        self._switch(name)
        try:
            yield
        finally:
            self._switch(None)

    def _switch(self, entering: str | None) -> None:
        now = self._clock()
        if self._stack:
            current = self._stack[-1]
            self.seconds[current] = self.seconds.get(current, 0.0) + now - self._since
        if entering is None:
            self._stack.pop()
        else:
            self._stack.append(entering)
        self._since = now

    def add(self, name: str, seconds: float) -> None:
        """Count time measured elsewhere (the commit, after the run's transaction block)."""
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    def rounded(self) -> dict[str, float]:
        """Stages, longest first, to the millisecond."""
        return {name: round(s, 3) for name, s in sorted(self.seconds.items(), key=lambda item: -item[1])}


def timed(items: Iterable[T], stopwatch: Stopwatch, stage: str) -> Iterator[T]:
    """``items``, the time taken to produce each counted as ``stage`` (a generator's own work)."""
    iterator = iter(items)
    while True:
        with stopwatch.stage(stage):
            try:
                item = next(iterator)
            except StopIteration:
                return
        yield item
