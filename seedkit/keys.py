"""The keys and sequence numbers a run hands out, per table: seedkit numbers rows itself.

Children point at their parents' keys as they are generated, so keys are allocated up front
(the highest key in the table, plus one) and never asked of the database row by row.
``factory.Sequence`` counters continue after the rows already there, so ``--append`` does not
collide. Everything is asked of the database once per table, before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, func, select

from seedkit.schema import TableInfo

Query = Callable[[Callable[[Connection], Any]], Any]  # runs a function on the run's connection


class KeyAllocator:
    def __init__(self, query: Query) -> None:
        self._query = query
        self.initial: dict[str, int] = {}  # table -> rows it held before the run
        self.written: dict[str, int] = {}  # table -> rows this run wrote there so far
        self._next: dict[str, int] = {}  # table -> next primary key to hand out

    def prefetch(self, tables: list[TableInfo]) -> None:
        """Counts and highest keys of every table up front: asking later would make the writer
        finish everything queued first."""
        for info in tables:
            self.sequence_base(info)
            self.take(info, 0)

    def sequence_base(self, info: TableInfo) -> int:
        """Where a step's ``factory.Sequence`` starts: after every row already in the table."""
        if info.name not in self.initial:
            count = select(func.count()).select_from(info.table)
            self.initial[info.name] = self._query(lambda conn: conn.execute(count).scalar_one())
        return self.initial[info.name] + self.written.get(info.name, 0)

    def take(self, info: TableInfo, count: int) -> int:
        """Reserve ``count`` consecutive primary keys and return the first (0: no key to number)."""
        if info.pk is None:
            return 0
        if info.name not in self._next:
            highest = select(func.max(info.columns[info.attrs.index(info.pk)]))
            self._next[info.name] = (self._query(lambda conn: conn.execute(highest).scalar()) or 0) + 1
        first = self._next[info.name]
        self._next[info.name] = first + count
        return first

    def highest(self, info: TableInfo) -> int:
        """The last key handed out for the table (0: none)."""
        return self._next.get(info.name, 1) - 1

    def wrote(self, info: TableInfo, rows: int) -> None:
        self.written[info.name] = self.written.get(info.name, 0) + rows

    def forget_keys(self) -> None:
        """The database numbered some rows itself (factory-boy's path): ask again next time."""
        self._next.clear()
