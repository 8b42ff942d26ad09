"""The compiler: a factory's declarations become column and row functions, deterministically."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import factory
import factory.fuzzy
import pytest

from seedkit.environment import seeded
from seedkit.generate import Chunk, Unsupported, compile_step
from seedkit.keys import KeyAllocator
from seedkit.loader import load_recipe
from seedkit.randomness import DEFAULT_NOW
from seedkit.recipe import Recipe
from seedkit.schema import table_info


@pytest.fixture(scope="module")
def factories():
    """The demo's factories module, as seedkit imports it from the recipes folder."""
    recipe = load_recipe(Path("recipes"), "demo")
    return sys.modules[recipe.steps[0].factory.__module__]


def _compiled(factory_class, **overrides):
    recipe = Recipe("one step", name="unit")
    step = recipe.add(factory_class, 10, **overrides)
    return compile_step(step, None, {})


def _rows(compiled, n=50, number=0, first_id=1):
    with seeded(DEFAULT_NOW):
        return compiled.generate(Chunk(123, number), n, first_id, 0, None)


def test_a_chunk_is_the_same_wherever_and_whenever_it_is_made(factories):
    compiled = _compiled(factories.UserFactory)
    assert _rows(compiled) == _rows(compiled)
    assert _rows(compiled, number=1) != _rows(compiled, number=0)


def test_keys_are_the_ones_handed_to_the_chunk_and_columns_follow_the_table(factories):
    compiled = _compiled(factories.UserFactory)
    rows = _rows(compiled, n=5, first_id=41)
    assert [r[compiled.write_attrs.index("id")] for r in rows] == [41, 42, 43, 44, 45]
    assert set(compiled.write_attrs) >= {"id", "name", "email", "created_at", "is_admin"}


def test_constants_traits_and_overrides(factories):
    admins = _compiled(factories.UserFactory, traits=["admin"], step_name="admins", name="Ann")
    rows = _rows(admins, n=20)
    at = admins.write_attrs.index
    assert {r[at("is_admin")] for r in rows} == {True} and {r[at("name")] for r in rows} == {"Ann"}


def test_a_fuzzy_choice_draws_only_its_choices(factories):
    signed_up = dt.datetime(2025, 1, 1)
    compiled = _compiled(factories.OrderFactory, user=None, user_id=1, created_at=signed_up)
    rows = _rows(compiled, n=200)
    statuses = {r[compiled.write_attrs.index("status")] for r in rows}
    assert statuses == {"pending", "paid", "shipped", "delivered", "cancelled"}


def test_a_declaration_seedkit_cannot_compile_says_which(factories):
    class WithHook(factories.ProjectFactory):
        @factory.post_generation
        def touched(obj, create, extracted, **kwargs):
            pass

    with pytest.raises(Unsupported, match="post-generation"):
        _compiled(WithHook)


def test_fuzzy_and_faker_columns_stay_in_their_range(factories):
    compiled = _compiled(factories.TaskFactory, project=None, project_id=1)
    rows = _rows(compiled, n=200)
    priorities = {r[compiled.write_attrs.index("priority")] for r in rows}
    assert priorities <= {1, 2, 3, 4} and len(priorities) == 4
    users = _compiled(factories.UserFactory)
    created = [r[users.write_attrs.index("created_at")] for r in _rows(users, n=200)]
    run_clock = DEFAULT_NOW.replace(tzinfo=None)
    assert all(run_clock - dt.timedelta(days=731) <= c <= run_clock for c in created)


def test_keys_continue_after_the_rows_already_there():
    asked = []

    def query(fn):
        asked.append(fn)
        return 7  # the table's row count and its highest key, as the database would answer

    keys = KeyAllocator(query)
    info = table_info(load_recipe(Path("recipes"), "tiny").steps[0].model)
    keys.prefetch([info])
    assert keys.take(info, 3) == 8 and keys.take(info, 2) == 11 and keys.highest(info) == 12
    assert keys.sequence_base(info) == 7
    keys.wrote(info, 5)
    assert keys.sequence_base(info) == 12 and len(asked) == 2
