"""Values a column cannot hold fail the same way on every backend, naming step, column and value.

PostgreSQL refuses ``"lots"`` for an integer column; SQLite's type affinity stores it, so the
same recipe would seed one database and not the other. Before any row is written, each chunk's
numeric and boolean columns are checked here. The check looks at the set of types in a column,
not at every value in Python, so it costs little: a type that does not fit is rare, and only
then are the rows searched for the value to name.
"""

from __future__ import annotations

import numbers
from collections.abc import Collection, Sequence
from datetime import date, datetime
from decimal import Decimal
from operator import itemgetter
from typing import TYPE_CHECKING

from seedkit.errors import SeedFailed
from seedkit.schema import TableInfo, column_kind

if TYPE_CHECKING:
    from seedkit.recipe import Step

# Column family -> the Python types its values may have (None is always allowed: NOT NULL is
# the database's to enforce). bool is an int in Python but not a number to either database.
_FITS: dict[str, tuple[type, ...]] = {
    "int": (numbers.Integral,),
    "float": (numbers.Real, Decimal),
    "numeric": (numbers.Real, Decimal),
    "bool": (bool,),
    "date": (date,),
    "timestamp": (datetime,),
    "timestamptz": (datetime,),
}


class Misfit(Exception):
    """A value its column cannot hold."""

    def __init__(self, column: str, kind: str, value: object) -> None:
        super().__init__(f"column {column} ({kind}) cannot hold {value!r} ({type(value).__name__})")


def _fits(kind: str, value_type: type) -> bool:
    if value_type is type(None):
        return True
    if value_type is bool and kind != "bool":
        return False
    return issubclass(value_type, _FITS[kind])


class ValueCheck:
    """Checks the rows of one table written in ``attrs`` order."""

    def __init__(self, info: TableInfo, attrs: Sequence[str], trusted: Collection[str] = ()) -> None:
        """``trusted``: attributes seedkit fills itself (keys it numbers, parents' keys)."""
        self._columns = []
        for position, attr in enumerate(attrs):
            if attr in trusted:
                continue
            column = info.columns[info.attrs.index(attr)]
            kind = column_kind(column)
            if kind in _FITS:
                self._columns.append((position, f"{info.name}.{column.name}", kind))
        self._known: set[tuple[int, type]] = set()  # (position, type) pairs already found to fit

    def check(self, rows: Sequence[tuple]) -> None:
        """Raise :class:`Misfit` for the first value that does not fit its column."""
        if not self._columns or not rows:
            return
        for position, name, kind in self._columns:
            for value_type in set(map(type, map(itemgetter(position), rows))):
                if (position, value_type) in self._known:
                    continue
                if not _fits(kind, value_type):
                    value = next(row[position] for row in rows if type(row[position]) is value_type)
                    raise Misfit(name, kind, value)
                self._known.add((position, value_type))


def check_values(step: Step, values: ValueCheck, rows: Sequence[tuple]) -> None:
    """:meth:`ValueCheck.check`, failing the seed with the step's name."""
    try:
        values.check(rows)
    except Misfit as misfit:
        raise SeedFailed(f"step {step.name!r}: {misfit}") from None
