"""PostgreSQL ``COPY ... FROM STDIN`` inside the run's transaction, foreign keys checked last.

Loading rows with their constraints in place makes the server check every row against its
parents and update every index per row, which costs more than the load itself. Like
``pg_restore``, this writer drops a table's foreign keys (and, on an empty table, its primary key,
unique constraints and indexes) before its first row and puts them back — validated — in
:meth:`finish`, in the same transaction: integrity is still proven before commit, and a
duplicate or a dangling reference rolls everything back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from typing import TYPE_CHECKING

from psycopg import Copy
from sqlalchemy import Connection, text

from seedkit.backends import backend_of_connection
from seedkit.errors import failing_as
from seedkit.lane import Lane
from seedkit.schema import TableInfo, column_kind
from seedkit.writers import bind_processors, check, encode, target
from seedkit.writers.copy_text import TextEncoder

if TYPE_CHECKING:
    from seedkit.written import CanonicalRows

# What _relax drops, from the catalog. Foreign keys of the table itself, and with :referencing
# those of other tables pointing at it: (table, referenced table, name, definition). The copies
# a partitioned table's constraints leave on its partitions (conparentid) go with the parent's.
_FOREIGN_KEYS = """
SELECT conrelid::regclass::text, confrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid)
FROM pg_constraint
WHERE contype = 'f' AND conparentid = 0
AND (conrelid = CAST(:t AS regclass) OR (:referencing AND confrelid = CAST(:t AS regclass)))
ORDER BY conrelid, conname
"""
_KEYS = """
SELECT quote_ident(conname), pg_get_constraintdef(oid) FROM pg_constraint
WHERE contype IN ('p', 'u') AND conparentid = 0 AND conrelid = CAST(:t AS regclass)
AND NOT EXISTS (SELECT 1 FROM pg_index x WHERE x.indexrelid = conindid AND x.indisreplident)
ORDER BY contype, conname
"""
_INDEXES = """
SELECT quote_ident(n.nspname), quote_ident(i.relname), pg_get_indexdef(x.indexrelid)
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_namespace n ON n.oid = i.relnamespace
WHERE x.indrelid = CAST(:t AS regclass) AND NOT x.indisreplident
AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) ORDER BY i.relname
"""


@contextmanager
def _in_utc(conn: Connection) -> Iterator[None]:
    """The session's time zone set to UTC for one canonical COPY, then put back.

    Canonical text gives a ``timestamptz`` value as its UTC wall time, with no offset, and COPY
    reads such text in the session's zone. A canonical COPY sends every column (NULL for those
    no declaration writes), so no default, and no trigger (those tables are read back), sees the
    setting. After a failure the transaction rolls back, and the setting with it.
    """
    previous = conn.exec_driver_sql("SELECT current_setting('TimeZone'), set_config('TimeZone', 'UTC', true)").scalar()
    yield
    conn.execute(text("SELECT set_config('TimeZone', :zone, true)"), {"zone": previous})


# Marks a statement's key as a column list of the table's own names (canonical rows), not attributes.
_CANONICAL = "\0canonical"


class CopyWriter:
    """One COPY stream per table and column list, fed from a background thread.

    The caller's thread generates and encodes rows; the run's lane (:mod:`seedkit.lane`) sends them, ends streams, and rebuilds each table's keys
    and indexes as soon as the seeder says no more rows are coming for it — while the caller is
    already generating the next table. Everything still runs on the run's one connection, in
    order, inside its transaction.
    """

    name = "copy"
    sends_canonical = True

    def __init__(self, lane: Lane) -> None:
        self.conn = lane.conn
        self._errors = backend_of_connection(self.conn).driver_errors()
        self._lane = lane
        lane.pause_with(self._end_copy)  # the server checks what was sent before anyone asks it anything
        # What _relax dropped, to put back: per table its keys, then its indexes; foreign keys
        # with the two tables they join (restored once neither is still loading).
        self._rebuild: dict[str, list[str]] = {}
        self._foreign_keys: list[tuple[str, str, str]] = []  # (table, referenced table, statement)
        self._loading: set[str] = set()  # relaxed tables not settled yet
        self._names: dict[str, str] = {}  # relaxed table -> its name as the catalog spells it
        self._statements: dict[tuple[str, tuple[str, ...]], tuple[str, list, TextEncoder | None]] = {}
        self._open: tuple[tuple[str, tuple[str, ...]], ExitStack, Copy] | None = None
        self._in_utc: set[tuple[str, tuple[str, ...]]] = set()  # canonical streams with times in a zone

    # -- the caller's side ----------------------------------------------------------------------

    def write(self, info: TableInfo, attrs: tuple[str, ...], rows: Sequence[tuple]) -> None:
        if not rows:
            return
        _, processors, encoder = self._statement(info, attrs)
        with self._lane.stopwatch.stage("encode"):
            payload = encoder.encode(rows) if encoder is not None else list(encode(rows, processors))
        self._lane.send(lambda: self._send(info, (info.name, attrs), payload))

    def encoder(self, info: TableInfo, attrs: tuple[str, ...]) -> Callable[[Sequence[tuple]], bytes] | None:
        """COPY text, which a worker process can make as well as this one."""
        encoder = self._statement(info, attrs)[2]
        return encoder.encode if encoder is not None else None

    def write_encoded(self, info: TableInfo, attrs: tuple[str, ...], payload: bytes) -> None:
        if payload:
            self._statement(info, attrs)
            self._lane.send(lambda: self._send(info, (info.name, attrs), payload))

    def write_canonical(self, info: TableInfo, rows: CanonicalRows) -> None:
        """The fingerprint's text is COPY text: sent as it is, and hashed on the way out."""
        key = (info.name, (_CANONICAL, *rows.columns))
        if key not in self._statements:
            quote = self.conn.dialect.identifier_preparer.quote
            table = self.conn.dialect.identifier_preparer.format_table(info.table)
            self._statements[key] = (f"COPY {table} ({', '.join(map(quote, rows.columns))}) FROM STDIN", [], None)
            if any(column_kind(c) == "timestamptz" for c in info.table.columns if c.name in rows.columns):
                self._in_utc.add(key)

        def send() -> None:
            rows.digest.update(rows.payload)
            self._send(info, key, rows.payload)

        self._lane.send(send)

    def _statement(self, info: TableInfo, attrs: tuple[str, ...]) -> tuple[str, list, TextEncoder | None]:
        key = (info.name, attrs)
        if key not in self._statements:
            sql = f"COPY {target(self.conn, info, attrs)} FROM STDIN"
            encoder = TextEncoder.for_columns([info.columns[info.attrs.index(a)] for a in attrs])
            self._statements[key] = (sql, bind_processors(self.conn.dialect, info, attrs), encoder)
        return self._statements[key]

    def settle(self, info: TableInfo) -> None:
        """No more rows for this table: rebuild its keys and indexes, and the foreign keys that can be."""
        self._lane.send(lambda: self._restore(info))

    def abort(self, exc: BaseException) -> None:
        """Stop after the statement in progress, then fail the open COPY so the caller can roll back."""
        self._lane.abandon()
        if self._open is not None:
            _, stack, _ = self._open
            self._open = None
            # The COPY may already have failed on the server; the original error is what counts.
            with suppress(Exception):
                stack.__exit__(type(exc), exc, exc.__traceback__)

    def finish(self) -> None:
        """Put back everything still relaxed, each constraint validated against every row.

        A duplicate key or a dangling reference fails here at the latest, before commit, naming
        the constraint; the caller rolls everything back.
        """
        self._lane.send(lambda: self._restore(None))
        self._lane.drain()

    # -- the writer's thread --------------------------------------------------------------------

    def _send(self, info: TableInfo, key: tuple[str, tuple[str, ...]], payload: bytes | list[tuple]) -> None:
        with failing_as(f"writing {info.name}", self._errors):
            copy = self._stream(info, key)
            if isinstance(payload, bytes):
                copy.write(payload)
            else:
                for row in payload:
                    copy.write_row(row)

    def _stream(self, info: TableInfo, key: tuple[str, tuple[str, ...]]) -> Copy:
        if self._open is not None and self._open[0] == key:
            return self._open[2]
        self._end_copy()
        if info.name not in self._names:
            self._relax(info)
        cursor = self.conn.connection.driver_connection.cursor()
        stack = ExitStack()
        if key in self._in_utc:
            stack.enter_context(_in_utc(self.conn))
        copy = stack.enter_context(cursor.copy(self._statements[key][0]))
        self._open = (key, stack, copy)
        return copy

    def _end_copy(self) -> None:
        """End the open COPY, if any: the server has then checked every row sent so far."""
        if self._open is not None:
            key, stack, _ = self._open
            self._open = None
            with failing_as(f"writing {key[0]}", self._errors):
                stack.close()

    def _relax(self, info: TableInfo) -> None:
        """Drop the table's foreign keys; on an empty plain table, its keys and indexes too.

        pg_restore's order: data first, then primary keys, unique constraints and indexes, then
        foreign keys. Building an index once over all rows beats updating it per row (a load
        runs about twice as fast). On a table that already holds data a rebuild would cost more
        than it saves, so there only its foreign keys go. Dropping a table's keys means first
        dropping the foreign keys that point at them, from any table.
        """
        table_sql = self.conn.dialect.identifier_preparer.format_table(info.table)
        # The catalog's own spelling of the name, as the foreign-key query gives it.
        table, plain = self.conn.execute(
            text(
                "SELECT oid::regclass::text, relkind = 'r' AND NOT relhassubclass FROM pg_class WHERE oid = CAST(:t AS regclass)"
            ),
            {"t": table_sql},
        ).one()
        self._names[info.name] = table
        empty = not self.conn.exec_driver_sql(f"SELECT EXISTS (SELECT 1 FROM {table_sql})").scalar()
        relax_keys = empty and plain
        params = {"t": table_sql, "referencing": relax_keys}
        for owner, referenced, name, definition in self.conn.execute(text(_FOREIGN_KEYS), params).all():
            self.conn.exec_driver_sql(f"ALTER TABLE {owner} DROP CONSTRAINT {name}")
            self._foreign_keys.append((owner, referenced, f"ALTER TABLE {owner} ADD CONSTRAINT {name} {definition}"))
        self._loading.add(table)
        if not relax_keys:
            return
        rebuild = self._rebuild[table] = []
        for name, definition in self.conn.execute(text(_KEYS), params).all():
            self.conn.exec_driver_sql(f"ALTER TABLE {table_sql} DROP CONSTRAINT {name}")
            rebuild.append(f"ALTER TABLE {table_sql} ADD CONSTRAINT {name} {definition}")
        for schema, name, definition in self.conn.execute(text(_INDEXES), params).all():
            self.conn.exec_driver_sql(f"DROP INDEX {schema}.{name}")
            rebuild.append(definition)

    def _restore(self, info: TableInfo | None) -> None:
        """Put back one settled table's keys and indexes (None: every table's), then the foreign
        keys whose two tables are both settled."""
        self._end_copy()
        if info is None:
            tables = sorted(self._loading)
        else:
            tables = [self._names[info.name]] if info.name in self._names else []
        for table in tables:
            for statement in self._rebuild.pop(table, []):
                check(self.conn, table, statement)
            self._loading.discard(table)
        waiting = []
        for owner, referenced, statement in self._foreign_keys:
            if owner in self._loading or referenced in self._loading:
                waiting.append((owner, referenced, statement))
            else:
                check(self.conn, owner, statement)
        self._foreign_keys = waiting
