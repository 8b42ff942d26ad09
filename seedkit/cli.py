"""The ``seedkit`` command: parse options, call the library, render what it returns.

No logic lives here that a Python caller would need; every command maps onto one function of
:mod:`seedkit`. Errors seedkit understands become one screen on stderr and an exit code (1: the
seed or migration failed and was rolled back; 2: bad usage, bad recipe, refused target).

Only Typer and rich's console load with this module: ``seedkit --help``, ``--version`` and
completion never import SQLAlchemy, Alembic, Faker, factory-boy or psycopg. Commands import
what they use when they run.
"""

from __future__ import annotations

import json
import keyword
import logging
import math
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from rich.console import Console
from rich.markup import escape

import seedkit
from seedkit.config import INFER_ROWS, MAX_SEED, URL_ENV_VARS, WRITERS, Settings, load_settings
from seedkit.errors import SeedkitError, TargetRefused

if TYPE_CHECKING:
    from seedkit.backends import Waiting
    from seedkit.report import Plan, RunReport

app = typer.Typer(
    help="Fill sandbox, demo and staging databases with realistic, related, deterministic data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

# Planned rows from which `run` and `reset` say how many, and from which they want --yes.
ANNOUNCED_ROWS = 1_000_000
CONFIRMED_ROWS = 100_000_000

DatabaseUrl = Annotated[
    Optional[str],
    typer.Option(
        "--database-url",
        help="Target database (default: $SEEDKIT_DATABASE_URL, $DATABASE_URL, sqlite:///seedkit.db).",
        show_default=False,
    ),
]
RecipesDir = Annotated[Optional[Path], typer.Option("--recipes", help="Folder of recipe modules (default: ./recipes).")]
AlembicConfig = Annotated[
    Optional[Path],
    typer.Option("--alembic-config", help="alembic.ini or migrations folder (default: ./alembic.ini, ./migrations)."),
]
Seed = Annotated[
    int, typer.Option("--seed", min=0, max=MAX_SEED, help="Seed for every random choice; same seed, same data.")
]


def _positive(value: float) -> float:
    if not (value > 0 and math.isfinite(value)):
        raise typer.BadParameter(f"must be a finite number greater than 0, got {value}")
    return value


Scale = Annotated[float, typer.Option("--scale", callback=_positive, help="Multiply every batch size by this factor.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]
Debug = Annotated[bool, typer.Option("--debug", help="Show the full traceback on errors.")]
Wait = Annotated[
    float, typer.Option("--wait", metavar="SECONDS", help="Retry connecting with backoff for up to this long.")
]
NoWaitLock = Annotated[
    bool, typer.Option("--no-wait-lock", help="Fail at once if another seedkit run holds the target.")
]
LockTimeout = Annotated[
    Optional[float],
    typer.Option(
        "--lock-timeout",
        metavar="SECONDS",
        min=0,
        help="Give up (exit 1) after waiting this long for a lock another client holds (default: wait).",
    ),
]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]


def _workers(value: str) -> int | str:
    if value == "auto":
        return value
    if not value.isdigit() or int(value) < 1:
        raise typer.BadParameter(f"must be a whole number of at least 1, or 'auto', got {value!r}")
    return int(value)


Workers = Annotated[
    str,
    typer.Option(
        "--workers",
        callback=_workers,
        metavar="N|auto",
        help="Generate rows in N processes (same data); auto, the default, picks counts that cannot slow the run.",
    ),
]
Infer = Annotated[
    bool, typer.Option("--infer", help="No recipe: seed every table of the target as its schema describes it.")
]
Rows = Annotated[
    int,
    typer.Option("--rows", min=0, help="With --infer: rows for each table that needs no parent (before --scale)."),
]
RecipeName = Annotated[
    Optional[str],
    typer.Argument(metavar="[RECIPE]", help="Recipe name (a module in the recipes folder); none with --infer."),
]
Dask = Annotated[
    Optional[str],
    typer.Option(
        "--dask",
        metavar="ADDRESS",
        help="Generate rows on the Dask scheduler at ADDRESS (same data; needs seedkit[dask]).",
    ),
]
Now = Annotated[Optional[str], typer.Option("--now", help="Run clock, ISO 8601 (default: 2026-06-15T12:00:00Z).")]
WriterChoice = Annotated[str, typer.Option("--writer", help=f"How rows are written: {', '.join(WRITERS)}.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing on success.")]
Cache = Annotated[
    Optional[bool],
    typer.Option(
        "--cache/--no-cache",
        help="Clone a template of exactly this data if one was kept, else seed and keep one; replaces the "
        "whole database (default: [tool.seedkit] cache).",
        show_default=False,
    ),
]


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        out.print(f"seedkit {version('seedkit')}", highlight=False)
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Fill sandbox, demo and staging databases with realistic, related, deterministic data."""


def _settings(database_url: str | None, recipes: Path | None, alembic_config: Path | None) -> Settings:
    return load_settings(database_url=database_url, recipes_dir=recipes, alembic_config=alembic_config)


def _waiting(no_wait_lock: bool, lock_timeout: float | None) -> Waiting:
    from seedkit.backends import Waiting

    if lock_timeout == 0:
        no_wait_lock = True
    return Waiting(wait=not no_wait_lock, timeout=lock_timeout, notify=_notice)


def _notice(line: str) -> None:
    err.print(line, markup=False, highlight=False)


def _fail(message: str, code: int) -> typer.Exit:
    err.print(f"[bold red]Error:[/] {escape(message)}", highlight=False)
    return typer.Exit(code)


@contextmanager
def _errors(debug: bool, database_url: str | None = None) -> Iterator[None]:
    """Turn failures into one masked message and the documented exit code."""
    from seedkit.safety import mask_text

    secrets = _passwords(database_url)
    try:
        yield
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM (see seedkit.entry)
        err.print("[bold red]Interrupted:[/] nothing was written (the transaction was rolled back).")
        raise typer.Exit(130) from None
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:
        if debug:
            err.print(mask_text("".join(traceback.format_exc()), secrets), markup=False, highlight=False)
        if isinstance(exc, SeedkitError):
            raise _fail(mask_text(str(exc), secrets), exc.exit_code) from None
        failure = _fail(mask_text(f"{type(exc).__name__}: {exc}".strip().splitlines()[0], secrets), 1)
        err.print("Nothing was written (the transaction was rolled back). Use --debug for the traceback.")
        raise failure from None


def _passwords(database_url: str | None) -> tuple[str, ...]:
    """Passwords of every URL this command may see, to scrub from any text we print."""
    from seedkit.safety import passwords_in

    urls = (database_url, *(os.environ.get(v) for v in URL_ENV_VARS))
    return tuple(password for raw in urls for password in passwords_in(raw))


@contextmanager
def _quiet_logging(quiet: bool) -> Iterator[None]:
    """``-q`` silences the INFO lines a project's ``env.py`` logging prints while migrating."""
    if not quiet:
        yield
        return
    logging.disable(logging.INFO)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


def _confirm(settings: Settings, action: str, yes: bool) -> None:
    """Ask before a destructive write; a protected target is refused before anyone is asked."""
    target = seedkit.check_target(settings).display
    if yes:
        return
    if not sys.stdin.isatty():
        raise TargetRefused(f"Refusing to {action} {target} without confirmation: pass --yes (no terminal to ask).")
    if not typer.confirm(f"This will {action} {target}. Continue?", default=False, err=True):
        raise TargetRefused("Cancelled; nothing was changed.")


def _check_size(plan: Plan, yes: bool, quiet: bool) -> None:
    """Say how many rows a large run plans, and ask (or want --yes) for a very large one."""
    rows = plan.expected_rows
    if not rows >= ANNOUNCED_ROWS:  # also a plan whose counts are callables (NaN)
        return
    if not quiet:
        err.print(f"planning about {rows:,.0f} rows (recipe {plan.recipe} at scale {plan.scale:g})", highlight=False)
    if rows < CONFIRMED_ROWS or yes:
        return
    if quiet or not sys.stdin.isatty():
        raise TargetRefused(
            f"Refusing to seed about {rows:,.0f} rows without confirmation (more than {CONFIRMED_ROWS:,} "
            "planned): pass --yes."
        )
    if not typer.confirm(f"Seed about {rows:,.0f} rows? That can take hours.", default=False, err=True):
        raise TargetRefused("Cancelled; nothing was changed.")


@contextmanager
def _progress(enabled: bool, plan: Plan | None) -> Iterator[Callable[[str, int, int], None] | None]:
    """Bars on a terminal; elsewhere (logs, pipes), or with no plan known before the run (a
    recipe inferred from the schema the run migrates to), a plain line per tenth of a step that
    takes more than one chunk: a long run in ``docker compose logs`` shows that it is alive."""
    if not enabled:
        yield None
    elif err.is_terminal and plan is not None:
        with _bars(plan) as update:
            yield update
    else:
        yield _plain_progress()


def _plain_progress() -> Callable[[str, int, int], None]:
    tenths: dict[str, int] = {}

    def update(step: str, done: int, total: int) -> None:
        tenth = done * 10 // total if total else 10
        if tenth == 10 or tenth == tenths.get(step):
            return
        tenths[step] = tenth
        err.print(f"seeding {step}: {done:,} of {total:,} rows", markup=False, highlight=False)

    return update


@contextmanager
def _bars(plan: Plan) -> Iterator[Callable[[str, int, int], None]]:
    """A bar per step and, for the run as a whole, one with the time left.

    The whole run's total starts as the plan's estimate and becomes exact step by step, as each
    step learns its size (a per-parent step's once its parents' counts are drawn).
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    expected = {step.name: step.expected for step in plan.steps}
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,.0f}/{task.total:,.0f}"),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, transient=True) as bar:
        whole = bar.add_task("[bold]total", total=sum(expected.values()) or None, rate="")
        tasks: dict[str, Any] = {}
        done_by_step: dict[str, int] = {}
        total_by_step: dict[str, int] = {}

        def update(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = bar.add_task(step, total=total, rate="")
            task = bar.tasks[tasks[step]]
            rate = f"{done / task.elapsed:,.0f} rows/s" if task.elapsed else ""
            bar.update(tasks[step], completed=done, total=total, rate=rate)
            done_by_step[step], total_by_step[step] = done, total
            remaining = sum(rows for name, rows in expected.items() if name not in total_by_step)
            bar.update(whole, completed=sum(done_by_step.values()), total=sum(total_by_step.values()) + remaining)

        yield update


def _retry_line(attempt: int, delay: float, reason: str) -> None:
    err.print(
        f"waiting for the database (attempt {attempt} failed: {reason}); retrying in {delay:.1f}s",
        markup=False,
        highlight=False,
    )


def _as_run(verb: str, recipe: str, seed: int, scale: float, now: str | None, *flags: str) -> str:
    """The command line as the user meant it, for the report's title."""
    parts = ["seedkit", verb, recipe, "--seed", str(seed)]
    if scale != 1:
        parts += ["--scale", f"{scale:g}"]
    if now:
        parts += ["--now", now]
    return " ".join([*parts, *flags])


def _render_run(report: RunReport, title: str, as_json: bool, quiet: bool) -> None:
    from rich.table import Table

    if as_json:
        out.print_json(json.dumps(report.to_json()))
        return
    if quiet:
        return
    if report.status == "skipped":
        rows = ", ".join(f"{t}: {n:,}" for t, n in report.existing.items())
        out.print(
            f"[yellow]Skipped:[/] {escape(report.target)} already holds data ({escape(rows)}); --if-empty left it as it is."
        )
        return
    table = Table(title=escape(title), title_justify="left")
    table.add_column("table")
    table.add_column("rows", justify="right")
    table.add_column("written by")
    for name, rows in report.tables.items():
        table.add_row(escape(name), f"{rows:,}", report.paths.get(name, ""))
    table.add_section()
    table.add_row("total", f"{report.total_rows:,}", "")
    out.print(table)
    out.print(
        f"recipe [bold]{escape(report.recipe)}[/]  seed [bold]{report.seed}[/]  scale {report.scale:g}  "
        f"target {escape(report.target)}{_workers_shown(report)}\n"
        f"{report.seconds:.2f}s, {report.rows_per_second:,.0f} rows/s, "
        f"fingerprint {report.fingerprint}",
        highlight=False,
    )
    for step, reason in report.orm_reasons.items():
        out.print(f"step {step} was built by factory-boy through the ORM: {reason}", markup=False, highlight=False)
    for reason, tables in _grouped(report.read_back).items():
        out.print(
            f"fingerprint read back from {', '.join(tables)}: {reason}", markup=False, highlight=False, style="dim"
        )
    for step, columns in report.nondeterministic.items():
        out.print(
            f"[yellow]Note:[/] step {escape(step)}: {escape(', '.join(columns))} came out different when the same "
            "rows were generated twice: the factory reads randomness seedkit does not seed (os.urandom, secrets, "
            "a random salt) or keeps state between calls, so this data will differ on every run. Draw from "
            "`random` or `factory.random` instead (see README, Determinism)."
        )
    if report.cache is not None:
        _render_cache(report.cache)
    if report.previous_fingerprint:
        out.print(
            f"[yellow]Note:[/] an earlier run of {escape(report.recipe)} with the same seed and scale produced "
            f"fingerprint {report.previous_fingerprint}; the data differs now (a Faker upgrade or an edited recipe?)."
        )


def _render_cache(cache: Any) -> None:
    if cache.hit:
        ended = f"; ended {cache.sessions_ended} session(s) connected to the target" if cache.sessions_ended else ""
        out.print(f"cloned from template {cache.template} (seedkit cache){ended}", markup=False, highlight=False)
    elif cache.kept:
        out.print(
            f"kept template {cache.template}: the next --cache run of this data clones it",
            markup=False,
            highlight=False,
        )
    else:
        out.print(f"[yellow]Note:[/] {escape(cache.note or 'no template kept')}")


def _recipe_or_schema(recipe: str | None, infer: bool, rows: int) -> Any:
    """The recipe a command names, or (``--infer``) the one inferred from the target's schema."""
    if infer and recipe is not None:
        raise _fail(f"Give a recipe name or --infer, not both (got {recipe!r} and --infer).", 2)
    if infer:
        from seedkit.infer_schema import FromSchema

        return FromSchema(rows)
    if recipe is None:
        raise _fail("Missing RECIPE: name a recipe (seedkit list shows them), or pass --infer.", 2)
    if rows != INFER_ROWS:
        raise _fail("--rows applies to --infer only; a recipe sets its own sizes (use --scale).", 2)
    return recipe


def _shown(recipe: str | None, infer: bool, rows: int) -> str:
    """The recipe as the command line named it."""
    return recipe if not infer else "--infer" if rows == INFER_ROWS else f"--infer --rows {rows}"


def _grouped(reasons: dict[str, str]) -> dict[str, list[str]]:
    """Tables by the reason given for them, in order of first appearance."""
    grouped: dict[str, list[str]] = {}
    for name, reason in reasons.items():
        grouped.setdefault(reason, []).append(name)
    return grouped


def _workers_shown(report: RunReport) -> str:
    on = f" on {report.executor}" if report.executor else ""
    return f"  workers {report.workers}{on}" if report.workers > 1 or on else ""


def _seed(
    verb: Callable[..., RunReport],
    recipe: Any,
    settings: Settings,
    *,
    yes: bool,
    quiet: bool,
    as_json: bool,
    dask: str | None,
    **options: Any,
) -> RunReport:
    """Check the run's size, then call ``run`` or ``reset`` with progress and retry lines
    (generating on the ``dask`` scheduler, if one is given)."""
    silent = quiet or as_json
    if dask is not None and options["workers"] not in (1, "auto"):
        raise _fail("--dask and --workers exclude each other (the cluster's workers generate).", 2)
    plan = None
    # An inferred recipe exists only once the run has migrated; a clone of a kept template
    # needs no plan, and its recipe is never imported.
    if isinstance(recipe, str) and not _cached(recipe, settings, options):
        recipe = seedkit.resolve_recipe(settings, recipe)
        plan = seedkit.plan(recipe, settings=settings, scale=options["scale"])
        _check_size(plan, yes, silent)
    with ExitStack() as stack:
        if dask is not None:
            from seedkit.cluster import dask_executor

            options["executor"], options["workers"] = stack.enter_context(dask_executor(dask))
        progress = stack.enter_context(_progress(not silent, plan))
        stack.enter_context(_quiet_logging(quiet))
        notify = None if silent else _notice
        return verb(recipe, settings=settings, progress=progress, on_retry=_retry_line, notify=notify, **options)


def _cached(recipe: str, settings: Settings, options: dict[str, Any]) -> bool:
    """Whether a cached run will clone a template (so that it need not be planned)."""
    if not (settings.cache if options["cache"] is None else options["cache"]):
        return False
    from seedkit.cache import template_for
    from seedkit.clock import parse_now

    clock = parse_now(options["now"])
    return template_for(recipe, settings, seed=options["seed"], scale=options["scale"], clock=clock) is not None


def _run_options(
    seed: int,
    scale: float,
    now: str | None,
    writer: str,
    workers: int | str,
    wait: float,
    no_wait_lock: bool,
    lock_timeout: float | None,
    dask: str | None,
    cache: bool | None,
    yes: bool,
) -> dict[str, Any]:
    """The options ``run`` and ``reset`` share, as :func:`_seed`'s keywords (``--yes`` also lets
    a cached run end the sessions connected to the database it replaces)."""
    waiting = _waiting(no_wait_lock, lock_timeout)
    options = dict(seed=seed, scale=scale, now=now, writer=writer, workers=workers, wait=wait, waiting=waiting)
    return options | dict(dask=dask, cache=cache, end_sessions=yes)


@app.command()
def run(
    recipe: RecipeName = None,
    infer: Infer = False,
    rows: Rows = INFER_ROWS,
    seed: Seed = 0,
    scale: Scale = 1.0,
    now: Now = None,
    migrate: Annotated[bool, typer.Option("--migrate/--no-migrate", help="Migrate to head first.")] = True,
    append: Annotated[bool, typer.Option("--append", help="Add rows even if the tables hold some.")] = False,
    truncate: Annotated[bool, typer.Option("--truncate", help="Delete the recipe tables' rows first.")] = False,
    if_empty: Annotated[bool, typer.Option("--if-empty", help="Seed only if the recipe's tables are empty.")] = False,
    writer: WriterChoice = "auto",
    workers: Workers = "auto",
    dask: Dask = None,
    yes: Yes = False,
    wait: Wait = 0,
    no_wait_lock: NoWaitLock = False,
    lock_timeout: LockTimeout = None,
    cache: Cache = None,
    quiet: Quiet = False,
    as_json: AsJson = False,
    database_url: DatabaseUrl = None,
    recipes: RecipesDir = None,
    alembic_config: AlembicConfig = None,
    debug: Debug = False,
) -> None:
    """Migrate, seed RECIPE in one transaction, and report the rows created per table."""
    if sum((append, truncate, if_empty)) > 1:
        raise _fail("--append, --truncate and --if-empty exclude each other.", 2)
    mode = "append" if append else "truncate" if truncate else "if_empty" if if_empty else "refuse"
    flags = [f"--{mode.replace('_', '-')}"] if mode != "refuse" else []
    flags += [] if migrate else ["--no-migrate"]
    flags += ["--cache"] if cache else []
    with _errors(debug, database_url):
        settings = _settings(database_url, recipes, alembic_config)
        if truncate:
            _confirm(settings, "delete the recipe's rows in", yes)
        options = _run_options(seed, scale, now, writer, workers, wait, no_wait_lock, lock_timeout, dask, cache, yes)
        seeding = _recipe_or_schema(recipe, infer, rows)
        report = _seed(
            seedkit.run, seeding, settings, yes=yes, quiet=quiet, as_json=as_json, **options, migrate=migrate, mode=mode
        )
    _render_run(report, _as_run("run", _shown(recipe, infer, rows), seed, scale, now, *flags), as_json, quiet)


@app.command()
def reset(
    recipe: RecipeName = None,
    infer: Infer = False,
    rows: Rows = INFER_ROWS,
    seed: Seed = 0,
    scale: Scale = 1.0,
    now: Now = None,
    writer: WriterChoice = "auto",
    workers: Workers = "auto",
    dask: Dask = None,
    yes: Yes = False,
    wait: Wait = 0,
    no_wait_lock: NoWaitLock = False,
    lock_timeout: LockTimeout = None,
    cache: Cache = None,
    quiet: Quiet = False,
    as_json: AsJson = False,
    database_url: DatabaseUrl = None,
    recipes: RecipesDir = None,
    alembic_config: AlembicConfig = None,
    debug: Debug = False,
) -> None:
    """Wipe the target (downgrade to base), migrate and seed RECIPE, all in one transaction."""
    with _errors(debug, database_url):
        settings = _settings(database_url, recipes, alembic_config)
        _confirm(settings, "wipe every table the migrations made in", yes)
        options = _run_options(seed, scale, now, writer, workers, wait, no_wait_lock, lock_timeout, dask, cache, yes)
        seeding = _recipe_or_schema(recipe, infer, rows)
        report = _seed(seedkit.reset, seeding, settings, yes=yes, quiet=quiet, as_json=as_json, **options)
    flags = ["--cache"] if cache else []
    _render_run(report, _as_run("reset", _shown(recipe, infer, rows), seed, scale, now, *flags), as_json, quiet)


@app.command(context_settings={"ignore_unknown_options": True})
def migrate(
    revision: Annotated[
        str, typer.Argument(metavar="REVISION", help="Target revision; 'base' or '-N' downgrade (asks first).")
    ] = "head",
    yes: Yes = False,
    wait: Wait = 0,
    no_wait_lock: NoWaitLock = False,
    lock_timeout: LockTimeout = None,
    quiet: Quiet = False,
    database_url: DatabaseUrl = None,
    alembic_config: AlembicConfig = None,
    debug: Debug = False,
) -> None:
    """Run the Alembic migrations up (or down) to REVISION."""
    from seedkit.runner import is_downgrade

    with _errors(debug, database_url):
        settings = _settings(database_url, None, alembic_config)
        if is_downgrade(revision):
            _confirm(settings, f"downgrade to {revision}, dropping what those migrations made, in", yes)
        with _quiet_logging(quiet):
            reached = seedkit.migrate(settings, revision, wait=wait, waiting=_waiting(no_wait_lock, lock_timeout))
    if not quiet:
        target = seedkit.resolve_target(settings).display
        out.print(f"{target} is at revision {reached or 'base'}", markup=False, highlight=False)


@app.command("list")
def list_(recipes: RecipesDir = None, as_json: AsJson = False, debug: Debug = False) -> None:
    """List the recipes in the recipes folder, with their descriptions."""
    from rich.table import Table

    with _errors(debug):
        settings = _settings(None, recipes, None)
        found = seedkit.list_recipes(settings.recipes_dir, settings.root)
    if as_json:
        listing = [{"name": r.name, "description": r.description, "path": str(r.path), "error": r.error} for r in found]
        out.print_json(json.dumps(listing))
        return
    table = Table("recipe", "description")
    for info in found:
        description = escape(info.description) if info.error is None else f"[red]cannot load:[/] {escape(info.error)}"
        table.add_row(escape(info.name), description)
    out.print(table)


@app.command()
def plan(
    recipe: RecipeName = None,
    infer: Infer = False,
    rows: Rows = INFER_ROWS,
    scale: Scale = 1.0,
    recipes: RecipesDir = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
    debug: Debug = False,
) -> None:
    """Show RECIPE's steps in the order they run and the rows to expect; touches no database
    (with --infer, reads the target's schema as it is now, without migrating)."""
    from rich.table import Table

    with _errors(debug, database_url):
        settings = _settings(database_url, recipes, None)
        result = seedkit.plan(_recipe_or_schema(recipe, infer, rows), settings=settings, scale=scale)
    if as_json:
        out.print_json(json.dumps(result.to_json()))
        return
    table = Table("#", "step", "table", "size", "expected rows", "after", title=f"plan for {escape(result.recipe)}")
    for number, step in enumerate(result.steps, 1):
        table.add_row(
            str(number),
            escape(step.name),
            escape(step.table),
            escape(step.size),
            f"{step.expected:,.0f}",
            escape(", ".join(step.depends_on)),
        )
    out.print(table)
    out.print(f"about {result.expected_rows:,.0f} rows at scale {result.scale:g}")


@app.command()
def scaffold(
    folder: Annotated[Path, typer.Option("--out", help="Folder to write into (a recipes folder).")],
    rows: Rows = INFER_ROWS,
    name: Annotated[
        str, typer.Option("--name", help="Recipe name; the default seeds what --infer seeds.")
    ] = "inferred",
    force: Annotated[bool, typer.Option("--force", help="Overwrite files that exist.")] = False,
    models: Annotated[
        Optional[str],
        typer.Option("--models", metavar="MODULE", help="Factories for this module's models (no database read)."),
    ] = None,
    database_url: DatabaseUrl = None,
    debug: Debug = False,
) -> None:
    """Write the recipe `run --infer` would run on the target (models, factories, recipe) as code
    to edit; with --models, factories and a recipe for the project's own models."""
    with _errors(debug, database_url):
        if not name.isidentifier() or keyword.iskeyword(name):
            raise _fail(f"--name must be a Python module name, got {name!r}.", 2)
        settings = _settings(database_url, None, None)
        written = seedkit.scaffold(settings, folder, rows=rows, name=name, force=force, models=models)
    for path in written:
        out.print(f"wrote {path}", markup=False, highlight=False)
    out.print(f"seedkit run {name} --recipes {written[-1].parent} seeds it", markup=False, highlight=False)


@app.command()
def init(
    models: Annotated[
        Optional[str], typer.Option("--models", metavar="MODULE", help="Your models module (default: found for you).")
    ] = None,
    rows: Rows = INFER_ROWS,
    folder: Annotated[Path, typer.Option("--out", help="Recipes folder to write into.")] = Path("recipes"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite files that exist.")] = False,
    alembic_config: AlembicConfig = None,
    debug: Debug = False,
) -> None:
    """Set up seedkit in this project: a starter recipe for your models, and a check of your env.py."""
    from seedkit.migrations import SHARING_LINES
    from seedkit.project_setup import STARTER, init_project

    with _errors(debug):
        settings = _settings(None, None, alembic_config)
        setup = init_project(settings, models=models, rows=rows, out=folder, force=force)
    if setup.models is None:
        out.print(
            "No models found (no target_metadata in env.py, no module declaring models): seed a database's "
            "tables with `seedkit run --infer`, or write them out with `seedkit scaffold --database-url URL --out "
            f"{folder}`.",
            markup=False,
            highlight=False,
        )
    else:
        out.print(f"models: {setup.models} (from {setup.found_by})", markup=False, highlight=False)
        for path in setup.written:
            out.print(f"wrote {path}", markup=False, highlight=False)
        out.print(f"next: seedkit run {STARTER} --recipes {folder}", markup=False, highlight=False)
    if setup.env_py is None:
        out.print("No Alembic env.py found: seedkit runs without migrating (--no-migrate) until you add one.")
    elif setup.env_py_shares:
        out.print(f"{setup.env_py} migrates on seedkit's connection: migrations and seed share one transaction.")
    else:
        out.print(
            f"[yellow]{escape(str(setup.env_py))} ignores seedkit's connection[/]; add these lines where it runs "
            f"the migrations, so that migrating and seeding are one transaction:\n\n{escape(SHARING_LINES)}"
        )


@app.command()
def fingerprint(
    as_json: AsJson = False,
    wait: Wait = 0,
    no_wait_lock: NoWaitLock = False,
    lock_timeout: LockTimeout = None,
    database_url: DatabaseUrl = None,
    debug: Debug = False,
) -> None:
    """Row count and content hash per table, plus one overall hash."""
    from rich.table import Table

    with _errors(debug, database_url):
        settings = _settings(database_url, None, None)
        result = seedkit.fingerprint(settings, wait=wait, waiting=_waiting(no_wait_lock, lock_timeout))
    if as_json:
        out.print_json(json.dumps(result.to_json()))
        return
    table = Table("table", "rows", "hash")
    for name, fp in result.tables.items():
        table.add_row(escape(name), f"{fp.rows:,}", fp.hash)
    out.print(table)
    out.print(f"overall {result.overall}", highlight=False)


@app.command()
def status(
    as_json: AsJson = False,
    wait: Wait = 0,
    no_wait_lock: NoWaitLock = False,
    lock_timeout: LockTimeout = None,
    database_url: DatabaseUrl = None,
    alembic_config: AlembicConfig = None,
    debug: Debug = False,
) -> None:
    """What the target holds: migration revision, rows per table, and the last seed run."""
    from rich.table import Table

    with _errors(debug, database_url):
        settings = _settings(database_url, None, alembic_config)
        result = seedkit.status(settings, wait=wait, waiting=_waiting(no_wait_lock, lock_timeout))
    if as_json:
        out.print_json(json.dumps(result.to_json()))
        return
    where = ""
    if result.head is not None:
        where = " (up to date)" if result.revision == result.head else f" (migrations end at {result.head})"
    out.print(f"target {result.target}, revision {result.revision or 'none'}{where}", markup=False, highlight=False)
    table = Table("table", "rows")
    for name, rows in result.tables.items():
        table.add_row(escape(name), f"{rows:,}")
    out.print(table)
    last = result.last_run
    if last is None:
        out.print("No seedkit run is recorded in this database.")
    else:
        how = "cloned from the template cache" if last.from_cache else "seeded"
        out.print(
            f"last {how} {last.finished_at} by seedkit {last.seedkit_version} (Faker {last.faker_version}): "
            f"recipe {last.recipe}, seed {last.seed}, scale {last.scale:g}, {last.rows:,} rows, "
            f"fingerprint {last.fingerprint}",
            markup=False,
            highlight=False,
        )
        if result.unchanged_since_last_run:
            out.print("The data is unchanged since that run.")
        elif result.unchanged_since_last_run is None:
            out.print(
                f"That run's fingerprint is of an older format (this seedkit's is {result.fingerprint_format}), so "
                f"whether the data changed since cannot be told (fingerprint now {result.fingerprint}).",
                markup=False,
                highlight=False,
            )
        else:
            out.print(f"[yellow]The data has changed since that run[/] (fingerprint now {result.fingerprint}).")


cache_app = typer.Typer(help="Templates that run --cache and reset --cache clone from.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")


def _age(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds:.0f}s"


@cache_app.command("list")
def cache_list(
    as_json: AsJson = False,
    database_url: DatabaseUrl = None,
    debug: Debug = False,
) -> None:
    """Templates kept for the target's backend: on its PostgreSQL server, or in the cache folder."""
    from rich.table import Table

    from seedkit.cache import list_templates

    with _errors(debug, database_url):
        settings = _settings(database_url, None, None)
        found = list_templates(settings)
    if as_json:
        out.print_json(json.dumps([{**json.loads(t.describe()), "name": t.name, "size": t.size} for t in found]))
        return
    table = Table("key", "recipe", "seed", "scale", "rows", "size", "age", "project")
    for template in found:
        table.add_row(
            template.key[:12],
            escape(template.recipe),
            str(template.seed),
            f"{template.scale:g}",
            f"{template.rows:,}",
            f"{template.size / 1e6:,.1f} MB",
            _age(template.age_seconds()),
            escape(template.project),
        )
    out.print(table)
    if not found:
        out.print("No templates kept yet: run or reset with --cache keeps one.")


@cache_app.command("clear")
def cache_clear(
    all_: Annotated[bool, typer.Option("--all", help="Every project's templates, not only this project's.")] = False,
    database_url: DatabaseUrl = None,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Remove this project's templates (and copies an interrupted command left behind)."""
    from seedkit.cache import clear_templates

    with _errors(debug, database_url):
        settings = _settings(database_url, None, None)
        removed = clear_templates(settings, everything=all_)
    if not quiet:
        for name in removed:
            out.print(f"removed {name}", markup=False, highlight=False)
        out.print(f"{len(removed)} removed", highlight=False)
