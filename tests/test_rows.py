"""Kept parent rows without one object per row: the same rows, in the same order, as plain lists."""

from __future__ import annotations

import random

import pytest

from seedkit.rows import Chain, Expanded, KeyRange
from seedkit.schema import row_class


class Parent:
    pass


Row = row_class(Parent, ("id",))


def test_a_key_range_reads_like_the_list_it_replaces():
    keys = KeyRange(Row, 11, 5)
    plain = [Row((i,)) for i in range(11, 16)]
    assert len(keys) == 5 and list(keys) == plain
    assert keys[0].id == 11 and keys[-1].id == 15 and keys[1:4] == plain[1:4]
    with pytest.raises(IndexError):
        keys[5]


def test_a_chain_reads_its_parts_in_order():
    parts = [KeyRange(Row, 1, 3), [], [Row((40,)), Row((41,))], KeyRange(Row, 100, 1)]
    chain = Chain(parts)
    plain = [row for part in parts for row in part]
    assert len(chain) == len(plain) and [chain[i] for i in range(len(chain))] == plain
    assert chain[-1].id == 100 and chain[2:5] == plain[2:5]
    rng_a, rng_b = random.Random(3), random.Random(3)
    assert rng_a.choices(chain, k=50) == rng_b.choices(plain, k=50)  # refs sample it like a list


def test_expanded_gives_each_chunk_its_parents():
    rng = random.Random(7)
    parents = KeyRange(Row, 1, 500)
    counts = [rng.choice([0, 0, 1, 2, 5]) for _ in range(500)]
    naive = [p for p, c in zip(parents, counts, strict=True) for _ in range(c)]
    expanded = Expanded(parents, counts)
    assert len(expanded) == len(naive)
    for size in (1, 7, 100, len(naive)):
        pieces = [expanded.slice(start, min(size, len(naive) - start)) for start in range(0, len(naive), size)]
        assert [p for piece in pieces for p in piece] == naive
