"""``seedkit scaffold``: the recipe ``--infer`` would run, written out as code to edit.

Inference and scaffolding are one mechanism: the steps come from
:func:`~seedkit.infer_schema.schema_steps` and every column's declaration is the source text
:mod:`seedkit.infer` evaluates, so the written recipe (under the same name) seeds exactly the data
``seedkit run --infer`` seeds. From a live database the tables are written as SQLAlchemy models
too; with ``--models`` the project's own models are imported instead.

The code is laid out the way ``ruff format`` lays it out (88 columns, double quotes, magic
trailing commas), with imports in isort's order, so a project's linters accept it as written.
"""

from __future__ import annotations

import io
import keyword
import re
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from sqlalchemy import CheckConstraint, Column, Connection, MetaData, Table, UniqueConstraint
from sqlalchemy import inspect as sa_inspect

from seedkit.errors import UsageError
from seedkit.infer import inferred_columns
from seedkit.infer_schema import (
    PER_PARENT,
    SchemaStep,
    class_name,
    describe,
    foreign_keys,
    map_tables,
    relationship_name,
    relationship_of,
    schema_steps,
)
from seedkit.recipe import required_refs
from seedkit.schema import is_mapped, ordered_tables

WIDTH = 88  # ruff format's default line length


@dataclass
class _Imports:
    """Import lines by section, rendered in isort's order."""

    lines: dict[str, set[str]] = field(
        default_factory=lambda: {"std": set(), "third": set(), "first": set(), "local": set()}
    )

    def add(self, line: str, section: str | None = None) -> None:
        """Add an import line; ``section`` "first" for the project's own modules."""
        module = line.split()[1]
        if section is None:
            section = "local" if module.startswith(".") else "std" if module in ("uuid", "decimal") else "third"
        self.lines[section].add(line)

    def render(self) -> str:
        blocks = []
        for section in ("std", "third", "first", "local"):
            found = self.lines[section]
            plain = sorted(line for line in found if line.startswith("import "))
            names: dict[str, set[str]] = {}
            for line in found - set(plain):
                module, _, imported = line[len("from ") :].partition(" import ")
                names.setdefault(module, set()).update(n.strip() for n in imported.split(","))
            froms = [f"from {m} import {', '.join(sorted(n, key=_by_type))}" for m, n in sorted(names.items())]
            if plain or froms:
                blocks.append("\n".join(plain + [_wrap_from(line) for line in froms]))
        return "\n\n".join(blocks)


def _by_type(name: str) -> tuple[int, str, str]:
    """isort's order-by-type: CONSTANTS, then Classes, then functions and variables, each
    compared without case (``PostsFactory`` before ``PostTagsFactory``)."""
    kind = 0 if name.isupper() and len(name) > 1 else 1 if name[:1].isupper() else 2
    return kind, name.lower(), name


def _wrap_from(line: str) -> str:
    if len(line) <= WIDTH:
        return line
    head, names = line.split(" import ")
    return head + " import (\n" + "".join(f"    {n.strip()},\n" for n in names.split(",")) + ")"


def _call(function: str, arguments: list[str] | tuple[str, ...], indent: int, before: int = 0, after: int = 0) -> str:
    """``function(a, b)`` on one line if it fits between ``before`` and ``after`` characters on
    its line, else one argument a line with a trailing comma (kept so by ``ruff format``)."""
    flat = f"{function}({', '.join(arguments)})"
    if indent + before + len(flat) + after <= WIDTH or not arguments:
        return flat
    pad = " " * (indent + 4)
    return f"{function}(\n" + "".join(f"{pad}{a},\n" for a in arguments) + " " * indent + ")"


def _identifier(name: str, taken: set[str]) -> str:
    base = re.sub(r"\W+", "_", name).strip("_") or "table"
    base = f"t_{base}" if base[0].isdigit() or keyword.iskeyword(base) else base
    found = base
    while found in taken:
        found += "_"
    taken.add(found)
    return found


def requote(source: str) -> str:
    """Single-quoted string literals as double-quoted ones, as ``ruff format`` writes them."""
    lines = source.splitlines(keepends=True)
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        text = token.string
        if token.type != tokenize.STRING or not text.startswith("'") or '"' in text or text.startswith("'''"):
            continue
        (row, start), (_, end) = token.start, token.end
        line = lines[row - 1]
        lines[row - 1] = line[:start] + '"' + text[1:-1] + '"' + line[end:]
    return "".join(lines)


def _type_source(kind: object, imports: _Imports) -> str:
    """The column type as code (its ``repr``), with what it names imported."""
    import sqlalchemy

    source = repr(kind)
    module = type(kind).__module__
    dialect = None
    if module.startswith("sqlalchemy.dialects."):
        dialect_name = module.split(".")[2]
        dialect = __import__(f"sqlalchemy.dialects.{dialect_name}", fromlist=["_"])
    for name in sorted(set(re.findall(r"\b([A-Za-z_]\w*)\(", source))):
        if dialect is not None and hasattr(dialect, name):
            imports.add(f"from {dialect.__name__} import {name}")
        elif hasattr(sqlalchemy, name):
            imports.add(f"from sqlalchemy import {name}")
        else:
            raise UsageError(f"Cannot write the type {source} as code; write this table's model by hand.")
    return source


def _column_source(column: Column, imports: _Imports) -> str:
    imports.add("from sqlalchemy import Column")
    arguments = [repr(column.name), _type_source(column.type, imports)]
    if column.primary_key:
        arguments.append("primary_key=True")
    elif not column.nullable:
        arguments.append("nullable=False")
    if column.primary_key and column.autoincrement != "auto":  # reflection says whether it counts
        arguments.append(f"autoincrement={column.autoincrement!r}")
    if column.server_default is not None and column.computed is None and column.identity is None:
        imports.add("from sqlalchemy import text")
        arguments.append(f"server_default=text({str(column.server_default.arg)!r})")
    if column.computed is not None:
        imports.add("from sqlalchemy import Computed")
        persisted = "" if column.computed.persisted is None else f", persisted={column.computed.persisted!r}"
        arguments.append(f"Computed({str(column.computed.sqltext)!r}{persisted})")
    if column.identity is not None:
        imports.add("from sqlalchemy import Identity")
        arguments.append(f"Identity(always={bool(column.identity.always)!r})")
    return _call("Column", arguments, 4, after=1)


def _constraint_sources(table: Table, imports: _Imports) -> list[str]:
    found = []
    for constraint in sorted(
        table.constraints, key=lambda c: (type(c).__name__, c.name or "", str(getattr(c, "sqltext", "")))
    ):
        named = [f"name={constraint.name!r}"] if constraint.name else []
        if isinstance(constraint, UniqueConstraint):
            imports.add("from sqlalchemy import UniqueConstraint")
            columns = [repr(c.name) for c in constraint.columns]
            found.append(_call("UniqueConstraint", [*columns, *named], 4, after=1))
        elif isinstance(constraint, CheckConstraint):
            imports.add("from sqlalchemy import CheckConstraint")
            found.append(_call("CheckConstraint", [repr(str(constraint.sqltext)), *named], 4, after=1))
    for fk in foreign_keys(table):
        imports.add("from sqlalchemy import ForeignKeyConstraint")
        local = "[" + ", ".join(repr(c.name) for c in fk.columns) + "]"
        remote = "[" + ", ".join(repr(f"{e.column.table.name}.{e.column.name}") for e in fk.elements) + "]"
        named = [f"name={fk.name!r}"] if fk.name else []
        found.append(_call("ForeignKeyConstraint", [local, remote, *named], 4, after=1))
    for index in sorted(table.indexes, key=lambda i: i.name or ""):
        if not all(isinstance(e, Column) for e in index.expressions):
            continue  # an expression index: the database keeps it, the model need not
        imports.add("from sqlalchemy import Index")
        unique = ["unique=True"] if index.unique else []
        columns = [repr(c.name) for c in index.columns]
        found.append(_call("Index", [repr(index.name), *columns, *unique], 4, after=1))
    return found


def _models_source(metadata: MetaData, variables: dict[str, str], classes: dict[str, str]) -> str:
    imports = _Imports()
    imports.add("from sqlalchemy import MetaData, Table")
    imports.add("from sqlalchemy.orm import DeclarativeBase, relationship")
    body = ["class Base(DeclarativeBase):", "    metadata = MetaData()", ""]
    for table in ordered_tables(metadata):
        variable = variables[table.name]
        parts = [repr(table.name), "Base.metadata"]
        parts += [_column_source(c, imports) for c in table.columns]
        parts += _constraint_sources(table, imports)
        body += ["", f"{variable} = Table(", *(f"    {p}," for p in parts), ")", ""]
        body += _class_source(table, variables, classes)
    if not any("relationship(" in line for line in body):
        imports.lines["third"].discard("from sqlalchemy.orm import DeclarativeBase, relationship")
        imports.add("from sqlalchemy.orm import DeclarativeBase")
    head = '"""The database\'s tables as SQLAlchemy models, written by `seedkit scaffold`."""\n\n'
    return requote(head + imports.render() + "\n\n\n" + "\n".join(body).rstrip() + "\n")


def _class_source(table: Table, variables: dict[str, str], classes: dict[str, str]) -> list[str]:
    variable = variables[table.name]
    lines = ["", f"class {classes[table.name]}(Base):", f"    __table__ = {variable}"]
    if not table.primary_key.columns:
        columns = [f"{variable}.c[{c.name!r}]" for c in table.columns]
        flat = f"    __mapper_args__ = {{{'primary_key'!r}: [{', '.join(columns)}]}}"
        if len(flat) <= WIDTH:
            lines.append(flat)
        else:  # exploded with trailing commas, as ruff format keeps it
            listed = "".join(f"            {c},\n" for c in columns)
            lines.append(f"    __mapper_args__ = {{\n        {'primary_key'!r}: [\n{listed}        ],\n    }}")
    taken = {c.key for c in table.columns}
    for fk in foreign_keys(table):
        name = relationship_name(fk, taken)
        taken.add(name)
        target = fk.referred_table
        arguments = [repr(classes[target.name])]
        arguments.append("foreign_keys=[" + ", ".join(f"{variable}.c[{c.name!r}]" for c in fk.columns) + "]")
        if target is table:
            arguments.append("remote_side=[" + ", ".join(f"{variable}.c[{c.name!r}]" for c in table.primary_key) + "]")
        arguments.append("viewonly=True")
        lines.append(f"    {name} = " + _call("relationship", arguments, 4, before=len(name) + 3))
    return [*lines, ""]


def _factories_source(tables: list[Table], mapped: dict[str, type], models_module: str, head: str) -> str:
    imports = _Imports()
    imports.add("import factory")
    body = []
    for table in tables:
        cls = mapped[table.name].__name__
        body += ["", "", f"class {cls}Factory(factory.alchemy.SQLAlchemyModelFactory):"]
        body += ["    class Meta:", f"        model = {cls}"]
        declared = inferred_columns(mapped[table.name])
        if declared:
            body.append("")
        for attr, declaration in declared.items():
            if not attr.isidentifier() or keyword.iskeyword(attr):
                raise UsageError(f"Column {table.name}.{attr} is not a Python name; write its factory by hand.")
            for line in declaration.imports:
                imports.add(line)
            for name, _ in declaration.names:  # an enum class the declaration names
                imports.add(f"from {models_module} import {name}", _section(models_module))
            body.append(f"    {attr} = " + _call(declaration.call, declaration.arguments, 4, before=len(attr) + 3))
    names = ", ".join(mapped[t.name].__name__ for t in tables)
    imports.add(f"from {models_module} import {names}", _section(models_module))
    return requote(f'"""{head}"""\n\n' + imports.render() + "\n" + "\n".join(body) + "\n")


def _section(module: str) -> str:
    """Where isort puts an import of ``module``: the project's own modules are first-party."""
    return "local" if module.startswith(".") else "first"


def _recipe_source(
    steps: list[SchemaStep], mapped: dict[str, type], description: str, factories_module: str, head: str
) -> str:
    imports = _Imports()
    imports.add("from seedkit import Recipe")
    factories = {table: f"{cls.__name__}Factory" for table, cls in mapped.items()}
    taken = {"recipe", "between", "Recipe", *factories.values()}
    variables: dict[str, str] = {}
    body = ["recipe = " + _call("Recipe", [repr(description)], 0, before=len("recipe = ")), ""]
    for step in steps:
        table = step.table.name
        variables[table] = _identifier(table, taken)
        arguments = [factories[table]]
        if step.parent is None:
            arguments.append(str(step.rows))
        else:
            imports.add("from seedkit import between")
            arguments += [f"per={variables[step.parent]}", f"count=between({PER_PARENT.low}, {PER_PARENT.high})"]
        parent = mapped[step.parent] if step.parent is not None else None
        refs = required_refs(mapped[table], parent, {}, {})  # the parents recipe.add(Model) picks
        if refs:
            picked = ", ".join(f"{attr!r}: {variables[_table_of(target)]}" for attr, target in refs.items())
            arguments.append(f"refs={{{picked}}}")
        arguments.append(f"step_name={table!r}")
        if step.distinct:
            arguments.append("distinct=True")
        body.append(f"{variables[table]} = " + _call("recipe.add", arguments, 0, before=len(variables[table]) + 3))
    filled = [
        _call("recipe.fill_later", [variables[s.table.name], repr(attr), variables[target]], 0)
        for s in steps
        for column, target in s.later
        if (attr := relationship_of(mapped[s.table.name], column)) is not None
    ]
    if filled:
        body += [
            "",
            "# Filled once every table is written: trees, and the way back of a cycle.",
            *filled,
        ]
    imports.add(f"from {factories_module} import {', '.join(factories[s.table.name] for s in steps)}")
    return requote(f'"""{head}"""\n\n' + imports.render() + "\n\n" + "\n".join(body) + "\n")


def _table_of(model: type) -> str:
    return model.__table__.name  # type: ignore[attr-defined]


def scaffold_schema(metadata: MetaData, *, rows: int, name: str, conn: Connection | None = None) -> dict[str, str]:
    """The files of a recipe for every table of ``metadata``: ``{file name: source}`` (``conn``:
    the database CHECKs of an unknown shape are tested on, as ``--infer`` tests them)."""
    taken: set[str] = set()
    variables = {t.name: _identifier(t.name, taken) + "_table" for t in ordered_tables(metadata)}
    classes = {t.name: class_name(t.name) for t in ordered_tables(metadata)}
    mapped = map_tables(metadata, conn)
    tables = list(ordered_tables(metadata))
    return {
        f"{name}_models.py": _models_source(metadata, variables, classes),
        f"{name}_factories.py": _factories_source(
            tables,
            mapped,
            f".{name}_models",
            "Factories for the database's tables, as `seedkit run --infer` fills them.",
        ),
        f"{name}.py": _recipe_source(
            schema_steps(metadata, rows),
            mapped,
            describe(rows),
            f".{name}_factories",
            "Written by `seedkit scaffold`: seeds what `seedkit run --infer` seeds.",
        ),
    }


def models_of(module: ModuleType) -> dict[str, type]:
    """The mapped classes a module defines or imports, by table (a subclass sharing its parent's
    table is left to the parent)."""
    found: dict[str, type] = {}
    for value in vars(module).values():
        if isinstance(value, type) and is_mapped(value) and getattr(value, "__table__", None) is not None:
            mapper = sa_inspect(value)
            if mapper.inherits is None or mapper.local_table is not mapper.inherits.local_table:
                found.setdefault(value.__table__.name, value)
    return found


def scaffold_models(module: ModuleType, *, rows: int, name: str) -> dict[str, str]:
    """Factories and a recipe for the project's own models: the factories declare what
    ``recipe.add(Model, n)`` infers, the recipe sizes and links tables as ``--infer`` would."""
    mapped = models_of(module)
    if not mapped:
        raise UsageError(f"Module {module.__name__} has no mapped classes (SQLAlchemy or SQLModel models) to scaffold.")
    metadatas = list(dict.fromkeys(cls.__table__.metadata for cls in mapped.values()))
    steps = [s for metadata in metadatas for s in schema_steps(metadata, rows) if s.table.name in mapped]
    missing = {s.parent for s in steps if s.parent is not None} - set(mapped)
    if missing:
        raise UsageError(
            f"Table(s) {', '.join(sorted(missing))} have no mapped class in {module.__name__}, and other tables need "
            "their rows; map them, or write those steps by hand."
        )
    tables = [s.table for s in steps]
    return {
        f"{name}_factories.py": _factories_source(
            tables, mapped, module.__name__, f"Factories for the models of {module.__name__}, as seedkit infers them."
        ),
        f"{name}.py": _recipe_source(
            steps,
            mapped,
            f"Every model of {module.__name__} ({rows} rows a table)",
            f".{name}_factories",
            f"Written by `seedkit scaffold --models {module.__name__}`.",
        ),
    }


def write(files: dict[str, str], folder: Path, *, force: bool = False) -> list[Path]:
    """Write ``files`` into ``folder``; an existing file is refused unless ``force``."""
    existing = [folder / n for n in files if (folder / n).exists()]
    if existing and not force:
        listing = ", ".join(str(p) for p in existing)
        raise UsageError(f"{listing} already exist(s); pass --force to overwrite, or choose another --name or --out.")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for file, source in files.items():
        (folder / file).write_text(source, encoding="utf-8")
        written.append(folder / file)
    return written
