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

import multiprocessing
import os
from multiprocessing.pool import AsyncResult

from seedkit.generate import Pools, Unsupported, compile_step
from seedkit.parallel import worker_signals
from seedkit.recipe import Step

_steps: list[tuple[Step, int, int]] = []  # (step, step seed, rows): read by the forked helper


def _draw(index: int) -> dict[str, list]:
    step, step_seed, rows = _steps[index]
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
        self._results: dict[Step, AsyncResult] = {}
        self._pool = None
        if not steps or (os.cpu_count() or 1) < 2:
            return
        global _steps
        _steps = steps
        try:
            self._pool = multiprocessing.get_context("fork").Pool(1, initializer=worker_signals)
        finally:
            _steps = []
        self._results = {step: self._pool.apply_async(_draw, (i,)) for i, (step, _, _) in enumerate(steps)}

    def take(self, step: Step) -> dict[str, list]:
        """The step's pools if the helper has drawn them already, else nothing (draw them yourself)."""
        result = self._results.pop(step, None)
        if result is None or not result.ready() or not result.successful():
            return {}
        return result.get()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool = None
