"""Keeping unique columns unique across a whole run, deterministically and in flat memory.

Faker columns repeat a value now and then, as Faker itself does (2% of 11,600 emails), and a
small space (a ``FuzzyChoice``, an ``Iterator``) repeats often. Rows are checked in generation
order and a repeated value gets its text column tagged with the next free number for it
(``ann@example.org`` → ``ann+2@example.org``, ``Fix login`` → ``Fix login 2``, ``ann`` →
``ann2``), so only values that really repeat are tagged. A tag that would not fit the column
(``String(32)``) fails the step with one message instead, on every backend alike; so does a
repeat of a value the recipe fixed (``email="same@example.org"``): that is the recipe's mistake.

A :class:`Uniquifier` counts, per *base* value, how many numbers it has used: the values written
are exactly the ``_tag(base, k)`` for ``k`` up to that count, and a value's possible bases are
found by reading the tag back (:func:`_untag`). Memory grows with the number of distinct values.
"""

from __future__ import annotations

from collections.abc import Iterator
from operator import itemgetter
from typing import TYPE_CHECKING

from factory.declarations import BaseDeclaration

if TYPE_CHECKING:
    from seedkit.generate import CompiledStep

Key = tuple  # one row's values for the constraint's columns


class Unfit(Exception):
    """A repeated value that cannot be made unique here; the message names column and value."""

    def __init__(self, message: str, *, recipe_error: bool = False) -> None:
        super().__init__(message)
        self.recipe_error = recipe_error  # the recipe fixed the value: a RecipeError, not a failed seed


class Uniquifier:
    """One unique constraint's state for a run: the tag numbers each base value has used.

    ``scope`` names a foreign key in the constraint whose rows arrive grouped (a per-parent
    step's link): keys of earlier parents can never recur, so only the current parent's are
    remembered.
    """

    def __init__(
        self,
        attrs: tuple[str, ...],
        taggable: str,
        scope: str | None = None,
        *,
        column: str = "",
        max_length: int | None = None,
        fixed: bool = False,
    ) -> None:
        self.attrs = attrs
        self.taggable = taggable
        self.scope = scope
        self.column = column or taggable  # table.column, for messages
        self.max_length = max_length
        self.fixed = fixed  # the recipe overrides the column with one value
        self.slot = attrs.index(taggable)
        self.taken: set[Key] = set()  # keys already in the table before the run (--append)
        self.used: dict[Key, int] = {}  # base key -> highest k tried (1: the value itself)
        self.most = 1  # the highest k any base has used: until a value repeats, nothing is a tag
        self._current: object = None

    def written(self, key: Key) -> bool:
        """Whether ``key`` was already written (or was in the table before the run)."""
        return key in self.taken or key in self.used or self._tag_of_a_base(key)

    def _tag_of_a_base(self, key: Key) -> bool:
        """Whether ``key``'s text is a number some base has already used."""
        value, slot, used = key[self.slot], self.slot, self.used
        if self.most < 2 or not value or ("+" not in value if "@" in value else not "0" <= value[-1] <= "9"):
            return False  # the common case: nothing that reads as a tag
        head, tail = key[:slot], key[slot + 1 :]
        return any(used.get(head + (base,) + tail, 0) >= k for base, k in _untag(value))

    def _all_new(self, keys: list[Key]) -> bool:
        if self.most < 2 and not self.taken:  # no tags yet, no older rows: only used keys can clash
            return self.used.keys().isdisjoint(keys)
        return not any(map(self.written, keys))

    def apply(self, rows: list[tuple], write_attrs: tuple[str, ...]) -> list[tuple]:
        """``rows`` with repeated keys tagged; the list is changed in place and returned."""
        key_at = [write_attrs.index(a) for a in self.attrs]
        tag_at = write_attrs.index(self.taggable)
        scope_at = self.attrs.index(self.scope) if self.scope is not None else None
        keys = list(map(itemgetter(*key_at), rows)) if len(key_at) > 1 else [(r[key_at[0]],) for r in rows]
        used, taken, slot = self.used, self.taken, self.slot
        if len(set(keys)) == len(keys) and self._all_new(keys):
            used.update(dict.fromkeys(keys, 1))  # the usual chunk of fresh values: nothing to tag
            if scope_at is not None and keys:
                current = self._current = keys[-1][scope_at]
                self.used = {key: k for key, k in used.items() if key[scope_at] == current}
            return rows
        for i, key in enumerate(keys):
            if scope_at is not None and key[scope_at] != self._current:
                used.clear()
                self._current = key[scope_at]
            k = used.get(key, 0) + 1
            if k == 1 and not self.written(key):
                used[key] = 1
                continue
            value = key[slot]
            if self.fixed:
                raise Unfit(
                    f"{self.column} is unique, but the recipe gives it the one value {value!r} for every row; "
                    "override it with a declaration (factory.Sequence, factory.Faker) instead",
                    recipe_error=True,
                )
            # The bare form is the only ambiguous one ("ann42" is "ann4" #2 or "ann" #42): with an
            # "@" or a space, a tag of this base can only have been written by this base.
            ambiguous = "@" not in value and " " not in value
            k = max(k, 2)
            while True:
                candidate = _retag(key, slot, k)
                if not (candidate in taken or candidate in used or (ambiguous and self._tag_of_a_base(candidate))):
                    break
                k += 1
            if self.max_length is not None and len(candidate[slot]) > self.max_length:
                raise Unfit(
                    f"{self.column} is unique and {value!r} repeats, but its tagged form {candidate[slot]!r} "
                    f"would not fit the column ({self.max_length} characters); widen the column or draw "
                    "from a larger space of values"
                )
            used[key] = k
            self.most = max(self.most, k)
            values = list(rows[i])
            values[tag_at] = candidate[slot]
            rows[i] = tuple(values)
        return rows


def _retag(key: Key, slot: int, k: int) -> Key:
    return key[:slot] + (_tag(key[slot], k),) + key[slot + 1 :]


def _tag(value: str, k: int) -> str:
    """The ``k``-th use of ``value`` (k ≥ 2), in a form that reads naturally for its kind."""
    if "@" in value:
        local, domain = value.rsplit("@", 1)
        return f"{local}+{k}@{domain}"
    if " " in value:
        return f"{value} {k}"
    return f"{value}{k}"


_MAX_DIGITS = 18  # no run tags a value 10**18 times


def _tag_number(digits: str) -> int | None:
    """``digits`` as ``_tag`` would have written a number, or None."""
    if not digits or len(digits) > _MAX_DIGITS or not (digits.isascii() and digits.isdigit()) or digits[0] == "0":
        return None
    k = int(digits)
    return k if k >= 2 else None


def _untag(value: str) -> Iterator[tuple[str, int]]:
    """Every ``(base, k)`` with ``_tag(base, k) == value``: the inverse of :func:`_tag`.

    ``_tag`` picks its form from the base, and each form keeps what decided it (an ``@``, a
    space), so the form can be read back from the value; only the bare form is ambiguous
    (``ann42`` is ``ann4`` #2 or ``ann`` #42), and every reading is returned.
    """
    if "@" in value:
        local, domain = value.rsplit("@", 1)
        head, plus, digits = local.rpartition("+")
        k = _tag_number(digits) if plus else None
        if k is not None:
            yield f"{head}@{domain}", k
        return
    if " " in value:
        head, _, digits = value.rpartition(" ")
        k = _tag_number(digits)
        if k is not None and " " in head:
            yield head, k
        return
    start = len(value)
    while start > 0 and "0" <= value[start - 1] <= "9":
        start -= 1
    for split in range(max(start, len(value) - _MAX_DIGITS), len(value)):
        k = _tag_number(value[split:])
        if k is not None:
            yield value[:split], k


def uniquifiers_for(compiled: CompiledStep, sample: list[tuple], scoped: bool) -> list[Uniquifier]:
    """One :class:`Uniquifier` per unique constraint with a text column seedkit generates.

    ``scoped``: the caller knows no other step writes this table, so a constraint that includes
    the per-parent link's key may forget earlier parents.
    """
    info = compiled.info
    fk_attrs = {a for link in info.links.values() for a in link.local}
    link = info.links[compiled.link_attr] if compiled.link_attr else None
    scope_key = link.local[0] if scoped and link is not None and len(link.local) == 1 else None
    result = []
    for attrs in info.unique:
        if not set(attrs) <= set(compiled.write_attrs) or info.pk in attrs:
            continue
        texts = [
            a
            for a in attrs
            if a not in fk_attrs and all(isinstance(r[compiled.write_attrs.index(a)], str) for r in sample)
        ]
        if texts:
            taggable = texts[-1]
            column = info.columns[info.attrs.index(taggable)]
            override = compiled.step.overrides.get(taggable, _NOT_GIVEN)
            fixed = override is not _NOT_GIVEN and not isinstance(override, BaseDeclaration)
            result.append(
                Uniquifier(
                    attrs,
                    taggable,
                    scope_key if scope_key in attrs else None,
                    column=f"{info.name}.{column.name}",
                    max_length=getattr(column.type, "length", None),
                    fixed=fixed,
                )
            )
    return result


_NOT_GIVEN = object()
