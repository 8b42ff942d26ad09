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
