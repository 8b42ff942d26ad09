"""How quickly Python hands the GIL from seedkit's generating thread to its writing thread.

On PostgreSQL a seed runs two threads: the caller's generates rows (pure Python, never waits)
and the writer's sends them and runs the server's jobs (mostly waiting on the server). Each time
the writer's thread comes back from the server it needs the GIL, and Python makes it wait for
the running thread's switch interval, 5 ms by default; a job of many small round trips (a table's
reflection, a COPY stream's start and end) then waits longer for the GIL than for the server,
while the server idles. With 0.5 ms the demo at 1.2M rows ran 10-15% faster (alternated runs);
0.2 ms was no better, and the generating thread's own cost did not measurably change.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

SWITCH_INTERVAL = 0.0005


@contextmanager
def switching_often() -> Iterator[None]:
    """Shorten the switch interval for the length of a seed (an application's shorter one stays)."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(min(before, SWITCH_INTERVAL))
    try:
        yield
    finally:
        sys.setswitchinterval(before)
