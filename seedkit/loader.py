"""Finding and importing recipe modules from a folder.

The folder is imported as a package of its own (so recipes can ``from .factories import ...``)
and also put on ``sys.path`` (so ``from factories import ...`` works too). A module is a recipe
when it defines a module-level ``recipe = Recipe(...)``; its name is the module's name.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from seedkit.errors import RecipeError, UsageError
from seedkit.recipe import Recipe


@dataclass(frozen=True)
class RecipeInfo:
    name: str
    description: str
    path: Path


def _package_for(folder: Path) -> str:
    """A package name unique to the folder, so two recipe folders never shadow each other."""
    resolved = folder.resolve()
    digest = hashlib.sha1(str(resolved).encode()).hexdigest()[:10]
    name = f"_seedkit_recipes_{digest}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, resolved / "__init__.py", submodule_search_locations=[str(resolved)]
        )
        assert spec is not None
        package = importlib.util.module_from_spec(spec)
        sys.modules[name] = package
        if (resolved / "__init__.py").is_file():
            spec.loader.exec_module(package)  # type: ignore[union-attr]
    if str(resolved) not in sys.path:
        sys.path.insert(0, str(resolved))
    return name


def _candidates(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise UsageError(f"Recipe folder {folder} does not exist (set --recipes or [tool.seedkit] recipes).")
    return sorted(p for p in folder.glob("*.py") if not p.name.startswith("_"))


def _import(folder: Path, path: Path) -> ModuleType:
    package = _package_for(folder)
    try:
        return importlib.import_module(f"{package}.{path.stem}")
    except SyntaxError as exc:
        raise RecipeError(f"{exc.filename}:{exc.lineno}: syntax error in recipe module: {exc.msg}") from None
    except Exception as exc:  # a recipe module can fail in any way; report where
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(str(folder.resolve()))]
        where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else str(path)
        raise RecipeError(f"{where}: recipe module failed to import: {type(exc).__name__}: {exc}") from None


def _recipe_of(module: ModuleType, path: Path) -> Recipe | None:
    recipe = getattr(module, "recipe", None)
    if not isinstance(recipe, Recipe):
        return None
    recipe.name = recipe.name or path.stem
    recipe.path = path
    return recipe


def list_recipes(folder: Path) -> list[RecipeInfo]:
    """Every recipe in ``folder``, with its description; helper modules are skipped."""
    found = []
    for path in _candidates(folder):
        recipe = _recipe_of(_import(folder, path), path)
        if recipe is not None:
            found.append(RecipeInfo(recipe.name, recipe.description, path))
    return found


def load_recipe(folder: Path, name: str) -> Recipe:
    """Import the recipe called ``name`` from ``folder`` and validate it."""
    paths = {p.stem: p for p in _candidates(folder)}
    path = paths.get(name)
    recipe = _recipe_of(_import(folder, path), path) if path is not None else None
    if recipe is None:
        known = ", ".join(r.name for r in list_recipes(folder)) or "none"
        raise UsageError(f"Unknown recipe {name!r} in {folder} (known: {known}).")
    recipe.validate()
    return recipe
