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

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column
from sqlalchemy.engine import Dialect

from seedkit.fingerprints import NULL, PYTHON, NotExact, Render, only
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
    process = written.type._cached_bind_processor(dialect)
    column_affinity = affinity(stored.type.compile(dialect=dialect))
    read = PYTHON[kind]
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
            texts = list(map(read, present))
        except (KeyError, TypeError, ValueError) as exc:
            raise NotExact(f"{name} holds a value seedkit cannot render ({exc})") from None
        if "-0" in texts:  # SQLite keeps a zero float as the integer 0: its sign is lost
            texts = ["0" if t == "-0" else t for t in texts]
        if present is values:
            return texts
        rendered = iter(texts)
        return [NULL if v is None else next(rendered) for v in values]

    return render
