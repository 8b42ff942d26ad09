"""Unique columns: repeated values are tagged exactly as a set of every written value would say,
while the uniquifier remembers only the bases it has seen."""

from __future__ import annotations

import random

import pytest

from seedkit.unique import Uniquifier, _tag, _untag

# Bases chosen to look like each other's tags: "ann2" is "ann" #2, "ann 2" is not "ann" #2
# ("ann" has no space), "ann+2@x.org" is "ann@x.org" #2, "a2b" has digits inside.
TRICKY = ["ann", "ann2", "ann4", "ann42", "ann 2", "Fix login", "Fix login 2", "Fix login 02", "ann@x.org"]
TRICKY += ["ann+2@x.org", "ann+02@x.org", "a@b@x.org", "a2b", "2", "", "x1", "x10", "x 1 2", "é٣"]


def reference(rows: list[tuple], slot: int, taken: set[tuple] = frozenset()) -> list[tuple]:
    """The rule spelled out with a set of everything written: what the uniquifier must match."""
    seen, next_tag, out = set(taken), {}, []
    for key in rows:
        if key not in seen:
            seen.add(key)
            out.append(key)
            continue
        k = next_tag.get(key, 2)
        while True:
            candidate = key[:slot] + (_tag(key[slot], k),) + key[slot + 1 :]
            k += 1
            if candidate not in seen:
                break
        next_tag[key] = k
        seen.add(candidate)
        out.append(candidate)
    return out


def run(uniquifier: Uniquifier, rows: list[tuple], chunk: int) -> list[tuple]:
    out = []
    for start in range(0, len(rows), chunk):
        out += uniquifier.apply(rows[start : start + chunk], uniquifier.attrs)
    return out


@pytest.mark.parametrize("base", TRICKY + ["Mary Ann", "bob@example.org", "x9"])
@pytest.mark.parametrize("k", [2, 3, 10, 99, 1234])
def test_untag_reads_every_tag_back(base, k):
    assert (base, k) in set(_untag(_tag(base, k)))
    for found, n in _untag(_tag(base, k)):
        assert _tag(found, n) == _tag(base, k)  # and every reading it gives is a real one


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("chunk", [1, 7, 500])
def test_tags_match_a_set_of_every_written_value(seed, chunk):
    rng = random.Random(seed)
    values = TRICKY + [_tag(rng.choice(TRICKY), rng.randint(2, 6)) for _ in range(8)]
    rows = [(rng.choice(values),) for _ in range(3000)]
    out = run(Uniquifier(("name",), "name"), list(rows), chunk)
    assert out == reference(rows, 0)
    assert len(set(out)) == len(out)


def test_composite_keys_tag_only_their_text_column():
    rng = random.Random(1)
    rows = [(rng.choice(["ann", "ann2", "bo"]), rng.randint(1, 3)) for _ in range(2000)]
    uniquifier = Uniquifier(("name", "group"), "name")
    out = run(uniquifier, list(rows), 300)
    assert out == reference(rows, 0)
    assert [row[1] for row in out] == [row[1] for row in rows]


def test_values_already_in_the_table_are_taken():
    taken = {("ann",), ("ann2",), ("bo+2@x.org",)}
    rows = [(v,) for v in ["ann", "ann", "bo@x.org", "bo@x.org", "ann3"]]
    uniquifier = Uniquifier(("email",), "email")
    uniquifier.taken.update(taken)
    out = run(uniquifier, list(rows), 2)
    assert out == reference(rows, 0, taken) == [("ann3",), ("ann4",), ("bo@x.org",), ("bo+3@x.org",), ("ann32",)]


def test_memory_grows_with_distinct_values_not_rows():
    rng = random.Random(5)
    pool = [f"user{i}@example.org" for i in range(50)]
    uniquifier = Uniquifier(("email",), "email")
    out = run(uniquifier, [(rng.choice(pool),) for _ in range(100_000)], 5000)
    assert len(set(out)) == 100_000
    assert len(uniquifier.used) == 50


def test_a_scoped_key_forgets_earlier_parents():
    rows = [(parent, title) for parent in range(1, 200) for title in ["Plan", "Plan", "Ship"]]
    uniquifier = Uniquifier(("project_id", "title"), "title", scope="project_id")
    out = run(uniquifier, list(rows), 50)
    assert out == reference(rows, 1)
    assert len(uniquifier.used) <= 2
