"""Opening the target database: URL parsing, engines per backend, and the run lock.

SQLite is opened so that seedkit controls its transactions (``BEGIN IMMEDIATE`` takes the write
lock up front, DDL stays inside the transaction, foreign keys are enforced). PostgreSQL uses
psycopg 3 whatever spelling the URL has, and a transaction-level advisory lock serialises runs.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from seedkit.errors import LockBusy, TargetUnavailable, UsageError
from seedkit.safety import mask_text, mask_url

SUPPORTED = ("sqlite", "postgresql")
# Any constant works; it only has to be the same for every seedkit process.
_ADVISORY_LOCK_KEY = 0x5EED_C17


def parse_url(raw: str) -> URL:
    """Parse and normalise a target URL, refusing what seedkit cannot write to."""
    try:
        url = make_url(raw)
    except ArgumentError:
        raise UsageError(
            f"Malformed database URL {mask_text(raw)!r}: expected e.g. "
            "sqlite:///path/to.db or postgresql://user@host:5432/dbname"
        ) from None
    backend = url.get_backend_name()
    if backend in ("postgres", "postgresql"):
        url = url.set(drivername="postgresql+psycopg")
    elif backend != "sqlite":
        raise UsageError(
            f"Unsupported database scheme {url.drivername!r} in {mask_url(url)}: "
            f"seedkit writes to {' and '.join(SUPPORTED)}."
        )
    return url


def _check_sqlite_path(url: URL) -> None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    folder = Path(database).resolve().parent
    if not folder.is_dir():
        raise TargetUnavailable(f"Cannot open SQLite database {database}: folder {folder} does not exist.")
    if not os.access(folder, os.W_OK) or (Path(database).exists() and not os.access(database, os.W_OK)):
        raise TargetUnavailable(f"Cannot write SQLite database {database}: permission denied.")


def make_engine(url: URL, *, wait_lock: bool = True) -> Engine:
    """An engine for ``url`` whose transactions seedkit fully controls."""
    if url.get_backend_name() == "sqlite":
        _check_sqlite_path(url)
        # A long busy timeout is how a second run waits for the first; zero makes it fail fast.
        engine = create_engine(url, connect_args={"timeout": 600 if wait_lock else 0})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):
            dbapi_connection.isolation_level = None
            dbapi_connection.execute("PRAGMA foreign_keys = ON")

        @event.listens_for(engine, "begin")
        def _on_begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, connect_args={"connect_timeout": 10})


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


def acquire_run_lock(conn: Connection, *, wait: bool) -> None:
    """Serialise seedkit runs on one database for the current transaction.

    PostgreSQL: a transaction-level advisory lock, released by commit or rollback, so a crash
    can never leave it held. SQLite: ``BEGIN IMMEDIATE`` has already taken the write lock.
    """
    if conn.dialect.name != "postgresql":
        return
    if wait:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK_KEY})
        return
    got = conn.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK_KEY}).scalar()
    if not got:
        raise LockBusy(
            f"Another seedkit run holds the lock on {mask_url(conn.engine.url)}; "
            "try again when it has finished, or drop --no-wait-lock to wait for it."
        )


def begin(conn: Connection, *, wait_lock: bool):
    """Begin the run's transaction, turning SQLite's 'database is locked' into :class:`LockBusy`."""
    try:
        return conn.begin()
    except OperationalError as exc:
        if "locked" in str(exc.orig):
            raise LockBusy(
                f"Another process holds the write lock on {mask_url(conn.engine.url)}"
                + ("" if wait_lock else "; drop --no-wait-lock to wait for it")
                + "."
            ) from None
        raise
