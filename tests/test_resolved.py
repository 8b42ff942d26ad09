"""Resolving a recipe once: run order, parents and links, refs, counts and what each step keeps."""

from __future__ import annotations

from pathlib import Path

import pytest

from seedkit.loader import load_recipe
from seedkit.recipe import Between
from seedkit.resolved import NOT_KEPT, resolve


@pytest.fixture(scope="module")
def demo():
    return resolve(load_recipe(Path("recipes"), "demo"))


def _plan(resolved, name):
    return next(p for p in resolved.steps if p.name == name)


def test_steps_run_in_order_with_their_parents_links_and_refs(demo):
    names = [p.name for p in demo.steps]
    assert names.index("users") < names.index("orders") < names.index("order_items")
    orders, items = _plan(demo, "orders"), _plan(demo, "order_items")
    assert [s.name for s in orders.parents] == ["users"] and orders.link == "user"
    assert orders.count == Between(0, 5)
    assert [s.name for s in items.parents] == ["orders"] and items.link == "order"
    assert {attr: [s.name for s in steps] for attr, steps in items.refs.items()} == {"product": ["products"]}


def test_each_step_keeps_only_what_later_steps_read(demo):
    # orders read their user's created_at (a Faker argument); order items their product's price.
    assert _plan(demo, "users").keep == frozenset({"id", "created_at"})
    assert _plan(demo, "products").keep == frozenset({"id", "price"})
    assert _plan(demo, "orders").keep == frozenset({"id"})
    assert _plan(demo, "order_items").keep is NOT_KEPT


def test_resolving_leaves_the_recipe_as_written():
    source = load_recipe(Path("recipes"), "tiny")
    items = next(s for s in source.steps if s.name == "order_items")
    assert items.count == (1, 2)
    resolved = resolve(source)
    assert items.count == (1, 2) and _plan(resolved, "order_items").count == Between(1, 2)


def test_a_resolved_recipe_is_taken_as_it_is_by_every_verb(demo, tmp_path):
    import seedkit

    settings = seedkit.load_settings(database_url=f"sqlite:///{tmp_path / 'once.db'}")
    assert seedkit.resolve_recipe(settings, demo) is demo
    plan = seedkit.plan(demo, settings=settings, scale=0.2)
    report = seedkit.run(demo, settings=settings, seed=3, scale=0.2)
    assert report.recipe == plan.recipe == "demo"
    assert set(report.tables) == {s.table for s in plan.steps}
    roots = [s for s in plan.steps if not s.depends_on]
    assert roots and all(report.planned[s.name] == s.expected for s in roots)
