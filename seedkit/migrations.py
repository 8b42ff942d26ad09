"""Alembic on the run's own connection, so migrating and seeding share one transaction.

The project's ``env.py`` must use ``config.attributes["connection"]`` when it is set (Alembic's
documented recipe for sharing a connection); seedkit's own demo ``env.py`` and the README show
how. ``sqlalchemy.url`` is set as well, for tools that open their own connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import URL

from seedkit.errors import MigrationError, UsageError
from seedkit.imports import without
from seedkit.safety import mask_text

with without("pygments"):  # Alembic's templates (Mako) import it to colour error pages
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.environment import EnvironmentContext
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError


def alembic_config(path: Path | None, url: URL) -> Config:
    """An Alembic config from an ``alembic.ini`` or a bare migrations folder."""
    if path is None:
        raise UsageError(
            "No Alembic configuration found: pass --alembic-config, set [tool.seedkit] "
            "alembic_config, or add alembic.ini or migrations/ to the project (--no-migrate skips)."
        )
    if not path.exists():
        raise MigrationError(f"Alembic configuration {path} does not exist.")
    if path.is_dir():
        config = Config()
        config.set_main_option("script_location", str(path.resolve()))
    else:
        config = Config(str(path))
        location = config.get_main_option("script_location")
        if not location:
            raise MigrationError(f"{path}: no script_location in its [alembic] section.")
    script_dir = Path(config.get_main_option("script_location") or "")
    if ":" not in str(script_dir) and not (script_dir / "env.py").is_file():
        raise MigrationError(f"Migrations folder {script_dir} has no env.py.")
    rendered = url.render_as_string(hide_password=False)
    config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


SHARING_LINES = """\
connection = config.attributes.get("connection")
if connection is not None:
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    ...  # your usual engine_from_config(...) path"""


class _ForeignConnection(Exception):
    """env.py configured Alembic with a connection (or URL) other than the one seedkit passed."""


@contextmanager
def _only_on(conn: Connection) -> Iterator[None]:
    """Stop env.py before it migrates over a connection of its own.

    Such an env.py (a stock ``alembic init`` one) would migrate outside the run's transaction —
    on PostgreSQL possibly into another database, on SQLite into "database is locked". It is
    caught where it hands Alembic the connection, before any migration runs.
    """
    configure = EnvironmentContext.configure

    def checked(self: EnvironmentContext, connection: Connection | None = None, *args: Any, **kwargs: Any) -> None:
        if connection is not conn:
            raise _ForeignConnection
        configure(self, connection, *args, **kwargs)

    EnvironmentContext.configure = checked  # type: ignore[method-assign]
    try:
        yield
    finally:
        EnvironmentContext.configure = configure  # type: ignore[method-assign]


def _run(conn: Connection, config: Config, action, *args) -> None:
    config.attributes["connection"] = conn
    try:
        with _only_on(conn):
            action(config, *args)
    except _ForeignConnection:
        env = Path(ScriptDirectory.from_config(config).dir) / "env.py"
        raise UsageError(
            f"{env} ignores the connection seedkit passes it and would migrate over a connection of its own, "
            "outside the run's transaction; nothing was changed. Use the connection in "
            f'config.attributes["connection"] when it is set, as in:\n\n{SHARING_LINES}'
        ) from None
    except CommandError as exc:
        raise MigrationError(f"Alembic: {mask_text(str(exc))}") from None
    except MigrationError:
        raise
    except Exception as exc:
        message = mask_text(str(getattr(exc, "orig", None) or exc).strip().splitlines()[0] if str(exc).strip() else "")
        raise MigrationError(f"Migration failed: {type(exc).__name__}: {message}") from exc
    finally:
        config.attributes.pop("connection", None)


def upgrade(conn: Connection, config: Config, revision: str = "head") -> None:
    _run(conn, config, command.upgrade, revision)


def downgrade(conn: Connection, config: Config, revision: str = "base") -> None:
    _run(conn, config, command.downgrade, revision)


def head_revision(config: Config) -> str | None:
    """The revision ``upgrade head`` would reach (several heads: joined with commas)."""
    try:
        heads = ScriptDirectory.from_config(config).get_heads()
    except CommandError as exc:
        raise MigrationError(f"Alembic: {mask_text(str(exc))}") from None
    return ",".join(sorted(heads)) or None


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()
