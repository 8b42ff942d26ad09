"""What a SQLite file keeps of the values seedkit writes, as the fingerprint's canonical text.

SQLite's fingerprint reads the driver's values back and renders them in Python
(:data:`seedkit.fingerprints.PYTHON`). Here the same renderers take the values as they will be
stored, without reading them: SQLAlchemy's bind conversion (the one the executemany writer
applies), then the column's type affinity, which turns a number written into a TEXT column into
text and a numeric-looking text in a NUMERIC column into a number. Where that conversion would
change a value in a way the renderer cannot follow, :class:`~seedkit.fingerprints.NotExact` reads
the table back instead.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from sqlalchemy import JSON, Column
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

from seedkit.fingerprints import (
    ISO_TIME,
    NULL,
    PYTHON,
    NotExact,
    Render,
    any_float,
    documents,
    only,
    remembered,
    with_nulls,
)
from seedkit.schema import column_kind

# https://www.sqlite.org/datatype3.html#determination_of_column_affinity
_AFFINITIES = (("INT", "integer"), ("CHAR", "text"), ("CLOB", "text"), ("TEXT", "text"), ("BLOB", "blob"))
_REAL_NAMES = ("REAL", "FLOA", "DOUB")
_NUMBER_LIKE = re.compile(r"\s*[-+]?\.?\d")
_STORED = (str, int, float, bytes, memoryview, bool)  # memoryview: sqlite3.Binary, for BLOBs


def affinity(declared: str) -> str:
    """SQLite's affinity for a column's declared type name."""
    declared = declared.upper()
    for part, name in _AFFINITIES:
        if part in declared:
            return name
    if not declared:
        return "blob"
    return "real" if any(part in declared for part in _REAL_NAMES) else "numeric"


def stored_text(written: Column, stored: Column, dialect: Dialect) -> Render | str:
    """The render for values written to ``written`` (the model's column) and kept in ``stored``
    (the file's, as reflected), or why the text cannot be told without reading it back."""
    name = stored.name
    kind = column_kind(stored)
    if kind == "other":
        return f"{name}'s type ({stored.type}) has no canonical text in seedkit"
    column_affinity = affinity(stored.type.compile(dialect=dialect))
    if kind == "json" and isinstance(written.type, JSON) and column_affinity not in ("text", "blob"):
        return _json(name, written.type.none_as_null)
    raw = _raw(kind, written.type.dialect_impl(dialect))
    if raw is not None:
        return with_nulls(partial(raw, name))
    process = written.type._cached_bind_processor(dialect)
    read = _FAST.get(kind) or _each(PYTHON[kind])
    # Text that looks like a number becomes one outside TEXT columns; times and dates never do.
    numbers_from_text = column_affinity not in ("text", "blob") and kind not in ("timestamp", "timestamptz", "date")

    def render(values: Sequence[Any]) -> list[str]:
        if process is not None:
            values = list(map(process, values))
        present = [v for v in values if v is not None] if None in values else values
        only(present, _STORED, name)
        kinds = set(map(type, present))
        if column_affinity == "text" and not kinds <= {str}:
            raise NotExact(f"{name} is a TEXT column given numbers, which SQLite stores as text")
        if numbers_from_text and str in kinds and any(map(_NUMBER_LIKE.match, (v for v in present if type(v) is str))):
            raise NotExact(f"{name} holds text SQLite stores as a number")
        if float in kinds and kind in ("int", "bool", "json"):
            raise NotExact(f"{name} holds floats SQLite may store as integers")
        if bool in kinds and kind != "bool":
            raise NotExact(f"{name} holds booleans, which SQLite stores as 1 and 0")
        try:
            texts = read(present, kinds)
        except (KeyError, TypeError, ValueError) as exc:
            raise NotExact(f"{name} holds a value seedkit cannot render ({exc})") from None
        if kind == "float" and "-0" in texts:  # SQLite keeps a zero float as the integer 0: its sign is lost
            texts = ["0" if t == "-0" else t for t in texts]
        if present is values:
            return texts
        rendered = iter(texts)
        return [NULL if v is None else next(rendered) for v in values]

    return render


def _raw(kind: str, impl: TypeEngine) -> Callable[[str, Sequence[Any]], Sequence[object]] | None:
    """For SQLAlchemy's own SQLite times and dates, a render of the values before its conversion
    (a Python-level format per value, slower than the text it makes): the same text, sooner."""
    for kinds, sqlite_type, render in _RAW:
        own = isinstance(impl, sqlite_type) and type(impl).__module__.startswith("sqlalchemy.dialects.sqlite")
        if kind in kinds and own:
            if impl._storage_format == sqlite_type._storage_format and impl._reg is None:
                return render
    return None


def _raw_times(name: str, values: Sequence[Any]) -> Sequence[object]:
    """``YYYY-MM-DDTHH:MM:SS.ffffff``: SQLAlchemy keeps the wall time and drops any zone."""
    only(values, (dt.datetime,), name)
    return [text[:26] for text in map(ISO_TIME, values)]


def _raw_dates(name: str, values: Sequence[Any]) -> Sequence[object]:
    only(values, (dt.date,), name)
    return values  # str() of a date is its ISO text


_RAW = (
    (("timestamp", "timestamptz"), sqlite.DATETIME, _raw_times),
    (("date",), sqlite.DATE, _raw_dates),
)


def _each(read: Callable[[Any], str]) -> Callable[[Sequence[Any], set[type]], Sequence[object]]:
    return lambda values, kinds: list(map(read, values))


def _passing(plain: type, read: Callable[[Any], str]) -> Callable[[Sequence[Any], set[type]], Sequence[object]]:
    """Values of type ``plain`` are their own text (integers; dates, kept as ISO text)."""
    return lambda values, kinds: values if kinds <= {plain} else list(map(read, values))


def _times(values: Sequence[Any], kinds: set[type]) -> Sequence[object]:
    """SQLAlchemy's ``YYYY-MM-DD HH:MM:SS.ffffff``, the space made a ``T`` in one pass."""
    if kinds <= {str} and set(map(len, values)) <= {26}:
        return "\n".join(values).replace(" ", "T").split("\n") if values else []
    return list(map(PYTHON["timestamp"], values))


# Decimal texts by value, for every numeric column: prices repeat, and equal values share a text.
_NUMBERS: dict[Any, str] = {}

_FAST = {
    "int": _passing(int, PYTHON["int"]),
    "numeric": lambda values, kinds: remembered(_NUMBERS, values, PYTHON["numeric"]),
    "date": _passing(str, PYTHON["date"]),
    "timestamp": _times,
    "timestamptz": _times,
}


def _json(name: str, none_as_null: bool) -> Render:
    """SQLAlchemy's JSON column: its text is ``json.dumps`` of the value, which reads back as the
    value itself, so the value is rendered without the round trip. A number alone would be stored
    as a number by the column's NUMERIC affinity."""
    texts = documents(name, any_float, NULL if none_as_null else "null")

    def render(values: Sequence[Any]) -> Sequence[object]:
        if {int, float} & set(map(type, values)):
            raise NotExact(f"{name} holds numbers, which its NUMERIC affinity stores as numbers")
        return texts(values)

    return render
