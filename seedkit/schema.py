"""What seedkit needs to know about a user's mapped model, read once from SQLAlchemy.

Generation works on attribute names (what factories declare); writers work on column names.
``TableInfo`` holds the mapping between the two, the primary key seedkit may assign, the
relationships children link through, the unique constraints it must respect, and the Python-side
column defaults it applies itself (COPY bypasses SQLAlchemy, so defaults must be explicit).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cache
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Uuid,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import NoInspectionAvailable, SAWarning
from sqlalchemy.schema import UniqueConstraint


@dataclass(frozen=True)
class Link:
    """A many-to-one relationship: setting ``attr`` to a parent fills ``local`` from ``remote``."""

    attr: str
    target: type
    local: tuple[str, ...]  # attribute keys on this model (the FK columns)
    remote: tuple[str, ...]  # attribute keys on the parent model


@dataclass(frozen=True)
class TableInfo:
    model: type
    table: Table
    attrs: tuple[str, ...]  # mapped column attributes, in table column order
    columns: tuple[Column, ...]  # the column behind each attribute
    pk: str | None  # attribute seedkit numbers itself (single integer key), else None
    links: dict[str, Link]
    unique: tuple[tuple[str, ...], ...]  # attribute tuples that must be unique together
    defaults: dict[str, Any]  # attribute -> scalar or zero-argument callable

    @property
    def name(self) -> str:
        return self.table.name

    def column_name(self, attr: str) -> str:
        return self.columns[self.attrs.index(attr)].name


# The first match wins: a Float is also a Numeric.
_KINDS: tuple[tuple[type, str], ...] = (
    (Boolean, "bool"),
    (Integer, "int"),
    (Float, "float"),
    (Numeric, "numeric"),
    (DateTime, "timestamp"),
    (Date, "date"),
    (JSON, "json"),
    (Uuid, "uuid"),
    (LargeBinary, "bytes"),
    (String, "text"),
)


def column_kind(column: Column) -> str:
    """The family of a column's type, for the code that must render its values as text."""
    kind = next((kind for base, kind in _KINDS if isinstance(column.type, base)), "other")
    return "timestamptz" if kind == "timestamp" and column.type.timezone else kind


def is_mapped(model: object) -> bool:
    try:
        sa_inspect(model).mapper  # noqa: B018 - raises for unmapped classes
    except (NoInspectionAvailable, AttributeError):
        return False
    return True


@cache
def table_info(model: type) -> TableInfo:
    mapper = sa_inspect(model)
    table = mapper.local_table
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a single table")
    by_column = {}
    for prop in mapper.column_attrs:
        if len(prop.columns) == 1 and prop.columns[0].table is table:
            by_column[prop.columns[0].key] = prop.key
    columns = tuple(c for c in table.columns if c.key in by_column)
    attrs = tuple(by_column[c.key] for c in columns)
    attr_of = dict(zip((c.key for c in columns), attrs, strict=True))

    pk_cols = list(table.primary_key.columns)
    pk = None
    if len(pk_cols) == 1 and isinstance(pk_cols[0].type, Integer) and pk_cols[0].autoincrement in (True, "auto"):
        pk = attr_of[pk_cols[0].key]

    links = {}
    for rel in mapper.relationships:
        if rel.direction.name != "MANYTOONE":
            continue
        pairs = [(local, remote) for local, remote in rel.local_remote_pairs if local.table is table]
        remote_attrs = sa_inspect(rel.mapper.class_)
        remote_of = {p.columns[0].key: p.key for p in remote_attrs.column_attrs if len(p.columns) == 1}
        links[rel.key] = Link(
            attr=rel.key,
            target=rel.mapper.class_,
            local=tuple(attr_of[local.key] for local, _ in pairs),
            remote=tuple(remote_of[remote.key] for _, remote in pairs),
        )

    unique: list[tuple[str, ...]] = []
    for column in columns:
        if column.unique and not column.primary_key:
            unique.append((attr_of[column.key],))
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint):
            unique.append(tuple(attr_of[c.key] for c in constraint.columns))
    for index in table.indexes:
        if index.unique and all(isinstance(e, Column) for e in index.expressions):
            unique.append(tuple(attr_of[c.key] for c in index.columns))

    defaults = {}
    for column in columns:
        default = column.default
        if default is None or attr_of[column.key] == pk:  # seedkit numbers that key itself
            continue
        if default.is_scalar:
            defaults[attr_of[column.key]] = default.arg
        elif default.is_callable:
            defaults[attr_of[column.key]] = zero_arg(default.arg)

    return TableInfo(
        model=model,
        table=table,
        attrs=attrs,
        columns=columns,
        pk=pk,
        links=links,
        unique=tuple(dict.fromkeys(unique)),
        defaults=defaults,
    )


def zero_arg(wrapped: Any) -> Any:
    """SQLAlchemy wraps a column default so it takes an execution context; seedkit has none.

    A zero-argument original (``default=uuid.uuid4``) is returned as it is, so seedkit can
    recognise it and substitute its seeded version.
    """
    original = getattr(wrapped, "__wrapped__", None)
    if original is not None:
        return original
    return lambda: wrapped(None)


@cache
def row_class(model: type, attrs: tuple[str, ...]) -> type[tuple]:
    """A tuple subclass with one read-only attribute per column attribute.

    Rows stay tuples (cheap to build, ready for executemany and COPY), yet a child's
    ``LazyAttribute(lambda o: o.product.price)`` can read its parent's values by name.
    """
    namespace: dict[str, Any] = {"__slots__": (), "_seedkit_row": (model, attrs)}
    for index, attr in enumerate(attrs):
        namespace[attr] = property(itemgetter(index))
    namespace["__repr__"] = lambda self: (
        f"{model.__name__}Row({', '.join(f'{a}={v!r}' for a, v in zip(attrs, self, strict=True))})"
    )
    return type(f"{model.__name__}Row", (tuple,), namespace)


def row_fields(cls: type) -> tuple[type, tuple[str, ...]] | None:
    """``(model, attrs)`` if ``cls`` is a :func:`row_class`, which rebuilds it from them."""
    return cls.__dict__.get("_seedkit_row")


def ordered_tables(metadata: MetaData) -> list[Table]:
    """``metadata.sorted_tables`` without SQLAlchemy's warning about foreign-key cycles: seedkit
    orders steps by their NOT NULL keys and fills a cycle's nullable way back afterwards."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Cannot correctly sort tables", SAWarning)
        return list(metadata.sorted_tables)
