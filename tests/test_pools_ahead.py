"""Faker pools drawn ahead in a helper process are the pools the step would have drawn itself."""

from __future__ import annotations

import multiprocessing

import pytest

from seedkit import pools_ahead, seeding
from tests.conftest import cli, fingerprint_of
from tests.library_project import cli_options, write_project

# The second step is a full pool's size, so the helper draws its pen names (and book subjects).
MANY_AUTHORS = """
from seedkit import Recipe
from .library_factories import AuthorFactory, BookFactory

recipe = Recipe("a few authors, then enough for the helper to draw their pools ahead")
authors = recipe.add(AuthorFactory, 5)
many = recipe.add(AuthorFactory, 2500, step_name="many_authors")
books = recipe.add(BookFactory, 2000, refs={"author": many})
"""


@pytest.fixture
def taken(monkeypatch):
    """Which steps got their pools from the helper, which each step here waits for (a run never
    does: it draws a pool itself rather than wait), so that the test does not depend on timing."""
    names: dict[str, list[str]] = {}
    take = pools_ahead.PoolsAhead.take

    def spy(self, step):
        drawn = take(self, step, wait=True)
        names[step.name] = sorted(drawn)
        return drawn

    monkeypatch.setattr(pools_ahead.PoolsAhead, "take", spy)
    return names


def _seed(tmp_path, url: str) -> dict:
    opts = cli_options(write_project(tmp_path / "p", {"many_authors": MANY_AUTHORS}))
    result = cli("run", "many_authors", "--seed", "7", "--database-url", url, *opts)
    assert result.exit_code == 0, result.output
    return fingerprint_of(url)


def test_pools_from_the_helper_give_the_same_rows(tmp_path, db_url, another_db, taken, monkeypatch):
    with_helper = _seed(tmp_path, db_url)
    assert taken["authors"] == []  # the first step never waits for the helper
    assert taken["many_authors"] == ["pen_name"] and taken["books"] == ["subject"]
    assert multiprocessing.active_children() == []  # the helper ends with the run

    monkeypatch.setattr(seeding, "PoolsAhead", lambda steps: pools_ahead.PoolsAhead([]))
    taken.clear()
    without = _seed(tmp_path, another_db(db_url))
    assert not any(taken.values())
    assert with_helper == without
