"""Finding and importing recipe modules from a folder.

The folder is imported as a package of its own (so recipes can ``from .factories import ...``)
and also put on ``sys.path`` (so ``from factories import ...`` works too). A module is a recipe
when it defines a module-level ``recipe = Recipe(...)``; its name is the module's name.
"""

from __future__ import annotations

import difflib
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
    error: str | None = None  # why the module could not be loaded; the others are still listed


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


def _importable(root: Path | None) -> None:
    """Put the project's folder first on ``sys.path`` (``from app.models import User``)."""
    if root is not None and str(root.resolve()) not in sys.path:
        sys.path.insert(0, str(root.resolve()))


def import_models(module: str, root: Path) -> ModuleType:
    """The project's models module (``seedkit scaffold --models``), imported as recipes import it."""
    _importable(root)
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise UsageError(f"Cannot import the models module {module!r}: {exc}") from None


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


def list_recipes(folder: Path, root: Path | None = None) -> list[RecipeInfo]:
    """Every recipe in ``folder``, with its description; helper modules are skipped.

    A module that fails to import is listed with its error rather than hiding the others.
    ``root``, the project's folder, is importable while they load.
    """
    _importable(root)
    found = []
    for path in _candidates(folder):
        try:
            recipe = _recipe_of(_import(folder, path), path)
        except RecipeError as exc:
            found.append(RecipeInfo(path.stem, "", path, error=str(exc)))
            continue
        if recipe is not None:
            found.append(RecipeInfo(recipe.name, recipe.description, path))
    return found


def load_recipe(folder: Path, name: str, root: Path | None = None) -> Recipe:
    """Import the recipe called ``name`` from ``folder`` (resolving it is the caller's next step).

    Only that module is imported: a broken sibling does not stand in the way.
    """
    _importable(root)
    paths = {p.stem: p for p in _candidates(folder)}
    path = paths.get(name)
    recipe = _recipe_of(_import(folder, path), path) if path is not None else None
    if recipe is None:
        close = difflib.get_close_matches(name, list(paths), n=3, cutoff=0.6)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        known = ", ".join(sorted(paths)) or "none"
        reason = "is a module without a `recipe = Recipe(...)`" if path is not None else "does not exist"
        raise UsageError(f"Recipe {name!r} {reason} in {folder} (modules there: {known}).{hint}")
    return recipe
