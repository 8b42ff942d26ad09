"""The fingerprint's canonical text of values written to PostgreSQL, which is also their COPY text.

Fingerprint format 2 is a ``COPY`` payload (:mod:`seedkit.fingerprints`), so on PostgreSQL the
text rendered here is what the COPY writer sends, and the run's fingerprint is the hash of what
was sent: no second rendering, and no hashing on the server. That only holds where the server
keeps each value so that it renders back the same text; each render below checks that for its
kind and raises :class:`~seedkit.fingerprints.NotExact` (the table is then read back, and sent
as before) for anything else: a float the server would print with an exponent, a decimal it
would round, a zone the column would drop or a naive time it would place in its own zone, a
string a ``CHAR(n)`` would pad, a value of another type. Python enums are rendered by the name
SQLAlchemy stores for them.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import uuid
from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any

from sqlalchemy import CHAR, Column
from sqlalchemy.dialects.postgresql import DOUBLE_PRECISION
from sqlalchemy.engine import Dialect
from sqlalchemy.types import Enum, TypeDecorator

from seedkit.fingerprints import ISO_TIME, PYTHON, NotExact, Render, documents, only, remembered, with_nulls
from seedkit.schema import column_kind
from seedkit.writers.copy_text import escape, needs_escape

# PostgreSQL prints a float8 without an exponent from 1e-4 up to (not including) 1e15, as
# Python's repr does up to 1e16; in between both give the shortest text that reads back exactly.
_PLAIN_FLOATS = (1e-4, 1e15)
_BOOLS = {True: "1", False: "0"}


def stored_text(written: Column, stored: Column, dialect: Dialect) -> Render | str:
    """The render for values written to ``written`` (the model's column) into ``stored`` (the
    table's, as reflected): text the COPY writer may send and the fingerprint may hash, or why
    there is none."""
    name, kind = stored.name, column_kind(stored)
    if isinstance(written.type, TypeDecorator):
        return f"{name}'s type converts values in the model's own code"
    if column_kind(written) != kind:
        return f"{name} is {stored.type} in the database but {written.type} in the model"
    if kind == "float" and not isinstance(stored.type, DOUBLE_PRECISION):
        return f"{name} is {stored.type}, which keeps fewer digits than were written"
    if kind == "text" and isinstance(stored.type, CHAR):
        return f"{name} is {stored.type}, which pads what was written"
    make = _RENDERS.get(kind)
    if make is None:
        return f"seedkit does not render {stored.type} values ({name}) as PostgreSQL prints them"
    render = make(name, stored)
    if isinstance(written.type, Enum):  # a Python enum's members: stored as SQLAlchemy names them
        render = _converted(written.type._cached_bind_processor(dialect), render, name)
    # NULL is an error in a NOT NULL column (the render refuses None): no need to look for it.
    return with_nulls(render) if stored.nullable else render


def _converted(process: Callable[[Any], Any] | None, render: Render, name: str) -> Render:
    """``render`` of the values as SQLAlchemy's bind conversion leaves them."""
    if process is None:
        return render

    def convert(values: Sequence[Any]) -> Sequence[object]:
        try:
            return render(list(map(process, values)))
        except LookupError:  # not one of the enum's values: the write fails and says so
            raise NotExact(f"{name} was given values its enum does not have") from None

    return convert


def _ints(name: str, stored: Column) -> Render:
    def render(values: Sequence[Any]) -> Sequence[object]:
        only(values, (int,), name)
        return values  # str() of an int is its text

    return render


def _bools(name: str, stored: Column) -> Render:
    def render(values: Sequence[Any]) -> Sequence[object]:
        try:
            return list(map(_BOOLS.__getitem__, values))
        except (KeyError, TypeError):
            raise NotExact(f"{name} was given values that are not booleans") from None

    return render


def _floats(name: str, stored: Column) -> Render:
    low, high = _PLAIN_FLOATS

    def render(values: Sequence[Any]) -> Sequence[object]:
        only(values, (float, int), name)
        if not all(v == 0 or low <= abs(v) < high for v in values):  # NaN and infinities fail too
            raise NotExact(f"{name} holds floats PostgreSQL prints in another form (an exponent, NaN)")
        return list(map(PYTHON["float"], values))

    return render


def _decimals(name: str, stored: Column) -> Render:
    """Decimals as ``trim_scale`` prints them, remembered: a column of prices repeats a few
    thousand values (3x faster than formatting each). Equal values share their text, which is
    right: a value equal to one within the column's scale is kept exactly too."""
    scale = getattr(stored.type, "scale", None)
    memory: dict[Any, str] = {}

    def text(value: Any) -> str:
        if type(value) not in (decimal.Decimal, int):
            raise NotExact(f"{name} was given {type(value).__name__} values")
        exponent = value.as_tuple().exponent if type(value) is decimal.Decimal else 0
        if not isinstance(exponent, int) or (scale is not None and -exponent > scale):
            raise NotExact(f"{name} holds decimals PostgreSQL rounds or cannot keep (scale {scale})")
        return PYTHON["numeric"](value)

    def render(values: Sequence[Any]) -> Sequence[object]:
        return remembered(memory, values, text)

    return render


def _timestamps(name: str, stored: Column) -> Render:
    def render(values: Sequence[Any]) -> Sequence[object]:
        only(values, (dt.datetime,), name)
        texts = list(map(ISO_TIME, values))
        if not set(map(len, texts)) <= {26}:  # an offset after the microseconds: an aware time
            raise NotExact(f"{name} holds times with a zone, which it keeps without")
        return texts

    return render


def _zoned_timestamps(name: str, stored: Column) -> Render:
    """A ``timestamptz`` keeps an instant: its text is the UTC wall time, which the COPY writer
    sends with the session in UTC (see ``seedkit.writers.copy``). A naive time would be read in
    the server's own zone by any other writer: read back instead."""

    def render(values: Sequence[Any]) -> Sequence[object]:
        only(values, (dt.datetime,), name)
        if any(v.utcoffset() is None for v in values):
            raise NotExact(f"{name} holds times without a zone, which the server's zone would decide")
        try:
            return [ISO_TIME(v.astimezone(dt.UTC).replace(tzinfo=None)) for v in values]
        except OverflowError:
            raise NotExact(f"{name} holds times out of range in UTC") from None

    return render


def _dates(name: str, stored: Column) -> Render:
    def render(values: Sequence[Any]) -> Sequence[object]:
        only(values, (dt.date,), name)
        return values  # str() of a date is its ISO text

    return render


def _uuids(name: str, stored: Column) -> Render:
    def render(values: Sequence[Any]) -> Sequence[object]:
        only(values, (uuid.UUID,), name)
        return list(map(attrgetter("hex"), values))

    return render


def _json_float(value: float) -> bool:
    """A float ``jsonb`` prints as Python wrote it: finite, no exponent (it would expand it), not
    -0.0 (a numeric zero has no sign)."""
    text = repr(value)
    return math.isfinite(value) and "e" not in text and text != "-0.0"


def _documents(name: str, stored: Column) -> Render:
    # A nullable column's NULLs never get here (with_nulls): None is JSON's null.
    return documents(name, _json_float, "null")


def _texts(name: str, stored: Column) -> Render:
    length = getattr(stored.type, "length", None)

    def render(values: Sequence[Any]) -> Sequence[object]:
        only(values, (str,), name)
        if length is not None and values and max(map(len, values)) > length:
            # Too long is an error, unless only spaces are over: those are cut silently.
            raise NotExact(f"{name} was given text longer than its {length} characters")
        return list(map(escape, values)) if needs_escape(values) else values

    return render


_RENDERS: dict[str, Callable[[str, Column], Render]] = {
    "int": _ints,
    "bool": _bools,
    "float": _floats,
    "numeric": _decimals,
    "timestamp": _timestamps,
    "timestamptz": _zoned_timestamps,
    "date": _dates,
    "uuid": _uuids,
    "json": _documents,
    "text": _texts,
}
