"""Generating a step's chunks in this process or in worker processes, always in chunk order.

A chunk's rows depend only on (step seed, chunk number, position), never on which process made
it or what it made before, so the rows — and the fingerprint — are the same for any number of
workers. Workers are forked after the parent rows exist, so they read them without copying;
they return plain tuples, and the caller consumes results strictly in order (uniqueness, ids and
writes stay sequential), with a bounded number of chunks in flight to keep memory flat.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

from seedkit.generate import CHUNK, Chunk, CompiledStep
from seedkit.rows import Expanded


@dataclass(frozen=True)
class StepWork:
    """Everything a chunk needs; shared with forked workers through a module global."""

    compiled: CompiledStep
    step_seed: int
    first_id: int
    seq: int
    parents: Expanded | None

    def chunk(self, number: int, start: int, n: int) -> list[tuple]:
        parents = self.parents.slice(start, n) if self.parents is not None else None
        return self.compiled.generate(
            Chunk(self.step_seed, number), n, self.first_id + start, self.seq + start, parents
        )


_work: StepWork | None = None


def worker_signals() -> None:
    """Workers leave Ctrl-C and SIGTERM to the parent, which rolls back and ends the pool."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _in_worker(task: tuple[int, int, int]) -> list[tuple]:
    assert _work is not None
    return _work.chunk(*task)


def generate_chunks(work: StepWork, total: int, workers: int) -> Iterator[tuple[int, list[tuple]]]:
    """Yield ``(rows done so far, rows)`` chunk by chunk, in order."""
    tasks = [(number, start, min(CHUNK, total - start)) for number, start in enumerate(range(0, total, CHUNK))]
    if workers <= 1 or len(tasks) <= 1:
        for number, start, n in tasks:
            yield start + n, work.chunk(number, start, n)
        return

    global _work
    _work = work
    try:
        with multiprocessing.get_context("fork").Pool(workers, initializer=worker_signals) as pool:
            queue = iter(tasks)
            pending = deque((task, pool.apply_async(_in_worker, (task,))) for task in islice(queue, 2 * workers))
            while pending:
                (_, start, n), result = pending.popleft()
                rows = result.get()
                pending.extend((task, pool.apply_async(_in_worker, (task,))) for task in islice(queue, 1))
                yield start + n, rows
    finally:
        _work = None
