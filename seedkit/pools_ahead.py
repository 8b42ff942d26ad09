"""Faker pools drawn ahead in a helper process while the first steps generate.

A run opens bound by seedkit's own thread: until the first table's rows are in, the database
has little to do, and drawing Faker pools is a third of that opening (the demo's admins' and
suspended users' pools alone take 0.2 s). A pool depends only on its step's seed, the
declaration's name and the pool's size, so a forked helper can draw later steps' pools on
another core and hand them over. A step whose pools are not ready when it starts draws them
itself, as it would without the helper: the values are the same either way.

Only steps with a fixed size of at least a full pool qualify: a per-parent step's size (hence
its pools' size) is known only once its parents' counts are drawn, and a small step's pools are
quick to draw. The first step never does: it starts before any helper could finish.
"""

from __future__ import annotations

import os
from multiprocessing.connection import Connection

from seedkit.generate import Pools, Unsupported, compile_step
from seedkit.processes import Child
from seedkit.recipe import Step


def _draw(step: Step, step_seed: int, rows: int) -> dict[str, list]:
    pools = Pools(step_seed, rows)
    try:
        # Compiling records the pools the step will ask for; refs' rows are not looked at.
        compile_step(step, pools, None, {attr: [] for attr in step.refs})
    except Unsupported:
        return {}
    return pools.draw_declared()


class PoolsAhead:
    """One helper process drawing the given steps' pools, in step order."""

    def __init__(self, steps: list[tuple[Step, int, int]]) -> None:
        self._order = [step for step, _, _ in steps]
        self._drawn: dict[Step, dict[str, list]] = {}  # received, not taken yet
        self._received = 0
        self._child: Child | None = None
        if not steps or (os.cpu_count() or 1) < 2:
            return

        def serve(conn: Connection) -> None:
            for index, (step, step_seed, rows) in enumerate(steps):
                try:
                    pools = _draw(step, step_seed, rows)
                except Exception:  # the step draws its pools itself, and reports the error there
                    pools = {}
                conn.send((index, pools))

        self._child = Child(serve)

    def take(self, step: Step, *, wait: bool = False) -> dict[str, list]:
        """The step's pools if the helper has drawn them already, else nothing (draw them yourself).

        A run never waits (``wait=True`` is for tests that must not depend on timing).
        """
        while self._child is not None and step in self._order[self._received :]:
            if not wait and not self._child.ready():
                break
            try:
                index, pools = self._child.receive()
            except EOFError:  # the helper failed: every step draws its own pools
                break
            self._drawn[self._order[index]] = pools
            self._received += 1
        return self._drawn.pop(step, {})

    def close(self) -> None:
        if self._child is not None:
            self._child.close()
            self._child = None
