"""seedkit scaffold: the recipe --infer runs, written as code that seeds the same data and that a
project's linters accept as it is."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import create_engine

from tests.conftest import cli, cli_json, fingerprint_of

# Plain SQL with what the writer must render: a self-reference, a junction table keyed by its
# pair, a composite unique, a table without a primary key, server defaults, an index.
SCHEMA = [
    """CREATE TABLE authors (
        id INTEGER PRIMARY KEY, email VARCHAR(120) NOT NULL UNIQUE, full_name VARCHAR(60) NOT NULL,
        born DATE, active BOOLEAN NOT NULL DEFAULT TRUE, rating NUMERIC(4, 2))""",
    """CREATE TABLE posts (
        id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL REFERENCES authors (id),
        title VARCHAR(80) NOT NULL, slug VARCHAR(200) NOT NULL, views INTEGER NOT NULL,
        created_at TIMESTAMP NOT NULL, UNIQUE (author_id, slug))""",
    "CREATE INDEX ix_posts_created_at ON posts (created_at)",
    "CREATE TABLE tags (id INTEGER PRIMARY KEY, label VARCHAR(30) NOT NULL UNIQUE)",
    """CREATE TABLE post_tags (
        post_id INTEGER NOT NULL REFERENCES posts (id), tag_id INTEGER NOT NULL REFERENCES tags (id),
        PRIMARY KEY (post_id, tag_id))""",
    """CREATE TABLE comments (
        id INTEGER PRIMARY KEY, post_id INTEGER NOT NULL REFERENCES posts (id),
        reply_to_id INTEGER REFERENCES comments (id), body TEXT NOT NULL)""",
    "CREATE TABLE page_views (path VARCHAR(200) NOT NULL, seen_at TIMESTAMP NOT NULL)",
]


def _create(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        for statement in SCHEMA:
            conn.exec_driver_sql(statement)
    engine.dispose()


def _ruff(*args: str, folder) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args, "--isolated", str(folder)], capture_output=True, text=True
    )


def test_the_scaffolded_recipe_seeds_what_infer_seeds(db_url, another_db, tmp_path):
    twin = another_db(db_url)
    for url in (db_url, twin):
        _create(url)
    folder = tmp_path / "recipes"
    written = cli("scaffold", "--out", str(folder), "--rows", "25", "--database-url", db_url)
    assert written.exit_code == 0, written.output
    assert sorted(p.name for p in folder.iterdir()) == ["inferred.py", "inferred_factories.py", "inferred_models.py"]

    inferred = cli_json("run", "--infer", "--rows", "25", "--no-migrate", "--seed", "5", "--database-url", db_url)
    scaffolded = cli_json(
        "run", "inferred", "--recipes", str(folder), "--no-migrate", "--seed", "5", "--database-url", twin
    )
    assert scaffolded["tables"] == inferred["tables"] and len(inferred["tables"]) == 6
    assert scaffolded["fingerprint"] == inferred["fingerprint"]
    assert fingerprint_of(twin) == fingerprint_of(db_url)

    lint = _ruff("check", "--select", "E,F,W,I,B,UP", folder=folder)
    assert lint.returncode == 0, lint.stdout
    formatted = _ruff("format", "--check", "--diff", folder=folder)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


def test_the_demo_schema_scaffolds_into_ordinary_code(db_url, another_db, tmp_path):
    sqlite_url = db_url  # the demo's migrations, on either backend
    twin = another_db(sqlite_url)
    for url in (sqlite_url, twin):
        cli("migrate", "-q", "--database-url", url)
    folder = tmp_path / "recipes"
    assert cli("scaffold", "--out", str(folder), "--database-url", sqlite_url).exit_code == 0
    factories = (folder / "inferred_factories.py").read_text()
    assert "class UsersFactory(factory.alchemy.SQLAlchemyModelFactory):" in factories
    assert 'email = factory.Faker("email")' in factories
    recipe = (folder / "inferred.py").read_text()
    assert 'refs={"product": products}' in recipe and "count=between(0, 5)" in recipe
    inferred = cli_json("run", "--infer", "--no-migrate", "--database-url", sqlite_url)
    scaffolded = cli_json("run", "inferred", "--recipes", str(folder), "--no-migrate", "--database-url", twin)
    assert scaffolded["fingerprint"] == inferred["fingerprint"]
    planned = cli("plan", "inferred", "--recipes", str(folder))
    assert planned.exit_code == 0 and "order_items" in planned.stdout


def test_existing_files_are_not_overwritten_without_force(sqlite_url, tmp_path):
    _create(sqlite_url)
    folder = tmp_path / "recipes"
    folder.mkdir()
    (folder / "inferred.py").write_text("# mine\n")
    refused = cli("scaffold", "--out", str(folder), "--database-url", sqlite_url)
    assert refused.exit_code == 2 and "--force" in refused.stderr
    assert (folder / "inferred.py").read_text() == "# mine\n"
    assert cli("scaffold", "--out", str(folder), "--force", "--database-url", sqlite_url).exit_code == 0
    assert "recipe = Recipe(" in (folder / "inferred.py").read_text()


@pytest.mark.parametrize("name", ["shop-2", "class"])
def test_a_name_must_be_a_module_name(sqlite_url, tmp_path, name):
    result = cli("scaffold", "--out", str(tmp_path), "--name", name, "--database-url", sqlite_url)
    assert result.exit_code == 2 and "--name" in result.stderr
