"""seedkit: realistic, related, deterministic demo data from factory-boy factories.

The public API: recipe building blocks (:class:`Recipe`, :func:`between`) and the verbs the CLI
is made of (:func:`run`, :func:`reset`, :func:`migrate`, :func:`plan`, :func:`fingerprint`,
:func:`status`, :func:`list_recipes`, :func:`resolve_recipe`), each returning a plain object and printing nothing.

Names are imported on first use (PEP 562): ``seedkit --help`` and the console script's first
lines must not pay for SQLAlchemy, Alembic, Faker and psycopg.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from seedkit.config import Settings, load_settings
    from seedkit.environment import Environment
    from seedkit.errors import (
        LockBusy,
        MigrationError,
        RecipeError,
        SeedFailed,
        SeedkitError,
        TargetRefused,
        TargetUnavailable,
        UsageError,
    )
    from seedkit.loader import list_recipes
    from seedkit.planning import plan, resolve_recipe
    from seedkit.recipe import Recipe, Step, between
    from seedkit.runner import check_target, migrate, reset, resolve_target, run, seed_into, status
    from seedkit.runner import fingerprint_database as fingerprint

# public name -> (module, attribute)
_EXPORTS = {
    "Settings": ("seedkit.config", "Settings"),
    "Environment": ("seedkit.environment", "Environment"),
    "load_settings": ("seedkit.config", "load_settings"),
    **{
        name: ("seedkit.errors", name)
        for name in (
            "LockBusy",
            "MigrationError",
            "RecipeError",
            "SeedFailed",
            "SeedkitError",
            "TargetRefused",
            "TargetUnavailable",
            "UsageError",
        )
    },
    "list_recipes": ("seedkit.loader", "list_recipes"),
    "Recipe": ("seedkit.recipe", "Recipe"),
    "Step": ("seedkit.recipe", "Step"),
    "between": ("seedkit.recipe", "between"),
    **{
        name: ("seedkit.runner", name)
        for name in ("check_target", "migrate", "reset", "resolve_target", "run", "scaffold", "seed_into", "status")
    },
    "plan": ("seedkit.planning", "plan"),
    "resolve_recipe": ("seedkit.planning", "resolve_recipe"),
    "fingerprint": ("seedkit.runner", "fingerprint_database"),
}

__all__ = [
    "Environment",
    "LockBusy",
    "MigrationError",
    "Recipe",
    "RecipeError",
    "SeedFailed",
    "SeedkitError",
    "Settings",
    "Step",
    "TargetRefused",
    "TargetUnavailable",
    "UsageError",
    "between",
    "check_target",
    "fingerprint",
    "list_recipes",
    "load_settings",
    "migrate",
    "plan",
    "reset",
    "resolve_recipe",
    "resolve_target",
    "run",
    "scaffold",
    "seed_into",
    "status",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'seedkit' has no attribute {name!r}")
    module, attribute = _EXPORTS[name]
    value = getattr(import_module(module), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
