"""Turning a factory-boy factory into rows, fast and deterministically.

A factory is *compiled* once per step: each declaration becomes either a column function (all of
a chunk's values at once: constants, sequences, Faker columns, fuzzy attributes) or a row function
(evaluated lazily per row, in any order the declarations need: ``LazyAttribute``,
``SelfAttribute``, ``Maybe``). Faker is the expensive part, so a ``factory.Faker`` declaration
becomes a column composed from Faker's own formats and lists (:mod:`seedkit.fakes`), drawn from
the column's seeded RNG in the chunk. Unique constraints are kept by :class:`seedkit.unique.Uniquifier`, which tags repeated values
deterministically (``ann+2@example.org``).

Declarations seedkit cannot evaluate itself (post-generation hooks, an unlinked ``SubFactory``,
``Dict``/``List``, custom ones) make the step take the *factory path*: factory-boy builds each row
through the ORM, still from seeded randomness. :func:`compile_step` says which, and why.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

import factory
import factory.fuzzy
from factory import declarations as fd

from seedkit import fakes
from seedkit.randomness import derive, is_uuid4, reseed_shared, restart_clock, seeded_uuid4
from seedkit.recipe import Step
from seedkit.schema import TableInfo

CHUNK = 5000

ColumnFn = Callable[["Chunk", int, int], list]  # (chunk, n, first sequence number) -> n values
LateFn = Callable[["Chunk", int, dict[str, list]], list]  # (chunk, n, the columns so far) -> n values
RowFn = Callable[["_Stub"], Any]


class Unsupported(Exception):
    """A declaration seedkit cannot compile; the step takes the factory path."""


@dataclass
class Chunk:
    """The randomness and position of one block of rows; rebuilt identically anywhere."""

    step_seed: int
    number: int
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(derive(self.step_seed, "chunk", self.number))
        reseed_shared(derive(self.step_seed, "shared", self.number))
        restart_clock(derive(self.step_seed, "clock", self.number))

    def rng_for(self, column: str) -> random.Random:
        """A column's own randomness in this chunk: adding or editing another column leaves it be."""
        return random.Random(derive(self.step_seed, "chunk", self.number, column))


class _Stub:
    """What ``LazyAttribute`` functions receive: row ``i``'s values, resolved on first access.

    Column values are read from the chunk's columns when asked for, not copied per row: a
    function reads one or two of a dozen.
    """

    __slots__ = ("_cols", "_i", "_lazy", "_n", "_done")

    def __init__(self, cols: dict[str, list], i: int, lazy: dict[str, RowFn], n: int) -> None:
        self._cols = cols
        self._i = i
        self._lazy = lazy
        self._n = n
        self._done: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        column = self._cols.get(name)
        if column is not None:
            return column[self._i]
        return self._resolve(name)

    def _resolve(self, name: str) -> Any:
        """A per-row declaration's value, computed once."""
        done = self._done
        if name in done:
            return done[name]
        fn = self._lazy.get(name)
        if fn is None:
            raise AttributeError(f"the factory declares no attribute {name!r}")
        done[name] = value = fn(self)
        return value


_MISSING = object()


def _along(values: list, path: str, default: Any) -> list:
    """Each value's attribute at ``path`` (``"price"``, ``"user.created_at"``), column-wise: what a
    ``SelfAttribute`` reads from a column or a parent; the values themselves for an empty path."""
    if not path:
        return values
    if default is fd._UNSPECIFIED:
        return list(map(attrgetter(path), values))
    return [_deepgetattr(v, path, default) for v in values]


def _deepgetattr(obj: Any, path: str, default: Any) -> Any:
    for part in path.split(".") if path else ():
        obj = getattr(obj, part, _MISSING)
        if obj is _MISSING:
            if default is fd._UNSPECIFIED:
                raise AttributeError(path)
            return default
    return obj


def _is_declaration(value: Any) -> bool:
    return isinstance(value, fd.BaseDeclaration)


class Compiler:
    """Compiles one factory's declarations for one step."""

    def __init__(self, static: dict[str, Any]) -> None:
        self.static = static  # trait flags and plain parameters known before any row exists

    def column(self, name: str, decl: Any) -> ColumnFn | None:
        """A column function for ``decl``, or None when it needs per-row evaluation."""
        if isinstance(decl, fd.Maybe):
            return None
        if not _is_declaration(decl):
            return lambda chunk, n, seq: [decl] * n
        if isinstance(decl, factory.Faker):
            if any(_is_declaration(v) for v in decl._defaults.values()):
                return None  # arguments from the row: a late column (see Compiler.late)
            kwargs = dict(decl._defaults)
            locale = kwargs.pop("locale", None)
            faker_column = fakes.column_for(decl.provider, kwargs, locale)
            if faker_column is None:
                faker_column = fakes.PerRow(fakes.composer_for(locale).fake, decl.provider, kwargs).column
            return lambda chunk, n, seq: faker_column(chunk.rng_for(name), n)
        if isinstance(decl, fd.LazyAttributeSequence):
            return None
        if isinstance(decl, fd.Sequence):
            fn = decl.function
            return lambda chunk, n, seq: [fn(seq + i) for i in range(n)]
        if isinstance(decl, fd.LazyFunction):
            fn = seeded_uuid4 if is_uuid4(decl.function) else decl.function
            return lambda chunk, n, seq: [fn() for _ in range(n)]
        if isinstance(decl, factory.fuzzy.FuzzyChoice):
            return self._fuzzy_choice(decl)
        if isinstance(decl, factory.fuzzy.FuzzyInteger):
            # One C-level choices() call per chunk instead of a randrange() per row.
            values = range(decl.low, decl.high + 1, decl.step)
            return lambda chunk, n, seq: factory.random.randgen.choices(values, k=n)
        if isinstance(decl, factory.fuzzy.BaseFuzzyAttribute):
            fuzz = decl.fuzz
            return lambda chunk, n, seq: [fuzz() for _ in range(n)]
        if isinstance(decl, fd.Iterator):
            getter = decl.getter or (lambda v: v)
            build = decl.iterator_builder

            def iterate(chunk: Chunk, n: int, seq: int) -> list:
                return [getter(v) for v in itertools.islice(iter(build()), seq, seq + n)]

            return iterate
        if isinstance(decl, (fd.LazyAttribute, fd.SelfAttribute)):
            return None
        raise Unsupported(f"{name}: {type(decl).__name__} declarations")

    def late(self, name: str, decl: Any) -> LateFn | None:
        """A ``factory.Faker`` whose arguments name other values of the row
        (``start_date=factory.SelfAttribute("..user.created_at")``): a column made once the
        columns and parents it reads are in, from those columns' values, row by row in
        argument but column-wise in drawing. None for anything else."""
        if not isinstance(decl, factory.Faker):
            return None
        kwargs = dict(decl._defaults)
        locale = kwargs.pop("locale", None)
        sources = {}
        for key, value in kwargs.items():
            if not _is_declaration(value):
                continue
            if not (isinstance(value, fd.SelfAttribute) and value.depth == 2):
                raise Unsupported(f"{name}: Faker arguments other than SelfAttribute('..attribute')")
            head, _, rest = value.attribute_name.partition(".")
            sources[key] = (head, rest, value.default)
        fixed = {k: v for k, v in kwargs.items() if k not in sources}
        make = fakes.varying_column_for(decl.provider, fixed, set(sources), locale)

        def late(chunk: Chunk, n: int, cols: dict[str, list]) -> list:
            varying = {key: _along(cols[head], rest, default) for key, (head, rest, default) in sources.items()}
            return make(chunk.rng_for(name), n, varying)

        return late

    @staticmethod
    def _fuzzy_choice(decl: factory.fuzzy.FuzzyChoice) -> ColumnFn:
        getter = decl.getter

        def choose(chunk: Chunk, n: int, seq: int) -> list:
            if decl.choices is None:
                decl.choices = list(decl.choices_generator)
            values = factory.random.randgen.choices(decl.choices, k=n)
            return values if getter is None else [getter(v) for v in values]

        return choose

    def row(self, name: str, decl: Any) -> RowFn:
        """A per-row function for any declaration seedkit can evaluate."""
        if isinstance(decl, fd.LazyAttributeSequence):
            fn = decl.function
            return lambda stub: fn(stub, stub._n)
        if isinstance(decl, fd.LazyAttribute):
            return decl.function
        if isinstance(decl, fd.SelfAttribute):
            if decl.depth > 1:
                raise Unsupported(f"{name}: SelfAttribute reaching into a parent factory")
            path, default = decl.attribute_name, decl.default
            return lambda stub: _deepgetattr(stub, path, default)
        if isinstance(decl, fd.Maybe):
            decide = self.row(name, decl.decider)
            yes, no = self._branch(name, decl.yes), self._branch(name, decl.no)
            return lambda stub: (yes if decide(stub) else no)(stub)
        column = self.column(name, decl)
        assert column is not None
        return lambda stub: column(_ROW_CHUNK, 1, stub._n)[0]

    def _branch(self, name: str, decl: Any) -> RowFn:
        if decl is fd.SKIP:
            return lambda stub: None
        return self.row(name, decl)

    def static_choice(self, decl: fd.Maybe) -> Any:
        """Resolve ``Maybe`` now when its decider is a trait flag or plain parameter."""
        decider = decl.decider
        if isinstance(decider, fd.SelfAttribute) and decider.depth <= 1 and decider.attribute_name in self.static:
            return decl.yes if self.static[decider.attribute_name] else decl.no
        return decl


class _RowChunk:
    """Stands in for a chunk inside a row function (a ``Maybe`` branch).

    The row cannot reach its chunk's RNG there, so it samples from the global ``random``, which
    :class:`Chunk` reseeds for every chunk: still deterministic.
    """

    rng = random


_ROW_CHUNK: Any = _RowChunk()


@dataclass
class CompiledStep:
    """A step ready to generate: its column and row functions and the attributes it writes."""

    step: Step
    info: TableInfo
    write_attrs: tuple[str, ...]
    columns: list[tuple[str, ColumnFn]]
    derived: list[tuple[str, str, str, Any]]  # SelfAttribute on a column or link: name, head, rest, default
    late: list[tuple[str, LateFn]]  # columns that read other columns (Faker with row arguments)
    rows: dict[str, RowFn]
    link_attr: str | None
    refs: dict[str, list]  # relationship attr -> rows to pick from
    defaults: dict[str, Any]
    user_code: bool = False  # a declaration or default runs a user's function (see seeding's check)

    def generate(
        self,
        chunk: Chunk,
        n: int,
        first_id: int,
        seq: int,
        parents: list | None,
        offset: int = 0,
    ) -> list[tuple]:
        """``n`` rows as plain tuples in ``write_attrs`` order; ``offset``: how many children of
        the first row's parent earlier chunks made (distinct picks continue after theirs)."""
        info = self.info
        cols: dict[str, list] = {name: fn(chunk, n, seq) for name, fn in self.columns}
        links: dict[str, list] = {}
        if self.link_attr is not None:
            assert parents is not None
            links[self.link_attr] = parents
        links.update(pick_refs(self.step, chunk, self.refs, n, parents, offset))
        cols.update(links)
        for name, head, rest, default in self.derived:
            cols[name] = list(_along(cols[head], rest, default))
        for name, late in self.late:
            cols[name] = late(chunk, n, cols)
        if self.rows:
            self._resolve_rows(cols, n, seq)
        for attr, parent_rows in links.items():
            link = info.links[attr]
            for local, remote in zip(link.local, link.remote, strict=True):
                cols[local] = list(map(attrgetter(remote), parent_rows))
        if info.pk is not None and info.pk in self.write_attrs:
            cols[info.pk] = list(range(first_id, first_id + n))
        for attr, default in self.defaults.items():
            cols[attr] = [default() for _ in range(n)] if callable(default) else [default] * n
        return list(zip(*(cols[a] for a in self.write_attrs), strict=True))

    def _resolve_rows(self, cols: dict[str, list], n: int, seq: int) -> None:
        lazy = self.rows
        out: dict[str, list] = {name: [None] * n for name in lazy}
        for i in range(n):
            stub = _Stub(cols, i, lazy, seq + i)
            for name in lazy:
                out[name][i] = stub._resolve(name)
        cols.update(out)


def pick_refs(
    step: Step, chunk: Chunk, refs: dict[str, Sequence[tuple]], n: int, parents: list | None, offset: int
) -> dict[str, list[tuple]]:
    """Per ``refs=`` relationship, the row each of the chunk's ``n`` rows points at: drawn at
    random, or (``distinct=True``) distinct among each parent's rows."""
    if not step.distinct:
        return {attr: chunk.rng.choices(pool, k=n) for attr, pool in refs.items()}
    assert parents is not None
    return {
        attr: _distinct_picks(pool, derive(chunk.step_seed, "distinct", attr), parents, offset)
        for attr, pool in refs.items()
    }


def _distinct_picks(pool: Sequence[tuple], seed: int, parents: list, offset: int) -> list[tuple]:
    """For each child, a row of ``pool`` that no earlier child of the same parent took.

    A parent's picks come from randomness of its own (seeded by its row), drawn in order and
    redrawn on a repeat, so its k-th child picks the same row whichever chunk it falls in.
    """
    picks: list[tuple] = []
    size = len(pool)
    current: object = None
    for parent in parents:
        if parent is not current:
            position = offset if current is None else 0
            current = parent
            rng = random.Random(derive(seed, *parent))
            chosen: list[int] = []
            seen: set[int] = set()
        while len(chosen) <= position:
            if len(seen) == size:
                raise ValueError(f"a parent has more children than the {size:,} rows there are to pick distinctly from")
            index = int(rng.random() * size)
            if index not in seen:
                seen.add(index)
                chosen.append(index)
        picks.append(pool[chosen[position]])
        position += 1
    return picks


def effective_declarations(step: Step) -> tuple[dict[str, Any], dict[str, Any]]:
    """The step's declarations after traits and overrides, and the statically known params."""
    meta = step.factory._meta
    decls: dict[str, Any] = dict(meta.pre_declarations.as_dict())
    static: dict[str, Any] = {
        name: param.value for name, param in meta.parameters.items() if isinstance(param, fd.SimpleParameter)
    }
    for name, param in meta.parameters.items():
        if isinstance(param, factory.Trait):
            static[name] = name in step.traits
    for name, value in step.overrides.items():
        if name in meta.parameters:
            static[name] = value
        else:
            decls[name] = value
    for name in static:
        decls.setdefault(name, static[name])
        if not _is_declaration(decls[name]):
            decls[name] = static[name]
    return decls, static


def compile_step(step: Step, link_attr: str | None, refs: dict[str, list]) -> CompiledStep:
    """Compile ``step``; raise :class:`Unsupported` (with the reason) for the factory path."""
    meta = step.factory._meta
    info = step.info
    if meta.post_declarations.as_dict():
        names = ", ".join(meta.post_declarations.as_dict())
        raise Unsupported(f"post-generation declarations ({names})")
    decls, static = effective_declarations(step)
    compiler = Compiler(static)
    linked = set(step.refs) | ({link_attr} if link_attr else set())
    rename = dict(meta.rename)

    columns: list[tuple[str, ColumnFn]] = []
    derived: list[tuple[str, str, str, Any]] = []
    late: list[tuple[str, LateFn]] = []
    rows: dict[str, RowFn] = {}
    produced: set[str] = set()
    column_wise = set(linked)
    user_code = False
    for name, decl in decls.items():
        if name in linked:
            continue
        user_code = user_code or _calls_user_code(decl)
        if isinstance(decl, fd.Maybe):
            decl = compiler.static_choice(decl)
            if decl is fd.SKIP:
                continue
        if isinstance(decl, fd.SubFactory):
            raise Unsupported(f"{name}: a SubFactory no per=/refs= satisfies")
        column = compiler.column(name, decl)
        head, _, rest = getattr(decl, "attribute_name", "").partition(".")
        late_column = compiler.late(name, decl) if column is None else None
        if column is not None:
            columns.append((name, column))
            column_wise.add(name)
        elif late_column is not None:
            late.append((name, late_column))  # not column_wise: a SelfAttribute on it reads it per row
        elif isinstance(decl, fd.SelfAttribute) and decl.depth <= 1 and head in column_wise:
            # Copying from a parent or an earlier column needs no per-row stub.
            derived.append((name, head, rest, decl.default))
            column_wise.add(name)
        else:
            rows[name] = compiler.row(name, decl)
        produced.add(rename.get(name, name))

    fk_attrs = {local for attr in linked for local in info.links[attr].local}
    excluded = set(meta.exclude) | set(meta.parameters)
    written = (produced - excluded) | fk_attrs
    if info.pk is not None:
        written.add(info.pk)
    unknown = written - set(info.attrs) - set(info.links)
    if unknown:
        raise Unsupported(f"declarations that are not columns of {info.name}: {', '.join(sorted(unknown))}")
    defaults = {a: d for a, d in info.defaults.items() if a not in written}
    written |= set(defaults)
    write_attrs = tuple(a for a in info.attrs if a in written)
    if rename:
        columns = [(rename.get(n, n), fn) for n, fn in columns]
        derived = [(rename.get(n, n), *rest) for n, *rest in derived]
        late = [(rename.get(n, n), fn) for n, fn in late]
        rows = {rename.get(n, n): fn for n, fn in rows.items()}
    defaults = {a: (seeded_uuid4 if is_uuid4(d) else d) for a, d in defaults.items()}
    user_code = user_code or any(callable(d) and d is not seeded_uuid4 for d in defaults.values())
    return CompiledStep(
        step=step,
        info=info,
        write_attrs=write_attrs,
        columns=columns,
        derived=derived,
        late=late,
        rows=rows,
        link_attr=link_attr,
        refs=refs,
        defaults=defaults,
        user_code=user_code,
    )


# Declarations whose values seedkit draws itself, from seeded sources only.
_SEEDKITS_OWN = (factory.Faker, fd.SelfAttribute, factory.fuzzy.FuzzyChoice, factory.fuzzy.FuzzyInteger)


def _calls_user_code(decl: Any) -> bool:
    """Whether a declaration runs a user's function, which may read unseeded randomness."""
    if not _is_declaration(decl) or isinstance(decl, _SEEDKITS_OWN):
        return False
    if isinstance(decl, fd.LazyFunction) and is_uuid4(decl.function):
        return False
    if isinstance(decl, fd.Maybe):
        return any(_calls_user_code(d) for d in (decl.decider, decl.yes, decl.no))
    return True
