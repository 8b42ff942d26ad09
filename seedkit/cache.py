"""The template cache: a seeded database kept under a key that covers everything deciding its data.

``run --cache`` and ``reset --cache`` look for a template whose key matches this run. Found, the
target is replaced by a copy of it (PostgreSQL's ``CREATE DATABASE … TEMPLATE``, SQLite's backup
API), swapped in atomically; not found, the run seeds as usual and then keeps a copy of what it
committed. The key hashes the migration files, the recipe folder and the project modules its
recipes import, seed, scale, run clock, the versions of the libraries that make the data, and
the backend with its server version: change any of them and the old template is not used.

The swap is the backends' job (see :mod:`seedkit.templates`); this module decides when to use
the cache and what the target's history says afterwards.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import json
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection, inspect, literal, select, table
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

import seedkit
from seedkit import history
from seedkit.backends import Backend
from seedkit.config import Settings
from seedkit.database import backend_of, parse_url
from seedkit.errors import SeedkitError, UsageError, describe_db_error
from seedkit.fingerprints import FORMAT, IGNORED_TABLES
from seedkit.report import CacheUse, RunRecord, RunReport
from seedkit.safety import check_writable
from seedkit.templates import Template, TemplateStore

if TYPE_CHECKING:
    from seedkit.planning import RecipeLike

T = TypeVar("T")

# Libraries whose versions decide the data a recipe makes (seedkit's own code, Faker's lists,
# factory-boy's declarations, SQLAlchemy's type processing).
_DATA_LIBRARIES = ("seedkit", "Faker", "factory_boy", "SQLAlchemy")
KEY_FORMAT = 1  # bump when what the key covers changes


def _library_folders() -> tuple[Path, ...]:
    """Folders whose modules are covered by a version in the key, or are not the project's."""
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix}
    return (*(Path(p).resolve() for p in prefixes), Path(seedkit.__file__).resolve().parent)


def _within(path: Path, folders: Iterable[Path]) -> bool:
    return any(path.is_relative_to(folder) for folder in folders)


def _imported_names(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """``(level, dotted name)`` of every module an import statement may load."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                yield from ((0, ".".join(parts[: i + 1])) for i in range(len(parts)))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            parts = base.split(".") if base else []
            # The packages on the way are imported too (their __init__ runs).
            yield from ((node.level, ".".join(parts[:i])) for i in range(0 if node.level else 1, len(parts) + 1))
            yield from ((node.level, f"{base}.{alias.name}" if base else alias.name) for alias in node.names)


def _module_file(level: int, name: str, importer: Path, project: Callable[[Path], bool]) -> Path | None:
    """The file ``name`` would be loaded from, if it is one of the ``project``'s. Finding a
    submodule runs its packages, so an installed package's submodules are not looked for."""
    if level:
        folder = importer.parent
        for _ in range(level - 1):
            folder = folder.parent
        relative = folder.joinpath(*name.split(".")) if name else folder
        for candidate in (relative.with_suffix(".py"), relative / "__init__.py"):
            if candidate.is_file():
                return candidate
        return None
    if not name:
        return None
    top = _origin(name.partition(".")[0])
    if top is None or not project(top):
        return None
    return _origin(name)


@functools.cache
def _origin(name: str) -> Path | None:
    """Where module ``name`` would be loaded from (its source file), or None."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError, AttributeError):
        return None
    origin = getattr(spec, "origin", None)
    return Path(origin).resolve() if origin and origin.endswith(".py") else None


def project_sources(starts: Iterable[Path], root: Path) -> list[Path]:
    """``starts`` and every project module they import, transitively: the files under ``root`` that
    are not an installed library's (a virtual environment inside the project is not the project)."""
    root = root.resolve()
    libraries = _library_folders()

    def ours(path: Path) -> bool:
        return _within(path, [root]) and not _within(path, libraries)

    seen: set[Path] = set()
    queue = [p.resolve() for p in starts]
    while queue:
        path = queue.pop()
        if path in seen or not path.is_file():
            continue
        seen.add(path)
        try:
            tree = ast.parse(path.read_bytes(), filename=str(path))
        except (SyntaxError, ValueError):
            continue  # loading the recipe reports it
        for level, name in _imported_names(tree):
            found = _module_file(level, name, path, ours)
            if found is not None and found.resolve() not in seen:
                queue.append(found.resolve())
    return sorted(seen)


def _digest(files: Iterable[Path], root: Path) -> str:
    """One hash over the files' names (relative to ``root`` where they can be) and contents."""
    digest = hashlib.sha256()
    root = root.resolve()
    for path in sorted(files):
        shown = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()
        digest.update(shown.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _step_modules(recipe: Any) -> list[Path]:
    """The files of a recipe object's factories and models (a recipe named by its module is
    found through the recipe folder, without importing it)."""
    from seedkit.resolved import ResolvedRecipe

    steps = recipe.recipe.steps if isinstance(recipe, ResolvedRecipe) else recipe.steps
    files = []
    for step in steps:
        for cls in (step.factory, step.info.model):
            module = sys.modules.get(cls.__module__)
            if getattr(module, "__file__", None):
                files.append(Path(module.__file__))
    return files


def _recipe_sources(recipe: RecipeLike, settings: Settings) -> str:
    """The recipe folder's modules, the modules of the steps' factories and models, and the
    project modules any of them import (a recipe built from the schema has no sources)."""
    rows = getattr(recipe, "rows", None)
    if rows is not None:  # inferred from the schema, which the migrations decide
        return f"schema:{rows}"
    starts = list(settings.recipes_dir.rglob("*.py")) if settings.recipes_dir.is_dir() else []
    if not isinstance(recipe, str):
        starts += _step_modules(recipe)
    return _digest(project_sources(starts, settings.root), settings.root)


def scripts_folder(config: Path | None, url: URL) -> Path:
    """The migrations folder, read from ``alembic.ini`` the way Alembic reads it (``%(here)s`` is
    the file's folder; a relative path is relative to the working directory), without importing
    Alembic unless the location is a package resource."""
    import configparser

    if config is not None and config.is_dir():
        return config
    if config is not None and config.is_file():
        parser = configparser.ConfigParser(defaults={"here": str(config.resolve().parent)})
        parser.read(config, encoding="utf-8")
        location = parser.get("alembic", "script_location", fallback="")
        if location and ":" not in location:
            return Path(location)
    from alembic.script import ScriptDirectory

    from seedkit.migrations import alembic_config

    return Path(ScriptDirectory.from_config(alembic_config(config, url)).dir)


def _migration_sources(settings: Settings, url: URL) -> str:
    folder = scripts_folder(settings.alembic_config, url)
    return _digest((p for p in folder.rglob("*.py") if "__pycache__" not in p.parts), folder)


def _recipe_name(recipe: RecipeLike) -> str:
    return recipe if isinstance(recipe, str) else recipe.name


def cache_key(
    recipe: RecipeLike,
    settings: Settings,
    *,
    seed: int,
    scale: float,
    clock: datetime,
    backend: Backend,
    server_version: str,
) -> str:
    """The hash of everything that decides the data a run writes."""
    url = parse_url(settings.database_url)
    facts = {
        "format": KEY_FORMAT,
        "fingerprint_format": FORMAT,  # a template records its fingerprint
        "recipe": _recipe_name(recipe),
        "sources": _recipe_sources(recipe, settings),
        "migrations": _migration_sources(settings, url),
        "seed": int(seed),
        "scale": float(scale),  # scale=2000 from Python and --scale 2000 are one run
        "now": clock.isoformat(),
        "libraries": {name: version(name) for name in _DATA_LIBRARIES},
        "backend": backend.name,
        "server": server_version,
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


def _on_target(url: URL, backend: Backend, read: Callable[[Connection], T]) -> T:
    """``read`` on a connection of its own to the target (which must exist)."""
    engine = backend.make_engine(url, write=False)
    try:
        with engine.connect() as conn:
            return read(conn)
    finally:
        engine.dispose()


def _holds_rows(conn: Connection) -> bool:
    """Whether any of the target's own tables (not seedkit's or Alembic's) has a row."""
    names = [n for n in inspect(conn).get_table_names() if n not in IGNORED_TABLES]
    return any(conn.execute(select(literal(1)).select_from(table(n)).limit(1)).first() for n in names)


def _record_into(url: URL, backend: Backend, entries: list[RunRecord]) -> None:
    engine = backend.make_engine(url, write=True)
    try:
        with engine.connect() as conn, conn.begin():
            history.rewrite(conn, entries)
    finally:
        engine.dispose()


def run_cached(
    recipe: RecipeLike,
    *,
    settings: Settings,
    seed: int,
    scale: float,
    clock: datetime,
    reset: bool,
    mode: str,
    migrate: bool,
    end_sessions: bool,
    fresh: Callable[[], RunReport],
    notify: Callable[[str], None] | None = None,
) -> RunReport:
    """Replace the target by a copy of this run's template if there is one (``reset``, or a
    target without rows), else seed with ``fresh`` and keep a template of what it committed."""
    if not (migrate or reset):
        raise UsageError(
            "--cache needs the migrations (they are part of what the cache key covers): drop --no-migrate."
        )
    if mode != "refuse" and not reset:
        raise UsageError(
            "--cache replaces the whole database, so it seeds a new or empty one: drop --append, --truncate and "
            "--if-empty, or use `seedkit reset --cache`."
        )
    url = parse_url(settings.database_url)
    backend = backend_of(url)
    target = backend.resolve(url)
    check_writable(target, settings.protected)
    with closing(backend.templates(url, settings.cache_dir)) as store:
        key, template = _lookup(store, backend, recipe, settings, seed=seed, scale=scale, clock=clock)
        exists = template is not None and store.target_exists()
        if template is not None and (reset or not (exists and _on_target(url, backend, _holds_rows))):
            earlier = _on_target(url, backend, history.records) if exists else []
            told = notify or (lambda line: None)
            return _restore(store, template, key, target.display, url, backend, earlier, end_sessions, told)
        report = fresh()
        if report.status == "seeded":
            report.cache = _keep(store, key, report, settings)
        return report


def _restore(
    store: TemplateStore,
    template: Template,
    key: str,
    target: str,
    url: URL,
    backend: Backend,
    earlier: list[RunRecord],
    end_sessions: bool,
    notify: Callable[[str], None],
) -> RunReport:
    began, started = time.perf_counter(), datetime.now(UTC)
    entry = RunRecord(
        recipe=template.recipe,
        seed=template.seed,
        scale=template.scale,
        seedkit_version=version("seedkit"),
        faker_version=version("Faker"),
        fingerprint=template.fingerprint,
        rows=template.rows,
        started_at=started.isoformat(timespec="seconds"),
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
        from_empty=True,
        from_cache=True,
        fingerprint_format=FORMAT,
    )
    restored = store.restore(
        template,
        end_sessions=end_sessions,
        prepare=lambda copy: _record_into(copy, backend, [*earlier, entry]),
        notify=notify,
    )
    report = RunReport(
        recipe=template.recipe, seed=template.seed, scale=template.scale, target=target, now=template.now
    )
    report.tables = dict(template.tables)
    report.paths = dict.fromkeys(template.tables, "cache")
    report.fingerprint, report.revision = template.fingerprint, template.revision
    report.cache = CacheUse(key=key, hit=True, template=template.name, sessions_ended=restored.sessions_ended)
    report.seconds = time.perf_counter() - began
    return report


def _keep(store: TemplateStore, key: str, report: RunReport, settings: Settings) -> CacheUse:
    """Keep a template of what the run committed; a template that cannot be kept is a note, not
    a failure (the run itself succeeded)."""
    described = Template(
        key=key,
        recipe=report.recipe,
        seed=report.seed,
        scale=report.scale,
        now=report.now,
        fingerprint=report.fingerprint or "",
        tables=dict(report.tables),
        revision=report.revision,
        project=str(settings.root.resolve()),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    try:
        kept = store.keep(described)
    except (SeedkitError, DBAPIError) as exc:
        note = describe_db_error(exc) if isinstance(exc, DBAPIError) else str(exc)
        return CacheUse(key=key, hit=False, note=f"no template kept: {note}")
    except KeyboardInterrupt:
        return CacheUse(key=key, hit=False, note="no template kept: interrupted (the run itself was committed)")
    return CacheUse(key=key, hit=False, template=kept.name, kept=True)


def _lookup(
    store: TemplateStore, backend: Backend, recipe: RecipeLike, settings: Settings, **data: Any
) -> tuple[str, Template | None]:
    """This run's cache key (``data``: seed, scale, clock) and the template kept under it."""
    key = cache_key(recipe, settings, backend=backend, server_version=store.server_version(), **data)
    return key, store.find(key)


def template_for(
    recipe: RecipeLike, settings: Settings, *, seed: int, scale: float, clock: datetime
) -> Template | None:
    """The template a cached run of ``recipe`` would clone now, if one is kept (the CLI skips
    planning a seed that will not happen)."""
    url = parse_url(settings.database_url)
    backend = backend_of(url)
    with closing(backend.templates(url, settings.cache_dir)) as store:
        return _lookup(store, backend, recipe, settings, seed=seed, scale=scale, clock=clock)[1]


def _store(settings: Settings) -> TemplateStore:
    url = parse_url(settings.database_url)
    return backend_of(url).templates(url, settings.cache_dir)


def list_templates(settings: Settings) -> list[Template]:
    """The templates kept for the settings' backend (on its server, or in the cache folder)."""
    with closing(_store(settings)) as store:
        return store.all()


def clear_templates(settings: Settings, *, everything: bool = False) -> list[str]:
    """Remove this project's templates (``everything``: every project's), and any temporary copy
    an interrupted command left; returns what was removed."""
    project = str(settings.root.resolve())
    with closing(_store(settings)) as store:
        removed = []
        for template in store.all():
            if everything or template.project == project:
                store.drop(template)
                removed.append(template.name)
        return removed + store.drop_scratch()
