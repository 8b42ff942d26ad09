"""Alembic on the run's own connection, so migrating and seeding share one transaction.

The project's ``env.py`` must use ``config.attributes["connection"]`` when it is set (Alembic's
documented recipe for sharing a connection); seedkit's own demo ``env.py`` and the README show
how. ``sqlalchemy.url`` is set as well, for tools that open their own connection.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection
from sqlalchemy.engine import URL

from seedkit.errors import MigrationError, UsageError
from seedkit.safety import mask_text


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


def _run(conn: Connection, config: Config, action, *args) -> None:
    config.attributes["connection"] = conn
    try:
        action(config, *args)
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
