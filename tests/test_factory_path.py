"""factory-boy's own path (post-generation hooks and the like): seedkit owns persistence, and a
run never reports success with fewer rows than its steps made."""

from __future__ import annotations

from tests.conftest import cli, cli_json, fingerprint_of
from tests.library_project import cli_options, write_project

ASYNC_STYLE = """
import factory
from seedkit import Recipe
from .library_models import Author


class AsyncStyleFactory(factory.alchemy.SQLAlchemyModelFactory):
    # As async tutorials write it: build the object, let the caller's session persist it.
    class Meta:
        model = Author

    pen_name = factory.Sequence(lambda n: f"Author {n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return model_class(*args, **kwargs)

    @factory.post_generation
    def shelved(obj, create, extracted, **kwargs):
        pass


class OneObjectFactory(AsyncStyleFactory):
    _made = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        if OneObjectFactory._made is None:
            OneObjectFactory._made = model_class(*args, **kwargs)
        return OneObjectFactory._made


recipe = Recipe("factories that build but do not persist")
authors = recipe.add(AsyncStyleFactory, 5)
"""

SHORT = ASYNC_STYLE.replace("authors = recipe.add(AsyncStyleFactory, 5)", "authors = recipe.add(OneObjectFactory, 5)")


def test_rows_a_factory_only_builds_are_still_written(tmp_path, db_url):
    project = write_project(tmp_path / "p", {"async_style": ASYNC_STYLE, "short": SHORT})
    report = cli_json("run", "async_style", "--database-url", db_url, *cli_options(project))
    assert report["tables"] == {"authors": 5} and report["planned"] == {"authors": 5}
    assert report["paths"] == {"authors": "orm"}


def test_fewer_rows_than_planned_fail_the_run(tmp_path, db_url):
    project = write_project(tmp_path / "p", {"short": SHORT})
    opts = cli_options(project)
    assert cli("migrate", "--database-url", db_url, *opts[2:]).exit_code == 0
    before = fingerprint_of(db_url)
    result = cli("run", "short", "--database-url", db_url, *opts)
    assert result.exit_code == 1
    assert "made 5 rows but 1 were written" in result.stderr
    assert fingerprint_of(db_url) == before
