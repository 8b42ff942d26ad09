"""What a recipe will do, without any database: its steps in order and the rows to expect.

Kept apart from the runner so that ``seedkit plan`` (and the size check before a run) import
neither Alembic nor a driver.
"""

from __future__ import annotations

import math

from seedkit.config import Settings
from seedkit.errors import UsageError
from seedkit.loader import load_recipe
from seedkit.recipe import Between, Recipe
from seedkit.report import Plan, PlannedStep


def scaled_size(size: int, scale: float) -> int:
    return max(0, round(size * scale))


def resolve_recipe(settings: Settings, recipe: str | Recipe) -> Recipe:
    if isinstance(recipe, Recipe):
        recipe.name = recipe.name or "recipe"
        recipe.validate()
        return recipe
    return load_recipe(settings.recipes_dir, recipe, settings.root)


def check_scale(scale: float) -> None:
    if not (scale > 0 and math.isfinite(scale)):
        raise UsageError(f"scale must be a finite number greater than 0, got {scale}")


def plan(recipe: str | Recipe, *, settings: Settings, scale: float = 1.0) -> Plan:
    """The ordered steps and expected row counts, without touching any database."""
    check_scale(scale)
    loaded = resolve_recipe(settings, recipe)
    expected: dict[str, float] = {}
    steps = []
    for step in loaded.validate():
        deps = loaded.dependencies(step)
        if step.per is None:
            rows = scaled_size(step.size, scale)
            expected[step.name], size = float(rows), str(rows)
        else:
            parents = loaded.resolve(step, step.per, "per")
            count = step.count if isinstance(step.count, (int, Between)) else "custom"
            expected[step.name] = sum(expected[p.name] for p in parents) * _mean_count(step.count)
            size = f"{count} per {', '.join(p.name for p in parents)}"
        steps.append(PlannedStep(step.name, step.info.name, size, expected[step.name], tuple(d.name for d in deps)))
    return Plan(loaded.name, scale, tuple(steps))


def _mean_count(count: object) -> float:
    """Expected children per parent; a callable count has no known mean."""
    if isinstance(count, Between):
        return (count.low + count.high) / 2
    return float(count) if isinstance(count, int) else float("nan")
