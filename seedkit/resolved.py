"""A recipe resolved once, before anything runs: the immutable plan every later stage reads.

A recipe names its sources loosely (``per=users`` may be a step or a model class seeded by
several steps; the link to the parent may have to be found among several relationships).
Resolving turns that into facts — run order, each step's parent steps and link, the steps its
``refs`` pick from, its normalised count, and what later steps read of its rows — checked once.
``seedkit plan``, the seeder and its workers read these facts; nobody resolves again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import factory
from factory import declarations as fd

from seedkit.generate import effective_declarations
from seedkit.recipe import Between, Recipe, Step

NOT_KEPT = frozenset({"<not kept>"})
Keep = frozenset[str] | None  # attributes later steps read (None: all), or NOT_KEPT


@dataclass(frozen=True)
class StepPlan:
    step: Step
    parents: tuple[Step, ...]  # the per= steps, whose rows each get `count` children; () for a batch
    link: str | None  # the relationship through which rows point at their parent
    refs: Mapping[str, tuple[Step, ...]]  # relationship -> the steps its rows are picked from
    count: int | Between | Callable[..., int] | None  # children per parent, normalised
    depends_on: tuple[Step, ...]
    keep: Keep  # what later steps read of this step's rows
    later: Mapping[str, Step] = field(default_factory=dict)  # relationship -> step its rows point at, set last

    @property
    def name(self) -> str:
        return self.step.name


@dataclass(frozen=True)
class ResolvedRecipe:
    recipe: Recipe
    steps: tuple[StepPlan, ...]  # in run order

    @property
    def name(self) -> str:
        return self.recipe.name


def resolve(recipe: Recipe) -> ResolvedRecipe:
    """Check ``recipe`` (a :class:`~seedkit.errors.RecipeError` naming file and step) and resolve it."""
    ordered = recipe.validate()
    plans = []
    for step in ordered:
        parents = tuple(recipe.resolve(step, step.per, "per")) if step.per is not None else ()
        link = recipe.parent_link(step, parents[0].model) if parents else None
        refs = {attr: tuple(recipe.resolve(step, src, f"refs[{attr!r}]")) for attr, src in step.refs.items()}
        count = recipe.normalised_count(step) if parents else None
        plans.append((step, parents, link, refs, count, tuple(recipe.dependencies(step))))
    keeps = _kept_attributes([(step, parents, link, refs) for step, parents, link, refs, _, _ in plans])
    return ResolvedRecipe(
        recipe,
        tuple(
            StepPlan(
                step,
                parents,
                link,
                MappingProxyType(refs),
                count,
                deps,
                keeps.get(step, NOT_KEPT),
                MappingProxyType({a: recipe.resolve(step, s, "fill_later")[0] for a, s in step.later.items()}),
            )
            for step, parents, link, refs, count, deps in plans
        ),
    )


def _kept_attributes(steps: list[tuple[Step, tuple[Step, ...], str | None, dict[str, tuple[Step, ...]]]]) -> dict:
    """For each step that later steps point at, the attributes they read (None: all of them).

    Children read their parents' keys, plus what a ``SelfAttribute("product.price")`` names;
    an opaque ``LazyAttribute`` could read anything, so it keeps whole rows. Keeping only keys
    is what lets a million orders' parents fit in a few megabytes.
    """
    needed: dict[Step, Keep] = {}
    for child, parents, link, refs in steps:
        decls, _ = effective_declarations(child)
        opaque = any(isinstance(d, (fd.LazyAttribute, fd.Maybe, fd.LazyAttributeSequence)) for d in decls.values())
        sources = list(refs.items()) + ([(link, parents)] if link is not None else [])
        for attr, sources_of in sources:
            reads = set(child.info.links[attr].remote)
            for path in (p for decl in decls.values() for p in _row_paths(decl)):
                if path.startswith(attr + "."):
                    reads.add(path.split(".")[1])
            for parent in sources_of:
                if opaque or needed.get(parent, frozenset()) is None:
                    needed[parent] = None
                else:
                    pk = {parent.info.pk} if parent.info.pk else set()
                    needed[parent] = frozenset(needed.get(parent, frozenset()) | reads | pk)
    return needed


def _row_paths(decl: Any) -> list[str]:
    """The ``parent.attribute`` paths a declaration reads from its row: a ``SelfAttribute``'s,
    or those of a ``factory.Faker``'s ``SelfAttribute("..parent.attribute")`` arguments."""
    if isinstance(decl, fd.SelfAttribute):
        return [decl.attribute_name]
    if isinstance(decl, factory.Faker):
        return [v.attribute_name for v in decl._defaults.values() if isinstance(v, fd.SelfAttribute)]
    return []
