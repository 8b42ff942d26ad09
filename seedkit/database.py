"""Opening the target database: URL parsing, the backend behind it, and connecting with retries.

What differs between databases (engines, the run lock, where a URL really connects) lives in
:mod:`seedkit.backends`; this module only turns a URL into a backend and a connection.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from seedkit.backends import Backend, backend_for
from seedkit.errors import TargetUnavailable, UsageError
from seedkit.safety import mask_text, mask_url

SUPPORTED = ("sqlite", "postgresql")
_EXAMPLE = "expected e.g. sqlite:///path/to.db or postgresql://user@host:5432/dbname"


def parse_url(raw: str) -> URL:
    """Parse and normalise a target URL, refusing what seedkit cannot write to."""
    try:
        url = make_url(raw)
    except ArgumentError:
        raise UsageError(f"Malformed database URL {mask_text(raw)!r}: {_EXAMPLE}") from None
    except ValueError as exc:  # a port that is not a number
        raise UsageError(f"Malformed database URL {mask_text(raw)!r} ({exc}): {_EXAMPLE}") from None
    if url.port is not None and not 0 < url.port < 65536:
        raise UsageError(f"Malformed database URL {mask_url(url)}: port {url.port} is out of range.")
    backend = url.get_backend_name()
    if backend in ("postgres", "postgresql"):
        url = url.set(drivername="postgresql+psycopg")
    elif backend != "sqlite":
        raise UsageError(
            f"Unsupported database scheme {url.drivername!r} in {mask_url(url)}: "
            f"seedkit writes to {' and '.join(SUPPORTED)}."
        )
    return url


def backend_of(url: URL) -> Backend:
    return backend_for(url.get_backend_name())


def connect(
    engine: Engine,
    *,
    wait: float = 0,
    on_retry: Callable[[int, float, str], None] | None = None,
) -> Connection:
    """Connect, retrying with exponential backoff for up to ``wait`` seconds.

    ``on_retry(attempt, delay, reason)`` is told about each failed attempt, so the CLI can print
    one line per attempt while a sandbox's database is still starting.
    """
    deadline = time.monotonic() + wait
    delay, attempt = 0.5, 0
    while True:
        attempt += 1
        try:
            return engine.connect()
        except OperationalError as exc:
            reason = _first_line(exc)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TargetUnavailable(
                    f"Cannot connect to {mask_url(engine.url)}"
                    + (f" after {attempt} attempts" if attempt > 1 else "")
                    + f": {reason}"
                ) from None
            pause = min(delay, remaining)
            if on_retry is not None:
                on_retry(attempt, pause, reason)
            time.sleep(pause)
            delay = min(delay * 2, 5)


def _first_line(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(original).strip().splitlines() if line.strip()]
    return mask_text(lines[0] if lines else type(original).__name__)
