"""Ways of writing generated rows; one module per way, one interface.

Writers never change the data: the same rows give the same fingerprint whichever writer took
them. A writer is used inside the run's transaction and must leave integrity proven by the time
:meth:`Writer.finish` returns, so the commit that follows cannot publish broken rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect

from seedkit.backends import backend_of_connection
from seedkit.errors import UsageError, failing_as
from seedkit.schema import TableInfo

if TYPE_CHECKING:
    from seedkit.lane import Lane
    from seedkit.written import CanonicalRows


class Writer(Protocol):
    name: str
    # Whether it sends the fingerprint's canonical text as it is (COPY): then the run hands it
    # that text (write_canonical) where it can render it, and hashes what is sent.
    sends_canonical: bool

    def write(self, info: TableInfo, attrs: tuple[str, ...], rows: Sequence[tuple]) -> None:
        """Insert ``rows`` (values in ``attrs`` order) into ``info``'s table; may return before they are in."""

    def encoder(self, info: TableInfo, attrs: tuple[str, ...]) -> Callable[[Sequence[tuple]], bytes] | None:
        """What turns rows into what this writer sends, where that can be done in another process
        (``--workers``): the worker sends bytes, not rows to encode here. None: rows it is."""

    def write_encoded(self, info: TableInfo, attrs: tuple[str, ...], payload: bytes) -> None:
        """Insert rows an :meth:`encoder` already encoded."""

    def write_canonical(self, info: TableInfo, rows: CanonicalRows) -> None:
        """Insert rows given as the fingerprint's canonical text, feeding its digest as they go."""

    def settle(self, info: TableInfo) -> None:
        """No more rows are coming for ``info``'s table; restore what the writer relaxed there."""

    def abort(self, exc: BaseException) -> None:
        """Abandon any write in progress after ``exc``; the caller then rolls back."""

    def finish(self) -> None:
        """Complete every write and restore whatever is still relaxed, proving integrity.

        Always called before commit; afterwards the caller may use the connection directly.
        """


class Immediate:
    """The writer methods for writers whose every write is complete when ``write`` returns."""

    conn: Connection
    sends_canonical = False

    def encoder(self, info: TableInfo, attrs: tuple[str, ...]) -> Callable[[Sequence[tuple]], bytes] | None:
        """Rows are bound by the driver here: nothing to encode elsewhere."""
        return None

    def write_encoded(self, info: TableInfo, attrs: tuple[str, ...], payload: bytes) -> None:
        raise TypeError(f"{type(self).__name__} takes rows, not encoded bytes")

    def write_canonical(self, info: TableInfo, rows: CanonicalRows) -> None:
        raise TypeError(f"{type(self).__name__} takes rows, not text")

    def settle(self, info: TableInfo) -> None:
        """Nothing was relaxed: every row was checked as it went in."""

    def abort(self, exc: BaseException) -> None:
        """Nothing is in progress between calls."""

    def finish(self) -> None:
        """Every write has already completed."""


def target(conn: Connection, info: TableInfo, attrs: tuple[str, ...]) -> str:
    """``table (col, …)`` for an INSERT or COPY of ``attrs``, quoted for this dialect."""
    quote = conn.dialect.identifier_preparer
    return f"{quote.format_table(info.table)} ({', '.join(quote.quote(info.column_name(a)) for a in attrs)})"


def check(conn: Connection, table: str, statement: str) -> None:
    """Put back a key, index or foreign key a writer dropped; a violation fails as "checking <table>"."""
    with failing_as(f"checking {table}", backend_of_connection(conn).driver_errors()):
        conn.exec_driver_sql(statement)


def bind_processors(dialect: Dialect, info: TableInfo, attrs: tuple[str, ...]) -> list:
    """Per column, SQLAlchemy's Python-to-driver conversion for this dialect, or None."""
    return [info.columns[info.attrs.index(a)].type._cached_bind_processor(dialect) for a in attrs]


def encode(rows: Sequence[tuple], processors: list) -> Sequence[tuple]:
    """Apply the conversions that exist; rows of types the driver takes as they are pass through.

    Column by column (``zip``/``map`` run in C), not row by row: a loop in Python per row cost
    as much as SQLite's insert itself.
    """
    if not any(processors):
        return rows
    columns: list = list(zip(*rows, strict=True))
    for i, process in enumerate(processors):
        if process is not None:
            columns[i] = map(process, columns[i])
    return list(zip(*columns, strict=True))


def make_writer(lane: Lane, choice: str) -> Writer:
    """The writer for ``choice`` on the lane's connection and backend (``auto``: the fastest there)."""
    from seedkit.writers.executemany import ExecutemanyWriter
    from seedkit.writers.orm import OrmWriter

    conn = lane.conn
    backend = backend_of_connection(conn)
    if choice == "copy" or (choice == "auto" and backend.copies):
        if not backend.copies:
            raise UsageError(
                f"The copy writer needs COPY FROM STDIN (PostgreSQL); {backend.name} has none: use executemany or orm."
            )
        from seedkit.writers.copy import CopyWriter

        return CopyWriter(lane)
    if choice == "orm":
        return OrmWriter(conn)
    return ExecutemanyWriter(conn, lane.stopwatch)
