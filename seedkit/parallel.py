"""Generating a step's chunks in this process or in worker processes, always in chunk order.

A chunk's rows depend only on (step seed, chunk number, position), never on which process made
it or what it made before, so the rows — and the fingerprint — are the same for any number of
workers. Workers are forked after the parent rows exist, so they read them without copying;
they return plain tuples (or, where the parent needs nothing of a step's rows, the writer's
COPY text), and the caller consumes results strictly in order (uniqueness, ids and writes stay
sequential), with a bounded number of chunks in flight to keep memory flat.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection

from seedkit.backends import Target
from seedkit.fingerprints import NotExact
from seedkit.generate import CHUNK, Chunk, CompiledStep
from seedkit.processes import Child
from seedkit.rows import Expanded, chunk_parents
from seedkit.written import RenderedChunk


@dataclass(frozen=True)
class Encoded:
    """A chunk a worker checked and encoded as the writer would, and why it is not canonical text
    (its table is then read back for the fingerprint)."""

    payload: bytes
    why: str


@dataclass(frozen=True)
class StepWork:
    """Everything a chunk needs; forked workers see it as the parent had it, unpickled."""

    compiled: CompiledStep
    step_seed: int
    first_id: int
    seq: int
    parents: Expanded | None
    # In workers: a check each chunk must pass, and the encoding the writer would apply, so a
    # worker sends the writer's bytes, not rows for the parent to unpickle and encode again;
    # better, the fingerprint's canonical text, which the writer sends and the parent hashes
    # (no table read back: ``render``, where the table's rows can be vouched for as written).
    check: Callable[[list[tuple]], None] | None = None
    encode: Callable[[list[tuple]], bytes] | None = None
    render: Callable[[list[tuple]], RenderedChunk] | None = None

    def chunk(self, number: int, start: int, n: int) -> list[tuple]:
        parents, offset = chunk_parents(self.parents, start, n)
        return self.compiled.generate(
            Chunk(self.step_seed, number), n, self.first_id + start, self.seq + start, parents, offset
        )

    def prepared(self, rows: list[tuple]) -> list[tuple] | RenderedChunk | Encoded:
        """A worker's chunk as it sends it: checked, and canonical text, the writer's bytes or the
        rows themselves, the first this step allows."""
        if self.check is not None:
            self.check(rows)
        why = "workers encoded its rows"
        if self.render is not None:
            try:
                return self.render(rows)
            except NotExact as exc:
                why = str(exc)
        return rows if self.encode is None else Encoded(self.encode(rows), why)


@dataclass(frozen=True)
class Workers:
    """How many processes generate a step's chunks (1: this one alone).

    A step whose chunks workers can finish (check, and render or encode for the writer: no
    unique column to tag in order, no rows kept for later steps) leaves the parent only bytes
    to forward, so it gains from every core. A step whose rows come back to the parent costs it
    their unpickling, on top of the uniqueness tags and rendering it does anyway: that gains
    only from cores nobody else needs.
    """

    finishing: int
    returning: int

    @classmethod
    def each(cls, count: int) -> Workers:
        """``count`` processes for every step (``--workers N``)."""
        return cls(count, count)

    def for_step(self, finished_by_workers: bool) -> int:
        return self.finishing if finished_by_workers else self.returning


ALONE = Workers.each(1)  # this process generates every step


def auto_workers(target: Target, cores: int | None = None) -> Workers:
    """How many processes ``workers="auto"`` generates in: never a count that would slow the run.

    Measured on 2 cores with the server on the same machine (see the README): workers that
    finish their chunks ran a step in 0.74-0.77 of one process's time; workers that send rows
    back ran at 0.7-0.85x one process (the server needs a core). So steps workers finish use
    every core, and for the others a local database (SQLite, a socket, a loopback address)
    keeps two cores for the parent and the server, and a remote one keeps one for the parent.
    """
    cores = cores or os.cpu_count() or 1
    local = not target.hosts or any(_is_local(h) for h in target.hosts)
    spare = cores - (2 if local else 1)
    return Workers(finishing=cores, returning=max(1, spare // 2 if local else spare))


def _is_local(host: str) -> bool:
    return host.startswith("/") or host in ("localhost", "::1") or host.startswith("127.")


@dataclass(frozen=True)
class _Failed:
    error: Exception


def _picklable(error: Exception) -> Exception:
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error


def generate_chunks(
    work: StepWork, total: int, workers: int
) -> Iterator[tuple[int, list[tuple] | RenderedChunk | Encoded]]:
    """Yield ``(rows done so far, rows)`` chunk by chunk, in order: from workers, rendered or
    encoded instead of rows where the work says how (:meth:`StepWork.prepared`)."""
    tasks = [(number, start, min(CHUNK, total - start)) for number, start in enumerate(range(0, total, CHUNK))]
    if workers <= 1 or len(tasks) <= 1:
        for number, start, n in tasks:
            yield start + n, work.chunk(number, start, n)
        return

    def serve(conn: Connection) -> None:
        while (task := conn.recv()) is not None:
            try:
                payload = work.prepared(work.chunk(*task))
            except Exception as exc:  # a user's factory failed: the parent reports it
                conn.send(_Failed(_picklable(exc)))
                continue
            conn.send(payload)

    children = [Child(serve) for _ in range(min(workers, len(tasks)))]
    try:
        # Two chunks in flight per worker: one being made, one waiting to be read.
        for task in tasks[: 2 * len(children)]:
            children[task[0] % len(children)].send(task)
        for number, start, n in tasks:
            child = children[number % len(children)]
            rows = child.receive()
            if isinstance(rows, _Failed):
                raise rows.error
            if number + 2 * len(children) < len(tasks):
                child.send(tasks[number + 2 * len(children)])
            yield start + n, rows
    finally:
        for child in children:
            child.close()
