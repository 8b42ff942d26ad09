"""A run's fingerprint from the rows as seedkit writes them, reading back only what it must.

The fingerprint proves what a database holds (:mod:`seedkit.fingerprints`). Reading every row
back to prove what a run has just written cost a fifth of a SQLite run, on the run's own thread,
and on PostgreSQL about 1.1 s of the server's CPU at 1.2M rows. Instead each chunk is rendered
to the fingerprint's canonical text as it is written, by the backend's model of how it stores
each value (:meth:`~seedkit.backends.Backend.stored_text`), and hashed in key order: the same
text ``seedkit fingerprint`` later computes from the tables, so the two are equal. That text is
``COPY`` text: a writer that sends it as it is (:attr:`~seedkit.writers.Writer.sends_canonical`)
is handed the text instead of the rows (:class:`CanonicalRows`) and hashes what it sends.

A table is read back instead wherever the database may hold something other than the rows
written: rows that were there before the run, a trigger or rule, a column the database fills, a
key not written in order, a value whose stored form the backend cannot promise, rows factory-boy
built, or an UPDATE after the rows went in; and on a backend that hashes its tables itself for
this writer (:meth:`~seedkit.backends.Backend.hashes_tables`: PostgreSQL, for writers other than
COPY). :attr:`RunHashes.read_back` says which and why. Where the backend allows, such a table is
hashed as soon as its rows are in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial
from itertools import repeat
from typing import Any

from sqlalchemy import Column, Connection, Table

from seedkit.backends import backend_of_connection
from seedkit.fingerprints import NULL, NotExact, Render, TableFingerprint, reflect_tables, table_fingerprint
from seedkit.schema import TableInfo, column_kind

# Key kinds whose order is the same in Python and on every backend (a text key sorts by collation).
_ORDERED_KINDS = frozenset({"int", "uuid"})


class _Layout:
    """How one list of written columns becomes the table's canonical lines."""

    def __init__(self, slots: list[tuple[int | None, Render | None]], key: list[int]) -> None:
        self.slots = slots  # per table column, by name: (position in the written row, render)
        self.key = key  # positions of the primary key's columns in the written row
        # A render gives values whose str() is the text: "%s" makes it in C, row by row.
        self.line = "\t".join(["%s"] * len(slots)) + "\n"


@dataclass(frozen=True)
class CanonicalRows:
    """Rows as the fingerprint's canonical text, which is ``COPY`` text: a writer that sends it as
    it is (:attr:`~seedkit.writers.Writer.sends_canonical`) feeds ``digest`` with ``payload`` as it
    sends it, on its own thread (hashing lets go of the GIL)."""

    columns: tuple[str, ...]  # every column of the table, by name: the COPY column list
    payload: bytes
    digest: Any  # the table's hashlib object


@dataclass(frozen=True)
class RenderedChunk:
    """A chunk a worker process rendered to canonical text (:meth:`RunHashes.renderer`): the
    payload, and what the parent's tally needs to count it and to check it follows the rows
    before it, since the worker saw only its own chunks."""

    columns: tuple[str, ...]
    payload: bytes
    rows: int
    first_key: Any
    last_key: Any


class _Tally:
    """One table's hash, fed chunk by chunk in primary-key order."""

    def __init__(self, table: Table, stored_text: Callable[[Column, Column], Render | str]) -> None:
        self.table = table
        self.columns = sorted(table.columns, key=lambda c: c.name)
        self.names = tuple(c.name for c in self.columns)
        self.key_names = [c.name for c in table.primary_key.columns]
        self.digest = hashlib.sha256()
        self.rows = 0
        self.last_key: Any = None
        self._stored_text = stored_text
        self._layouts: dict[tuple[str, ...], _Layout] = {}

    def text(self, info: TableInfo, attrs: tuple[str, ...], rows: Sequence[tuple]) -> bytes:
        """The rows' canonical lines, counted but not hashed yet: the caller feeds :attr:`digest`."""
        return self._render(info, attrs, rows)[0]

    def rendered(self, info: TableInfo, attrs: tuple[str, ...], rows: Sequence[tuple]) -> RenderedChunk:
        """:meth:`text` in a worker process, on its forked copy of the tally (whose count and
        last key only that worker sees: the parent checks the chunks follow each other)."""
        payload, first_key = self._render(info, attrs, rows)
        return RenderedChunk(self.names, payload, len(rows), first_key, self.last_key)

    def received(self, chunk: RenderedChunk) -> bool:
        """Count a chunk a worker rendered; False if it does not follow the rows before it."""
        if self.last_key is not None and not self.last_key < chunk.first_key:
            return False
        self.rows += chunk.rows
        self.last_key = chunk.last_key
        return True

    def _render(self, info: TableInfo, attrs: tuple[str, ...], rows: Sequence[tuple]) -> tuple[bytes, Any]:
        layout = self._layout(info, attrs)
        columns = list(zip(*rows, strict=True))
        first_key = self._check_order(layout, columns)
        n = len(rows)
        texts = [repeat(NULL, n) if at is None else render(columns[at]) for at, render in layout.slots]
        self.rows += n
        return "".join(map(layout.line.__mod__, zip(*texts, strict=True))).encode(), first_key

    def result(self) -> TableFingerprint:
        return TableFingerprint(rows=self.rows, hash=self.digest.hexdigest())

    def _layout(self, info: TableInfo, attrs: tuple[str, ...]) -> _Layout:
        layout = self._layouts.get(attrs)
        if layout is not None:
            return layout
        written = {info.column_name(a): (i, info.columns[info.attrs.index(a)]) for i, a in enumerate(attrs)}
        slots: list[tuple[int | None, Render | None]] = []
        for column in self.columns:
            if column.name not in written:
                if column.server_default is not None or column.computed is not None or column.identity is not None:
                    raise NotExact(f"the database fills its column {column.name}")
                slots.append((None, None))
                continue
            at, model_column = written[column.name]
            render = self._stored_text(model_column, column)
            if isinstance(render, str):
                raise NotExact(render)
            slots.append((at, render))
        missing = [name for name in self.key_names if name not in written]
        if missing:
            raise NotExact(f"the database numbers its key ({', '.join(missing)})")
        layout = _Layout(slots, [written[name][0] for name in self.key_names])
        self._layouts[attrs] = layout
        return layout

    def _check_order(self, layout: _Layout, columns: list[Sequence]) -> Any:
        """The rows must come in key order, as the fingerprint lists them: their first key."""
        keys: Sequence = (
            columns[layout.key[0]]
            if len(layout.key) == 1
            else list(zip(*(columns[i] for i in layout.key), strict=True))
        )
        try:
            ordered = list(keys) == sorted(keys) and (self.last_key is None or self.last_key < keys[0])
        except TypeError:  # None, or values of different types
            ordered = False
        if not ordered:
            raise NotExact("its rows were not written in key order")
        self.last_key = keys[-1]
        return keys[0]


def _unordered(table: Table, rows_before: int, triggered: set[str]) -> str | None:
    """Why ``table``'s rows as written may not be, in order, what it will hold; None if they are."""
    kinds = {column_kind(c) for c in table.primary_key.columns}
    if rows_before:
        return "it held rows before this run"
    if triggered:
        return f"a trigger or rule (on {', '.join(sorted(triggered))}) may change any table"
    if not kinds:
        return "it has no primary key, so its rows are hashed in sorted order"
    if not kinds <= _ORDERED_KINDS:
        return "its key is ordered by the database's collation"
    return None


class RunHashes:
    """The fingerprints of the tables a run writes, from its rows where possible.

    The seeder tells it what it writes (:meth:`wrote`), when a table is complete
    (:meth:`settled`) and when it cannot vouch for a table's rows (:meth:`read_back_table`,
    :meth:`give_up`); :meth:`known` gives the runner every fingerprint it need not compute.
    """

    def __init__(
        self,
        conn: Connection,
        tables: Iterable[str],
        before: Mapping[str, int],
        ask: Callable[[Callable[[Connection], TableFingerprint]], Future[TableFingerprint]],
        sends_canonical: bool = False,
    ) -> None:
        """``tables``: the recipe's; ``before``: rows each held before the run; ``ask``: the
        lane, which runs a function on the connection once every row so far is written;
        ``sends_canonical``: whether the run's writer sends the canonical text it is given."""
        names = set(tables)
        backend = backend_of_connection(conn)
        # One reflection, now, before any writer drops a key (and for the early hashes below).
        self._described = reflect_tables(conn, lambda name, _: name in names)
        self._ask = ask
        self._early = backend.hashable_early(conn)
        self._hashes: dict[str, Future[TableFingerprint]] = {}
        self.read_back: dict[str, str] = {}

        def stored_text(written: Column, stored: Column) -> Render | str:
            return backend.stored_text(conn, written, stored)

        # A trigger's function may write to any table, not only its own.
        self.triggered = backend.triggered_tables(conn)
        self.sends_canonical = sends_canonical
        on_the_server = backend.hashes_tables(conn, sends_canonical)
        self._tallies: dict[str, _Tally] = {}
        for name in sorted(names):
            table = self._described.tables[name]
            reason = on_the_server or _unordered(table, before.get(name, 0), self.triggered)
            if reason is None:
                self._tallies[name] = _Tally(table, stored_text)
            else:
                self.read_back_table(name, reason)

    def wrote(self, info: TableInfo, attrs: tuple[str, ...], rows: Sequence[tuple]) -> CanonicalRows | None:
        """``rows`` (values in ``attrs`` order) are going into ``info``'s table, after those before.

        Where the writer sends canonical text, the rows' text to send instead of the rows; else
        None, and the rows are hashed here.
        """
        tally = self._tallies.get(info.name)
        if tally is None or not rows:
            return None
        try:
            text = tally.text(info, attrs, rows)
        except NotExact as why:
            self.read_back_table(info.name, str(why))
            return None
        if self.sends_canonical:
            return CanonicalRows(tally.names, text, tally.digest)
        tally.digest.update(text)
        return None

    def renderer(self, info: TableInfo, attrs: tuple[str, ...]) -> Callable[[Sequence[tuple]], RenderedChunk] | None:
        """How a worker process renders a chunk of ``info``'s rows (raising
        :class:`~seedkit.fingerprints.NotExact` where it cannot), for the parent to
        :meth:`receive`: None where the writer does not send canonical text or the table is
        read back anyway. A forked worker renders on its own copy of the table's tally."""
        tally = self._tallies.get(info.name)
        if tally is None or not self.sends_canonical:
            return None
        return partial(tally.rendered, info, attrs)

    def receive(self, info: TableInfo, chunk: RenderedChunk) -> CanonicalRows:
        """A chunk a worker rendered, to send as it is; hashed unless the table is read back."""
        tally = self._tallies.get(info.name)
        if tally is not None and not tally.received(chunk):
            self.read_back_table(info.name, "its rows were not written in key order")
            tally = None
        # A table read back since the chunk was rendered still takes its text: only unhashed.
        return CanonicalRows(chunk.columns, chunk.payload, hashlib.sha256() if tally is None else tally.digest)

    def read_back_table(self, name: str, reason: str) -> None:
        """The table's rows cannot be vouched for as written: hash what it holds instead."""
        self._tallies.pop(name, None)
        self.read_back.setdefault(name, reason)

    def settled(self, name: str) -> None:
        """The table's last rows are written: hash it on the server now, if it must be read back."""
        if name in self.read_back and self._early:
            table = self._described.tables[name]
            self._hashes[name] = self._ask(lambda conn: table_fingerprint(conn, table))

    def give_up(self, reason: str) -> None:
        """Rows may go into any table, hashed or not (factory-boy's SubFactories): read all at the end."""
        self._early = False
        self._hashes.clear()
        for name in self._described.tables:
            self._tallies.pop(name, None)
            self.read_back[name] = reason

    def known(self) -> dict[str, TableFingerprint]:
        """Fingerprints computed so far: the written tables' and those hashed early."""
        found = {name: tally.result() for name, tally in self._tallies.items()}
        found.update({name: done.result() for name, done in self._hashes.items()})
        return found
