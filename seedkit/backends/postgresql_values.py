"""What PostgreSQL keeps of the values seedkit writes, as the fingerprint's canonical text.

The server renders a table's fingerprint with the SQL of :func:`seedkit.backends.postgresql.
canonical_text`; these functions give the same text from the values before they are sent, so a
run need not hash its tables on the server. Each is strict: a value whose stored form depends on
the writer (COPY's text or psycopg's binary), on the session (a naive time in a ``timestamptz``)
or on rules the server applies differently from Python (a float's exponent, ``real``'s rounding,
``char(n)``'s padding) raises :class:`~seedkit.fingerprints.NotExact`, and the table is read back.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import uuid
from collections.abc import Sequence
from json.encoder import encode_basestring
from operator import attrgetter, methodcaller
from typing import Any

from sqlalchemy import CHAR, REAL, Column
from sqlalchemy.types import TypeDecorator

from seedkit.fingerprints import (
    JSONB_TEXT,
    NotExact,
    Render,
    _decimal_text,
    _float_text,
    jsonb_key_order,
    only,
    with_nulls,
)
from seedkit.schema import column_kind

_ISO = methodcaller("isoformat", "T", "microseconds")
_BITS = {True: "1", False: "0"}
# Python writes a float's exponent below 1e-4 and from 1e16, PostgreSQL's float8 from 1e15.
_PLAIN_FLOATS = (1e-4, 1e15)
# jsonb keeps a number's text as numeric: the same as Python's repr while repr has no exponent.
_PLAIN_JSON_FLOATS = (1e-4, 1e16)


def stored_text(written: Column, stored: Column) -> Render | str:
    """The render for values written to ``written`` (the model's column) and kept in ``stored``
    (the table's, as reflected), or why the text cannot be told before the server has it."""
    name = stored.name
    if isinstance(written.type, TypeDecorator):
        return f"{name}'s type converts its values in Python code"
    kind = column_kind(stored)
    if kind == "float" and isinstance(stored.type, REAL):
        return f"{name} is real, which rounds values to single precision"
    if kind in ("timestamp", "timestamptz") and (getattr(stored.type, "precision", None) or 6) < 6:
        return f"{name} rounds times to {stored.type.precision} decimal places"
    if kind == "text" and isinstance(stored.type, CHAR):
        return f"{name} is char(n), which pads values with blanks"
    if kind == "json":
        return _json(name)
    make = _RENDERS.get(kind)
    if make is None:
        return f"{name}'s type ({stored.type}) has no canonical text in seedkit"
    return with_nulls(make(name, stored))


def _bool(name: str, stored: Column) -> Render:
    def render(values: Sequence[Any]) -> list[str]:
        only(values, (bool,), name)
        return list(map(_BITS.__getitem__, values))

    return render


def _int(name: str, stored: Column) -> Render:
    def render(values: Sequence[Any]) -> list[str]:
        only(values, (int,), name)
        return list(map(str, values))

    return render


def _float(name: str, stored: Column) -> Render:
    low, high = _PLAIN_FLOATS

    def render(values: Sequence[Any]) -> list[str]:
        only(values, (float, int), name)
        texts = list(map(_float_text, values))
        sizes = [abs(v) for v in values if v]
        if sizes and not (low <= min(sizes) and max(sizes) < high) or "n" in "".join(texts):  # nan, inf
            raise NotExact(f"{name} holds floats the server writes with an exponent")
        return texts

    return render


def _numeric(name: str, stored: Column) -> Render:
    scale = getattr(stored.type, "scale", None)
    step = None if scale is None else decimal.Decimal(1).scaleb(-scale)

    def text(value: decimal.Decimal | int) -> str:
        if type(value) is int:
            return str(value)
        if not value.is_finite():
            raise NotExact(f"{name} holds {value}")
        if step is not None:
            value = value.quantize(step, decimal.ROUND_HALF_UP)  # the server rounds ties away from zero
        return _decimal_text(value)

    def render(values: Sequence[Any]) -> list[str]:
        only(values, (decimal.Decimal, int), name)
        try:
            return list(map(text, values))
        except decimal.InvalidOperation:
            raise NotExact(f"{name} holds a value too large for its scale") from None

    return render


def _timestamp(name: str, stored: Column) -> Render:
    def render(values: Sequence[Any]) -> list[str]:
        only(values, (dt.datetime,), name)
        if any(map(attrgetter("tzinfo"), values)):
            raise NotExact(f"{name} has no time zone but was given aware datetimes")
        return list(map(_ISO, values))

    return render


def _utc_text(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat("T", "microseconds")[:26]


def _timestamptz(name: str, stored: Column) -> Render:
    def render(values: Sequence[Any]) -> list[str]:
        only(values, (dt.datetime,), name)
        zones = set(map(attrgetter("tzinfo"), values))
        if None in zones:
            raise NotExact(f"{name} was given naive datetimes, read in the session's time zone")
        if zones == {dt.UTC}:
            return [text[:26] for text in map(_ISO, values)]
        return list(map(_utc_text, values))

    return render


def _date(name: str, stored: Column) -> Render:
    def render(values: Sequence[Any]) -> list[str]:
        only(values, (dt.date,), name)
        return list(map(dt.date.isoformat, values))

    return render


def _uuid(name: str, stored: Column) -> Render:
    def hex_of(value: uuid.UUID | str) -> str:
        try:
            return f'"{(value if type(value) is uuid.UUID else uuid.UUID(value)).hex}"'
        except ValueError:
            raise NotExact(f"{name} holds {value!r}, not a UUID") from None

    def render(values: Sequence[Any]) -> list[str]:
        only(values, (uuid.UUID, str), name)
        return list(map(hex_of, values))

    return render


def _bytes(name: str, stored: Column) -> Render:
    def render(values: Sequence[Any]) -> list[str]:
        only(values, (bytes, bytearray, memoryview), name)
        return [bytes(v).hex() for v in values]

    return render


def _text(name: str, stored: Column) -> Render:
    length = getattr(stored.type, "length", None)

    def render(values: Sequence[Any]) -> list[str]:
        only(values, (str,), name)
        if length is not None and values and max(map(len, values)) > length:
            raise NotExact(f"{name} holds values longer than {length} characters")
        return list(map(encode_basestring, values))

    return render


def _json(name: str) -> Render:
    """Objects in ``jsonb``'s key order; floats only where jsonb's numeric text is Python's."""
    low, high = _PLAIN_JSON_FLOATS

    def ordered(value: Any) -> Any:
        kind = type(value)
        if kind is dict:
            try:
                return {k: ordered(value[k]) for k in jsonb_key_order(tuple(value))}
            except AttributeError:
                raise NotExact(f"{name} holds objects with keys that are not strings") from None
        if kind is list or kind is tuple:
            return [ordered(v) for v in value]
        if kind is float and not (low <= abs(value) < high or (value == 0 and math.copysign(1, value) > 0)):
            raise NotExact(f"{name} holds floats jsonb writes differently ({value!r})")
        if kind not in _JSON_SCALARS:
            raise NotExact(f"{name} holds {kind.__name__} values")
        return value

    def render(values: Sequence[Any]) -> list[str]:
        if None in values:
            raise NotExact(f"{name} holds None, which one writer sends as SQL NULL and another as JSON null")
        return [encode_basestring(JSONB_TEXT.encode(ordered(v))) for v in values]

    return render


_JSON_SCALARS = frozenset({str, int, float, bool, type(None), dict, list, tuple})

_RENDERS = {
    "bool": _bool,
    "int": _int,
    "float": _float,
    "numeric": _numeric,
    "timestamp": _timestamp,
    "timestamptz": _timestamptz,
    "date": _date,
    "uuid": _uuid,
    "bytes": _bytes,
    "text": _text,
}
