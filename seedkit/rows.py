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
from itertools import accumulate, chain, repeat
from operator import itemgetter, sub
from typing import TYPE_CHECKING

from seedkit.schema import row_class

if TYPE_CHECKING:
    from collections.abc import Callable

    from seedkit.resolved import Keep
    from seedkit.schema import TableInfo


class _Rows(Sequence[tuple]):
    """A read-only sequence of rows made on demand by :meth:`_row`; slices come back as lists."""

    count: int

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index):  # type: ignore[override]  # int -> row, slice -> list of rows
        if isinstance(index, slice):
            return [self._row(i) for i in range(*index.indices(self.count))]
        if index < 0:
            index += self.count
        if not 0 <= index < self.count:
            raise IndexError(index)
        return self._row(index)

    def _row(self, index: int) -> tuple:
        raise NotImplementedError


class KeyRange(_Rows):
    """Rows ``(first,)``, ``(first + 1,)``, … of ``row_type``, made when asked for."""

    def __init__(self, row_type: type[tuple], first: int, count: int) -> None:
        self.row_type = row_type
        self.first = first
        self.count = count

    def _row(self, index: int) -> tuple:
        return self.row_type((self.first + index,))


class Chain(_Rows):
    """Several steps' rows, in step order, as one sequence (nothing copied)."""

    def __init__(self, parts: list[Sequence[tuple]]) -> None:
        self.parts = [p for p in parts if len(p)]
        self.starts = list(accumulate((len(p) for p in self.parts[:-1]), initial=0))
        self.count = sum(len(p) for p in self.parts)

    def _row(self, index: int) -> tuple:
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

    def offset(self, start: int) -> int:
        """How many children of child ``start``'s parent come before it (in earlier chunks)."""
        first = bisect_right(self.ends, start)
        return start - (self.ends[first - 1] if first else 0)

    def slice(self, start: int, n: int) -> list[tuple]:
        """The parents of children ``start`` … ``start + n - 1``."""
        if n <= 0:
            return []
        ends, stop = self.ends, start + n
        first, last = bisect_right(ends, start), bisect_right(ends, stop - 1)
        # Each parent's children within the chunk, repeated at C speed (a chunk spans thousands
        # of parents): its run ends at its running total, the last one's at the chunk's end.
        bounds = ends[first : last + 1].tolist()
        bounds[-1] = stop
        counts = map(sub, bounds, [start, *bounds[:-1]])
        return list(chain.from_iterable(map(repeat, self.parents[first : last + 1], counts)))


def chunk_parents(parents: Expanded | None, start: int, n: int) -> tuple[list[tuple] | None, int]:
    """The parents of children ``start`` … ``start + n - 1`` and the first one's place among its
    parent's children (None and 0 for a step without parents)."""
    if parents is None:
        return None, 0
    return parents.slice(start, n), parents.offset(start)


def projection(info: TableInfo, attrs: tuple[str, ...], keep: Keep) -> Callable[[tuple], tuple] | None:
    """Turns a written row into the compact named row kept for children (None: keep nothing)."""
    from seedkit.resolved import NOT_KEPT

    if keep is NOT_KEPT:
        return None
    wanted = tuple(a for a in attrs if keep is None or a in keep)
    row_type = row_class(info.model, wanted)
    if wanted == attrs:
        return row_type
    positions = [attrs.index(a) for a in wanted]
    if len(positions) == 1:
        (position,) = positions
        return lambda row: row_type((row[position],))
    pick = itemgetter(*positions)
    return lambda row: row_type(pick(row))
