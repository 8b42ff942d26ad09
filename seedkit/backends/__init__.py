"""One implementation per database behind one interface, found from a URL or a connection.

Callers ask a backend what it can do and where it really connects instead of branching on the
dialect's name, as Alembic's ``DefaultImpl`` does. A backend knows how to open its engine, take
the run lock, and resolve a URL into the :class:`Target` its driver will really reach, which is
what protected-target checks must be made against.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import Column, Connection, Engine, Table
from sqlalchemy.engine import URL

if TYPE_CHECKING:
    from seedkit.fingerprints import Render, TableFingerprint
    from seedkit.templates import TemplateStore


@dataclass(frozen=True)
class Target:
    """Where a connection goes, as the driver resolves it: hosts, port, database and user.

    ``hosts`` holds every host the driver may try (libpq accepts a list), in canonical form, so
    ``127.1`` and ``127.0.0.1`` are one host. ``display`` is the target as a person should see it,
    password masked.
    """

    hosts: tuple[str, ...]
    database: str
    display: str

    def names(self) -> set[str]:
        """Every spelling a protected pattern is matched against."""
        database = self.database.lower()
        names = {database} | {h for h in self.hosts} | {f"{h}/{database}" for h in self.hosts}
        return names - {"", "/"}


@dataclass(frozen=True)
class Waiting:
    """How a command waits for locks other clients hold, and whom it tells while it waits.

    ``wait=False`` fails at once when another seedkit run holds the target; ``timeout`` bounds
    every wait for a lock (``None``: as long as it takes); ``notify`` hears one line when the
    command starts waiting, naming what it waits for.
    """

    wait: bool = True
    timeout: float | None = None
    notify: Callable[[str], None] | None = None


WAIT = Waiting()  # wait as long as it takes, silently: the library's default


class Backend:
    """What seedkit needs from a database; one subclass per supported dialect.

    Capabilities are attributes, so callers ask "can you?" rather than "which database are
    you?". Which guarantee rests on which capability is in the README ("Backends").
    """

    name: ClassVar[str]
    # DDL inside the run's transaction: a reset, or migrations and seed, roll back as one.
    transactional_ddl: ClassVar[bool] = True
    # COPY FROM STDIN: the "copy" writer, and the default writer where it exists.
    copies: ClassVar[bool] = False

    def resolve(self, url: URL) -> Target:
        """The target ``url`` will connect to, resolved before connecting."""
        raise NotImplementedError

    def connected(self, conn: Connection) -> Target:
        """The target ``conn`` is really connected to, read from the live connection."""
        raise NotImplementedError

    def exists(self, url: URL) -> bool:
        """Whether the database is there already (a write may create it)."""
        return True

    def discard(self, url: URL) -> None:
        """Remove a database that a failed write created and left empty."""

    def make_engine(self, url: URL, *, write: bool) -> Engine:
        """An engine whose transactions seedkit fully controls; a read-only one creates nothing."""
        raise NotImplementedError

    def begin(self, conn: Connection, *, write: bool, waiting: Waiting) -> AbstractContextManager:
        """Begin the command's transaction (a context manager that commits if its body returns)."""
        return conn.begin()

    def acquire_run_lock(self, conn: Connection, waiting: Waiting) -> None:
        """Serialise seedkit runs on one database for the current transaction."""

    def watching_locks(self, conn: Connection, waiting: Waiting) -> AbstractContextManager:
        """While the body runs, tell ``waiting.notify`` when ``conn`` waits for another client's lock."""
        return nullcontext()

    def lock_timed_out(self, exc: BaseException) -> bool:
        """Whether ``exc`` (a driver error) is a wait for a lock that ran out of time."""
        return False

    def driver_errors(self) -> tuple[type[BaseException], ...]:
        """The errors a statement may raise here, SQLAlchemy's and the driver's own (COPY)."""
        from sqlalchemy.exc import DBAPIError

        return (DBAPIError,)

    def table_fingerprint(self, conn: Connection, table: Table) -> TableFingerprint:
        """One table's content hash (see :mod:`seedkit.fingerprints`): rows read and rendered here."""
        from seedkit.fingerprints import python_table_fingerprint

        return python_table_fingerprint(conn, table)

    def hashes_tables(self, conn: Connection, sends_canonical: bool) -> str | None:
        """Why a run fingerprints this backend's tables by reading them rather than from the rows
        it writes (:mod:`seedkit.written`); None where it renders the rows (:meth:`stored_text`).
        ``sends_canonical``: the run's writer sends that rendering as it is (COPY)."""
        return f"seedkit has no model of how {self.name} stores values"

    def stored_text(self, conn: Connection, written: Column, stored: Column) -> Render | str:
        """How values seedkit writes to ``written`` (the model's column) read back from ``stored``
        (the table's column, as reflected): a render to the fingerprint's canonical text, or why
        that cannot be told. Asked only where :meth:`hashes_tables` says None."""
        return f"seedkit cannot tell how {self.name} stores values"

    def triggered_tables(self, conn: Connection) -> set[str]:
        """Tables whose rows a trigger (or a rule) may change as they are written."""
        return set()

    def hashable_early(self, conn: Connection) -> bool:
        """Whether a table may be fingerprinted as soon as seedkit has written it, while the
        next is generated (only where the server hashes and nothing changes rows afterwards)."""
        return False

    def loose_indexes(self, conn: Connection, table: Table) -> list[tuple[str, str]]:
        """``(name, CREATE statement)`` of the indexes the executemany writer may drop before an
        empty table's rows and build again after them (none: it inserts into them as they are).
        The COPY writer drops keys, indexes and foreign keys itself, in pg_restore's order."""
        return []

    def empty(self, conn: Connection, tables: Sequence[Table]) -> None:
        """Empty ``tables`` (given parents first) for ``run --truncate`` as ``DELETE`` does (their
        delete triggers fire; rows of other tables that point at them cascade, turn NULL or stop
        it), with the sequences that number their keys back at the start, as in a new database.
        Here: ``DELETE`` alone, for databases whose keys seedkit numbers itself (SQLite's
        ``INTEGER PRIMARY KEY`` restarts after its highest row)."""
        for table in reversed(tables):
            conn.execute(table.delete())

    def move_sequence(self, conn: Connection, table: Table, column: str, highest: int | None = None) -> None:
        """Put the key's sequence past ``highest``, the last key seedkit assigned, or past the
        column's largest value (None), if the column has a sequence."""

    def partitions(self, conn: Connection) -> dict[str, str]:
        """Each partition's name and the SQL condition its rows meet, for tables split into
        partitions (rows go through the parent; none here)."""
        return {}

    def partitioned(self, conn: Connection) -> dict[str, tuple[str, str]]:
        """Each partitioned table's partition key column and the condition (SQL) some
        partition accepts; a table whose key is an expression is absent."""
        return {}

    def templates(self, url: URL, folder: Path) -> TemplateStore:
        """Where seeded copies of ``url``'s database are kept (``folder``: the cache folder, for
        backends that keep files) and how the target is replaced by one."""
        raise NotImplementedError


def backend_of_connection(conn: Connection) -> Backend:
    """The backend behind a live connection: the one place that reads the dialect's name."""
    return backend_for(conn.dialect.name)


# Each backend's module, imported only when a URL names it: psycopg alone is 36 ms of a SQLite
# run's start-up.
_BACKENDS = {
    "sqlite": ("seedkit.backends.sqlite", "SQLite"),
    "postgresql": ("seedkit.backends.postgresql", "PostgreSQL"),
}


def backend_for(name: str) -> Backend:
    """The backend for a dialect or URL backend name (``sqlite``, ``postgresql``)."""
    module, backend = _BACKENDS[name]
    return getattr(importlib.import_module(module), backend)()
