"""Python's cycle collector, tuned for the length of a seed.

A seed allocates millions of short-lived tuples and lists. With the default thresholds every
700 allocations start a young collection and every hundredth of those a full one, which walks
every object the process holds: the imported libraries alone are ~100k objects. Measured on the
demo at 1.2M rows, that was a third of generation time. Rows hold no reference cycles, so
collecting rarely loses nothing; objects that do form cycles (ORM sessions) are still
collected, only later.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = 10_000


@contextmanager
def collecting_rarely() -> Iterator[None]:
    """Freeze what exists (full collections skip it) and collect young objects less often.

    The collector runs during the seed even where it was paused (the console script pauses it
    for start-up): factory-boy's path leaves reference cycles, about 2.5 KB a row without it.
    """
    enabled = gc.isenabled()
    gc.enable()
    thresholds = gc.get_threshold()
    # An application that froze objects itself (a pre-forking server) keeps its own freeze:
    # unfreezing cannot tell its objects from ours.
    freeze = gc.get_freeze_count() == 0
    if freeze:
        gc.freeze()
    gc.set_threshold(max(thresholds[0], YOUNG_THRESHOLD), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        if freeze:
            gc.unfreeze()
        if not enabled:
            gc.disable()
