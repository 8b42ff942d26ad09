"""The recipe model: what to create, how many, and how rows relate.

A recipe module builds a :class:`Recipe` at import time::

    recipe = Recipe("A small shop")
    users = recipe.add(UserFactory, 50)
    orders = recipe.add(OrderFactory, per=users, count=between(0, 5))

Nothing is checked while steps are added; :meth:`Recipe.validate` checks everything at once
before any database is touched, so a mistake costs nothing but an error message naming the
recipe file and the step.
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import factory
from factory.alchemy import SQLAlchemyModelFactory

from seedkit.errors import RecipeError
from seedkit.infer import inferred_factory
from seedkit.schema import TableInfo, is_mapped, table_info


@dataclass(frozen=True)
class Between:
    """An inclusive range of children per parent, drawn uniformly by the step's seeded RNG."""

    low: int
    high: int

    def __str__(self) -> str:
        return f"{self.low}-{self.high}"


def between(low: int, high: int) -> Between:
    """``between(1, 4)``: each parent gets 1, 2, 3 or 4 children."""
    return Between(low, high)


CountSpec = Union[int, Between, tuple[int, int], Callable[[random.Random], int]]
Source = Union["Step", type]


@dataclass(eq=False)
class Step:
    """One line of a recipe: a factory, how many rows, and what they point at."""

    recipe: Recipe
    factory: type
    name: str
    size: Any = None
    per: Source | None = None
    count: Any = None
    link: str | None = None
    refs: dict[str, Source] = field(default_factory=dict)
    traits: tuple[str, ...] = ()
    overrides: dict[str, Any] = field(default_factory=dict)
    distinct: bool = False  # each parent's rows point at distinct rows of every refs= source
    later: dict[str, Source] = field(default_factory=dict)  # relationship -> step, set once all are written

    @property
    def model(self) -> type:
        return self.factory._meta.model

    @property
    def info(self) -> TableInfo:
        return table_info(self.model)

    def __repr__(self) -> str:
        return f"<Step {self.name!r} of recipe {self.recipe.name!r}>"


class Recipe:
    """An ordered set of steps; build one per module and assign it to ``recipe``."""

    def __init__(self, description: str = "", *, name: str | None = None) -> None:
        self.description = description
        self.name = name or ""
        self.path: Path | None = None
        self.steps: list[Step] = []

    def add(
        self,
        factory_class: type,
        size: int | None = None,
        *,
        per: Source | None = None,
        count: CountSpec | None = None,
        link: str | None = None,
        refs: Mapping[str, Source] | None = None,
        traits: Sequence[str] = (),
        step_name: str | None = None,
        distinct: bool = False,
        **overrides: Any,
    ) -> Step:
        """Add a step.

        ``size`` rows in one batch, or ``count`` rows for each row of the ``per`` step (a number,
        ``between(lo, hi)``, ``(lo, hi)`` or a callable taking the seeded ``random.Random``).
        ``link`` names the relationship to the parent when the model has several to it.
        ``refs`` maps a relationship to a step (or model) whose rows it picks from at random.
        ``distinct`` makes each parent's rows point at distinct rows of every ``refs=`` source
        (a junction table whose key is the pair: a post's tags). ``traits`` switch on
        factory-boy traits; ``step_name`` names the step (default: the table's name); keyword
        ``overrides`` replace declarations (``name="Fixed"`` sets a ``name`` column).
        """
        if not isinstance(factory_class, type) or not issubclass(factory_class, factory.Factory):
            if is_mapped(factory_class):  # a model: its factory is inferred from its columns
                refs = required_refs(factory_class, per, dict(refs or {}), overrides)
                factory_class = inferred_factory(factory_class)
        model = getattr(getattr(factory_class, "_meta", None), "model", None)
        if step_name is None and "name" in overrides:
            step_name = _legacy_step_name(factory_class, model, overrides)
        default_name = getattr(getattr(model, "__table__", None), "name", None) or getattr(
            factory_class, "__name__", "step"
        )
        step = Step(
            recipe=self,
            factory=factory_class,
            name=default_name if step_name is None else step_name,
            size=size,
            per=per,
            count=count,
            link=link,
            refs=dict(refs or {}),
            traits=tuple(traits) if not isinstance(traits, str) else (traits,),
            overrides=overrides,
            distinct=distinct,
        )
        self.steps.append(step)
        return step

    def fill_later(self, step: Step, relationship: str, source: Source) -> None:
        """Point ``step``'s nullable ``relationship`` at rows of ``source`` once every step is
        written, in the same transaction: how a foreign-key cycle is seeded (departments'
        ``manager`` among employees, who need their department first). With ``source`` the step
        itself, each row points at an earlier one (a tree: a comment's ``reply_to``), and about
        a quarter of them, the first included, stay roots."""
        step.later[relationship] = source

    # -- validation -------------------------------------------------------------------------

    def error(self, step: Step | None, message: str) -> RecipeError:
        where = str(self.path) if self.path else f"recipe {self.name!r}"
        if step is not None:
            where += f", step {step.name!r}"
        return RecipeError(f"{where}: {message}")

    def validate(self) -> list[Step]:
        """Check every step and return them in dependency order; raise :class:`RecipeError`."""
        seen: dict[str, Step] = {}
        for step in self.steps:
            if not isinstance(step.name, str) or not step.name:
                raise self.error(None, f"step_name must be a non-empty string, got {step.name!r}")
            if step.name in seen:
                raise self.error(step, "two steps share this name; pass step_name=... to tell them apart")
            seen[step.name] = step
            self._check_step(step)
        return self._ordered()

    def _check_step(self, step: Step) -> None:
        f = step.factory
        if not (isinstance(f, type) and issubclass(f, factory.Factory)):
            raise self.error(step, f"{f!r} is not a factory-boy factory class")
        if not is_mapped(f._meta.model):
            raise self.error(step, f"{f.__name__}'s model {f._meta.model!r} is not a mapped SQLAlchemy model")
        if not issubclass(f, SQLAlchemyModelFactory):
            raise self.error(step, f"{f.__name__} must subclass factory.alchemy.SQLAlchemyModelFactory")

        if step.distinct and (step.per is None or not step.refs):
            raise self.error(step, "distinct=True needs per= (whose rows pick) and refs= (what they pick distinctly)")
        if step.per is None:
            if step.count is not None:
                raise self.error(step, "count= needs per=<parent step>; use size= for a fixed batch")
            _check_size(self, step, step.size, "size")
        else:
            if step.size is not None:
                raise self.error(step, "give either size= or per=/count=, not both")
            if step.count is None:
                raise self.error(step, "per= needs count= (a number, between(lo, hi) or a callable)")
            self.normalised_count(step)
            parents = self.resolve(step, step.per, "per")
            parent_model = parents[0].model
            self.parent_link(step, parent_model)

        for attr, source in step.refs.items():
            link = step.info.links.get(attr)
            if link is None:
                raise self.error(
                    step,
                    f"refs key {attr!r} is not a many-to-one relationship of {step.model.__name__} "
                    f"(it has: {', '.join(step.info.links) or 'none'})",
                )
            for target in self.resolve(step, source, f"refs[{attr!r}]"):
                if not issubclass(target.model, link.target):
                    raise self.error(
                        step, f"refs[{attr!r}] points at {target.model.__name__}, expected {link.target.__name__}"
                    )

        for attr, source in step.later.items():
            self._check_later(step, attr, source)

        parameters = f._meta.parameters
        for trait in step.traits:
            if not isinstance(parameters.get(trait), factory.Trait):
                known = [k for k, v in parameters.items() if isinstance(v, factory.Trait)]
                raise self.error(
                    step,
                    f"unknown trait {trait!r} for {f.__name__} (known: {', '.join(known) or 'none'})",
                )
        known_names = set(f._meta.declarations) | set(parameters) | set(step.info.attrs) | set(step.info.links)
        if step.info.pk is not None and step.info.pk in step.overrides:
            raise self.error(
                step,
                f"override of the primary key {step.info.pk!r}: seedkit numbers {step.info.name}.{step.info.pk} "
                "itself (after any rows already there) so that other steps can point at these rows; "
                "remove the override",
            )
        for key in step.overrides:
            if key not in known_names:
                raise self.error(
                    step, f"override {key!r} is neither a declaration of {f.__name__} nor a model attribute"
                )

    def _check_later(self, step: Step, attr: str, source: Source) -> None:
        link = step.info.links.get(attr)
        if link is None:
            known = ", ".join(step.info.links) or "none"
            raise self.error(
                step,
                f"fill_later: {attr!r} is not a many-to-one relationship of {step.model.__name__} (it has: {known})",
            )
        columns = [step.info.columns[step.info.attrs.index(a)] for a in link.local]
        if len(columns) != 1 or not columns[0].nullable:
            raise self.error(
                step, f"fill_later: {attr!r} must be one nullable column, filled after the rows are written"
            )
        targets = self.resolve(step, source, f"fill_later({attr!r})")
        if len(targets) != 1 or not issubclass(targets[0].model, link.target):
            raise self.error(step, f"fill_later: {attr!r} needs one step of {link.target.__name__} to point at")
        if step.info.pk is None or targets[0].info.pk is None:
            raise self.error(step, "fill_later: both tables need a single primary key that seedkit numbers")

    def normalised_count(self, step: Step) -> int | Between | Callable[[random.Random], int]:
        """A per-parent step's count as a number, a :class:`Between`, or its callable."""
        return step.count if callable(step.count) else _normalise_count(self, step, step.count)

    def resolve(self, step: Step, source: Source, what: str) -> list[Step]:
        """The steps a ``per=``/``refs=`` source stands for: a step, or every step of a model."""
        if isinstance(source, Step):
            if source.recipe is not self:
                raise self.error(step, f"{what} names step {source.name!r} of another recipe")
            return [source]
        if isinstance(source, type):
            steps = [s for s in self.steps if s.model is source or issubclass(s.model, source)]
            if not steps:
                raise self.error(step, f"{what} refers to model {source.__name__}, which no step of this recipe seeds")
            return steps
        raise self.error(step, f"{what} must be a step or a model class, not {source!r}")

    def parent_link(self, step: Step, parent_model: type) -> str:
        """The relationship through which ``step``'s rows point at their ``per=`` parent."""
        links = step.info.links
        if step.link is not None:
            if step.link not in links:
                raise self.error(step, f"link={step.link!r} is not a many-to-one relationship of {step.model.__name__}")
            return step.link
        candidates = [name for name, link in links.items() if issubclass(parent_model, link.target)]
        if len(candidates) != 1:
            detail = "none" if not candidates else f"several ({', '.join(candidates)}); pass link=..."
            raise self.error(
                step, f"{step.model.__name__} needs one relationship to {parent_model.__name__}, found {detail}"
            )
        return candidates[0]

    def dependencies(self, step: Step) -> list[Step]:
        deps: list[Step] = []
        if step.per is not None:
            deps += self.resolve(step, step.per, "per")
        for attr, source in step.refs.items():
            deps += self.resolve(step, source, f"refs[{attr!r}]")
        return list(dict.fromkeys(deps))

    def _ordered(self) -> list[Step]:
        """Topological order, stable: the first step added whose dependencies are done goes next.

        A recipe written parents-first runs exactly as written; a step that needs one added
        later waits only for it.
        """
        pending = {s: set(self.dependencies(s)) for s in self.steps}
        ordered: list[Step] = []
        while pending:
            step = next((s for s, deps in pending.items() if not deps), None)
            if step is None:
                cycle = " -> ".join(s.name for s in pending)
                first = next(iter(pending))
                raise self.error(first, f"steps depend on each other in a cycle: {cycle}")
            ordered.append(step)
            del pending[step]
            for deps in pending.values():
                deps.discard(step)
        return ordered


def required_refs(model: type, per: Source | None, refs: dict[str, Source], overrides: dict) -> dict:
    """A model step's required parents: each many-to-one relationship with a NOT NULL key that
    neither ``per=`` (its parent) nor ``refs=`` nor an override fills picks a row of the
    parent model's steps."""
    info = table_info(model)
    parent = per.model if isinstance(per, Step) else per
    for attr, link in info.links.items():
        if attr in refs or attr in overrides or (parent is not None and issubclass(parent, link.target)):
            continue
        columns = [info.columns[info.attrs.index(a)] for a in link.local]
        if any(a in overrides for a in link.local) or all(c.nullable for c in columns):
            continue
        refs[attr] = link.target
    return refs


def _legacy_step_name(factory_class: type, model: Any, overrides: dict[str, Any]) -> str:
    """``name=`` used to name the step; it still does where it cannot mean a ``name`` column."""
    declarations = getattr(getattr(factory_class, "_meta", None), "declarations", {})
    if "name" in declarations or (is_mapped(model) and "name" in table_info(model).attrs):
        where = getattr(factory_class, "__name__", repr(factory_class))
        raise RecipeError(
            f"recipe.add({where}, ..., name={overrides['name']!r}) is ambiguous: {where} has a 'name' field. "
            f"Name the step with step_name={overrides['name']!r}; to set the field, pass step_name= as well "
            "(then name= is an override)."
        )
    warnings.warn(
        "recipe.add(..., name=...) to name a step is deprecated; use step_name=...", FutureWarning, stacklevel=3
    )
    return overrides.pop("name")


def _check_size(recipe: Recipe, step: Step, value: Any, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise recipe.error(step, f"{what} must be a whole number, got {value!r}")
    if value < 0:
        raise recipe.error(step, f"{what} must not be negative, got {value}")


def _normalise_count(recipe: Recipe, step: Step, count: Any) -> Between | int:
    if isinstance(count, Between):
        low, high = count.low, count.high
    elif isinstance(count, tuple) and len(count) == 2:
        low, high = count
    else:
        _check_size(recipe, step, count, "count")
        return count
    _check_size(recipe, step, low, "count's low end")
    _check_size(recipe, step, high, "count's high end")
    if low > high:
        raise recipe.error(step, f"count range {low}-{high} is empty")
    return Between(low, high)
