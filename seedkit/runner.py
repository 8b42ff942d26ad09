"""The library's verbs: ``run``, ``reset``, ``migrate``, ``plan``, ``fingerprint``, ``status``.

Each verb is one function over :class:`~seedkit.config.Settings` that returns a plain object
and prints nothing. A write is one transaction: lock, (wipe,) migrate, check the target,
generate and write, record the run, commit. Any failure, or Ctrl-C, rolls all of it back.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, func, inspect, select
from sqlalchemy.exc import DBAPIError

from seedkit import history
from seedkit.backends import WAIT, Target, Waiting, backend_of_connection
from seedkit.clock import parse_now
from seedkit.config import MAX_SEED, WRITERS, Settings, check_scale
from seedkit.database import backend_of, connect, parse_url
from seedkit.errors import LockBusy, SeedFailed, SeedkitError, TargetRefused, UsageError, describe_db_error
from seedkit.fingerprints import FORMAT, IGNORED_TABLES, Fingerprint, fingerprint, reflect_tables
from seedkit.report import RunRecord, RunReport, Status
from seedkit.safety import check_writable
from seedkit.schema import ordered_tables
from seedkit.stopwatch import Stopwatch

if TYPE_CHECKING:
    from seedkit.cluster import Remote
    from seedkit.environment import Environment
    from seedkit.infer_schema import FromSchema
    from seedkit.parallel import Workers
    from seedkit.planning import RecipeLike
    from seedkit.recipe import Recipe
    from seedkit.resolved import ResolvedRecipe
    from seedkit.seeding import Progress, SeedResult

# What seeding needs (Faker, factory-boy, the writers, Alembic) is imported by the functions that
# seed, not here: a cached run, status and fingerprint start without it.

MODES = ("refuse", "append", "truncate", "if_empty")
Retry = Callable[[int, float, str], None]


def check_seed(seed: int) -> None:
    """A seed is recorded with the run, so it must fit the record's column."""
    if not 0 <= seed <= MAX_SEED:
        raise UsageError(f"seed must be a whole number from 0 to {MAX_SEED:,}, got {seed:,}")


def resolve_target(settings: Settings) -> Target:
    """Where the settings' URL really connects (query parameters and PG* environment included)."""
    url = parse_url(settings.database_url)
    return backend_of(url).resolve(url)


def check_target(settings: Settings) -> Target:
    """Raise :class:`TargetRefused` if the settings' target may not be written at all."""
    target = resolve_target(settings)
    check_writable(target, settings.protected)
    return target


@contextmanager
def _transaction(
    settings: Settings, *, write: bool, wait: float, waiting: Waiting, on_retry: Retry | None
) -> Iterator[Connection]:
    """One connection, one transaction, the run lock held; committed only if the body returns.

    A write is checked against the protected targets twice: as resolved before connecting, and
    as the live connection reports itself, before anything is begun (a service file or a
    resolver can still send a URL somewhere its text does not say). A write that fails on a
    database it created (a new SQLite file) removes it again.
    """
    url = parse_url(settings.database_url)
    backend = backend_of(url)
    target = backend.resolve(url)
    if write:
        check_writable(target, settings.protected)
    created = write and not backend.exists(url)
    engine = backend.make_engine(url, write=write)
    failed: BaseException | None = None
    try:
        with connect(engine, wait=wait, on_retry=on_retry) as conn:
            if write:
                check_writable(backend.connected(conn), settings.protected)
            with backend.watching_locks(conn, waiting), backend.begin(conn, write=write, waiting=waiting):
                if write:
                    backend.acquire_run_lock(conn, waiting)
                yield conn
    except BaseException as exc:
        failed = exc
        if not isinstance(exc, SeedkitError) and any(backend.lock_timed_out(e) for e in _causes(exc)):
            waited = f" after {waiting.timeout:g}s (--lock-timeout)" if waiting.timeout else ""
            raise LockBusy(f"Gave up waiting for a lock on {target.display}{waited}; nothing was written.") from exc
        raise
    finally:
        engine.dispose()
        if created and failed is not None:
            # A statement an interrupt cut short stays open while the traceback's frames hold
            # its cursor, and SQLite keeps the file locked until then: let go of them first.
            for error in _causes(failed):
                traceback.clear_frames(error.__traceback__)
            backend.discard(url)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """An exception, what it was raised from, and the driver errors SQLAlchemy wrapped."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        original = getattr(current, "orig", None)
        if isinstance(original, BaseException):
            yield original
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)


def _user_tables(conn: Connection, recipe: Recipe) -> list:
    """Every table of the recipe models' metadata that exists in the database, parents first."""
    present = set(inspect(conn).get_table_names())
    tables = []
    for metadata in dict.fromkeys(step.info.table.metadata for step in recipe.steps):
        tables += [t for t in ordered_tables(metadata) if t.name in present and t not in tables]
    return tables


def _counts(conn: Connection, tables: list) -> dict[str, int]:
    return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in tables}


def _counts_after(
    conn: Connection, tables: list, before: dict[str, int], result: SeedResult, triggered: set[str]
) -> dict[str, int]:
    """Rows each table holds after a seed.

    Where only seedkit's own writers wrote and no trigger can add rows, that is what was there
    plus what the steps made: counting 1.2M rows again cost PostgreSQL half a second. factory-boy's
    path (whose factories may drop rows, or add them anywhere) and ``triggered`` tables (the run
    asked once, for its fingerprints) make it count.
    """
    if result.reasons or triggered:
        return _counts(conn, tables)
    made: dict[str, int] = {}
    for table, rows in result.planned.values():
        made[table] = made.get(table, 0) + rows
    return {t.name: before.get(t.name, 0) + made.get(t.name, 0) for t in tables}


def _check_options(seed: int, scale: float, workers: int | str, writer: str) -> None:
    check_scale(scale)
    check_seed(seed)
    if workers != "auto" and not (isinstance(workers, int) and workers >= 1):
        raise UsageError(f"workers must be a whole number of at least 1, or 'auto', got {workers!r}")
    if writer not in WRITERS:
        raise UsageError(f"Unknown writer {writer!r}; choose one of {', '.join(WRITERS)}.")


def _worker_count(workers: int | str, target: Target) -> Workers:
    from seedkit.parallel import Workers, auto_workers

    return auto_workers(target) if workers == "auto" else Workers.each(int(workers))


def _remote(
    executor: Executor | None,
    workers: int,
    recipe: ResolvedRecipe,
    settings: Settings,
    clock: datetime,
    environment: Environment,
) -> Remote | None:
    """What a seed needs to generate on ``executor`` (None: in this process)."""
    from seedkit.cluster import RecipeSource, Remote

    if executor is None:
        return None
    if not isinstance(executor, Executor):
        raise UsageError(f"executor must be a concurrent.futures.Executor, got {type(executor).__name__}")
    source = RecipeSource.of(recipe.recipe, settings.root)
    # Two chunks per worker: one being made, one on its way back.
    return Remote(executor, 2 * workers, source, clock, environment)


def _executor_name(executor: Executor | None) -> str | None:
    return None if executor is None else type(executor).__module__.partition(".")[0]


def _present_tables(conn: Connection, recipe: Recipe, target: str, hint: str = "") -> list:
    """The recipe models' tables in the database, parents first; a recipe table missing fails."""
    tables = _user_tables(conn, recipe)
    missing = {s.info.name for s in recipe.steps} - {t.name for t in tables}
    if missing:
        raise UsageError(
            f"Table(s) {', '.join(sorted(missing))} do not exist in {target}; migrate the database first{hint}."
        )
    return tables


def seed_into(
    connection: Connection,
    recipe: RecipeLike,
    *,
    seed: int = 0,
    scale: float = 1.0,
    settings: Settings | None = None,
    now: str | datetime | None = None,
    writer: str = "auto",
    workers: int | str = 1,
    progress: Progress | None = None,
    environment: Environment | None = None,
    executor: Executor | None = None,
) -> RunReport:
    """Seed ``recipe`` inside a transaction the caller owns, and return what was created.

    No lock, no migration, no run record, nothing committed: the caller commits or rolls back
    (a test's outer transaction, a script's own). ``recipe`` is a :class:`Recipe` or a recipe
    name, found through ``settings`` (default: :func:`seedkit.load_settings`). The tables must
    exist; rows already in them stay, and new rows are added after them. ``environment`` says
    which process-wide parts of seeding to switch on (a test suite with its own frozen clock
    passes ``Environment(clock=False)``). ``executor`` generates the rows instead of this
    process, ``workers`` chunks at a time (see :func:`run`).
    """
    from seedkit.config import load_settings
    from seedkit.environment import Environment
    from seedkit.planning import resolve_recipe

    environment = environment or Environment()
    _check_options(seed, scale, workers, writer)
    clock = parse_now(now)
    settings = settings or load_settings()
    loaded = resolve_recipe(settings, recipe, connection)
    connected = backend_of_connection(connection).connected(connection)
    check_writable(connected, settings.protected)  # protected targets are never written, whoever connects
    target = connected.display
    report = RunReport(recipe=loaded.name, seed=seed, scale=scale, target=target, now=clock.isoformat())
    began, stopwatch = time.perf_counter(), Stopwatch()
    tables = _present_tables(connection, loaded.recipe, target)
    before = _counts(connection, tables)
    chosen = _worker_count(workers, connected)
    remote = _remote(executor, chosen.finishing, loaded, settings, clock, environment)
    report.executor = _executor_name(executor)
    _seed_on(
        connection,
        loaded,
        report,
        tables,
        before,
        clock,
        writer,
        chosen,
        progress,
        stopwatch,
        environment,
        remote,
    )
    report.seconds = time.perf_counter() - began
    report.timings = _timings(stopwatch, report.seconds)
    return report


def _timings(stopwatch: Stopwatch, seconds: float) -> dict[str, float]:
    """The stopwatch's stages, and the rest of ``seconds`` as ``other``."""
    timings = stopwatch.rounded()
    timings["other"] = round(max(0.0, seconds - sum(stopwatch.seconds.values())), 3)
    return timings


def _seed_on(
    conn: Connection,
    recipe: ResolvedRecipe,
    report: RunReport,
    tables: list,
    before: dict[str, int],
    clock: datetime,
    writer: str,
    workers: Workers,
    progress: Progress | None,
    stopwatch: Stopwatch,
    environment: Environment | None = None,
    remote: Remote | None = None,
) -> None:
    """Generate and write the recipe's rows on ``conn``, and fill ``report`` with what happened."""
    from seedkit.environment import Environment, seeded
    from seedkit.lane import Lane
    from seedkit.seeding import Seeder
    from seedkit.writers import make_writer
    from seedkit.written import RunHashes

    environment = environment or Environment()
    lane = Lane(conn, stopwatch)
    write = make_writer(lane, writer)
    with stopwatch.stage("fingerprint"):
        hashes = RunHashes(conn, {p.step.info.name for p in recipe.steps}, before, lane.ask, write.sends_canonical)
    if write.name == "orm":  # model instances may fill columns themselves (Python-side defaults)
        hashes.give_up("the orm writer's model instances may fill columns themselves")
    seeder = Seeder(lane, recipe, report.seed, report.scale, write, progress, workers, hashes=hashes, remote=remote)
    try:
        with seeded(clock, environment):
            result = seeder.seed_all()
    except DBAPIError as exc:
        raise SeedFailed(f"Seeding {recipe.name} failed and was rolled back: {describe_db_error(exc)}") from exc
    except SeedFailed as exc:
        raise SeedFailed(f"Seeding {recipe.name} failed and was rolled back: {exc}") from exc
    with stopwatch.stage("count"):
        after = _counts_after(conn, tables, before, result, hashes.triggered)
    report.tables = {name: after[name] - before.get(name, 0) for name in after if after[name] != before.get(name, 0)}
    report.paths = {name: result.paths.get(name, "orm") for name in report.tables}
    report.planned = {step: rows for step, (_, rows) in result.planned.items()}
    report.workers = workers.finishing if remote is not None else result.workers
    report.nondeterministic = dict(result.unsteady)
    _check_written(result.planned, report.tables)
    report.orm_reasons = dict(result.reasons)
    # The whole database's fingerprint, as `seedkit fingerprint` and `status` compute it.
    with stopwatch.stage("fingerprint"):
        known = hashes.known()
        report.fingerprint = fingerprint(conn, known).overall
    outside = {name: _OUTSIDE_STEPS for name in report.tables if name not in known and name not in hashes.read_back}
    report.read_back = dict(sorted({**hashes.read_back, **outside}.items()))


_OUTSIDE_STEPS = "rows went into it outside the recipe's steps (a SubFactory or a trigger)"


def run(
    recipe: RecipeLike,
    *,
    settings: Settings,
    seed: int = 0,
    scale: float = 1.0,
    now: str | datetime | None = None,
    migrate: bool = True,
    mode: str = "refuse",
    writer: str = "auto",
    workers: int | str = 1,
    wait: float = 0,
    waiting: Waiting = WAIT,
    reset: bool = False,
    progress: Progress | None = None,
    on_retry: Retry | None = None,
    executor: Executor | None = None,
    cache: bool | None = None,
    end_sessions: bool = False,
    notify: Callable[[str], None] | None = None,
) -> RunReport:
    """Seed ``recipe`` into the settings' target and return what was created.

    One transaction of its own: take the run lock, migrate, check the target, seed (as
    :func:`seed_into` does), record the run, commit. ``mode`` says what to do when the recipe's
    tables already hold rows: ``refuse`` (raise :class:`TargetRefused`), ``append``,
    ``truncate`` (delete them first) or ``if_empty`` (leave them and return a report with
    status ``skipped``). ``reset`` wipes the schema by downgrading to base before migrating.

    ``executor`` (a ``concurrent.futures.Executor``: a Dask client's ``get_executor()``, say)
    generates the compiled steps' rows, ``workers`` chunks at a time each; this process still
    checks and writes them in its one transaction, and the data is the same as without it.

    ``cache`` (default: ``settings.cache``) replaces the target by a copy of a template seeded
    earlier with exactly this data, or seeds and keeps one (see :mod:`seedkit.cache`); a
    PostgreSQL target other sessions are connected to is refused unless ``end_sessions``;
    ``notify`` hears a line as each stage of replacing the target begins.
    """
    if mode not in MODES:
        raise UsageError(f"mode must be one of {', '.join(MODES)}")
    _check_options(seed, scale, workers, writer)
    clock = parse_now(now)
    if settings.cache if cache is None else cache:
        from seedkit.cache import run_cached

        again = dict(seed=seed, scale=scale, now=clock, migrate=migrate, mode=mode, writer=writer, workers=workers)
        again |= dict(wait=wait, waiting=waiting, reset=reset, progress=progress, on_retry=on_retry, executor=executor)
        return run_cached(
            recipe,
            settings=settings,
            seed=seed,
            scale=scale,
            clock=clock,
            reset=reset,
            mode=mode,
            migrate=migrate,
            end_sessions=end_sessions,
            notify=notify,
            fresh=lambda: run(recipe, settings=settings, cache=False, **again),
        )
    from seedkit import migrations
    from seedkit.environment import Environment
    from seedkit.infer_schema import FromSchema
    from seedkit.planning import resolve_recipe

    # A recipe inferred from the schema is built once the migrations have made the tables.
    loaded = None if isinstance(recipe, FromSchema) else resolve_recipe(settings, recipe)
    url = parse_url(settings.database_url)
    target = resolve_target(settings)
    report = RunReport(
        recipe=recipe.name if loaded is None else loaded.name,
        seed=seed,
        scale=scale,
        target=target.display,
        now=clock.isoformat(),
    )
    chosen = _worker_count(workers, target)
    report.executor = _executor_name(executor)
    started = datetime.now(UTC)
    began, stopwatch = time.perf_counter(), Stopwatch()
    config = migrations.alembic_config(settings.alembic_config, url) if (migrate or reset) else None
    with _transaction(settings, write=True, wait=wait, waiting=waiting, on_retry=on_retry) as conn:
        stopwatch.add("connect", time.perf_counter() - began)  # and take the run lock
        with stopwatch.stage("migrate"):
            if reset:
                migrations.downgrade(conn, config, "base")
            if config is not None:
                migrations.upgrade(conn, config, "head")
                report.revision = migrations.current_revision(conn)
        with stopwatch.stage("prepare"):
            loaded = resolve_recipe(settings, loaded or recipe, conn)
            remote = _remote(executor, chosen.finishing, loaded, settings, clock, Environment())
            hint = "" if config is not None else " (this run did not migrate: drop --no-migrate)"
            tables = _present_tables(conn, loaded.recipe, report.target, hint)
            recipe_names = {s.info.name for s in loaded.recipe.steps}
            recipe_tables = [t for t in tables if t.name in recipe_names]
            before = _counts(conn, tables)
        existing = {t.name: before[t.name] for t in recipe_tables if before[t.name]}
        if existing and mode == "if_empty":
            report.status, report.existing = "skipped", existing
            report.seconds = time.perf_counter() - began
            return report
        if existing and mode == "refuse":
            listing = ", ".join(f"{k} ({v} rows)" for k, v in existing.items())
            raise TargetRefused(
                f"{report.target} already holds rows in {listing}. Use --truncate to empty these "
                "tables first, `seedkit reset` to rebuild the database, or --append to add anyway."
            )
        if existing and mode == "truncate":
            backend_of_connection(conn).empty(conn, recipe_tables)
            before = _counts(conn, tables)
        _seed_on(conn, loaded, report, tables, before, clock, writer, chosen, progress, stopwatch, remote=remote)
        from_empty = not existing or mode == "truncate"
        with stopwatch.stage("record"):
            if from_empty:
                earlier = history.last_identical(conn, loaded.name, seed, scale)
                if earlier is not None and earlier.fingerprint != report.fingerprint:
                    report.previous_fingerprint = earlier.fingerprint
            _record(conn, report, started, from_empty)
        committing = time.perf_counter()
    stopwatch.add("commit", time.perf_counter() - committing)
    report.seconds = time.perf_counter() - began
    report.timings = _timings(stopwatch, report.seconds)
    return report


def _check_written(planned: dict[str, tuple[str, int]], written: dict[str, int]) -> None:
    """Never report success with fewer rows than the steps made (a factory that lost them)."""
    for table in dict.fromkeys(t for t, _ in planned.values()):
        steps = [name for name, (t, _) in planned.items() if t == table]
        expected = sum(planned[name][1] for name in steps)
        if written.get(table, 0) < expected:
            raise SeedFailed(
                f"table {table}: step(s) {', '.join(steps)} made {expected:,} rows but {written.get(table, 0):,} "
                "were written (does a factory's _create drop them?); rolled back"
            )


def _record(conn: Connection, report: RunReport, started: datetime, from_empty: bool) -> None:
    """Write the run into ``seedkit_runs``, inside the run's own transaction."""
    history.record(
        conn,
        RunRecord(
            recipe=report.recipe,
            seed=report.seed,
            scale=report.scale,
            seedkit_version=version("seedkit"),
            faker_version=version("Faker"),
            fingerprint=report.fingerprint or "",
            rows=report.total_rows,
            started_at=started.isoformat(timespec="seconds"),
            finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
            from_empty=from_empty,
            fingerprint_format=FORMAT,
        ),
    )


def reset(recipe: RecipeLike, *, settings: Settings, **options) -> RunReport:
    """Wipe the target (downgrade to base), migrate and seed, all in one transaction.

    On PostgreSQL (and SQLite) DDL is transactional, so a reset that fails at any point leaves
    the old schema and data exactly as they were.
    """
    return run(recipe, settings=settings, reset=True, mode="append", **options)


def is_downgrade(revision: str) -> bool:
    """``base`` and ``-N`` go down (dropping what the migrations made); anything else goes up."""
    return revision == "base" or revision.startswith("-")


def migrate(settings: Settings, revision: str = "head", *, wait: float = 0, waiting: Waiting = WAIT) -> str | None:
    """Upgrade the target to ``revision``; ``base`` or ``-N`` downgrade. Returns where it ended."""
    from seedkit import migrations

    url = parse_url(settings.database_url)
    config = migrations.alembic_config(settings.alembic_config, url)
    with _transaction(settings, write=True, wait=wait, waiting=waiting, on_retry=None) as conn:
        if is_downgrade(revision):
            migrations.downgrade(conn, config, revision)
        else:
            migrations.upgrade(conn, config, revision)
        return migrations.current_revision(conn)


def read_schema(settings: Settings, recipe: FromSchema, *, wait: float = 0, waiting: Waiting = WAIT) -> ResolvedRecipe:
    """``recipe`` built from the target's tables as they are (reads only, creates nothing)."""
    from seedkit.planning import resolve_recipe

    with _transaction(settings, write=False, wait=wait, waiting=waiting, on_retry=None) as conn:
        return resolve_recipe(settings, recipe, conn)


def scaffold(
    settings: Settings,
    out: Path,
    *,
    rows: int,
    name: str = "inferred",
    force: bool = False,
    models: str | None = None,
) -> list[Path]:
    """Write a recipe to edit into ``out``: with ``models`` (a module of the project), factories
    for its models; otherwise the recipe ``seedkit run --infer --rows N`` would run on the target
    as it is now (models, factories, recipe), which under the default name seeds the same data."""
    from seedkit.infer_schema import reflect
    from seedkit.loader import import_models
    from seedkit.scaffolding import scaffold_models, scaffold_schema, write

    if models is not None:
        module = import_models(models, settings.root)
        return write(scaffold_models(module, rows=rows, name=name), out, force=force)
    with _transaction(settings, write=False, wait=0, waiting=WAIT, on_retry=None) as conn:
        files = scaffold_schema(reflect(conn), rows=rows, name=name, conn=conn)
    return write(files, out, force=force)


def fingerprint_database(settings: Settings, *, wait: float = 0, waiting: Waiting = WAIT) -> Fingerprint:
    """Row counts and content hashes of the target's tables; reads only, and never creates it."""
    with _transaction(settings, write=False, wait=wait, waiting=waiting, on_retry=None) as conn:
        return fingerprint(conn)


def status(settings: Settings, *, wait: float = 0, waiting: Waiting = WAIT) -> Status:
    """What the target holds: revision (and the migrations' head), rows per table, the last run."""
    from seedkit import migrations

    url = parse_url(settings.database_url)
    head = None
    if settings.alembic_config is not None and settings.alembic_config.exists():
        head = migrations.head_revision(migrations.alembic_config(settings.alembic_config, url))
    with _transaction(settings, write=False, wait=wait, waiting=waiting, on_retry=None) as conn:
        tables = [t for t in ordered_tables(reflect_tables(conn)) if t.name not in IGNORED_TABLES]
        revision = None
        if inspect(conn).has_table("alembic_version"):
            revision = migrations.current_revision(conn)
        return Status(
            target=backend_of_connection(conn).connected(conn).display,
            revision=revision,
            head=head,
            tables=_counts(conn, tables),
            last_run=history.last_run(conn),
            fingerprint=fingerprint(conn).overall,
            fingerprint_format=FORMAT,
        )
