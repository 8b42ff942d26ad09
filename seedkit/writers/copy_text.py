"""Rows as PostgreSQL ``COPY`` text: tab-separated, newline-terminated, ``\\N`` for NULL.

Encoding is the COPY writer's largest Python cost, so it has two speeds. The usual chunk (no
NULL, nothing to escape, no JSON) is one C-level ``%``-format per row; a cheap scan of the result
proves nothing needed care. Any other chunk is converted column by column, NULLs and escapes
included; once a stream has needed care, its later chunks go straight to the careful path.
Dates and timestamps, the one costly ``str()`` (~0.5 µs), are looked up in a memory of the
column's recent values first while the column repeats itself (a few dates, a fuzzy choice).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

from sqlalchemy import Column
from sqlalchemy.types import Enum, TypeDecorator

from seedkit.json_text import dumps
from seedkit.schema import column_kind

# COPY's text format: backslash, tab, newline and carriage return are escaped; NULL is \N.
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
NULL = "\\N"
TEXT = "text"  # strings: escaped only when a chunk needs it
JSON = "json"  # json.dumps (its text, from one kept encoder), then as TEXT


def escape(value: str) -> str:
    """``value`` as a COPY text field; the fingerprint's canonical text for strings as well."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_ESCAPES)
    return value


def _each(convert: Callable[[object], str], values: Sequence, null: str | None = None) -> list:
    """``convert`` of every value, a NULL (None) given as ``null``; one C-level map when none is."""
    if None in values:
        return [null if v is None else convert(v) for v in values]
    return list(map(convert, values))


def needs_escape(values: Sequence[str]) -> bool:
    """One C-level scan of the whole column; most generated text has nothing to escape."""
    joined = "".join(values)
    return "\\" in joined or "\t" in joined or "\n" in joined or "\r" in joined


# Kinds whose str() is worth remembering, and how many distinct values a column remembers.
_REMEMBERED_KINDS = frozenset({"date", "timestamp", "timestamptz"})
MEMORY = 1 << 14


class _Remembered:
    """``str()`` with a memory, for one column, dropped for good once its values stop repeating.

    A column of a few repeated dates hits its memory for nearly every row (2.4x faster when the
    demo's order dates came from a pool); a column of distinct values would pay for every miss,
    so after a chunk where most values were new it goes back to plain ``str()``.
    """

    def __init__(self) -> None:
        self.convert: Callable[[object], str] | None = functools.lru_cache(maxsize=MEMORY)(str)

    def __call__(self, values: Sequence) -> Sequence:
        convert = self.convert
        if convert is None:
            return values
        missed = convert.cache_info().misses
        converted = _each(convert, values)
        if convert.cache_info().misses - missed > len(values) // 2:
            self.convert = None
        return converted


# str() of these is input PostgreSQL reads back as the same value ("True" is a boolean there).
_CONVERTERS: dict[str, Callable[[object], str] | str] = {
    "bool": str,
    "int": str,
    "float": str,
    "numeric": str,
    "date": str,
    "timestamp": str,
    "timestamptz": str,
    "uuid": str,
    "json": JSON,
    "text": TEXT,
}


class TextEncoder:
    """Encodes chunks of rows for one COPY column list."""

    def __init__(self, converters: list[Callable[[object], str] | str], remembered: Sequence[int] = ()) -> None:
        self.converters = converters
        self.width = len(converters)
        self._remembered = {i: _Remembered() for i in remembered}
        plain = all(c is str or c == TEXT for c in converters)
        self._row_format: str | None = "\t".join(["%s"] * self.width) + "\n" if plain else None

    @classmethod
    def for_columns(cls, columns: Sequence[Column]) -> TextEncoder | None:
        """An encoder for these columns, or None when psycopg must adapt some of their values."""
        converters, remembered = [], []
        for i, column in enumerate(columns):
            if isinstance(column.type, TypeDecorator | Enum):
                # User code in process_bind_param, or a Python enum whose name is what is stored
                # (str() of a member is "Status.ACTIVE"): SQLAlchemy's conversion, then psycopg.
                return None
            kind = column_kind(column)
            convert = _CONVERTERS.get(kind)
            if convert is None:
                return None
            converters.append(convert)
            if kind in _REMEMBERED_KINDS:
                remembered.append(i)
        return cls(converters, remembered)

    def encode(self, rows: Sequence[tuple]) -> bytes:
        columns = None
        if self._remembered and rows:
            columns = list(zip(*rows, strict=True))
            for i, remember in self._remembered.items():
                columns[i] = remember(columns[i])
        if self._row_format is not None:
            payload = self._plain(rows if columns is None else list(zip(*columns, strict=True)), self._row_format)
            if payload is not None:
                return payload
            self._row_format = None  # this stream has NULLs or text to escape: stop trying
        return self._column_wise(list(zip(*rows, strict=True)) if columns is None else columns)

    def _plain(self, rows: Sequence[tuple], row_format: str) -> bytes | None:
        """Every value through ``%s``; None if any value was NULL or held a character to escape."""
        text = "".join(map(row_format.__mod__, rows))
        n = len(rows)
        if (
            text.count("\n") != n
            or text.count("\t") != n * (self.width - 1)
            or "\\" in text
            or "\r" in text
            or "None" in text  # a NULL, or text that says None: either way, take care
        ):
            return None
        return text.encode()

    def _column_wise(self, columns: Sequence[Sequence]) -> bytes:
        converted = []
        for convert, values in zip(self.converters, columns, strict=True):
            if convert == JSON:
                values = _each(dumps, values)
                convert = TEXT
            if convert == TEXT:
                present = [v for v in values if v is not None] if None in values else values
                convert = escape if needs_escape(present) else str
            converted.append(_each(convert, values, NULL))
        return ("\n".join(map("\t".join, zip(*converted, strict=True))) + "\n").encode()
