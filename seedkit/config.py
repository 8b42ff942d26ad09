"""Where seedkit finds its target, recipes and migrations.

Precedence, highest first: explicit arguments (CLI flags), environment variables,
``[tool.seedkit]`` in the working directory's ``pyproject.toml``, built-in defaults.
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from seedkit.errors import UsageError

DEFAULT_DATABASE_URL = "sqlite:///seedkit.db"
WRITERS = ("auto", "copy", "executemany", "orm")  # how rows are written (see seedkit.writers)
# Rows seedkit run --infer gives each table that needs no parent (--rows).
INFER_ROWS = 100
MAX_SEED = 2**31 - 1  # seeds are recorded in a column every backend holds as a 32-bit integer
URL_ENV_VARS = ("SEEDKIT_DATABASE_URL", "DATABASE_URL")


@dataclass(frozen=True)
class Settings:
    """Everything a command needs to find its inputs; built once by :func:`load_settings`."""

    database_url: str = DEFAULT_DATABASE_URL
    recipes_dir: Path = Path("recipes")
    alembic_config: Path | None = None
    protected: tuple[str, ...] = field(default_factory=tuple)
    # The project's folder (where pyproject.toml is): recipes import the project's own
    # packages from it, as Alembic's ``prepend_sys_path = .`` lets env.py do.
    root: Path = Path(".")
    # run and reset keep and reuse seeded templates (see seedkit.cache) unless told otherwise.
    cache: bool = False
    # Where SQLite templates are kept (PostgreSQL keeps them on the server).
    cache_dir: Path = field(default_factory=lambda: default_cache_dir())


def check_scale(scale: float) -> None:
    if not (scale > 0 and math.isfinite(scale)):
        raise UsageError(f"scale must be a finite number greater than 0, got {scale}")


def default_cache_dir() -> Path:
    """``$SEEDKIT_CACHE_DIR``, else the user's cache folder (``$XDG_CACHE_HOME/seedkit``)."""
    if os.environ.get("SEEDKIT_CACHE_DIR"):
        return Path(os.environ["SEEDKIT_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "seedkit"


def _pyproject_section(root: Path) -> dict:
    path = root / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not valid TOML ({exc})") from None
    section = data.get("tool", {}).get("seedkit", {})
    if not isinstance(section, dict):
        raise UsageError(f"{path}: [tool.seedkit] must be a table")
    return section


def load_settings(
    *,
    database_url: str | None = None,
    recipes_dir: str | Path | None = None,
    alembic_config: str | Path | None = None,
    root: str | Path | None = None,
) -> Settings:
    """Resolve settings from arguments, environment, ``pyproject.toml`` and defaults.

    Paths in ``pyproject.toml`` are relative to ``root`` (the working directory by default), the
    folder that holds it, so they mean the same thing whoever reads them.
    """
    base = Path(root) if root is not None else Path.cwd()
    section = _pyproject_section(base)

    url = database_url
    if url is None:
        url = next((os.environ[v] for v in URL_ENV_VARS if os.environ.get(v)), None)
    if url is None:
        url = section.get("database_url", DEFAULT_DATABASE_URL)

    if recipes_dir is not None:
        recipes = Path(recipes_dir)
    else:
        recipes = base / section.get("recipes", "recipes")

    if alembic_config is not None:
        alembic = Path(alembic_config)
    elif "alembic_config" in section:
        alembic = base / section["alembic_config"]
    else:
        alembic = _default_alembic_config(base)

    protected = section.get("protected", [])
    if not isinstance(protected, list) or not all(isinstance(p, str) for p in protected):
        raise UsageError("[tool.seedkit] protected must be a list of strings (glob patterns)")
    cache = section.get("cache", False)
    if not isinstance(cache, bool):
        raise UsageError("[tool.seedkit] cache must be true or false")
    cache_dir = default_cache_dir()
    if not os.environ.get("SEEDKIT_CACHE_DIR") and "cache_dir" in section:
        cache_dir = base / section["cache_dir"]
    return Settings(
        database_url=url,
        recipes_dir=recipes,
        alembic_config=alembic,
        protected=tuple(protected),
        root=base,
        cache=cache,
        cache_dir=cache_dir,
    )


def _default_alembic_config(base: Path) -> Path | None:
    """``alembic.ini`` if the project has one, else a bare ``migrations/`` folder, else none."""
    for candidate in (base / "alembic.ini", base / "migrations"):
        if candidate.exists():
            return candidate
    return None
