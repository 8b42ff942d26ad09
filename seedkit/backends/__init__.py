"""One implementation per database behind one interface, found from a URL or a connection.

Callers ask a backend what it can do and where it really connects instead of branching on the
dialect's name, as Alembic's ``DefaultImpl`` does. A backend knows how to open its engine, take
the run lock, and resolve a URL into the :class:`Target` its driver will really reach, which is
what protected-target checks must be made against.
"""

from __future__ import annotations

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


class Backend:
    """What seedkit needs from a database; one subclass per supported dialect."""

    name: ClassVar[str]

    def resolve(self, url: URL) -> Target:
        """The target ``url`` will connect to, resolved before connecting."""
        raise NotImplementedError

    def connected(self, conn: Connection) -> Target:
        """The target ``conn`` is really connected to, read from the live connection."""
        raise NotImplementedError

    def make_engine(self, url: URL, *, wait_lock: bool) -> Engine:
        """An engine whose transactions seedkit fully controls."""
        raise NotImplementedError

    def begin(self, conn: Connection, *, wait_lock: bool):
        """Begin the run's transaction (the context manager ``conn.begin()`` returns)."""
        return conn.begin()

    def acquire_run_lock(self, conn: Connection, *, wait: bool) -> None:
        """Serialise seedkit runs on one database for the current transaction."""


def backend_for(name: str) -> Backend:
    """The backend for a dialect or URL backend name (``sqlite``, ``postgresql``)."""
    from seedkit.backends.postgresql import PostgreSQL
    from seedkit.backends.sqlite import SQLite

    for backend in (SQLite, PostgreSQL):
        if backend.name == name:
            return backend()
    raise KeyError(name)
