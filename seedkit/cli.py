"""The ``seedkit`` command: parse options, call the library, render what it returns.

No logic lives here that a Python caller would need; every command maps onto one function of
:mod:`seedkit`. Errors seedkit understands become one screen on stderr and an exit code (1: the
seed or migration failed and was rolled back; 2: bad usage, bad recipe, refused target).
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

import seedkit
from seedkit.config import URL_ENV_VARS, Settings, load_settings
from seedkit.errors import SeedkitError, TargetRefused
from seedkit.report import RunReport
from seedkit.safety import mask_text, passwords_in
from seedkit.writers import WRITERS

app = typer.Typer(
    help="Fill sandbox, demo and staging databases with realistic, related, deterministic data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

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
Seed = Annotated[int, typer.Option("--seed", help="Seed for every random choice; same seed, same data.")]
Scale = Annotated[float, typer.Option("--scale", help="Multiply every batch size by this factor.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]
Debug = Annotated[bool, typer.Option("--debug", help="Show the full traceback on errors.")]
Wait = Annotated[
    float, typer.Option("--wait", metavar="SECONDS", help="Retry connecting with backoff for up to this long.")
]
NoWaitLock = Annotated[
    bool, typer.Option("--no-wait-lock", help="Fail at once if another seedkit run holds the target.")
]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
Workers = Annotated[int, typer.Option("--workers", help="Generate rows in this many processes; same data.")]
Now = Annotated[Optional[str], typer.Option("--now", help="Run clock, ISO 8601 (default: 2026-01-01T12:00:00Z).")]
WriterChoice = Annotated[str, typer.Option("--writer", help=f"How rows are written: {', '.join(WRITERS)}.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing on success.")]


def _settings(database_url: str | None, recipes: Path | None, alembic_config: Path | None) -> Settings:
    return load_settings(database_url=database_url, recipes_dir=recipes, alembic_config=alembic_config)


@contextmanager
def _errors(debug: bool, database_url: str | None = None) -> Iterator[None]:
    """Turn failures into one masked message and the documented exit code."""
    secrets = _passwords(database_url)
    try:
        yield
    except SeedkitError as exc:
        if debug:
            err.print(mask_text("".join(traceback.format_exc()), secrets), markup=False, highlight=False)
        err.print(f"[bold red]Error:[/] {escape(mask_text(str(exc), secrets))}", highlight=False)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM (see seedkit.entry)
        err.print("[bold red]Interrupted:[/] nothing was written (the transaction was rolled back).")
        raise typer.Exit(130) from None
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:
        if debug:
            err.print(mask_text("".join(traceback.format_exc()), secrets), markup=False, highlight=False)
        message = mask_text(f"{type(exc).__name__}: {exc}".strip().splitlines()[0], secrets)
        err.print(f"[bold red]Failed:[/] {escape(message)}", highlight=False)
        err.print("Nothing was written (the transaction was rolled back). Use --debug for the traceback.")
        raise typer.Exit(1) from None


def _passwords(database_url: str | None) -> tuple[str, ...]:
    """Passwords of every URL this command may see, to scrub from any text we print."""
    urls = (database_url, *(os.environ.get(v) for v in URL_ENV_VARS))
    return tuple(password for raw in urls for password in passwords_in(raw))


def _confirm(settings: Settings, action: str, yes: bool) -> None:
    """Ask before a destructive write; a protected target is refused before anyone is asked."""
    target = seedkit.check_target(settings).display
    if yes:
        return
    if not sys.stdin.isatty():
        raise TargetRefused(f"Refusing to {action} {target} without confirmation: pass --yes (no terminal to ask).")
    if not typer.confirm(f"This will {action} {target}. Continue?", default=False, err=True):
        raise TargetRefused("Cancelled; nothing was changed.")


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[str, int, int], None] | None]:
    """Bars on a terminal; elsewhere (logs, pipes) a plain line per tenth of a step that takes
    more than one chunk: a long run in ``docker compose logs`` shows that it is alive."""
    if not enabled:
        yield None
    elif err.is_terminal:
        with _bars() as update:
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
def _bars() -> Iterator[Callable[[str, int, int], None]]:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"))
    with Progress(*columns, TimeElapsedColumn(), console=err, transient=True) as bar:
        tasks: dict[str, Any] = {}

        def update(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = bar.add_task(step, total=total, rate="")
            task = bar.tasks[tasks[step]]
            rate = f"{done / task.elapsed:,.0f} rows/s" if task.elapsed else ""
            bar.update(tasks[step], completed=done, total=total, rate=rate)

        yield update


def _seed(verb: Callable[..., RunReport], recipe: str, settings: Settings, silent: bool, **options: Any) -> RunReport:
    """Call ``run`` or ``reset`` with progress bars (on a terminal) and one line per retry."""
    with _progress(not silent) as progress:
        return verb(recipe, settings=settings, progress=progress, on_retry=_retry_line, **options)


def _retry_line(attempt: int, delay: float, reason: str) -> None:
    err.print(
        f"waiting for the database (attempt {attempt} failed: {reason}); retrying in {delay:.1f}s",
        markup=False,
        highlight=False,
    )


def _render_run(report: RunReport, as_json: bool, quiet: bool) -> None:
    if as_json:
        out.print_json(json.dumps(report.to_json()))
        return
    if quiet:
        return
    if report.status == "skipped":
        rows = ", ".join(f"{t}: {n}" for t, n in report.existing.items())
        out.print(
            f"[yellow]Skipped:[/] {escape(report.target)} already holds data ({escape(rows)}); --if-empty left it as it is."
        )
        return
    table = Table(title=f"seedkit run {report.recipe} --seed {report.seed}", title_justify="left")
    table.add_column("table")
    table.add_column("rows", justify="right")
    table.add_column("written by")
    for name, rows in report.tables.items():
        table.add_row(name, f"{rows:,}", report.paths.get(name, ""))
    table.add_section()
    table.add_row("total", f"{report.total_rows:,}", "")
    out.print(table)
    out.print(
        f"recipe [bold]{escape(report.recipe)}[/]  seed [bold]{report.seed}[/]  scale {report.scale:g}  "
        f"target {escape(report.target)}\n{report.seconds:.2f}s, {report.rows_per_second:,.0f} rows/s, "
        f"fingerprint {report.fingerprint}",
        highlight=False,
    )
    for step, reason in report.orm_reasons.items():
        out.print(f"step {step} was built by factory-boy through the ORM: {reason}", markup=False, highlight=False)
    if report.previous_fingerprint:
        out.print(
            f"[yellow]Note:[/] an earlier run of {escape(report.recipe)} with the same seed and scale produced "
            f"fingerprint {report.previous_fingerprint}; the data differs now (a Faker upgrade or an edited recipe?)."
        )


@app.command()
def run(
    recipe: Annotated[str, typer.Argument(metavar="RECIPE", help="Recipe name (a module in the recipes folder).")],
    seed: Seed = 0,
    scale: Scale = 1.0,
    now: Now = None,
    migrate: Annotated[bool, typer.Option("--migrate/--no-migrate", help="Migrate to head first.")] = True,
    append: Annotated[bool, typer.Option("--append", help="Add rows even if the tables hold some.")] = False,
    truncate: Annotated[bool, typer.Option("--truncate", help="Delete the recipe tables' rows first.")] = False,
    if_empty: Annotated[bool, typer.Option("--if-empty", help="Seed only if the recipe's tables are empty.")] = False,
    writer: WriterChoice = "auto",
    workers: Workers = 1,
    yes: Yes = False,
    wait: Wait = 0,
    no_wait_lock: NoWaitLock = False,
    quiet: Quiet = False,
    as_json: AsJson = False,
    database_url: DatabaseUrl = None,
    recipes: RecipesDir = None,
    alembic_config: AlembicConfig = None,
    debug: Debug = False,
) -> None:
    """Migrate, seed RECIPE in one transaction, and report the rows created per table."""
    if sum((append, truncate, if_empty)) > 1:
        err.print("[bold red]Error:[/] --append, --truncate and --if-empty exclude each other.")
        raise typer.Exit(2)
    mode = "append" if append else "truncate" if truncate else "if_empty" if if_empty else "refuse"
    with _errors(debug, database_url):
        settings = _settings(database_url, recipes, alembic_config)
        if truncate:
            _confirm(settings, "delete the recipe's rows in", yes)
        options = dict(seed=seed, scale=scale, now=now, writer=writer, workers=workers, wait=wait)
        report = _seed(
            seedkit.run,
            recipe,
            settings,
            quiet or as_json,
            migrate=migrate,
            mode=mode,
            **options,
            wait_lock=not no_wait_lock,
        )
    _render_run(report, as_json, quiet)


@app.command()
def reset(
    recipe: Annotated[str, typer.Argument(metavar="RECIPE", help="Recipe to seed after the wipe.")],
    seed: Seed = 0,
    scale: Scale = 1.0,
    now: Now = None,
    writer: WriterChoice = "auto",
    workers: Workers = 1,
    yes: Yes = False,
    wait: Wait = 0,
    no_wait_lock: NoWaitLock = False,
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
        options = dict(seed=seed, scale=scale, now=now, writer=writer, workers=workers, wait=wait)
        report = _seed(seedkit.reset, recipe, settings, quiet or as_json, **options, wait_lock=not no_wait_lock)
    _render_run(report, as_json, quiet)


@app.command()
def migrate(
    revision: Annotated[
        str, typer.Argument(metavar="REVISION", help="Target revision; 'base' or '-N' downgrade.")
    ] = "head",
    wait: Wait = 0,
    database_url: DatabaseUrl = None,
    alembic_config: AlembicConfig = None,
    debug: Debug = False,
) -> None:
    """Run the Alembic migrations up (or down) to REVISION."""
    with _errors(debug, database_url):
        settings = _settings(database_url, None, alembic_config)
        reached = seedkit.migrate(settings, revision, wait=wait)
    out.print(
        f"{seedkit.resolve_target(settings).display} is at revision {reached or 'base'}", markup=False, highlight=False
    )


@app.command("list")
def list_(recipes: RecipesDir = None, as_json: AsJson = False, debug: Debug = False) -> None:
    """List the recipes in the recipes folder, with their descriptions."""
    with _errors(debug):
        settings = _settings(None, recipes, None)
        found = seedkit.list_recipes(settings.recipes_dir)
    if as_json:
        out.print_json(json.dumps([{"name": r.name, "description": r.description, "path": str(r.path)} for r in found]))
        return
    table = Table("recipe", "description")
    for info in found:
        table.add_row(info.name, escape(info.description))
    out.print(table)


@app.command()
def plan(
    recipe: Annotated[str, typer.Argument(metavar="RECIPE", help="Recipe name.")],
    scale: Scale = 1.0,
    recipes: RecipesDir = None,
    as_json: AsJson = False,
    debug: Debug = False,
) -> None:
    """Show RECIPE's steps in the order they run and the rows to expect; touches no database."""
    with _errors(debug):
        settings = _settings(None, recipes, None)
        result = seedkit.plan(recipe, settings=settings, scale=scale)
    if as_json:
        out.print_json(json.dumps(result.to_json()))
        return
    table = Table("#", "step", "table", "size", "expected rows", "after", title=f"plan for {result.recipe}")
    for number, step in enumerate(result.steps, 1):
        table.add_row(
            str(number), step.name, step.table, step.size, f"{step.expected:,.0f}", ", ".join(step.depends_on)
        )
    out.print(table)
    out.print(f"about {result.expected_rows:,.0f} rows at scale {result.scale:g}")


@app.command()
def fingerprint(
    as_json: AsJson = False,
    wait: Wait = 0,
    database_url: DatabaseUrl = None,
    debug: Debug = False,
) -> None:
    """Row count and content hash per table, plus one overall hash."""
    with _errors(debug, database_url):
        settings = _settings(database_url, None, None)
        result = seedkit.fingerprint(settings, wait=wait)
    if as_json:
        out.print_json(json.dumps(result.to_json()))
        return
    table = Table("table", "rows", "hash")
    for name, fp in result.tables.items():
        table.add_row(name, f"{fp.rows:,}", fp.hash)
    out.print(table)
    out.print(f"overall {result.overall}", highlight=False)


@app.command()
def status(
    as_json: AsJson = False,
    wait: Wait = 0,
    database_url: DatabaseUrl = None,
    debug: Debug = False,
) -> None:
    """What the target holds: migration revision, rows per table, and the last seed run."""
    with _errors(debug, database_url):
        settings = _settings(database_url, None, None)
        result = seedkit.status(settings, wait=wait)
    if as_json:
        out.print_json(json.dumps(result.to_json()))
        return
    out.print(f"target {result.target}, revision {result.revision or 'none'}", markup=False, highlight=False)
    table = Table("table", "rows")
    for name, rows in result.tables.items():
        table.add_row(name, f"{rows:,}")
    out.print(table)
    last = result.last_run
    if last is None:
        out.print("No seedkit run is recorded in this database.")
    else:
        out.print(
            f"last seeded {last.finished_at} by seedkit {last.seedkit_version} (Faker {last.faker_version}): "
            f"recipe {last.recipe}, seed {last.seed}, scale {last.scale:g}, {last.rows:,} rows, "
            f"fingerprint {last.fingerprint}",
            markup=False,
            highlight=False,
        )
        if result.unchanged_since_last_run:
            out.print("The data is unchanged since that run.")
        else:
            out.print(f"[yellow]The data has changed since that run[/] (fingerprint now {result.fingerprint}).")
