"""SQLite files: transactions seedkit controls, ``BEGIN IMMEDIATE`` as the run lock.

SQLite's Python driver opens its own transactions lazily and commits around DDL; seedkit turns
that off so that migrations and seeding share one transaction, and takes the write lock up
front so a second run waits (or, with ``--no-wait-lock``, fails at once) instead of failing
halfway.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError

from seedkit.backends import Backend, Target
from seedkit.errors import LockBusy, TargetUnavailable
from seedkit.safety import mask_url


def _check_path(url: URL) -> None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    folder = Path(database).resolve().parent
    if not folder.is_dir():
        raise TargetUnavailable(f"Cannot open SQLite database {database}: folder {folder} does not exist.")
    if not os.access(folder, os.W_OK) or (Path(database).exists() and not os.access(database, os.W_OK)):
        raise TargetUnavailable(f"Cannot write SQLite database {database}: permission denied.")


class SQLite(Backend):
    name = "sqlite"

    def resolve(self, url: URL) -> Target:
        return Target(hosts=(), database=url.database or ":memory:", display=mask_url(url))

    def connected(self, conn: Connection) -> Target:
        # On the driver's connection: through SQLAlchemy it would begin the run's transaction.
        files = {row[1]: row[2] for row in conn.connection.driver_connection.execute("PRAGMA database_list")}
        return Target(hosts=(), database=files.get("main") or ":memory:", display=mask_url(conn.engine.url))

    def make_engine(self, url: URL, *, wait_lock: bool) -> Engine:
        _check_path(url)
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

    def begin(self, conn: Connection, *, wait_lock: bool):
        """``BEGIN IMMEDIATE`` takes the write lock; a busy database is :class:`LockBusy`."""
        try:
            return conn.begin()
        except OperationalError as exc:
            if getattr(exc.orig, "sqlite_errorname", "") not in ("SQLITE_BUSY", "SQLITE_LOCKED"):
                raise
            raise LockBusy(
                f"Another process holds the write lock on {mask_url(conn.engine.url)}"
                + ("" if wait_lock else "; drop --no-wait-lock to wait for it")
                + "."
            ) from None
