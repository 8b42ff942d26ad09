"""Stable per-table content hashes: the proof that two databases hold the same data.

Each value is rendered as canonical text chosen by its column's type, so the same logical rows
give the same text on SQLite and PostgreSQL: integers as digits, booleans as 1 and 0, decimals
without trailing zeros, timestamps as ``YYYY-MM-DDTHH:MM:SS.ffffff`` (UTC when aware), UUIDs as
32 hex digits, JSON in PostgreSQL ``jsonb``'s text form, NULL as ``\\N``. Strings (and JSON text)
are escaped as PostgreSQL's ``COPY`` text format escapes them, fields are joined by tabs and each
row (in primary-key order) ends with a newline: the table's text is a ``COPY`` payload, so the
payload seedkit sends can be hashed as it goes (:mod:`seedkit.written`). The table hash is the
SHA-256 of that text. :data:`FORMAT` numbers this definition; a run records it beside its
fingerprint, since fingerprints of two formats cannot be compared.

PostgreSQL computes the text and the hash itself (one query per table, no rows cross the wire,
in :mod:`seedkit.backends.postgresql`); SQLite's raw values are rendered in Python by the
mirror-image functions below.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import hashlib
import json
import operator
import uuid
import warnings
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Connection, MetaData, Table
from sqlalchemy.exc import SAWarning

from seedkit.backends import backend_of_connection
from seedkit.json_text import jsonb_dumps
from seedkit.schema import column_kind
from seedkit.writers.copy_text import escape

# seedkit's bookkeeping and Alembic's are not the user's data.
IGNORED_TABLES = frozenset({"alembic_version", "seedkit_runs"})
NULL = "\\N"
# 2: strings, JSON and UUIDs as COPY text (1 quoted them as JSON literals), every row ending in a newline.
FORMAT = 2
MEMORY = 1 << 16  # distinct values a column's render remembers (see remembered)
_TIMESTAMP = "%Y-%m-%dT%H:%M:%S.%f"
# A datetime as ``YYYY-MM-DDTHH:MM:SS.ffffff`` (and its offset, if it has one), microseconds always.
ISO_TIME = operator.methodcaller("isoformat", "T", "microseconds")


class NotExact(Exception):
    """Written values whose stored text seedkit cannot promise without reading them back; the
    message says why, and the run's report repeats it."""


# Per column: the values as the table will hold them (None included), as objects whose str() is
# the canonical text: the texts themselves, or the values where str() already gives it (integers).
Render = Callable[[Sequence[Any]], Sequence[object]]


@dataclass(frozen=True)
class TableFingerprint:
    rows: int
    hash: str


@dataclass(frozen=True)
class Fingerprint:
    tables: dict[str, TableFingerprint]
    overall: str

    def to_json(self) -> dict[str, Any]:
        return {
            "tables": {name: {"rows": t.rows, "hash": t.hash} for name, t in self.tables.items()},
            "overall": self.overall,
        }


_JSON_PLAIN = frozenset({str, int, bool, type(None)})


def jsonb_ordered(value: Any, float_ok: Callable[[float], bool], column: str) -> Any:
    """``value`` with its objects' keys in ``jsonb``'s order, for :func:`jsonb_dumps`; raises
    :class:`NotExact` for what the database would keep differently (a float ``float_ok``
    refuses, a key that is not a string, a type JSON has not)."""
    kind = type(value)
    if kind is dict:
        try:
            order = jsonb_key_order(tuple(value))
        except AttributeError:
            raise NotExact(f"{column} holds objects with keys that are not strings") from None
        return {
            k: v if type(v) in _JSON_PLAIN else jsonb_ordered(v, float_ok, column)
            for k, v in zip(order, map(value.__getitem__, order), strict=True)
        }
    if kind is list or kind is tuple:
        if set(map(type, value)) <= _JSON_PLAIN:
            return value
        return [jsonb_ordered(v, float_ok, column) for v in value]
    if kind in _JSON_PLAIN:
        return value
    if kind is float:
        if not float_ok(value):
            raise NotExact(f"{column} holds floats the database writes differently ({value!r})")
        return value
    raise NotExact(f"{column} holds {kind.__name__} values")


_is_none = functools.partial(operator.is_, None)


def remembered(
    memory: dict[Any, str], values: Sequence[Any], render: Callable[[Any], str], keys: Sequence[Any] | None = None
) -> list[str]:
    """``render`` of each value, looked up first in ``memory`` (under ``keys``, default the values
    themselves), which keeps what it renders until it holds :data:`MEMORY` texts."""
    keys = values if keys is None else keys
    try:
        texts = list(map(memory.get, keys))
    except TypeError:  # an unhashable value (a signalling NaN): nothing to remember
        return list(map(render, values))
    if None in texts:
        keep = len(memory) < MEMORY
        for i, text in enumerate(texts):
            if text is None:
                texts[i] = text = render(values[i])
                if keep:
                    memory[keys[i]] = text
    return texts


def documents(column: str, float_ok: Callable[[float], bool], null: str) -> Render:
    """JSON documents as ``jsonb``'s text, escaped, each rendered once. Putting a document's keys
    in ``jsonb``'s order is a Python walk (3.5 µs a task's metadata, against 0.5 µs for its
    repr), and a column's documents often repeat, so each ordered text is remembered under the
    document's repr, which tells documents apart as well as their text does (1, 1.0, True and
    "1" differ in both). ``None`` is ``null`` (SQL NULL, or JSON's own)."""
    memory: dict[str, str] = {}

    def ordered(value: Any) -> str:
        return null if value is None else escape(jsonb_dumps(jsonb_ordered(value, float_ok, column)))

    def render(values: Sequence[Any]) -> Sequence[object]:
        return remembered(memory, values, ordered, list(map(repr, values)))

    return render


def with_nulls(render: Render) -> Render:
    """``render`` for columns with NULLs: it sees only the values, NULL is ``\\N``."""

    def both(values: Sequence[Any]) -> Sequence[object]:
        # Not ``None in values``: comparing a Decimal with None goes through an ABC check.
        if not any(map(_is_none, values)):
            return render(values)
        texts = iter(render([v for v in values if v is not None]))
        return [NULL if v is None else next(texts) for v in values]

    return both


def only(values: Sequence[Any], types: tuple[type, ...], column: str) -> None:
    """Raise :class:`NotExact` unless every value is exactly one of ``types`` (no subclasses: a
    bool is not an int to a database, a datetime not a date)."""
    found = set(map(type, values))
    found.discard(type(None))
    if not found.issubset(types):
        strange = sorted(t.__name__ for t in found - set(types))
        raise NotExact(f"{column} was given {', '.join(strange)} values")


# -- the canonical text, per column kind, rendered in Python (PostgreSQL's SQL is its backend's) --


def _decimal_text(value: Any) -> str:
    number = value if isinstance(value, decimal.Decimal) else decimal.Decimal(repr(value))
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def _float_text(value: float) -> str:
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def _timestamp_text(value: Any) -> str:
    if isinstance(value, str):
        if len(value) == 26 and value[10] == " ":  # SQLAlchemy's SQLite format, microseconds included
            return value.replace(" ", "T", 1)
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.strftime(_TIMESTAMP)


def _jsonb_text(value: Any) -> str:
    """``jsonb``'s text form: keys ordered by length then bytes, ``", "`` and ``": "`` separators."""
    if isinstance(value, (str, bytes)):
        value = json.loads(value)
    return jsonb_dumps(jsonb_ordered(value, any_float, "json"))


@functools.lru_cache(maxsize=1 << 12)
def jsonb_key_order(keys: tuple[str, ...]) -> tuple[str, ...]:
    """``jsonb``'s order of an object's keys: by length in bytes, then bytewise. Objects of one
    column mostly share their keys, so each set of them is sorted once."""
    return tuple(sorted(keys, key=lambda k: (len(k.encode()), k.encode())))


def any_float(value: float) -> bool:
    """Every float: where a JSON text is Python's own (SQLite, read back), its floats come back exactly."""
    return True


def _remembering(render: Callable[[Any], str]) -> Callable[[Any], str]:
    """``render`` with a memory: decimal and JSON columns often repeat a few values (prices, tags).

    Only for renderers that give equal values the same text (1, 1.0 and Decimal("1.00") are all
    "1"), since the cache cannot tell them apart.
    """
    cached = functools.lru_cache(maxsize=1 << 16)(render)

    def lookup(value: Any) -> str:
        try:
            return cached(value)
        except TypeError:  # unhashable: a driver that hands JSON back decoded
            return render(value)

    return lookup


PYTHON: dict[str, Callable[[Any], str]] = {
    "bool": {True: "1", False: "0"}.__getitem__,  # SQLite hands back 1 and 0, equal to these keys
    "int": str,
    "float": _float_text,
    "numeric": _remembering(_decimal_text),
    "timestamp": _timestamp_text,
    "timestamptz": _timestamp_text,
    "date": lambda v: v if isinstance(v, str) else v.isoformat(),
    "json": _remembering(lambda v: escape(_jsonb_text(v))),
    "uuid": lambda v: (v if isinstance(v, uuid.UUID) else uuid.UUID(str(v))).hex,
    "bytes": lambda v: bytes(v).hex(),
    "text": escape,
    "other": str,
}


def layout(conn: Connection, table: Table) -> tuple[Callable[[str], str], list[Column], list[str], str]:
    """What both hashers need: the quoting function, columns by name, quoted key, quoted table."""
    preparer = conn.dialect.identifier_preparer
    columns = sorted(table.columns, key=lambda c: c.name)
    pk = [preparer.quote(c.name) for c in table.primary_key.columns]
    return preparer.quote, columns, pk, preparer.format_table(table)


def python_table_fingerprint(conn: Connection, table: Table) -> TableFingerprint:
    """Read the rows and render them here (a backend that cannot hash on the server)."""
    quote, columns, pk, table_sql = layout(conn, table)
    renderers = [PYTHON[column_kind(c)] for c in columns]
    sql = f"SELECT {', '.join(quote(c.name) for c in columns)} FROM {table_sql}"
    if pk:
        sql += f" ORDER BY {', '.join(pk)}"
    digest, count, unordered = hashlib.sha256(), 0, []
    # The driver's own rows: SQLAlchemy's Row adds nothing here.
    with closing(conn.connection.cursor()) as cursor:
        cursor.execute(sql)
        while batch := cursor.fetchmany(10_000):
            texts = [
                [NULL if v is None else render(v) for v in values] if None in values else list(map(render, values))
                for render, values in zip(renderers, zip(*batch, strict=True), strict=True)
            ]
            lines = list(map("\t".join, zip(*texts, strict=True)))
            if not pk:
                unordered += lines
                continue
            digest.update(("\n".join(lines) + "\n").encode())
            count += len(lines)
    if unordered:
        unordered.sort()
        digest.update(("\n".join(unordered) + "\n").encode())
        count = len(unordered)
    return TableFingerprint(rows=count, hash=digest.hexdigest())


def table_fingerprint(conn: Connection, table: Table) -> TableFingerprint:
    """One table's fingerprint; ``table`` as :func:`reflect_tables` describes it (not the model)."""
    return backend_of_connection(conn).table_fingerprint(conn, table)


def fingerprint(conn: Connection, known: dict[str, TableFingerprint] | None = None) -> Fingerprint:
    """Fingerprint every user table reachable on ``conn``.

    ``known`` holds tables already fingerprinted in this transaction and unchanged since (the
    seeder hashes each table as soon as it is written); only the others are read here.
    """
    known = known or {}
    metadata = reflect_tables(conn, lambda name, _: name not in IGNORED_TABLES and name not in known)
    computed = {name: table_fingerprint(conn, table) for name, table in metadata.tables.items()}
    result = dict(sorted({**known, **computed}.items()))
    overall = hashlib.sha256(
        json.dumps({n: [t.rows, t.hash] for n, t in result.items()}, sort_keys=True).encode()
    ).hexdigest()
    return Fingerprint(tables=result, overall=overall)


def reflect_tables(conn: Connection, only: Callable[[str, MetaData], bool] | None = None) -> MetaData:
    """The tables ``only`` picks (default: all), as the database describes them.

    Resolving foreign keys would reflect every table they point at as well, one by one (30-90 ms
    a table on PostgreSQL, on the run's connection). Indexes SQLAlchemy cannot reflect (on
    expressions) are the user's business, not a warning of ours.
    """
    metadata = MetaData()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", SAWarning)
        metadata.reflect(conn, only=only, resolve_fks=False)
    return metadata
