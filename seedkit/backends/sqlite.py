"""SQLite files: transactions seedkit controls, ``BEGIN IMMEDIATE`` as the run lock.

SQLite's Python driver opens its own transactions lazily and commits around DDL; seedkit turns
that off so that migrations and seeding share one transaction, and takes the write lock up
front so a second run waits (or, with ``--no-wait-lock``, fails at once) instead of failing
halfway.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Column, Connection, Engine, Table, create_engine, event
from sqlalchemy.engine import URL

from seedkit.backends import Backend, Target, Waiting
from seedkit.errors import LockBusy, TargetUnavailable
from seedkit.json_text import dumps
from seedkit.safety import mask_url

if TYPE_CHECKING:
    from seedkit.backends.sqlite_templates import SQLiteTemplates
    from seedkit.fingerprints import Render


def _check_path(url: URL) -> None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    folder = Path(database).resolve().parent
    if not folder.is_dir():
        raise TargetUnavailable(f"Cannot open SQLite database {database}: folder {folder} does not exist.")
    if not os.access(folder, os.W_OK) or (Path(database).exists() and not os.access(database, os.W_OK)):
        raise TargetUnavailable(f"Cannot write SQLite database {database}: permission denied.")


def _file(url: URL) -> Path | None:
    """The database file, or None for memory and ``file:`` URIs (whose path SQLite parses)."""
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


_FOREVER_MS = 2**31 - 1
DISCARD_WAIT = 5.0  # seconds a failed run waits to see whether the file it created is empty  # SQLite's busy timeout is a C int of milliseconds


_OWN_INDEXES = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL"


class SQLite(Backend):
    name = "sqlite"

    def resolve(self, url: URL) -> Target:
        return Target(hosts=(), database=url.database or ":memory:", display=mask_url(url))

    def connected(self, conn: Connection) -> Target:
        # On the driver's connection: through SQLAlchemy it would begin the run's transaction.
        files = {row[1]: row[2] for row in conn.connection.driver_connection.execute("PRAGMA database_list")}
        return Target(hosts=(), database=files.get("main") or ":memory:", display=mask_url(conn.engine.url))

    def exists(self, url: URL) -> bool:
        path = _file(url)
        return path is None or path.exists()

    def discard(self, url: URL) -> None:
        """Remove the file if it is still empty. A file another connection still holds (a
        statement an interrupt cut short, on a thread that is winding down) is left alone:
        failing here would turn a clean rollback into an error."""
        path = _file(url)
        if path is None or not path.exists():
            return
        if path.stat().st_size == 0:  # rolled back to nothing: no need to ask SQLite (or its lock)
            path.unlink()
            return
        check = sqlite3.connect(path, timeout=DISCARD_WAIT)
        try:
            empty = check.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
        except sqlite3.OperationalError:
            return
        finally:
            check.close()
        if empty:
            path.unlink()

    def make_engine(self, url: URL, *, write: bool) -> Engine:
        path = _file(url)
        if write:
            _check_path(url)
        elif path is not None and not path.exists():
            raise TargetUnavailable(f"SQLite database {path} does not exist; nothing to read.")
        engine = create_engine(url, connect_args={"timeout": 0}, json_serializer=dumps)
        # A write takes the write lock up front; a read takes none and never blocks a run.
        begin = "BEGIN IMMEDIATE" if write else "BEGIN"

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):
            dbapi_connection.isolation_level = None
            dbapi_connection.execute("PRAGMA foreign_keys = ON")

        @event.listens_for(engine, "begin")
        def _on_begin(conn):
            conn.exec_driver_sql(begin)

        return engine

    def begin(self, conn: Connection, *, write: bool, waiting: Waiting):
        """A write first tries the lock without waiting, so that it can say what it waits for."""
        driver = conn.connection.driver_connection
        try:
            if write:
                driver.execute("BEGIN IMMEDIATE")
                driver.execute("ROLLBACK")
        except sqlite3.OperationalError as exc:
            if not self.lock_timed_out(exc):
                raise
            if not waiting.wait:
                raise LockBusy(
                    f"Another process holds the write lock on {mask_url(conn.engine.url)}; "
                    "drop --no-wait-lock to wait for it."
                ) from None
            if waiting.notify is not None:
                waiting.notify(
                    f"waiting for another seedkit run (or another writer) to release {mask_url(conn.engine.url)}"
                )
        timeout = _FOREVER_MS if waiting.timeout is None else round(waiting.timeout * 1000)
        timeout = timeout if waiting.wait else 0
        driver.execute(f"PRAGMA busy_timeout = {min(timeout, _FOREVER_MS)}")
        return conn.begin()

    def loose_indexes(self, conn: Connection, table: Table) -> list[tuple[str, str]]:
        """Its own ``CREATE INDEX`` indexes: inserting before building them is 20-25% faster. The
        indexes behind a primary key or UNIQUE constraint cannot be dropped in SQLite."""
        if table.schema is not None:  # an attached database keeps its own sqlite_master
            return []
        return [tuple(row) for row in conn.exec_driver_sql(_OWN_INDEXES, (table.name,)).all()]

    def hashes_tables(self, conn: Connection, sends_canonical: bool) -> str | None:
        """None: reading a table back would cost the run's own thread (SQLite runs in it) more
        than rendering the rows it writes."""
        return None

    def stored_text(self, conn: Connection, written: Column, stored: Column) -> Render | str:
        from seedkit.backends.sqlite_values import stored_text

        return stored_text(written, stored, conn.dialect)

    def triggered_tables(self, conn: Connection) -> set[str]:
        return set(conn.exec_driver_sql("SELECT tbl_name FROM sqlite_master WHERE type = 'trigger'").scalars())

    def lock_timed_out(self, exc: BaseException) -> bool:
        return getattr(exc, "sqlite_errorname", "") in ("SQLITE_BUSY", "SQLITE_LOCKED")

    def templates(self, url: URL, folder: Path) -> SQLiteTemplates:
        from seedkit.backends.sqlite_templates import SQLiteTemplates

        return SQLiteTemplates(url, folder)
