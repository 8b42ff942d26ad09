"""A bad recipe is caught before anything is written, with the file and step named."""

from __future__ import annotations

import pytest

from tests.conftest import cli, fingerprint_of
from tests.library_project import cli_options, write_project

HEADER = """
from seedkit import Recipe, between
from .library_factories import AuthorFactory, BookFactory
from .library_models import Author, Book
recipe = Recipe("broken on purpose")
"""

BROKEN = {
    "cycle": (
        HEADER
        + """
authors = recipe.add(AuthorFactory, 3, refs={"favorite_book": Book})
books = recipe.add(BookFactory, per=authors, count=1)
""",
        ["cycle", "authors", "books"],
    ),
    "unknown_model": (HEADER + 'books = recipe.add(BookFactory, 3, refs={"author": Author})\n', ["Author", "no step"]),
    "negative": (HEADER + "authors = recipe.add(AuthorFactory, -1)\n", ["negative", "'authors'"]),
    "fractional": (HEADER + "authors = recipe.add(AuthorFactory, 2.5)\n", ["whole number", "'authors'"]),
    "bad_count": (
        HEADER + "a = recipe.add(AuthorFactory, 2)\nb = recipe.add(BookFactory, per=a, count=(3, 1))\n",
        ["empty", "'books'"],
    ),
    "unknown_trait": (
        HEADER + 'authors = recipe.add(AuthorFactory, 2, traits=["celebratd"])\n',
        ["celebratd", "celebrated", "'authors'"],
    ),
    "unknown_override": (HEADER + "authors = recipe.add(AuthorFactory, 2, shoe_size=3)\n", ["shoe_size"]),
    # A model is a step of its own now (its factory is inferred, see test_infer.py); a dict is not.
    "not_a_factory": (HEADER + "authors = recipe.add(dict, 2)\n", ["not a factory-boy factory"]),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_invalid_recipe_is_reported_with_file_and_step(tmp_path, sqlite_url, name):
    body, expected = BROKEN[name]
    project = write_project(tmp_path, {name: body})
    result = cli("run", name, "--recipes", str(project / "seeds"), "--no-migrate", "--database-url", sqlite_url)
    assert result.exit_code == 2, result.output
    assert f"{name}.py" in result.stderr
    for fragment in expected:
        assert fragment in result.stderr
    assert "Traceback" not in result.output


def test_plan_also_validates(tmp_path):
    project = write_project(tmp_path, {"negative": BROKEN["negative"][0]})
    result = cli("plan", "negative", "--recipes", str(project / "seeds"))
    assert result.exit_code == 2 and "negative" in result.stderr


def test_syntax_error_names_path_and_line(tmp_path, sqlite_url):
    project = write_project(tmp_path, {"typo": "from seedkit import Recipe\nrecipe = Recipe(\n\nx = = 1\n"})
    result = cli("run", "typo", "--recipes", str(project / "seeds"), "--database-url", sqlite_url)
    assert result.exit_code == 2
    assert "typo.py:" in result.stderr and "syntax error" in result.stderr


def test_import_error_names_path_and_line(tmp_path, sqlite_url):
    project = write_project(tmp_path, {"missing": "from seedkit import Recipe\n\nimport no_such_module_here\n"})
    result = cli("run", "missing", "--recipes", str(project / "seeds"), "--database-url", sqlite_url)
    assert result.exit_code == 2
    assert "missing.py:3" in result.stderr and "no_such_module_here" in result.stderr


def test_unknown_recipe_lists_the_known_ones(sqlite_url):
    result = cli("run", "nope", "--database-url", sqlite_url)
    assert result.exit_code == 2
    assert "nope" in result.stderr and "demo" in result.stderr and "tiny" in result.stderr


def test_missing_recipe_folder(tmp_path, sqlite_url):
    result = cli("run", "demo", "--recipes", str(tmp_path / "absent"), "--database-url", sqlite_url)
    assert result.exit_code == 2 and "does not exist" in result.stderr


def test_nothing_is_written_by_an_invalid_recipe(tmp_path, sqlite_url):
    project = write_project(tmp_path, {"negative": BROKEN["negative"][0]})
    seeds = str(project / "seeds")
    alembic = str(project / "db" / "alembic.ini")
    assert (
        cli("run", "library", "--recipes", seeds, "--alembic-config", alembic, "--database-url", sqlite_url).exit_code
        == 0
    )
    before = fingerprint_of(sqlite_url)
    result = cli("run", "negative", "--recipes", seeds, "--alembic-config", alembic, "--database-url", sqlite_url)
    assert result.exit_code == 2
    assert fingerprint_of(sqlite_url) == before


UNKNOWN_FAKER = """
import factory
from seedkit import Recipe
from .library_factories import AuthorFactory

recipe = Recipe("a Faker provider that does not exist")
authors = recipe.add(AuthorFactory, 3, pen_name=factory.Faker("no_such_provider"))
"""


def test_an_unknown_faker_provider_is_named_and_nothing_is_written(tmp_path, sqlite_url):
    opts = cli_options(write_project(tmp_path, {"unknown_faker": UNKNOWN_FAKER}))
    assert cli("migrate", "--database-url", sqlite_url, "--alembic-config", opts[-1]).exit_code == 0
    result = cli("run", "unknown_faker", "--database-url", sqlite_url, *opts)
    assert result.exit_code == 1
    assert "Unknown formatter 'no_such_provider'" in result.stderr and "step 'authors'" in result.stderr
    assert "Traceback" not in result.output
    assert len(result.stderr.splitlines()) <= 3
    assert fingerprint_of(sqlite_url)["tables"]["authors"]["rows"] == 0
