"""A seed is all or nothing: errors, constraint violations and Ctrl-C leave the database as it was."""

from __future__ import annotations

import signal

import pytest

from tests.conftest import Running, cli, fingerprint_of, schema_of
from tests.library_project import cli_options, write_project

FAILS_HALFWAY = """
import factory
from seedkit import Recipe
from .library_factories import AuthorFactory, BookFactory

calls = {"n": 0}

def pages():
    calls["n"] += 1
    if calls["n"] > 15:
        raise RuntimeError("the printer caught fire")
    return 100

recipe = Recipe("fails after some rows were written")
authors = recipe.add(AuthorFactory, 10, step_name="more_authors")
books = recipe.add(BookFactory, per=authors, count=3, pages=factory.LazyFunction(pages))
"""

NULL_PAGES = """
from seedkit import Recipe
from .library_factories import AuthorFactory, BookFactory

recipe = Recipe("violates NOT NULL on books.pages")
authors = recipe.add(AuthorFactory, 3, step_name="more_authors")
books = recipe.add(BookFactory, per=authors, count=1, pages=None)
"""

NULL_TITLE = """
from seedkit import Recipe
from .library_factories import AuthorFactory, BookFactory

recipe = Recipe("violates NOT NULL on books.title, a text column")
authors = recipe.add(AuthorFactory, 3, step_name="more_authors")
books = recipe.add(BookFactory, per=authors, count=1, title=None)
"""

DANGLING = """
from seedkit import Recipe
from .library_factories import BookFactory

recipe = Recipe("points books at an author that does not exist")
books = recipe.add(BookFactory, 3, author=None, author_id=424242, title="Orphan")
"""

DUPLICATE_KEYS = """
import uuid
from seedkit import Recipe
from .library_factories import TagFactory

recipe = Recipe("three tags with one primary key")
tags = recipe.add(TagFactory, 3, id=uuid.UUID(int=7))
"""


def _seeded_project(tmp_path, url):
    project = write_project(
        tmp_path / "p",
        {
            "fails": FAILS_HALFWAY,
            "null_pages": NULL_PAGES,
            "null_title": NULL_TITLE,
            "dangling": DANGLING,
            "duplicate_keys": DUPLICATE_KEYS,
        },
    )
    opts = cli_options(project)
    assert cli("run", "library", "--seed", "1", "--database-url", url, *opts).exit_code == 0
    return opts


def test_an_exception_mid_seed_rolls_back_every_row(tmp_path, db_url):
    opts = _seeded_project(tmp_path, db_url)
    before = fingerprint_of(db_url)
    result = cli("run", "fails", "--append", "--database-url", db_url, *opts)
    assert result.exit_code == 1
    assert "the printer caught fire" in result.stderr and "rolled back" in result.stderr
    assert "Traceback" not in result.output
    assert fingerprint_of(db_url) == before


@pytest.mark.parametrize(
    ("recipe", "fragments"),
    [("null_pages", ["books", "pages"]), ("null_title", ["books", "title"]), ("dangling", ["books", "FOREIGN KEY"])],
    ids=["not-null", "not-null-text", "foreign-key"],
)
def test_a_constraint_violation_names_the_table_and_rolls_back(tmp_path, db_url, recipe, fragments):
    # On PostgreSQL the foreign key is only re-added before commit: it must still be caught.
    opts = _seeded_project(tmp_path, db_url)
    before = fingerprint_of(db_url)
    result = cli("run", recipe, "--append", "--database-url", db_url, *opts)
    assert result.exit_code == 1
    for fragment in fragments:
        assert fragment.upper() in result.stderr.upper()
    assert fingerprint_of(db_url) == before


def test_a_duplicate_key_in_a_fresh_table_is_caught_before_commit(tmp_path, db_url):
    # Into an empty PostgreSQL table COPY loads the rows before the primary key is rebuilt.
    opts = cli_options(write_project(tmp_path / "p", {"duplicate_keys": DUPLICATE_KEYS}))
    before = fingerprint_of(db_url)
    result = cli("run", "duplicate_keys", "--database-url", db_url, *opts)
    assert result.exit_code == 1
    assert "tags" in result.stderr and "rolled back" in result.stderr
    if db_url.startswith("postgresql"):  # the server names the constraint and the duplicated key
        assert "[table tags, constraint tags_pkey]" in result.stderr
        assert "00000000-0000-0000-0000-000000000007" in result.stderr
    assert fingerprint_of(db_url) == before


def test_debug_shows_the_traceback(tmp_path, sqlite_url):
    opts = _seeded_project(tmp_path, sqlite_url)
    result = cli("run", "fails", "--append", "--debug", "--database-url", sqlite_url, *opts)
    assert result.exit_code == 1 and "Traceback" in result.stderr


def test_sigint_mid_seed_leaves_the_database_unchanged(db_url):
    assert cli("run", "tiny", "--seed", "1", "--database-url", db_url).exit_code == 0
    before = fingerprint_of(db_url)
    run = Running("run", "demo", "--scale", "3000", "--append", "--database-url", db_url)
    run.wait_for("seeding")
    run.proc.send_signal(signal.SIGINT)
    code, stderr = run.finish()
    assert code == 130 and "Interrupted" in stderr, stderr
    assert fingerprint_of(db_url) == before


def test_sigint_while_empty_tables_load_puts_every_key_and_index_back(db_url):
    # Into empty tables both fast writers drop indexes (COPY: keys and foreign keys too) first.
    assert cli("migrate", "--database-url", db_url).exit_code == 0
    before = schema_of(db_url)
    run = Running("run", "demo", "--scale", "3000", "--database-url", db_url)
    run.wait_for("seeding")
    run.proc.send_signal(signal.SIGINT)
    code, stderr = run.finish()
    assert code == 130 and "Interrupted" in stderr, stderr
    assert schema_of(db_url) == before
    assert all(t["rows"] == 0 for t in fingerprint_of(db_url)["tables"].values())
