"""What a recipe will do, without any database: its steps in order and the rows to expect.

Kept apart from the runner so that ``seedkit plan`` (and the size check before a run) import
neither Alembic nor a driver.
"""

from __future__ import annotations

from sqlalchemy import Connection

from seedkit.config import Settings, check_scale
from seedkit.errors import UsageError
from seedkit.infer_schema import FromSchema
from seedkit.loader import load_recipe
from seedkit.recipe import Between, Recipe
from seedkit.report import Plan, PlannedStep
from seedkit.resolved import ResolvedRecipe, resolve


def scaled_size(size: int, scale: float) -> int:
    return max(0, round(size * scale))


RecipeLike = str | Recipe | ResolvedRecipe | FromSchema


def resolve_recipe(settings: Settings, recipe: RecipeLike, conn: Connection | None = None) -> ResolvedRecipe:
    """The recipe (an object, or a name found through ``settings``), checked and resolved once.

    Every verb takes what this returns as well, so a caller that plans before it runs (the CLI
    checks a run's size first) imports and checks the recipe once. A :class:`FromSchema` is
    built from the tables ``conn`` sees.
    """
    if isinstance(recipe, ResolvedRecipe):
        return recipe
    if isinstance(recipe, FromSchema):
        if conn is None:
            raise UsageError("A recipe inferred from the schema needs the database it reads the schema from.")
        return resolve(recipe.build(conn))
    if isinstance(recipe, Recipe):
        recipe.name = recipe.name or "recipe"
    else:
        recipe = load_recipe(settings.recipes_dir, recipe, settings.root)
    return resolve(recipe)


def plan(recipe: RecipeLike, *, settings: Settings, scale: float = 1.0) -> Plan:
    """The ordered steps and expected row counts, without touching any database (except to
    read the schema a :class:`FromSchema` recipe is inferred from)."""
    check_scale(scale)
    if isinstance(recipe, FromSchema):
        from seedkit.runner import read_schema

        recipe = read_schema(settings, recipe)
    resolved = resolve_recipe(settings, recipe)
    expected: dict[str, float] = {}
    steps = []
    for planned in resolved.steps:
        step = planned.step
        if not planned.parents:
            rows = scaled_size(step.size, scale)
            expected[step.name], size = float(rows), str(rows)
        else:
            count = planned.count if isinstance(planned.count, (int, Between)) else "custom"
            expected[step.name] = sum(expected[p.name] for p in planned.parents) * _mean_count(planned.count)
            size = f"{count} per {', '.join(p.name for p in planned.parents)}"
        depends_on = tuple(d.name for d in planned.depends_on)
        steps.append(PlannedStep(step.name, step.info.name, size, expected[step.name], depends_on))
    return Plan(resolved.name, scale, tuple(steps))


def _mean_count(count: object) -> float:
    """Expected children per parent; a callable count has no known mean."""
    if isinstance(count, Between):
        return (count.low + count.high) / 2
    return float(count) if isinstance(count, int) else float("nan")
