"""PostgreSQL ``COPY ... FROM STDIN`` inside the run's transaction, foreign keys checked last.

Loading rows with their constraints in place makes the server check every row against its
parents and update every index per row, which costs more than the load itself. Like
``pg_restore``, this writer drops a table's foreign keys (and, on an empty table, its primary key,
unique constraints and indexes) before its first row and puts them back — validated — in
:meth:`finish`, in the same transaction: integrity is still proven before commit, and a
duplicate or a dangling reference rolls everything back.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack, suppress

from psycopg import Copy
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from seedkit.errors import SeedFailed, describe_db_error
from seedkit.schema import TableInfo
from seedkit.writers import bind_processors, encode
from seedkit.writers.copy_text import TextEncoder

# The catalog rows _relax drops, as (owner table or schema, quoted name, definition). Foreign keys
# of the table itself, and with :referencing those of other tables pointing at it.
_FOREIGN_KEYS = """
SELECT conrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid) FROM pg_constraint
WHERE contype = 'f' AND (conrelid = CAST(:t AS regclass) OR (:referencing AND confrelid = CAST(:t AS regclass)))
ORDER BY conrelid, conname
"""
_KEYS = """
SELECT conrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid) FROM pg_constraint
WHERE contype IN ('p', 'u') AND conrelid = CAST(:t AS regclass)
AND NOT EXISTS (SELECT 1 FROM pg_index x WHERE x.indexrelid = conindid AND x.indisreplident)
ORDER BY contype, conname
"""
_INDEXES = """
SELECT quote_ident(n.nspname), quote_ident(i.relname), pg_get_indexdef(x.indexrelid)
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_namespace n ON n.oid = i.relnamespace
WHERE x.indrelid = CAST(:t AS regclass) AND NOT x.indisreplident
AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) ORDER BY i.relname
"""


class CopyWriter:
    """One COPY stream per table and column list, kept open across chunks.

    While the stream is open the server ingests one chunk as Python builds the next, and a
    background thread (psycopg's queued writer) does the socket sends. :meth:`flush` closes it
    before any other statement runs on the connection.
    """

    name = "copy"

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        # Statements that put back what _relax dropped, run by finish() in this order.
        self._keys: list[tuple[str, str]] = []  # (table, statement)
        self._indexes: list[tuple[str, str]] = []
        self._foreign_keys: list[tuple[str, str]] = []
        self._prepared: set[str] = set()
        self._statements: dict[tuple[str, tuple[str, ...]], tuple[str, list, TextEncoder | None]] = {}
        self._open: tuple[tuple[str, tuple[str, ...]], ExitStack, Copy] | None = None

    def _relax(self, info: TableInfo) -> None:
        """Drop the table's foreign keys; on an empty plain table, its keys and indexes too.

        pg_restore's order: data first, then primary keys, unique constraints and indexes, then
        foreign keys. Building an index once over all rows beats updating it per row (a load
        runs about twice as fast). On a table that already holds data a rebuild would cost more
        than it saves, so there only its foreign keys go. Dropping a table's keys means first
        dropping the foreign keys that point at them, from any table.
        """
        table_sql = self.conn.dialect.identifier_preparer.format_table(info.table)
        empty = not self.conn.exec_driver_sql(f"SELECT EXISTS (SELECT 1 FROM {table_sql})").scalar()
        plain = self.conn.execute(
            text("SELECT relkind = 'r' AND NOT relhassubclass FROM pg_class WHERE oid = CAST(:t AS regclass)"),
            {"t": table_sql},
        ).scalar()
        relax_keys = empty and plain
        self._drop_constraints(_FOREIGN_KEYS, table_sql, self._foreign_keys, referencing=relax_keys)
        if not relax_keys:
            return
        self._drop_constraints(_KEYS, table_sql, self._keys)
        for schema, name, definition in self.conn.execute(text(_INDEXES), {"t": table_sql}).all():
            self.conn.exec_driver_sql(f"DROP INDEX {schema}.{name}")
            self._indexes.append((table_sql, definition))

    def _drop_constraints(
        self, query: str, table_sql: str, into: list[tuple[str, str]], referencing: bool = False
    ) -> None:
        for owner, name, definition in self.conn.execute(
            text(query), {"t": table_sql, "referencing": referencing}
        ).all():
            self.conn.exec_driver_sql(f"ALTER TABLE {owner} DROP CONSTRAINT {name}")
            into.append((owner, f"ALTER TABLE {owner} ADD CONSTRAINT {name} {definition}"))

    def _stream(self, info: TableInfo, attrs: tuple[str, ...]) -> tuple[Copy, list, list | None]:
        key = (info.name, attrs)
        if key not in self._statements:
            quote = self.conn.dialect.identifier_preparer
            columns = ", ".join(quote.quote(info.column_name(a)) for a in attrs)
            sql = f"COPY {quote.format_table(info.table)} ({columns}) FROM STDIN"
            encoder = TextEncoder.for_columns([info.columns[info.attrs.index(a)] for a in attrs])
            self._statements[key] = (sql, bind_processors(self.conn, info, attrs), encoder)
        sql, processors, encoder = self._statements[key]
        if self._open is None or self._open[0] != key:
            self.flush()
            if info.name not in self._prepared:
                self._relax(info)
                self._prepared.add(info.name)
            cursor = self.conn.connection.driver_connection.cursor()
            stack = ExitStack()
            copy = stack.enter_context(cursor.copy(sql, writer=QueuedLibpqWriter(cursor)))
            self._open = (key, stack, copy)
        return self._open[2], processors, encoder

    def write(self, info: TableInfo, attrs: tuple[str, ...], rows: Sequence[tuple]) -> None:
        if not rows:
            return
        copy, processors, encoder = self._stream(info, attrs)
        if encoder is not None:
            copy.write(encoder.encode(rows))
            return
        write_row = copy.write_row
        for row in encode(rows, processors):
            write_row(row)

    def flush(self) -> None:
        """End the open COPY, if any: the server has then checked every row sent so far."""
        if self._open is not None:
            _, stack, _ = self._open
            self._open = None
            stack.close()

    def abort(self, exc: BaseException) -> None:
        """Fail the open COPY so the connection can roll back (psycopg sends CopyFail)."""
        if self._open is not None:
            _, stack, _ = self._open
            self._open = None
            # The COPY may already have failed on the server; the original error is what counts.
            with suppress(Exception):
                stack.__exit__(type(exc), exc, exc.__traceback__)

    def finish(self) -> None:
        """Put back keys, then indexes, then foreign keys, each validated against every row.

        A duplicate key or a dangling reference fails here, before commit, naming the
        constraint; the caller rolls everything back.
        """
        self.flush()
        for statements in (self._keys, self._indexes, self._foreign_keys):
            while statements:
                table, statement = statements.pop(0)
                try:
                    self.conn.exec_driver_sql(statement)
                except DBAPIError as exc:
                    raise SeedFailed(f"checking {table} failed: {describe_db_error(exc)}") from exc
