"""seedkit: realistic, related, deterministic demo data from factory-boy factories.

The public API: recipe building blocks (:class:`Recipe`, :func:`between`) and the verbs the CLI
is made of (:func:`run`, :func:`reset`, :func:`migrate`, :func:`plan`, :func:`fingerprint`,
:func:`status`, :func:`list_recipes`), each returning a plain object and printing nothing.
"""

from __future__ import annotations

from seedkit.config import Settings, load_settings
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
from seedkit.recipe import Recipe, Step, between
from seedkit.runner import check_target, migrate, plan, reset, resolve_target, run, status
from seedkit.runner import fingerprint_database as fingerprint

__all__ = [
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
    "resolve_target",
    "run",
    "status",
]
