"""``seedkit init``: a starter recipe for the project's own models, and a check of its env.py.

The models are found where Alembic already looks for them: the module ``env.py`` imports its
``target_metadata`` from. A project whose ``env.py`` names none is searched for a module that
declares models (``DeclarativeBase``, ``declarative_base()``, SQLModel ``table=True``).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

from seedkit.config import Settings

STARTER = "starter"  # the recipe init writes
_MODEL_MARKERS = ("DeclarativeBase", "declarative_base(", "table=True")
_SKIPPED = {".git", ".venv", "venv", "node_modules", "__pycache__", "site-packages", "tests", "migrations"}


@dataclass
class Setup:
    """What ``init`` found and did."""

    models: str | None  # the models module, if one was found
    found_by: str = ""  # how it was found
    written: list[Path] = field(default_factory=list)
    env_py: Path | None = None
    env_py_shares: bool | None = None  # whether env.py migrates on seedkit's connection (None: no env.py)


def models_in_env_py(env_py: Path) -> str | None:
    """The module ``env.py`` imports ``target_metadata`` (or the class it comes from) from."""
    tree = ast.parse(env_py.read_text(encoding="utf-8"))
    imported: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                imported[alias.asname or alias.name] = node.module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                imported[alias.asname or alias.name.partition(".")[0]] = alias.name
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "target_metadata" for t in node.targets):
            root = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in imported:
                return imported[root.id]
    return None


def models_by_search(root: Path) -> str | None:
    """The first module under ``root`` (in path order) that declares models."""
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if set(relative.parts[:-1]) & _SKIPPED or relative.parts[0].startswith("."):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if any(marker in text for marker in _MODEL_MARKERS):
            return ".".join(relative.with_suffix("").parts)
    return None


def env_py_of(settings: Settings) -> Path | None:
    from seedkit.cache import scripts_folder
    from seedkit.database import parse_url

    if settings.alembic_config is None or not settings.alembic_config.exists():
        return None
    env_py = scripts_folder(settings.alembic_config, parse_url(settings.database_url)) / "env.py"
    return env_py if env_py.is_file() else None


def shares_connection(env_py: Path) -> bool:
    """Whether ``env.py`` migrates on the connection seedkit hands it (``config.attributes``)."""
    text = env_py.read_text(encoding="utf-8")
    return 'attributes.get("connection")' in text or 'attributes["connection"]' in text


def init_project(settings: Settings, *, models: str | None, rows: int, out: Path, force: bool) -> Setup:
    """Write a starter recipe for the project's models into ``out`` and check its ``env.py``."""
    from seedkit.runner import scaffold

    env_py = env_py_of(settings)
    setup = Setup(models=models, found_by="--models" if models else "")
    if setup.models is None and env_py is not None:
        setup.models, setup.found_by = models_in_env_py(env_py), f"target_metadata in {env_py}"
    if setup.models is None:
        setup.models, setup.found_by = models_by_search(settings.root), f"a search of {settings.root.resolve()}"
    if setup.models is not None:
        setup.written = scaffold(settings, out, rows=rows, name=STARTER, force=force, models=setup.models)
    setup.env_py = env_py
    setup.env_py_shares = shares_connection(env_py) if env_py is not None else None
    return setup
