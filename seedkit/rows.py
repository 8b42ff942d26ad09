"""The rows children point at, held without one Python object per row where possible.

Memory would otherwise grow with the seed: a million order items need their orders, and a list
of a million parent references (plus a tuple per parent) costs tens of megabytes. A parent step
whose children read only its primary key keeps a :class:`KeyRange` (seedkit numbered those keys
itself, so they are consecutive); several steps' rows read as one :class:`Chain`; and
:class:`Expanded` gives each child its parent for one chunk at a time.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate
from typing import overload


class KeyRange(Sequence[tuple]):
    """Rows ``(first,)``, ``(first + 1,)``, … of ``row_type``, made when asked for."""

    def __init__(self, row_type: type[tuple], first: int, count: int) -> None:
        self.row_type = row_type
        self.first = first
        self.count = count

    def __len__(self) -> int:
        return self.count

    @overload
    def __getitem__(self, index: int) -> tuple: ...
    @overload
    def __getitem__(self, index: slice) -> list[tuple]: ...
    def __getitem__(self, index: int | slice) -> tuple | list[tuple]:
        row_type, first = self.row_type, self.first
        if isinstance(index, slice):
            return [row_type((first + i,)) for i in range(*index.indices(self.count))]
        if index < 0:
            index += self.count
        if not 0 <= index < self.count:
            raise IndexError(index)
        return row_type((first + index,))


class Chain(Sequence[tuple]):
    """Several steps' rows, in step order, as one sequence (nothing copied)."""

    def __init__(self, parts: list[Sequence[tuple]]) -> None:
        self.parts = [p for p in parts if len(p)]
        self.starts = list(accumulate((len(p) for p in self.parts[:-1]), initial=0))
        self.count = sum(len(p) for p in self.parts)

    def __len__(self) -> int:
        return self.count

    @overload
    def __getitem__(self, index: int) -> tuple: ...
    @overload
    def __getitem__(self, index: slice) -> list[tuple]: ...
    def __getitem__(self, index: int | slice) -> tuple | list[tuple]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self.count))]
        if index < 0:
            index += self.count
        if not 0 <= index < self.count:
            raise IndexError(index)
        part = bisect_right(self.starts, index) - 1
        return self.parts[part][index - self.starts[part]]


class Expanded:
    """Each child's parent, children grouped by parent, given ``counts`` children per parent.

    Holds one 8-byte running total per parent instead of one reference per child; any chunk of
    children can be expanded on its own (worker processes ask for theirs).
    """

    def __init__(self, parents: Sequence[tuple], counts: list[int]) -> None:
        self.parents = parents
        self.ends = array("q", accumulate(counts))  # ends[i]: children of parents 0..i together

    def __len__(self) -> int:
        return self.ends[-1] if self.ends else 0

    def slice(self, start: int, n: int) -> list[tuple]:
        """The parents of children ``start`` … ``start + n - 1``."""
        out: list[tuple] = []
        index, position, stop = bisect_right(self.ends, start), start, start + n
        while position < stop:
            end = min(self.ends[index], stop)
            out += [self.parents[index]] * (end - position)
            position, index = end, index + 1
        return out
