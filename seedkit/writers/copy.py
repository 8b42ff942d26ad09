"""PostgreSQL ``COPY ... FROM STDIN`` inside the run's transaction, foreign keys checked last.

Loading rows with their foreign keys in place makes the server check every row against its
parents, which costs more than the load itself. Like ``pg_restore``, this writer drops a table's
foreign-key constraints before its first row and adds them back — validated — in
:meth:`finish`, in the same transaction: integrity is still proven before commit, and a
violation rolls everything back.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from contextlib import ExitStack, suppress

from psycopg import Copy
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import JSON, Boolean, Connection, Date, DateTime, Float, Integer, Numeric, String, Uuid, text
from sqlalchemy.types import TypeDecorator

from seedkit.schema import TableInfo
from seedkit.writers import bind_processors, encode

# COPY's text format: backslash, tab, newline and carriage return are escaped; NULL is \N.
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_NULL = "\\N"


def _escape(value: str) -> str:
    return value.translate(_ESCAPES)


def _needs_escape(values: list[str]) -> bool:
    """One C-level scan of the whole column; most generated text has nothing to escape."""
    joined = "".join(values)
    return "\\" in joined or "\t" in joined or "\n" in joined or "\r" in joined


_Converter = Callable[[object], str] | str


def _text_converter(column) -> _Converter | None:
    """How one column's Python values become COPY text (``"text"``: escaped only if needed),
    or None when psycopg must adapt them."""
    kind = column.type
    if isinstance(kind, TypeDecorator):
        return None  # user code in process_bind_param: let SQLAlchemy and psycopg handle it
    if isinstance(kind, Boolean):
        return lambda v: "t" if v else "f"
    if isinstance(kind, (Integer, Numeric, Float, Date, DateTime, Uuid)):
        return str
    if isinstance(kind, JSON):
        return lambda v: _escape(json.dumps(v))
    if isinstance(kind, String):
        return "text"
    return None


def _text_block(rows: Sequence[tuple], converters: list[_Converter]) -> bytes:
    """Rows as one COPY text payload, converted column by column (cheaper than row by row)."""
    columns = []
    for convert, values in zip(converters, zip(*rows, strict=True), strict=True):
        has_null = None in values
        if convert == "text":
            present = [v for v in values if v is not None] if has_null else values
            convert = _escape if _needs_escape(present) else str
        columns.append([_NULL if v is None else convert(v) for v in values] if has_null else list(map(convert, values)))
    return ("\n".join(map("\t".join, zip(*columns, strict=True))) + "\n").encode()


class CopyWriter:
    """One COPY stream per table and column list, kept open across chunks.

    While the stream is open the server ingests one chunk as Python builds the next, and a
    background thread (psycopg's queued writer) does the socket sends. :meth:`flush` closes it
    before any other statement runs on the connection.
    """

    name = "copy"

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._dropped: list[tuple[str, str, str]] = []  # (table sql, constraint name, definition)
        self._prepared: set[str] = set()
        self._statements: dict[tuple[str, tuple[str, ...]], tuple[str, list, list | None]] = {}
        self._open: tuple[tuple[str, tuple[str, ...]], ExitStack, Copy] | None = None

    def _relax(self, info: TableInfo) -> None:
        table_sql = self.conn.dialect.identifier_preparer.format_table(info.table)
        found = self.conn.execute(
            text(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = CAST(:t AS regclass) AND contype = 'f' ORDER BY conname"
            ),
            {"t": table_sql},
        ).all()
        for name, definition in found:
            quoted = self.conn.dialect.identifier_preparer.quote(name)
            self.conn.exec_driver_sql(f"ALTER TABLE {table_sql} DROP CONSTRAINT {quoted}")
            self._dropped.append((table_sql, quoted, definition))

    def _stream(self, info: TableInfo, attrs: tuple[str, ...]) -> tuple[Copy, list, list | None]:
        key = (info.name, attrs)
        if key not in self._statements:
            quote = self.conn.dialect.identifier_preparer
            columns = ", ".join(quote.quote(info.column_name(a)) for a in attrs)
            sql = f"COPY {quote.format_table(info.table)} ({columns}) FROM STDIN"
            converters = [_text_converter(info.columns[info.attrs.index(a)]) for a in attrs]
            fast = converters if all(converters) else None
            self._statements[key] = (sql, bind_processors(self.conn, info, attrs), fast)
        sql, processors, converters = self._statements[key]
        if self._open is None or self._open[0] != key:
            self.flush()
            if info.name not in self._prepared:
                self._relax(info)
                self._prepared.add(info.name)
            cursor = self.conn.connection.driver_connection.cursor()
            stack = ExitStack()
            copy = stack.enter_context(cursor.copy(sql, writer=QueuedLibpqWriter(cursor)))
            self._open = (key, stack, copy)
        return self._open[2], processors, converters

    def write(self, info: TableInfo, attrs: tuple[str, ...], rows: Sequence[tuple]) -> None:
        if not rows:
            return
        copy, processors, converters = self._stream(info, attrs)
        if converters is not None:
            copy.write(_text_block(rows, converters))
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
        """Add every dropped constraint back; PostgreSQL validates each against all rows."""
        self.flush()
        dropped, self._dropped = self._dropped, []
        for table_sql, name, definition in dropped:
            self.conn.exec_driver_sql(f"ALTER TABLE {table_sql} ADD CONSTRAINT {name} {definition}")
