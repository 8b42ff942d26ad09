"""A recipe for a whole database as it stands: every table, its factory inferred from the schema.

``seedkit run --infer`` needs no models and no factories. The target's tables are reflected (after
migrating, or as they are), each is mapped to a class with a many-to-one relationship per foreign
key, and each class becomes a step through :mod:`seedkit.infer`, exactly as ``recipe.add(Model, n)``
would: tables that need no parent get ``rows`` rows; a table with a NOT NULL foreign key gets
:data:`PER_PARENT` rows for each row of its first required parent, and picks its other required
parents at random — distinct ones per parent where the key is the pair (a junction table). Steps follow the tables' dependency order, and are named after the tables, so
the same schema gives the same recipe — and the same data — wherever it is reflected.
"""

from __future__ import annotations

import random
import re
import warnings
from dataclasses import dataclass

from sqlalchemy import Column, Connection, ForeignKeyConstraint, Integer, MetaData, Table
from sqlalchemy.exc import SAWarning
from sqlalchemy.orm import registry, relationship
from sqlalchemy.sql.ddl import sort_tables

from seedkit.backends import backend_of_connection
from seedkit.checks import (
    CANDIDATES,
    Allowed,
    allowed,
    candidates,
    column_checks,
    multi_column_checks,
    ordering,
    passing,
)
from seedkit.config import INFER_ROWS
from seedkit.errors import RecipeError
from seedkit.fingerprints import IGNORED_TABLES
from seedkit.infer import Declared, after, choice_of, cycle_of, underlying
from seedkit.randomness import derive
from seedkit.recipe import Between, Recipe, Step
from seedkit.schema import ordered_tables, table_info

DEFAULT_ROWS = INFER_ROWS
# Combinations tried against a CHECK across columns: each column's chance of passing multiplies,
# so more than for one column (the bound parameters stay far below either backend's limit).
TOGETHER = 2048
PER_PARENT = Between(0, 5)  # rows of a child table per row of its parent


@dataclass(frozen=True)
class FromSchema:
    """Seed every table of the target as the database describes it (``seedkit run --infer``)."""

    rows: int = DEFAULT_ROWS
    name: str = "inferred"

    def build(self, conn: Connection) -> Recipe:
        """The recipe for the tables ``conn`` sees now."""
        return schema_recipe(reflect(conn), self.rows, self.name, conn)


def reflect(conn: Connection) -> MetaData:
    """The tables ``conn`` sees, seedkit's own left out. A type SQLAlchemy does not know is
    reflected as NullType without the warning: inference says what it cannot fill, by name."""
    metadata = MetaData()
    backend = backend_of_connection(conn)
    partitions = set(backend.partitions(conn))  # rows go through the parent
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Did not recognize type", SAWarning)
        metadata.reflect(conn, only=lambda name, _: name not in IGNORED_TABLES | partitions)
    _forget(metadata, partitions)
    for table, (column, condition) in backend.partitioned(conn).items():
        if table in metadata.tables:  # a partition key's values must fall inside some partition
            metadata.tables[table].info["seedkit_partitions"] = (column, condition)
    return metadata


def _unfillable(table: Table, name: str) -> bool:
    """Whether seedkit leaves ``name`` to the database (so it cannot draw a column after it)."""
    column = table.c[name]
    return column.server_default is not None or column.computed is not None or column.identity is not None


def _forget(metadata: MetaData, partitions: set[str]) -> None:
    """Drop partitions that reflection brought in anyway: PostgreSQL gives a foreign key to a
    partitioned table one copy per partition, which SQLAlchemy reflects as keys of their own."""
    for table in metadata.tables.values():
        for fk in [c for c in table.constraints if isinstance(c, ForeignKeyConstraint)]:
            if fk.referred_table.name in partitions:
                table.constraints.discard(fk)
                table.foreign_keys.difference_update(fk.elements)
                for column in fk.columns:
                    column.foreign_keys.difference_update(fk.elements)
    for name in partitions & set(metadata.tables):
        metadata.remove(metadata.tables[name])


@dataclass(frozen=True)
class SchemaStep:
    """One table's step in a recipe inferred from a schema (``seedkit scaffold`` writes these out)."""

    table: Table
    rows: int | None  # rows of a table without required parents
    parent: str | None  # else: the table of its first required parent, PER_PARENT rows per row
    distinct: bool  # a junction table: each pair at most once
    # Nullable keys filled once every table is written: (column, table it points at); a key
    # pointing at its own table makes a tree, one at a table seeded after this one breaks a cycle.
    later: tuple[tuple[str, str], ...] = ()


def schema_steps(metadata: MetaData, rows: int = DEFAULT_ROWS) -> list[SchemaStep]:
    """The steps seeding every table of ``metadata``, parents first: ordered by the NOT NULL
    foreign keys alone, so a cycle through a nullable one is no obstacle."""
    by_name = sorted(metadata.tables.values(), key=lambda t: t.key)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Cannot correctly sort tables", SAWarning)
        ordered = sort_tables(by_name, skip_fn=lambda fk: fk.parent.nullable)
    position = {table.name: i for i, table in enumerate(ordered)}
    steps: dict[str, SchemaStep] = {}
    for table in ordered:
        required = [fk for fk in foreign_keys(table) if not all(c.nullable for c in fk.columns)]
        missing = [fk for fk in required if fk.referred_table.name not in steps]
        if missing:
            fk = missing[0]
            why = "itself" if fk.referred_table is table else f"{fk.referred_table.name}, which needs it in turn"
            columns = ", ".join(c.name for c in fk.columns)
            raise RecipeError(
                f"Cannot infer {table.name}: its NOT NULL {columns} points at {why}. Make the column nullable "
                "or write a recipe for these tables."
            )
        later = tuple(
            (fk.columns[0].name, fk.referred_table.name)
            for fk in foreign_keys(table)
            if len(fk.columns) == 1 and fk.columns[0].nullable and _numbered(table) and _numbered(fk.referred_table)
            and position[fk.referred_table.name] >= position[table.name]
        )  # fmt: skip
        if not required:
            steps[table.name] = SchemaStep(table, rows, None, False, later)
        else:
            parent = required[0].referred_table.name
            steps[table.name] = SchemaStep(table, None, parent, _is_junction(table, required), later)
    return list(steps.values())


def _numbered(table: Table) -> bool:
    """A key seedkit numbers (as :func:`seedkit.schema.table_info` decides): what fill_later's
    arithmetic needs."""
    keys = list(table.primary_key.columns)
    return len(keys) == 1 and isinstance(keys[0].type, Integer) and keys[0].autoincrement in (True, "auto")


def relationship_of(model: type, column: str) -> str | None:
    """The many-to-one relationship of ``model`` whose key is ``column`` (None: it has none)."""
    info = table_info(model)
    attr = info.attrs[[c.name for c in info.columns].index(column)]
    return next((name for name, link in info.links.items() if tuple(link.local) == (attr,)), None)


def describe(rows: int) -> str:
    return f"Every table of the database, inferred from its schema ({rows} rows a table)"


def schema_recipe(
    metadata: MetaData, rows: int = DEFAULT_ROWS, name: str = "inferred", conn: Connection | None = None
) -> Recipe:
    """A recipe seeding every table of ``metadata``, parents first (``conn``: the database whose
    CHECK constraints are tested where their shape is not understood)."""
    models = map_tables(metadata, conn)
    recipe = Recipe(describe(rows), name=name)
    added: dict[str, Step] = {}
    steps = schema_steps(metadata, rows)
    for step in steps:
        model, table = models[step.table.name], step.table.name
        if step.parent is None:
            added[table] = recipe.add(model, step.rows, step_name=table)
        else:
            parent = added[step.parent]
            added[table] = recipe.add(model, per=parent, count=PER_PARENT, step_name=table, distinct=step.distinct)
    for step in steps:
        for column, target in step.later:
            recipe.fill_later(added[step.table.name], relationship_of(models[step.table.name], column), added[target])
    return recipe


def _is_junction(table: Table, required: list[ForeignKeyConstraint]) -> bool:
    """A table whose key is made of its foreign keys (a post's tags): each pair at most once."""
    keyed = {c.name for c in table.primary_key.columns}
    return len(required) >= 2 and keyed == {c.name for fk in required for c in fk.columns}


def foreign_keys(table: Table) -> list[ForeignKeyConstraint]:
    return sorted(
        (c for c in table.constraints if isinstance(c, ForeignKeyConstraint)),
        key=lambda fk: [c.name for c in fk.columns],
    )


def map_tables(metadata: MetaData, conn: Connection | None = None) -> dict[str, type]:
    """A class per table, with a many-to-one relationship per foreign key (what steps link through),
    and the values CHECKs of an unknown shape let through, tested on ``conn``."""
    mapper_registry = registry(metadata=metadata)
    classes = {table.name: type(class_name(table.name), (), {}) for table in ordered_tables(metadata)}
    for table in ordered_tables(metadata):
        properties = {}
        taken = {c.key for c in table.columns}
        for fk in foreign_keys(table):
            name = relationship_name(fk, taken)
            taken.add(name)
            target = classes[fk.referred_table.name]
            remote_side = list(fk.referred_table.primary_key.columns) if fk.referred_table is table else None
            properties[name] = relationship(
                target, foreign_keys=list(fk.columns), remote_side=remote_side, viewonly=True
            )
        primary_key = None if table.primary_key.columns else list(table.columns)
        mapper_registry.map_imperatively(classes[table.name], table, properties=properties, primary_key=primary_key)
        classes[table.name].__seedkit_declared__ = _evaluated(conn, table)  # type: ignore[attr-defined]
    return classes


def _evaluated(conn: Connection | None, table: Table) -> dict[str, Declared]:
    """Each column's declaration where a CHECK of another shape constrains it: the values among
    seeded candidates that the server accepts; for a CHECK ordering two columns, the later one
    drawn after the earlier; for any other CHECK across columns, rows of values tried together."""
    found: dict[str, Declared] = {}
    for checks, names in _spanning(table):
        ordered = ordering(checks[0], table) if len(checks) == 1 else None
        if any(_unfillable(table, n) for n in names):
            raise RecipeError(
                f"Cannot infer {table.name}: CHECK ({checks[0]}) relates columns {', '.join(names)}, some of which "
                "the database fills; write a recipe for this table."
            )
        if ordered is not None:
            found[table.c[ordered[1]].key] = after(table.c[ordered[0]], table.c[ordered[1]], strict=ordered[2])
        else:
            found |= _together(conn, table, [table.c[n] for n in names], checks)
    partitioned = table.info.get("seedkit_partitions")
    for column in table.columns:
        if column.key in found:
            continue
        checks = column_checks(table, column)
        if partitioned is not None and partitioned[0] == column.name:
            checks.append(partitioned[1])
        limits = allowed(checks, column.name)
        if not limits.unparsed:
            continue
        tried = [(v,) for v in _tried(table, column, limits)]
        accepted = passing(conn, [column], checks, tried) if conn and tried else []
        if not accepted:
            raise RecipeError(
                f"Cannot infer {table.name}.{column.name}: no value seedkit tried satisfies CHECK "
                f"({limits.unparsed[0]}); pass a declaration for it, e.g. {column.name}=factory.Iterator([...])."
            )
        found[column.key] = choice_of([row[0] for row in accepted])
    return found


def _spanning(table: Table) -> list[tuple[list[str], list[str]]]:
    """The CHECKs across columns, grouped where they share a column: ``(checks, columns)``."""
    groups: list[tuple[list[str], list[str]]] = []
    for sql, names in multi_column_checks(table):
        joined = [g for g in groups if set(g[1]) & set(names)]
        checks = [c for g in joined for c in g[0]] + [sql]
        columns = list(dict.fromkeys([n for g in joined for n in g[1]] + names))
        groups = [g for g in groups if g not in joined] + [(checks, columns)]
    return groups


def _tried(table: Table, column: Column, limits: Allowed) -> list[object]:
    """Candidate values of one column: its allowed list, else seeded values of its type."""
    rng = random.Random(derive("checks", table.name, column.name))
    if limits.values is not None:
        return list(limits.values)
    if limits.bounded and isinstance(underlying(column.type), Integer):
        low = int(limits.low) if limits.low is not None else int(limits.high) - 1000
        high = int(limits.high) if limits.high is not None else low + 1000
        return [rng.randint(low, high) for _ in range(CANDIDATES)]
    return candidates(underlying(column.type), rng) or []


def _together(conn: Connection | None, table: Table, columns: list[Column], checks: list[str]) -> dict[str, Declared]:
    """Columns a CHECK relates in another shape (``a + b < 100``): rows of values drawn together
    from each column's candidates, those the server accepts (with each column's own CHECKs)
    cycled through in lockstep, so that each row takes one accepted combination."""
    pools = [_tried(table, c, allowed(column_checks(table, c), c.name)) for c in columns]
    rng = random.Random(derive("checks", table.name, *(c.name for c in columns)))
    tried = [tuple(rng.choice(pool) for pool in pools) for _ in range(TOGETHER)] if all(pools) else []
    own = [sql for c in columns for sql in column_checks(table, c)]
    accepted = passing(conn, columns, checks + own, tried) if conn and tried else []
    if not accepted:
        raise RecipeError(
            f"Cannot infer {table.name}: no values seedkit tried for {', '.join(c.name for c in columns)} satisfy "
            f"CHECK ({checks[0]}); override those columns so that every row satisfies it."
        )
    return {c.key: cycle_of([row[i] for row in accepted]) for i, c in enumerate(columns)}


def class_name(table: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^0-9A-Za-z]+", table) if part) or "Table"


def relationship_name(fk: ForeignKeyConstraint, taken: set[str]) -> str:
    """``user`` for ``user_id`` (or ``userId``), else the referred table's name; never a column's."""
    columns = [c.name for c in fk.columns]
    base = re.sub(r"_?(id|Id|ID)$", "", columns[0]) if len(columns) == 1 else ""
    name = base if base and base != columns[0] else fk.referred_table.name
    while name in taken:
        name += "_ref"
    return name
