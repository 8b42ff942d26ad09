"""`seedkit list` and `seedkit plan`: what recipes exist and what one will do, without a database."""

from __future__ import annotations

import json

from tests.conftest import cli
from tests.library_project import write_project


def test_list_shows_recipes_with_descriptions():
    result = cli("list", "--json")
    assert result.exit_code == 0
    found = {r["name"]: r["description"] for r in json.loads(result.stdout)}
    assert set(found) == {"demo", "tiny"}, "helper modules (models, factories) are not recipes"
    assert all(found.values())


def test_plan_orders_steps_by_dependency_and_scales(tmp_path, monkeypatch):
    monkeypatch.setenv("SEEDKIT_DATABASE_URL", f"sqlite:///{tmp_path / 'never.db'}")
    result = cli("plan", "demo", "--scale", "2", "--json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    names = [s["name"] for s in plan["steps"]]
    assert names.index("users") < names.index("orders") < names.index("order_items")
    assert names.index("products") < names.index("order_items")
    steps = {s["name"]: s for s in plan["steps"]}
    assert steps["users"]["expected"] == 100
    assert steps["orders"]["expected"] == 100 * 2.5
    assert steps["order_items"]["depends_on"] == ["orders", "products"]
    assert not (tmp_path / "never.db").exists(), "plan must not touch a database"


def test_plan_text_output():
    result = cli("plan", "tiny")
    assert result.exit_code == 0
    assert "order_items" in result.stdout and "1-2 per" in result.stdout


def test_list_prints_descriptions_verbatim(tmp_path):
    # Square brackets are rich markup; a user's text must come through as written.
    (tmp_path / "draft.py").write_text('from seedkit import Recipe\n\nrecipe = Recipe("[draft] shop [bold]x[/]")\n')
    result = cli("list", "--recipes", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "[draft] shop [bold]x[/]" in result.stdout


def test_steps_run_as_written_unless_one_needs_a_later_step(tmp_path):
    recipe = """
        from seedkit import Recipe
        from .library_factories import AuthorFactory, BookFactory
        from .library_models import Author
        recipe = Recipe("order")
        authors = recipe.add(AuthorFactory, 2)
        early = recipe.add(BookFactory, 3, refs={"author": Author}, step_name="early_books")
        books = recipe.add(BookFactory, per=authors, count=1)
        more = recipe.add(AuthorFactory, 2, step_name="more_authors")
    """
    project = write_project(tmp_path, {"ordering": recipe})
    result = cli("plan", "ordering", "--json", "--recipes", str(project / "seeds"))
    assert result.exit_code == 0, result.output
    names = [s["name"] for s in json.loads(result.stdout)["steps"]]
    # early_books reads every Author step, so it waits for more_authors; the rest keep their places.
    assert names == ["authors", "books", "more_authors", "early_books"]
