"""What a column's CHECK constraints allow, read from their SQL.

The shapes schemas use most are understood directly, on both backends' spellings (PostgreSQL
reflects ``x BETWEEN 1 AND 10`` as ``x >= 1 AND x <= 10`` and ``x IN (…)`` as
``x = ANY (ARRAY[…])``, with casts): comparisons with constants, ranges, ``IN`` lists,
``length()``. A single-column CHECK of any other shape is not ignored: :mod:`seedkit.infer_schema`
tests candidate values against it on the server and declares only those that pass.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import CheckConstraint, Column, Connection, Table, text

_CAST = re.compile(r"::\s*(?:\"?[A-Za-z_][\w ]*\"?)(?:\[\])?")
_NUMBER = r"-?\d+(?:\.\d+)?"
_LITERAL = r"'(?:[^']|'')*'|" + _NUMBER


@dataclass(frozen=True)
class Allowed:
    """The values a column's checks allow: a list, bounds, lengths (None: unconstrained)."""

    values: tuple[object, ...] | None = None
    low: Decimal | None = None  # inclusive
    high: Decimal | None = None  # inclusive
    min_length: int | None = None
    max_length: int | None = None
    unparsed: tuple[str, ...] = field(default=())  # checks of another shape, as SQL

    @property
    def bounded(self) -> bool:
        return self.low is not None or self.high is not None


def column_checks(table: Table, column: Column) -> list[str]:
    """The SQL of every CHECK on ``column`` alone: the table's that name no other column, and
    its domain's (``VALUE`` standing for the column)."""
    found = []
    others = [c.name for c in table.columns if c is not column]
    for sql in _check_sql(table):
        if _mentions(sql, column.name) and not any(_mentions(sql, other) for other in others):
            found.append(sql)
    check = getattr(column.type, "check", None)  # a PostgreSQL DOMAIN's
    if check is not None:
        found.append(re.sub(r"\bVALUE\b", column.name, str(check)))
    return found


def multi_column_checks(table: Table) -> list[tuple[str, list[str]]]:
    """``(SQL, columns)`` of the CHECKs that compare several columns of ``table``."""
    found = []
    for sql in _check_sql(table):
        named = [c.name for c in table.columns if _mentions(sql, c.name)]
        if len(named) > 1:
            found.append((sql, named))
    return found


def _check_sql(table: Table) -> list[str]:
    """The SQL of the table's CHECKs, sorted: ``Table.constraints`` is a set, whose order would
    differ between processes (and so would the values drawn for them)."""
    return sorted(str(c.sqltext) for c in table.constraints if isinstance(c, CheckConstraint))


def _mentions(sql: str, name: str) -> bool:
    return re.search(rf'(?<![\w."]){re.escape(name)}(?![\w"])|"{re.escape(name)}"', sql) is not None


def allowed(checks: list[str], name: str) -> Allowed:
    """What ``checks`` (each the SQL of a CHECK on column ``name``) allow together."""
    result = Allowed()
    for sql in checks:
        parsed = _parse(sql, name)
        result = _merge(result, parsed) if parsed is not None else replace(result, unparsed=(*result.unparsed, sql))
    return result


def _merge(a: Allowed, b: Allowed) -> Allowed:
    values = (
        a.values if b.values is None else b.values if a.values is None else tuple(v for v in a.values if v in b.values)
    )
    return Allowed(
        values=values,
        low=max((x for x in (a.low, b.low) if x is not None), default=None),
        high=min((x for x in (a.high, b.high) if x is not None), default=None),
        min_length=max((x for x in (a.min_length, b.min_length) if x is not None), default=None),
        max_length=min((x for x in (a.max_length, b.max_length) if x is not None), default=None),
        unparsed=a.unparsed + b.unparsed,
    )


def _parse(sql: str, name: str) -> Allowed | None:
    """The check as bounds, a list or lengths; None for any other shape."""
    text = _CAST.sub("", sql)
    column = rf'(?:"{re.escape(name)}"|\b{re.escape(name)}\b)'
    text = re.sub(rf"(?<!\w)\(\s*({column})\s*\)", r"\1", text)  # (x) -> x, not length(x)
    between = rf"({column})\s+BETWEEN\s+({_NUMBER})\s+AND\s+({_NUMBER})"
    text = re.sub(between, r"\1 >= \2 AND \1 <= \3", text, flags=re.I)
    result = Allowed()
    for part in _conjuncts(text):
        parsed = _atom(part, column)
        if parsed is None:
            return None
        result = _merge(result, parsed)
    return result


def _conjuncts(text: str) -> list[str]:
    """``a AND b AND c``, split at the top level (not inside parentheses or quotes)."""
    text = _unwrap(text)
    cuts = [i for i, _, depth in _outside_quotes(text) if depth == 0 and text[i : i + 5].upper() == " AND "]
    bounds = zip([0, *(c + 5 for c in cuts)], [*cuts, len(text)], strict=True)
    return [_unwrap(text[start:end]) for start, end in bounds]


def _unwrap(text: str) -> str:
    """``((x > 1))`` as ``x > 1``: parentheses around the whole of it, removed."""
    text = text.strip()
    while text.startswith("(") and _closing(text) == len(text) - 1:
        text = text[1:-1].strip()
    return text


def _outside_quotes(text: str) -> Iterator[tuple[int, str, int]]:
    """``(index, character, depth)`` of every character outside quotes, depth counting the
    parentheses open after it."""
    depth, quoted = 0, False
    for i, char in enumerate(text):
        if char == "'":
            quoted = not quoted
        elif not quoted:
            depth += {"(": 1, ")": -1}.get(char, 0)
            yield i, char, depth


def _closing(text: str) -> int:
    """Where the parenthesis opening ``text`` closes (-1: nowhere)."""
    return next((i for i, char, depth in _outside_quotes(text) if char == ")" and depth == 0), -1)


_FLIP = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "=": "="}


def _atom(part: str, column: str) -> Allowed | None:
    if re.fullmatch(rf"{column}\s+IS\s+NOT\s+NULL", part, flags=re.I):
        return Allowed()
    listed = re.fullmatch(rf"{column}\s+IN\s*\((.*)\)", part, flags=re.I | re.S) or re.fullmatch(
        rf"{column}\s*=\s*ANY\s*\(\s*\(?\s*ARRAY\s*\[(.*)\]\s*\)?\s*\)", part, flags=re.I | re.S
    )
    if listed:
        values = re.findall(_LITERAL, listed.group(1))
        return Allowed(values=tuple(_literal(v) for v in values)) if values else None
    compared = re.fullmatch(rf"{column}\s*(>=|<=|<>|!=|=|>|<)\s*({_NUMBER})", part) or _flipped(part, column)
    if compared:
        return _bound(compared.group(1), Decimal(compared.group(2)))
    sized = re.fullmatch(rf"(?:char_)?length\s*\(\s*{column}\s*\)\s*(>=|<=|=|>|<)\s*(\d+)", part, flags=re.I)
    if sized:
        op, n = sized.group(1), int(sized.group(2))
        low = {"=": n, ">=": n, ">": n + 1}.get(op)
        high = {"=": n, "<=": n, "<": n - 1}.get(op)
        return Allowed(min_length=low, max_length=high)
    equal = re.fullmatch(rf"{column}\s*=\s*('(?:[^']|'')*')", part)
    if equal:
        return Allowed(values=(_literal(equal.group(1)),))
    return None


def _flipped(part: str, column: str) -> re.Match | None:
    """``0 < x`` read as ``x > 0``."""
    match = re.fullmatch(rf"({_NUMBER})\s*(>=|<=|=|>|<)\s*{column}", part)
    if match is None:
        return None
    return re.fullmatch(r"(\S+) (\S+)", f"{_FLIP[match.group(2)]} {match.group(1)}")


def _bound(op: str, value: Decimal) -> Allowed | None:
    """Bounds for a comparison; strict ones move by the smallest step of the value's scale."""
    step = Decimal(1).scaleb(value.as_tuple().exponent) if value.as_tuple().exponent < 0 else Decimal(1)
    return {
        ">=": Allowed(low=value),
        ">": Allowed(low=value + step),
        "<=": Allowed(high=value),
        "<": Allowed(high=value - step),
        "=": Allowed(low=value, high=value),
    }.get(op)


def _literal(text: str) -> object:
    if text.startswith("'"):
        return text[1:-1].replace("''", "'")
    return Decimal(text) if "." in text else int(text)


CANDIDATES = 256  # values tried against a CHECK of another shape
KEPT = 64  # of those that pass, the ones a column draws from


def candidates(kind: object, rng: random.Random) -> list[object] | None:
    """Values of ``kind`` to try against a CHECK; None for a type this cannot draw."""
    from sqlalchemy import Date, DateTime, Float, Integer, Numeric, String

    if isinstance(kind, Integer):  # small numbers first: sums and products of columns stay in range
        spans = ((0, 100), (-100, 1000), (0, 100_000))
        return [rng.randint(*spans[i % 3]) for i in range(CANDIDATES)]
    if isinstance(kind, Float):
        return [round(rng.uniform(-100, 1000), 2) for _ in range(CANDIDATES)]
    if isinstance(kind, Numeric):
        scale = kind.scale or 0
        largest = 10 ** ((kind.precision or 10) - scale) - 1
        step = Decimal(1).scaleb(-scale)
        return [(Decimal(rng.uniform(0, min(largest, 100_000)))).quantize(step) for _ in range(CANDIDATES)]
    if isinstance(kind, String):
        longest = min(kind.length or 20, 20)
        alphabets = (string.ascii_lowercase, string.ascii_letters + string.digits, string.digits)
        return ["".join(rng.choices(alphabets[i % 3], k=rng.randint(1, longest))) for i in range(CANDIDATES)]
    if isinstance(kind, DateTime):
        start = datetime(2020, 1, 1)
        return [start + timedelta(minutes=rng.randint(0, 60 * 24 * 365 * 7)) for _ in range(CANDIDATES)]
    if isinstance(kind, Date):
        return [date(2020, 1, 1) + timedelta(days=rng.randint(0, 365 * 7)) for _ in range(CANDIDATES)]
    return None


def passing(conn: Connection, columns: list[Column], checks: list[str], tried: list[tuple]) -> list[tuple]:
    """The rows of ``tried`` (a value per column) that every one of ``checks`` accepts, as the
    server judges them (a common table expression: both backends name a VALUES list's columns
    that way), in the order tried, at most :data:`KEPT` of them."""
    quote = conn.dialect.identifier_preparer.quote
    names = ", ".join(quote(c.name) for c in columns)
    rows = ", ".join("(" + ", ".join(f":v{i}_{j}" for j in range(len(columns))) + ")" for i in range(len(tried)))
    where = " AND ".join(f"({sql})" for sql in checks)
    query = text(
        f"WITH seedkit_candidates ({names}) AS (VALUES {rows}) SELECT {names} FROM seedkit_candidates WHERE {where}"
    )
    bound = {f"v{i}_{j}": v for i, row in enumerate(tried) for j, v in enumerate(row)}
    accepted = dict.fromkeys(tuple(row) for row in conn.execute(query, bound))
    return list(accepted)[:KEPT]


def ordering(sql: str, table: Table) -> tuple[str, str, bool] | None:
    """``(earlier, later, strict)`` for a CHECK that orders two columns (``ends_at > starts_at``,
    ``low <= high``); None for any other shape."""
    text = _unwrap(_CAST.sub("", sql))
    names = "|".join(re.escape(c.name) for c in table.columns)
    match = re.fullmatch(rf'\(?"?({names})"?\)?\s*(<=|>=|<|>)\s*\(?"?({names})"?\)?', text)
    if match is None or match.group(1) == match.group(3):
        return None
    left, op, right = match.groups()
    return (left, right, op == "<") if op in ("<", "<=") else (right, left, op == ">")
