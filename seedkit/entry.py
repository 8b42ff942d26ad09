"""The ``seedkit`` console script: Ctrl-C and SIGTERM become a message from the very first line.

Loading the CLI imports SQLAlchemy, Alembic and the rest, which takes a second; an interrupt
then would otherwise print a raw traceback. Nothing heavy is imported before the handlers are in
place, which is why this module is not :mod:`seedkit.cli`.
"""

from __future__ import annotations

import gc
import signal
import sys
from typing import Any

INTERRUPTED = "Interrupted: nothing was written (the transaction was rolled back).\n"


def _terminate(signum: int, frame: Any) -> None:
    """``docker stop`` and ``timeout`` send SIGTERM: unwind (and roll back) like Ctrl-C."""
    raise KeyboardInterrupt


def main() -> None:
    signal.signal(signal.SIGTERM, _terminate)
    # Start-up creates half a million long-lived objects (SQLAlchemy, Alembic, Faker, the
    # recipe), and the cycle collector walked them over and over: 80 ms of the quick start's
    # 0.65 s. None of them is garbage; a seed turns the collector back on for its own work
    # (seedkit.collector), where factory-boy's sessions do leave cycles.
    gc.disable()
    try:
        from seedkit.cli import app

        app()
    except KeyboardInterrupt:
        sys.stderr.write(INTERRUPTED)
        sys.exit(130)
    finally:
        # The process is about to end and free everything at once: its last garbage collection
        # over what a seed left (caches, Faker's providers, SQLAlchemy's metadata) took 0.35 s
        # of a 240k-row SQLite run's exit, and changes nothing a command did.
        gc.freeze()
