"""One implementation per database behind one interface, found from a URL or a connection.

Callers ask a backend what it can do and where it really connects instead of branching on the
dialect's name, as Alembic's ``DefaultImpl`` does. A backend knows how to open its engine, take
the run lock, and resolve a URL into the :class:`Target` its driver will really reach, which is
what protected-target checks must be made against.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import ClassVar

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import URL


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
    """What seedkit needs from a database; one subclass per supported dialect."""

    name: ClassVar[str]

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


def backend_for(name: str) -> Backend:
    """The backend for a dialect or URL backend name (``sqlite``, ``postgresql``)."""
    from seedkit.backends.postgresql import PostgreSQL
    from seedkit.backends.sqlite import SQLite

    for backend in (SQLite, PostgreSQL):
        if backend.name == name:
            return backend()
    raise KeyError(name)
